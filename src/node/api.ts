/**
 * What a running node offers its edges (JSON-RPC, CLI, tests). The RPC layer sees only this
 * interface; every method validates its input again and throws ChorusError subclasses.
 * Results are shaped exactly like the JSON-RPC results of ../shared/spec/interface.md.
 */
import type { ErrorRecord } from './recent-errors.js'

export type { ErrorRecord }

export interface SiblingView {
  /** The sibling's value; null for a delete (tombstone, see `deleted`). */
  value: unknown
  /** The node that wrote it. */
  node: string
  /** Its hybrid logical clock time, `wall:logical`. */
  hlc: string
  /** Present and true for a tombstone, and for a value whose expiry has passed (value null). */
  deleted?: true
  /** When the version expires or expired (ms since the epoch, HLC wall clock); only for versions written with ttlMs. */
  expiresAt?: number
}

export interface KvGetResult {
  found: boolean
  /** The winner's value (null when not found). */
  value: unknown
  /** More than one version exists now. */
  conflict: boolean
  /** Opaque causal context; pass it to kv.put/kv.delete to supersede what this read saw. */
  context: string
  /** With `all`: every sibling, tombstones included, winner first then descending LWW order. */
  values?: SiblingView[]
  /** The session token (docs/api.md "Sessions"); over JSON-RPC every result of a data method carries it. */
  session?: string
  /** When the value read expires (ms since the epoch, HLC wall clock); only when found and written with ttlMs. */
  expiresAt?: number
}

export interface KvGetOptions {
  all?: boolean
  /** A context returned by a write (on any node): wait until this node has seen that write. */
  after?: string
  /** How long `after` may wait. */
  timeoutMs?: number
}

/** Expiring keys (docs/api.md, "Expiring keys"). */
export interface TtlOptions {
  /** The key reads as absent on every node this long (ms, 1 to MAX_TTL_MS) after the write's HLC time. */
  ttlMs?: number
}

export interface WriteResult {
  /** Covers exactly what this write superseded and the write itself (never a sibling it left standing). */
  context: string
  /** The key has more than one version after this write (siblings it did not supersede). */
  conflict: boolean
  /** The session token (docs/api.md "Sessions"); over JSON-RPC every result of a data method carries it. */
  session?: string
}

/**
 * Durability a write may ask for (docs/api.md, "Durable writes"): the call returns once
 * `replicas` nodes, this one included, hold the write in LevelDB — learnt from their
 * acknowledgements — or fails with ERR_REPLICAS_TIMEOUT (the write stays and spreads).
 */
export interface WriteOptions {
  /** A number of nodes (1 to MAX_REPLICAS), or "majority" of the known members plus this node. */
  replicas?: number | 'majority'
  /** How long to wait for the acknowledgements. @default DEFAULT_REPLICAS_TIMEOUT_MS (5 s) */
  timeoutMs?: number
}

export interface BatchResult {
  contexts: string[]
  /** One per operation, as WriteResult.conflict. */
  conflicts: boolean[]
  /** The session token (docs/api.md "Sessions"); over JSON-RPC every result of a data method carries it. */
  session?: string
}

export type BatchOp =
  | { op: 'put', key: string, value: unknown, context?: string, ttlMs?: number }
  | { op: 'delete', key: string, context?: string }

export interface ScanOptions {
  prefix?: string
  /** Inclusive lower bound. */
  start?: string
  /** Exclusive upper bound. */
  end?: string
  limit?: number
  /** From a previous page's result. */
  cursor?: string
}

export interface ScanItem { key: string, value: unknown, conflict: boolean }
export interface ScanResult { items: ScanItem[], cursor?: string, session?: string }

export interface ConflictsOptions { prefix?: string, limit?: number, cursor?: string }
export interface ConflictsResult { keys: string[], cursor?: string, session?: string }

/** counter.scan / set.scan take kv.scan's options. */
export interface CounterScanItem { key: string, value: number }
export interface CounterScanResult { items: CounterScanItem[], cursor?: string, session?: string }
export interface SetScanItem { key: string, members: string[] }
export interface SetScanResult { items: SetScanItem[], cursor?: string, session?: string }

/** One key's full causal state, as node.export gives it and node.import takes it. */
export interface ExportItem {
  space: 'kv' | 'counter' | 'set' | 'map'
  key: string
  /** base64url (no padding) of the key's canonical encoded state (codec/state-codec.ts). */
  state: string
}

