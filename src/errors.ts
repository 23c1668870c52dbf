/**
 * Every error Chorus raises on purpose, each with a stable `code` (what tests and clients
 * check) and the JSON-RPC error code it maps to. docs/errors.md lists them all.
 */

export interface ChorusErrorOptions {
  cause?: unknown
  data?: Record<string, unknown>
}

export class ChorusError extends Error {
  /** Stable, machine-readable identifier. Never changes once released. */
  readonly code: string = 'ERR_CHORUS'
  /** JSON-RPC 2.0 error code used when this error crosses the RPC boundary. */
  readonly rpcCode: number = -32603
  readonly data?: Record<string, unknown>

  constructor (message: string, options: ChorusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.data = options.data
  }
}

/** A parameter is missing, of the wrong type or out of range. The message names the field. */
export class InvalidParamsError extends ChorusError {
  override readonly code = 'ERR_INVALID_PARAMS'
  override readonly rpcCode = -32602
}

/** An opaque causal context string did not decode. */
export class InvalidContextError extends ChorusError {
  override readonly code = 'ERR_INVALID_CONTEXT'
  override readonly rpcCode = -32602
}

/**
 * A node.export cursor names an export that is no longer open: it finished, stayed idle past
 * EXPORT_IDLE_MS, or the node restarted. The export must start again (a new snapshot).
 */
export class CursorExpiredError extends ChorusError {
  override readonly code = 'ERR_CURSOR_EXPIRED'
  override readonly rpcCode = -32602
}

/**
 * `chorus import` was given something that is not a Chorus export, or a line of it is
 * malformed or too large. The message names the line.
 */
export class BackupFileError extends ChorusError {
  override readonly code = 'ERR_BACKUP_FILE'
  override readonly rpcCode = -32602
}

/** kv.get with `after` did not see the write within `timeoutMs`. */
export class AfterTimeoutError extends ChorusError {
  override readonly code = 'ERR_AFTER_TIMEOUT'
  override readonly rpcCode = -32001
}

/** The node is starting or stopping and cannot serve the request. */
export class NotReadyError extends ChorusError {
  override readonly code = 'ERR_NOT_READY'
  override readonly rpcCode = -32002
}

/** cluster.sync named a peer that is not connected, or there is no peer at all. */
export class NoPeerError extends ChorusError {
  override readonly code = 'ERR_NO_PEER'
  override readonly rpcCode = -32003
}

/** An anti-entropy exchange failed (timeout, protocol violation, peer went away). */
export class SyncFailedError extends ChorusError {
  override readonly code = 'ERR_SYNC_FAILED'
  override readonly rpcCode = -32004
}

/** The write was refused because it exceeds a documented limit (sizes, counts). */
export class LimitExceededError extends ChorusError {
  override readonly code = 'ERR_LIMIT_EXCEEDED'
  override readonly rpcCode = -32005
}

/** Bytes received from a peer or read from disk did not decode into a valid state. */
export class CorruptDataError extends ChorusError {
  override readonly code = 'ERR_CORRUPT_DATA'
  override readonly rpcCode = -32603
}

/** The data directory cannot be used (locked by another process, wrong version, corrupt). */
export class DataDirError extends ChorusError {
  override readonly code = 'ERR_DATA_DIR'
  override readonly rpcCode = -32603
}

/** A peer broke the anti-entropy or gossip protocol; its stream is reset. */
export class ProtocolError extends ChorusError {
  override readonly code: string = 'ERR_PROTOCOL'
  override readonly rpcCode = -32603
}

/**
 * An anti-entropy exchange stopped without proof of misbehaviour: a deadline passed, the peer
 * went away, or the exchange was stopped or preempted. An honest peer that is paused or
 * overloaded causes these, so unlike other ProtocolErrors they cost the peer nothing.
 */
export class ExchangeInterruptedError extends ProtocolError {
  override readonly code = 'ERR_EXCHANGE_INTERRUPTED'
}

/** Configuration given on the command line, in the environment or a config file is invalid. */
export class ConfigError extends ChorusError {
  override readonly code = 'ERR_CONFIG'
  override readonly rpcCode = -32602
}

/**
 * Another process writes with this node's identity (a copied data directory, a backup restored
 * twice): writing on would reuse its dots. Restarting the node gives it a new identity.
 */
export class IdentityConflictError extends ChorusError {
  override readonly code = 'ERR_IDENTITY_CONFLICT'
  override readonly rpcCode = -32009
}

/** The write could not be stored (a full disk, an I/O error); nothing of it was acknowledged. */
export class StorageError extends ChorusError {
  override readonly code = 'ERR_STORAGE'
  override readonly rpcCode = -32008
}

/**
 * `cluster.connect` may not dial that peer: the address is off this host and the node has no
 * cluster key (docs/security.md), the peer is refused (removed, or away longer than the member
 * TTL), or it is this node itself.
 */
export class PeerRefusedError extends ChorusError {
  override readonly code = 'ERR_PEER_REFUSED'
  override readonly rpcCode = -32020
}

/** `cluster.connect` could not reach the peer (nothing listening, wrong peer id, timeout, a different cluster key). */
export class DialFailedError extends ChorusError {
  override readonly code = 'ERR_DIAL_FAILED'
  override readonly rpcCode = -32021
}

/**
 * The node last had contact with its cluster longer ago than the member TTL and holds data:
 * its peers may have collected tombstones of keys it still holds, so it refuses to start
 * until it is reset (docs/consistency.md, "Members").
 */
export class StaleDataError extends ChorusError {
  override readonly code = 'ERR_STALE_DATA'
  override readonly rpcCode = -32022
}

/** The RPC server refused the request before it reached a method (auth, host check). */
export class UnauthorizedError extends ChorusError {
  override readonly code = 'ERR_UNAUTHORIZED'
  override readonly rpcCode = -32007
}

/**
 * A call with `session` timed out before this node held everything the token covers
 * (`data.lagging`: the nodes whose state it could not catch up with; `data.timeoutMs`).
 * Nothing was read or written.
 */
export class SessionTimeoutError extends ChorusError {
  override readonly code = 'ERR_SESSION_TIMEOUT'
  override readonly rpcCode = -32031
}

/**
 * A change-feed cursor (`kv.changes` / `kv.watch` `since`) older than the node retains: the
 * changes after it were pruned. `data.cursor` is the node's current cursor: re-read what the
 * consumer needs (kv.scan…) and resume from it.
 */
export class HistoryGoneError extends ChorusError {
  override readonly code = 'ERR_HISTORY_GONE'
  override readonly rpcCode = -32032
}

/**
 * A write with `replicas: k` was not acknowledged by k nodes (this one included) within
 * `timeoutMs`. The write is NOT undone: it is committed here and keeps spreading. `data.replicas`
 * says how many nodes held it when the wait ended, `data.required` how many were asked for.
 */
export class ReplicasTimeoutError extends ChorusError {
  override readonly code = 'ERR_REPLICAS_TIMEOUT'
  override readonly rpcCode = -32030
}
