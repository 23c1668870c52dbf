/**
 * Protocol ids, topic names, limits and timeouts: every number the wire or the disk depends on
 * lives here so that a newcomer finds them in one place.
 */

/** Bumped whenever the on-disk layout changes incompatibly. */
export const STORAGE_VERSION = 1

/** Gossip topic carrying coalesced changes. The cluster name keeps unrelated clusters apart. */
export const changesTopic = (cluster: string): string => `/chorus/${cluster}/changes/1`
/** Gossip topic on which each node announces its Merkle root so peers can tell who is in sync. */
export const digestTopic = (cluster: string): string => `/chorus/${cluster}/digest/1`

/** Anti-entropy stream protocol. Like the topics it names the cluster: two clusters that meet never exchange data. */
export const antiEntropyProtocol = (cluster: string): string => `/chorus/${cluster}/anti-entropy/3.0.0`

/** Clock offset protocol: one round trip tells a peer's clock (node/time-sync.ts). */
export const timeProtocol = (cluster: string): string => `/chorus/${cluster}/time/1.0.0`

/** The cluster name is part of every protocol id and topic, so it is kept to a safe alphabet. */
export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/
/** How often connected peers' clocks are sampled again. */
export const TIME_SYNC_INTERVAL_MS = 10_000
/** Deadline of one clock sample. */
export const TIME_SAMPLE_TIMEOUT_MS = 2_000

/**
 * After a failed commit the database is reopened before the next write (store/store.ts), and
 * only once its disk has this much room: LevelDB's recovery writes a table and a manifest.
 */
export const STORAGE_REOPEN_MIN_FREE_BYTES = 8 * 1024 * 1024

/** Keys are non-empty UTF-8 strings of at most 1 KiB (encoded). */
export const MAX_KEY_BYTES = 1024
/** Register values: any JSON value of at most 1 MiB encoded. */
export const MAX_VALUE_BYTES = 1024 * 1024
/**
 * Deepest nesting of arrays and objects in a register value. JSON.stringify recurses, so a
 * value nested some thousands deep would overflow the stack of every node that serialises it.
 */
export const MAX_VALUE_DEPTH = 512
/** Set members are strings of at most this many UTF-8 bytes. */
export const MAX_MEMBER_BYTES = 1024
/** Most operations accepted in one kv.batch / members in one set.add. */
export const MAX_BATCH_OPS = 1000
/**
 * Siblings kept per key. A key written blindly by many leaders would otherwise grow without
 * bound (Riak's "sibling explosion"); past this the oldest (by HLC) are dropped as if
 * superseded — see docs/consistency.md.
 */
export const MAX_SIBLINGS = 32

// ---- Bounds on replicated state (docs/security.md, "Limits"). Every state that arrives from a
// peer is checked against them before it is merged (replica/state-bounds.ts), and every state
// this node is about to store is checked against them too: a state outside them is never
// written, so nothing stored is unreadable and nothing sent is refused by an honest peer.

/**
 * Highest event counter (a dot, a version vector entry, a counter's `ops`). An honest node
 * needs 2^50 (10^15) writes to one key to get there; a forged counter above it would leave no
 * room for the next write inside the safe-integer range.
 */
export const MAX_EVENT_COUNTER = 2 ** 50
/** Highest per-node total of a PN-counter (increments or decrements). */
export const MAX_COUNTER_TOTAL = Number.MAX_SAFE_INTEGER
/** Latest HLC wall time accepted: 9999-12-31T23:59:59.999Z. */
export const MAX_HLC_WALL = 253_402_300_799_999
/**
 * Highest HLC logical counter. A node's own clock carries into the next millisecond before
 * it would pass this (clock/hlc.ts), so only a forged timestamp can exceed it.
 */