export interface ExportOptions {
  /** From the previous page; absent to start a new export (a new snapshot). */
  cursor?: string
  /** Keys per page. */
  limit?: number
}

/** The snapshot an export reads: the same on every page of one export. */
export interface ExportSnapshot {
  /** Peer id of the exporting node. */
  node: string
  /** Keys the snapshot holds (all four spaces). */
  keys: number
  /** The Merkle root over exactly these states: an empty node that imports them all has this digest. */
  digest: string
  /** When the snapshot was taken, ISO 8601. */
  at: string
}

export interface ExportPage {
  items: ExportItem[]
  snapshot: ExportSnapshot
  /** Present while more keys follow; the export closes when the last page is read. */
  cursor?: string
}

export interface ImportResult {
  /** Keys this node did not hold before. */
  added: number
  /** Keys whose state changed by the merge (they gained versions, members or counts). */
  updated: number
  /** Keys already at least as new here: nothing changed. */
  unchanged: number
  /** States refused as invalid (undecodable, out of bounds, a bad key). */
  rejected: number
  /** States refused because a tombstone this node collected supersedes every version they hold. */
  superseded: number
}

/** `expiresAt`: when the key expires (ms since the epoch, HLC wall clock), while it lives and has an expiry. */
export interface CounterResult { value: number, context: string, expiresAt?: number, session?: string }
export interface SetResult { members: string[], context: string, expiresAt?: number, session?: string }
export interface ReadAfterOptions { after?: string, timeoutMs?: number }

/** One field of a map as `map.get {all: true}` shows it. */
export interface MapFieldView {
  /** Field names from the top map down (a field of nested map `address` is ["address", "city"]). */
  path: string[]
  type: 'register' | 'counter' | 'set'
  /** register: the winner's value; counter: its value; set: its members, sorted. */
  value: unknown
  /** register: more than one version exists now. */
  conflict?: boolean
  /** register: every sibling, winner first then descending LWW order. */
  values?: SiblingView[]
}

export interface MapGetResult {
  /** The map holds at least one field. */
  found: boolean
  /** The fields as plain JSON: an object of name → value, nested maps as objects. */
  value: Record<string, unknown>
  /** Some register field has siblings now. */
  conflict: boolean
  /** The paths of the register fields with siblings. */
  conflicts: string[][]
  /** Opaque causal context; pass it to map.update / map.delete to supersede what this read saw. */
  context: string
  /**
   * Paths of names that hold fields of more than one type (a register `a` and a counter `a`):
   * `value` shows one of them (register, counter, set, map: the first present); `all` shows each.
   * Absent when none.
   */
  mixed?: string[][]
  /** With `all`: every field with its path and type, in canonical order. */
  fields?: MapFieldView[]
}

export interface MapGetOptions extends ReadAfterOptions { all?: boolean }

/** One map.update operation (docs/api.md, "Maps"). */
export type MapUpdateOp =
  | { op: 'set', field: string, value: unknown }
  | { op: 'incr', field: string, by?: number }
  | { op: 'add' | 'remove', field: string, members: string[] }
  | { op: 'delete', field: string, type: 'register' | 'counter' | 'set' | 'map' }
  | { op: 'update', field: string, ops: MapUpdateOp[] }

export interface MapScanItem { key: string, value: Record<string, unknown>, conflict: boolean }
export interface MapScanResult { items: MapScanItem[], cursor?: string }

export interface NodeInfo {
  peerId: string
  addrs: string[]
  rpcUrl: string
  version: string
  uptimeMs: number
  /** Keys stored, all four spaces, tombstones included. */
  keys: number
  /** Hex root of the anti-entropy Merkle tree: equal digests ⇔ equal data. */
  digest: string
  /** Whether the node runs without a cluster key and with `open`: any host may connect. */
  open: boolean
  /**
   * Who may connect: `cluster-key` (nodes holding the key), `this-host` (no key: processes on
   * this host only), `open` (no key, anyone).
   */
  exposure: 'cluster-key' | 'this-host' | 'open'
  /** Milliseconds added to this node's clock because it runs ahead of the cluster (0 normally). */
  clockCorrectionMs: number
  /** Connected peers whose clock offset this node has measured (node/time-sync.ts). */
  clockPeers: number
  /** Jumps of the system clock this node has seen since it started. */
  clockJumps: number
}

export interface PeerInfo {
  peerId: string
  addrs: string[]
  connected: boolean
  lastSeenMs: number
  /** The peer's last announced digest. */
  digest?: string
  /** digest === ours. */
  inSync?: boolean
}

export interface SyncReport {
  peer: string
  /** True when roots were equal: nothing to repair. */
  inSync: boolean
  /** Keys whose state we sent / received. */
  keysSent: number
  keysReceived: number
  /** Keys whose local state changed by merging what we received. */
  keysRepaired: number
  bytesSent: number
  bytesReceived: number
  roundTrips: number
  durationMs: number
}

/**
 * A cluster member as tombstone GC sees it (`cluster.members`). Times are ages, like
 * cluster.peers' lastSeenMs: milliseconds before now, measured on this node's clock.
 */
export interface MemberInfo {
  peerId: string
  /** 0 while connected; else how long ago it was last seen connected. */
  lastSeenMs: number
  /** How long ago the last complete anti-entropy exchange with it started; -1 if none ever completed. */
  lastSyncMs: number
  /**
   * At the last GC sweep, a tombstone old enough by the grace period was left because this
   * member's last complete exchange did not start after it (less twice the allowed drift): it
   * waits until the member syncs again, is forgotten, or expires. False before the first sweep.
   */
  holdsGc: boolean
  connected: boolean
  /** How long until it stops counting if it stays away (the member TTL minus lastSeenMs); null while connected. */
  expiresInMs: number | null
}

export interface ForgetResult {
  peerId: string
  /** It was a member (GC waited for it) until now. */
  wasMember: boolean
  /** It was connected and has been disconnected. */
  disconnected: boolean
}

export interface ConnectResult {
  peerId: string
  connected: boolean
  /** The address the connection uses. */
  addr: string
}

/** A change applied on this node (local or remote), as watchers see it. */
export interface ChangeEvent {
  space: 'kv' | 'counter' | 'set' | 'map'
  key: string
  /** Whether the key reads as present now (kv: not deleted or expired; counters and sets: not expired). */
  found: boolean
  /** kv: the winner's value; counter: the value; set: the members; map: its plain value (MapGetResult.value). */
  value: unknown
  conflict: boolean
  /** 'local' when written through this node, 'remote' when merged from a peer. */
  origin: 'local' | 'remote'
  /** The change's seq in this node's change feed (docs/api.md, "Change feed"). */
  seq?: number
  /** Pass as `since` to kv.watch or kv.changes to resume after this change. */
  cursor?: string
  /**
   * Replayed from the feed by kv.watch `since` (not live): `found`, `value` and `conflict` are
   * the key's state when it was replayed, not right after the change.
   */
  replayed?: true
}

/** kv.changes: the changes applied on this node after `since`, in the order applied. */
export interface ChangesOptions {
  /** A cursor from kv.changes, kv.watch or an ERR_HISTORY_GONE error; absent: from the oldest change retained. */
  since?: string
  /** Only keys starting with this (the cursor still moves past the others). */
  prefix?: string
  /** Most changes returned. */
  limit?: number
}

/** One entry of the change feed: which key changed, not its value (read the key for that). */
export interface ChangeEntry {
  /** Node-local, strictly increasing in the order the changes were applied. */
  seq: number
  space: 'kv' | 'counter' | 'set'
  key: string
  /** 'local' when written through this node, 'remote' when merged from a peer. */
  origin: 'local' | 'remote'
  /** The key read as absent right after this change (a deleted register). */
  deleted: boolean
  /** When it was applied here, ISO 8601 (this node's clock). */
  at: string
}

export interface ChangesResult {
  changes: ChangeEntry[]
  /** Pass as `since` next time: it stands after every change examined, returned or filtered out. */
  cursor: string
}

/** A kv.watch subscription to the change feed (ChorusApi.watchFeed). */
export interface FeedWatch {
  /** Where the subscription starts: `since`, or the feed's latest change when there was none. */
  cursor: string
  unsubscribe: () => void
}