export const MAX_HLC_LOGICAL = 2 ** 32 - 1
/** Nodes named in one version vector, counter or context: far more nodes than ever write one key. */
export const MAX_VV_ENTRIES = 4096
/** Siblings a local write may leave in one register state (a write also caps the key at MAX_SIBLINGS; merges may pass it, see state-bounds.ts). */
export const MAX_STATE_SIBLINGS = 1024
/** Members of one set. */
export const MAX_SET_MEMBERS = 100_000
/** Dots carried by one set member (one per concurrent add that is still present). */
export const MAX_MEMBER_DOTS = MAX_VV_ENTRIES
/** Individual dots a client context carries besides its version vector (see causal/context.ts). */
export const MAX_CONTEXT_DOTS = 64

/** Gossip messages stay well under gossipsub's default 4 MiB inbound limit. */
export const MAX_GOSSIP_MESSAGE_BYTES = 2 * 1024 * 1024
/**
 * Local changes are published at once when nothing was published for this long, else at this
 * long after the last message: under load, one message carries every write of the window.
 * Each gossip message costs every node about half a millisecond of CPU whatever it carries
 * (libp2p's stream stack, gossipsub's bookkeeping, a commit on each receiver), so at 1,000
 * writes/s one message per write saturated a 3-node cluster on 2 cores (docs/performance.md).
 */
export const GOSSIP_COALESCE_MS = 5
/**
 * Gossip messages being merged at once, in bytes, from one peer and from all: past either, a
 * message is ignored (anti-entropy repairs it), so a flood cannot make a node hold it all.
 */
export const MAX_GOSSIP_IN_FLIGHT_BYTES_PER_PEER = 8 * 1024 * 1024
export const MAX_GOSSIP_IN_FLIGHT_BYTES = 64 * 1024 * 1024
/** gossipsub's inbound frame limit we configure on every node. */
export const MAX_INBOUND_RPC_BYTES = 4 * 1024 * 1024

// ---- What an honest gossipsub router sends at most (gossip/control-audit.ts; docs/security.md).

/** A gossip message id: SHA-256 of the message, gossipsub's id when messages are unsigned. */
export const GOSSIP_MESSAGE_ID_BYTES = 32
/** Ids in one IHAVE entry (gossipsub's GossipsubMaxIHaveLength: it truncates to this). */
export const MAX_IHAVE_IDS_PER_TOPIC = 5000
/** Ids a peer asks for with IWANT per heartbeat (the same constant caps what it asks). */
export const MAX_IWANT_IDS_PER_HEARTBEAT = 5000
/** gossipsub's heartbeat: an honest router sends one round of gossip per heartbeat. */
export const GOSSIP_HEARTBEAT_MS = 1000
/**
 * Heartbeats of gossip an audited peer may send at once, beyond the steady rate: a node that
 * stalled reads what its peers queued meanwhile in one go (fault pauses last up to 5 s).
 */
export const GOSSIP_CONTROL_BURST_HEARTBEATS = 30
/**
 * Entries of one kind (IHAVE, IWANT, GRAFT, PRUNE, IDONTWANT) in one RPC, and peers in one PRUNE's
 * exchange list. An honest router sends one entry per topic (2 here) and one IDONTWANT per
 * message; gossipsub 14 means to bound these when decoding but the bound never reaches its decoder.
 */
export const MAX_GOSSIP_CONTROL_ENTRIES = 64
/** Peers whose gossip control rate is tracked at once; past it, those with a full allowance are forgotten. */
export const MAX_AUDITED_GOSSIP_PEERS = 10_000

/** Anti-entropy frames larger than this are a protocol violation. */
export const MAX_AE_FRAME_BYTES = 4 * 1024 * 1024
/** Key states sent per anti-entropy frame (chunking of the repair stream). */
export const AE_STATES_PER_FRAME_BYTES = 512 * 1024
/**
 * Leaves listed per ENTRIES frame (384 KiB of leaf windows): the differing buckets of an exchange
 * go in parts of about this many, one part per round trip, so what either side holds for the
 * comparison is bounded by a part, not by the difference.
 */
export const AE_LEAVES_PER_ENTRIES = 65_536
/**
 * The largest single state anti-entropy carries, in STATE_PART frames when it exceeds a frame
 * (a register of many concurrent 1 MiB values). It bounds what a peer can make us buffer.
 */
export const MAX_AE_STATE_BYTES = 64 * 1024 * 1024

/**
 * A scheduled anti-entropy exchange leaves to gossip the keys whose run of changes began less
 * than this long ago, with a peer connected for longer (docs/protocol.md, "Fresh changes"):
 * gossip is delivering them, and sending them again cost a loaded node about 5 % of its CPU.
 * Well above gossip's p99 under load (tens of ms), well below the anti-entropy interval.
 */
export const AE_FRESH_MS = 1_000
/** The largest fresh window a peer may ask for in HELLO. */
export const MAX_AE_FRESH_MS = 60_000
/** Keys whose recent changes are remembered for that; past it the oldest are sent as usual. */
export const MAX_FRESH_KEYS = 131_072
/** …and at most this many characters of their store keys (a bound on memory, keys being up to 1 KiB). */
export const MAX_FRESH_KEY_BYTES = 16 * 1024 * 1024
/** The anti-entropy interval the replica assumes when it is not told (antientropy/config.ts has the option). */
export const DEFAULT_AE_INTERVAL_MS = 3_000

/** Largest JSON-RPC request body accepted over HTTP. */
export const MAX_RPC_BODY_BYTES = 8 * 1024 * 1024
/** Largest JSON-RPC batch (array) accepted. */
export const MAX_RPC_BATCH = 1000
/**
 * Requests one WebSocket may have in flight (read, answer not yet handed to the kernel). Past
 * it the node stops reading that socket until answers drain, so a client that sends without
 * reading costs a bounded amount of memory. 64 in flight already saturates a 2-core node.
 */
export const MAX_WS_IN_FLIGHT = 256
/** Request bytes one WebSocket may have in flight (a message may be a batch of 1,000 calls). */
export const MAX_WS_IN_FLIGHT_BYTES = 16 * 1024 * 1024
/** The node pings every WebSocket this often, and closes one that did not answer the last ping. */
export const WS_PING_INTERVAL_MS = 30_000
/** kv.scan / kv.conflicts page size limits. */
export const DEFAULT_SCAN_LIMIT = 100
export const MAX_SCAN_LIMIT = 10_000
// ---- Backup: node.export / node.import (node/export-sessions.ts, node/import-states.ts; docs/backup.md).

/** node.export page size: default and ceiling in keys. */
export const DEFAULT_EXPORT_PAGE_KEYS = 1000
export const MAX_EXPORT_PAGE_KEYS = 10_000
/** A node.export page ends once its states reach this many bytes (always at least one key). */
export const MAX_EXPORT_PAGE_BYTES = 4 * 1024 * 1024
/**
 * Exports open at once. Each holds a LevelDB snapshot (which keeps older table files from being
 * compacted away), so they are few and closed by their last page or after EXPORT_IDLE_MS idle.
 */
export const MAX_OPEN_EXPORTS = 8
export const EXPORT_IDLE_MS = 60_000
/** Keys in one node.import request. */
export const MAX_IMPORT_KEYS = 1000
/**
 * The largest single state node.import takes (decoded bytes). Its base64url text (5.4 MiB) and
 * the request around it stay under MAX_RPC_BODY_BYTES, so any one state fits one request.
 */
export const MAX_IMPORT_STATE_BYTES = 4 * 1024 * 1024
/** The same bound on the state's base64url text. */
export const MAX_IMPORT_STATE_CHARS = Math.ceil(MAX_IMPORT_STATE_BYTES / 3) * 4

/** kv.get `after` wait: default and ceiling. */
export const DEFAULT_AFTER_TIMEOUT_MS = 5_000
export const MAX_AFTER_TIMEOUT_MS = 60_000

// ---- Peer accountability (node/peer-penalties.ts, node/peer-gate.ts; docs/security.md).