export interface ChorusApi {
  kvPut: (key: string, value: unknown, context?: string, options?: WriteOptions & TtlOptions) => Promise<WriteResult>
  kvGet: (key: string, options?: KvGetOptions) => Promise<KvGetResult>
  kvDelete: (key: string, context?: string, options?: WriteOptions) => Promise<WriteResult>
  kvBatch: (ops: BatchOp[], options?: WriteOptions) => Promise<BatchResult>
  kvScan: (options?: ScanOptions) => Promise<ScanResult>
  kvConflicts: (options?: ConflictsOptions) => Promise<ConflictsResult>
  counterIncr: (key: string, by?: number, options?: WriteOptions & TtlOptions) => Promise<CounterResult>
  counterGet: (key: string, options?: ReadAfterOptions) => Promise<CounterResult>
  setAdd: (key: string, members: string[], options?: WriteOptions & TtlOptions) => Promise<SetResult>
  setRemove: (key: string, members: string[], options?: WriteOptions) => Promise<SetResult>
  setGet: (key: string, options?: ReadAfterOptions) => Promise<SetResult>
  counterScan: (options?: ScanOptions) => Promise<CounterScanResult>
  setScan: (options?: ScanOptions) => Promise<SetScanResult>
  /** Apply field operations to a map atomically (`context` as for kv.put). */
  mapUpdate: (key: string, ops: MapUpdateOp[], context?: string, options?: WriteOptions) => Promise<WriteResult>
  mapGet: (key: string, options?: MapGetOptions) => Promise<MapGetResult>
  /** Remove every field this node has seen (or that `context` covers); concurrent updates stay. */
  mapDelete: (key: string, context?: string, options?: WriteOptions) => Promise<WriteResult>
  /** Maps in key order (kv.scan's options); empty maps are absent. */
  mapScan: (options?: ScanOptions) => Promise<MapScanResult>
  /** One page of a consistent export of every key space (docs/backup.md). */
  exportPage: (options?: ExportOptions) => Promise<ExportPage>
  /** Merge exported states as if a peer had sent them. */
  importStates: (items: ExportItem[]) => Promise<ImportResult>
  info: () => Promise<NodeInfo>
  /** The node's latest warnings and errors, oldest first (node.errors; at most 100). */
  recentErrors: () => ErrorRecord[]
  peers: () => Promise<PeerInfo[]>
  sync: (peer?: string) => Promise<SyncReport>
  /** The members tombstone GC waits for. */
  members: () => Promise<MemberInfo[]>
  /** Drop a member for good: GC stops waiting for it and its peer id is refused from now on. */
  forget: (peerId: string) => Promise<ForgetResult>
  /** Dial a peer now (and redial it when lost, until the node stops). */
  connect: (addr: string) => Promise<ConnectResult>
  /** Subscribe to changes whose key starts with `prefix`; returns the unsubscribe function. */
  watch: (prefix: string, listener: (event: ChangeEvent) => void) => () => void
  /**
   * Sessions (docs/api.md "Sessions"): wait (≤ timeoutMs, default DEFAULT_AFTER_TIMEOUT_MS)
   * until this node holds everything a session token covers; ERR_SESSION_TIMEOUT otherwise.
   * Optional so that APIs without sessions (test fakes) still fit.
   */
  sessionWait?: (session: unknown, timeoutMs?: unknown) => Promise<void>
  /** The session token a data method's result carries, taken once the method is done. */
  sessionToken?: () => string
  /** One page of the change feed (docs/api.md, "Change feed"). */
  changes: (options?: ChangesOptions) => Promise<ChangesResult>
  /**
   * kv.watch: changes whose key starts with `prefix`, each once, in the order applied; with
   * `since`, first those after it from the feed, then live (ERR_HISTORY_GONE, -32602 at once
   * for a cursor that cannot resume). `onEnd` is told when the subscription ends on its own
   * (the history went while it was being replayed).
   */
  watchFeed: (options: { prefix: string, since?: string }, listener: (event: ChangeEvent) => void, onEnd: (err: unknown) => void) => FeedWatch
  /** True once started and until stop begins (GET /health). */
  isReady: () => boolean
  /**
   * Told once by the RPC layer which methods it serves; returns what it tells about each call
   * (its duration in seconds and whether it succeeded), for the node's metrics.
   */
  rpcObserver?: (methods: readonly string[]) => (method: string, seconds: number, ok: boolean) => void
}

export interface ChorusApiExtras {
  /** Prometheus text exposition of the node's metrics (GET /metrics). */
  metricsText: () => Promise<string>
}