/** Points at which a peer is disconnected and banned. */
export const PEER_PENALTY_THRESHOLD = 100
/** Penalty points halve in this time: a rare glitch is forgiven, a pattern is not. */
export const PEER_PENALTY_HALF_LIFE_MS = 60_000
/** How long a banned peer is refused, both ways. */
export const PEER_BAN_MS = 10 * 60_000
/** Peers tallied / banned at once; past it the least penalised / soonest released are forgotten. */
export const MAX_PENALISED_PEERS = 10_000
export const MAX_BANNED_PEERS = 10_000
/**
 * Members remembered for tombstone GC. Only peers that hold the cluster key and speak our
 * protocol become members; past this many, GC waits rather than forget one (node/membership.ts).
 */
export const MAX_MEMBERS = 10_000
/**
 * Peers refused for good: removed by the operator (`cluster.forget`) or expired (away longer
 * than the member TTL). Past this many the oldest refusal is dropped (node/refused-peers.ts);
 * such a peer then meets only the member-TTL rule on its own side.
 */
export const MAX_REFUSED_PEERS = 10_000
/** A refused peer's connection attempts are logged at most this often, per peer. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000
/** A peer id in text (`cluster.forget`): Ed25519 ids are 52 characters, RSA ones about 46. */
export const MAX_PEER_ID_LENGTH = 128
/** A multiaddr in text (`cluster.connect`). */
export const MAX_MULTIADDR_LENGTH = 1024
/** `cluster.connect`: how long the dial may take. */
export const CONNECT_TIMEOUT_MS = 10_000
/** Addresses `cluster.connect` keeps redialling until the node stops (bootstrap ones aside). */
export const MAX_CONNECT_TARGETS = 64

// ---- The write queue (replica/replica.ts).

/** One group commit folds at most this many bytes of jobs (and at most 512 jobs). */
export const MAX_COMMIT_BYTES = 16 * 1024 * 1024
/** Past this many queued bytes, remote merges (gossip, anti-entropy) wait for room. */
export const MAX_QUEUED_REMOTE_BYTES = 64 * 1024 * 1024

// ---- Causal sessions (src/session/, docs/consistency.md "Sessions").

/** The session protocol: one round trip tells a peer's session vector (session/vector-protocol.ts). */
export const sessionProtocol = (cluster: string): string => `/chorus/${cluster}/session/1.0.0`
/** Entries (nodes) a client's session token may name. */
export const MAX_SESSION_ORIGINS = 64
/** A session token in text (base64url): 64 entries of a 128-character id and two positions fit. */
export const MAX_SESSION_TOKEN_CHARS = 16_384
/** Entries a peer's session vector may hold (the nodes it ever caught up with); more are ignored. */
export const MAX_SESSION_VECTOR_ENTRIES = 1_024
/** A session vector frame on the wire: 1,024 entries of a 128-byte id and two positions fit. */
export const MAX_SESSION_VECTOR_BYTES = 160 * 1024
/** Deadline of one session vector query. */
export const SESSION_QUERY_TIMEOUT_MS = 2_000
/**
 * A waiting session call that found no peer able to cover its token asks again this often
 * (a peer may meanwhile have caught up, or a partition healed).
 */
export const SESSION_RETRY_MS = 250

// ---- The change feed (feed/; docs/api.md, "Change feed").

/** kv.changes page size: default and ceiling in changes returned. */
export const DEFAULT_FEED_LIMIT = 1000
export const MAX_FEED_LIMIT = 10_000
/**
 * Log entries one kv.changes call examines at most (with a prefix, most may be filtered out):
 * the page then ends early with a cursor past them, so a call stays cheap whatever the prefix.
 */
export const MAX_FEED_EXAMINED = 20_000
/** The longest cursor text accepted (a cursor Chorus issues is about 110 characters). */
export const MAX_FEED_CURSOR_CHARS = 512
/** Entries the feed keeps by default (`chorus start --feed-retain`); older ones are pruned. */
export const DEFAULT_FEED_RETAIN = 1_000_000
/** The bounds of `--feed-retain`. */
export const MIN_FEED_RETAIN = 1
export const MAX_FEED_RETAIN = 1_000_000_000
/** How often the background pruner looks for entries past the retention. */
export const FEED_PRUNE_INTERVAL_MS = 5_000
/** Entries deleted per LevelDB batch by the pruner (it yields to writes between batches). */
export const FEED_PRUNE_BATCH = 10_000
/** kv.watch `since`: log entries replayed per read before the replay yields to the event loop. */
export const FEED_REPLAY_PAGE = 256
/** kv.watch `since`: live changes held while the log is replayed; past it they are re-read from the log. */
export const MAX_FEED_REPLAY_BUFFER = 10_000
// ---- Durable writes: `replicas` on every write method (src/replication/; docs/consistency.md).

/** Stream protocol that pushes a write's states to peers and returns their acknowledgements. */
export const replicateProtocol = (cluster: string): string => `/chorus/${cluster}/replicate/1.0.0`
/** The largest `replicas` a write may ask for (this node included). */
export const MAX_REPLICAS = 64
/** How long a write with `replicas` waits for acknowledgements by default, and at most. */
export const DEFAULT_REPLICAS_TIMEOUT_MS = 5_000
export const MAX_REPLICAS_TIMEOUT_MS = 60_000
/**
 * A replicate frame (one request's states, or an ack) is at most this many bytes: the gossip
 * message bound, so any write that gossip carries in one message fits one frame.
 */
export const MAX_REPLICATE_FRAME_BYTES = MAX_GOSSIP_MESSAGE_BYTES
/** Request frames one replicate stream may carry (a write's states are packed into frames). */
export const MAX_REPLICATE_FRAMES_PER_STREAM = 64
/**
 * Replicate streams open at once with one peer, each way: what a peer can make us hold is
 * this many frames. Pushes beyond it wait for a slot on the sending side.
 */
export const MAX_REPLICATE_STREAMS_PER_PEER = 32
/** Deadline of each read and write on a replicate stream (the responder's commit included). */
export const REPLICATE_FRAME_TIMEOUT_MS = 10_000
/** A push that failed (stream reset, peer busy) is tried again this soon while its write still waits. */
export const REPLICATE_RETRY_MS = 250

// ---- Expiring keys (causal/expiry.ts; docs/api.md, "Expiring keys").

/**
 * The longest `ttlMs` a write may carry: one year. The expiry instant is stored in the state
 * (HLC wall + ttlMs), so this also bounds how far past a version's timestamp a peer's state may
 * put its expiry: anything further is refused as corrupt.
 */
export const MAX_TTL_MS = 365 * 24 * 60 * 60 * 1000

// ---- Maps (crdt/or-map.ts, model/map-ops.ts; docs/api.md "Maps", docs/consistency.md).

/** Names in a map field's path: the top map's field plus up to 7 nested maps. */
export const MAX_MAP_DEPTH = 8
/** A map field name: non-empty UTF-8 of at most this many bytes. */
export const MAX_MAP_FIELD_NAME_BYTES = 256
/** Operations in one map.update, nested ones included. */
export const MAX_MAP_OPS = 1000
/** Fields (registers, counters, sets, at any depth) a local write may leave in one map. */
export const MAX_MAP_FIELDS = 1000
/** Encoded bytes a local write may leave in one map (a register field's value stays ≤ MAX_VALUE_BYTES). */
export const MAX_MAP_BYTES = 2 * 1024 * 1024
/**
 * What a peer's map state may hold: more than a local write may leave, since merging the
 * concurrent writes of several nodes passes the local bounds (state-bounds.ts); past these the
 * state is refused as hostile. Sixteen nodes filling one map at once stay within them.
 */
export const MAX_MAP_STATE_FIELDS = 16 * MAX_MAP_FIELDS
export const MAX_MAP_STATE_BYTES = 16 * MAX_MAP_BYTES
