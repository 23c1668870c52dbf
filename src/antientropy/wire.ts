/**
 * The anti-entropy frames (docs/protocol.md). Each frame is a CBOR array whose first element
 * is its type. Decoding checks shape and sizes only; what a frame may say at a given point of
 * the conversation is checked by the session.
 */
import { decodeCbor, encodeCbor } from '../codec/index.js'
import { MAX_AE_FRESH_MS, MAX_AE_STATE_BYTES, MAX_KEY_BYTES } from '../constants.js'
import { ExchangeInterruptedError, ProtocolError } from '../errors.js'
import { HASH_BYTES } from '../merkle/index.js'

export const PROTOCOL_VERSION = 3
/** Bytes of an inner-node hash on the wire: a window of the 16-byte hash (see `window`). */
export const NODE_BYTES = 4
/** Bytes of a leaf hash on the wire; also how a key is named in WANT. */
export const LEAF_BYTES = 6
/** Windows start at 0…MAX_WINDOW so that both widths fit in a 16-byte hash. */
export const MAX_WINDOW = HASH_BYTES - Math.max(NODE_BYTES, LEAF_BYTES)

export enum FrameType { Hello = 0, Nodes = 1, Entries = 2, Want = 3, States = 4, Done = 5, Busy = 6, Refused = 7, StatePart = 8 }

export interface HelloFrame {
  type: FrameType.Hello
  version: number
  root: Uint8Array
  keys: number
  window: number
  /** Both sides may leave to gossip the keys whose changes began less than this many ms ago (0: send everything). */
  fresh: number
}
/** `indices`: nodes at `level` that differ; `hashes`: their FANOUT children each; `pull`: nodes at `level` the sender is empty in. */
export interface NodesFrame { type: FrameType.Nodes, level: number, indices: number[], hashes: Uint8Array, pull: number[] }
/** `buckets` that differ, with the sender's leaf windows in each (`counts[i]` of them for `buckets[i]`). */
export interface EntriesFrame { type: FrameType.Entries, buckets: number[], counts: number[], leaves: Uint8Array, pull: number[] }
export interface WantFrame { type: FrameType.Want, leaves: Uint8Array }
export interface StateEntry { storeKey: string, state: Uint8Array }
export interface StatesFrame { type: FrameType.States, states: StateEntry[] }
/** `pull`: nodes at `level` the sender is empty in and wants streamed before the conversation ends. */
export interface DoneFrame { type: FrameType.Done, level: number, pull: number[] }
export interface BusyFrame { type: FrameType.Busy }
/** The responder's last frame instead of DONE: it refused `count` of the initiator's states. */
export interface RefusedFrame { type: FrameType.Refused, count: number }
/** `bytes` at `offset` of one state of `total` bytes too large for a frame; the parts follow each other in order. */
export interface StatePartFrame { type: FrameType.StatePart, storeKey: string, total: number, offset: number, bytes: Uint8Array }

export type Frame = HelloFrame | NodesFrame | EntriesFrame | WantFrame | StatesFrame | DoneFrame | BusyFrame | RefusedFrame | StatePartFrame

/** Node indices travel as big-endian u16 (the deepest level has 65,536 nodes). */
export function packIndices (indices: readonly number[]): Uint8Array {
  const out = new Uint8Array(indices.length * 2)
  indices.forEach((v, i) => { out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff })
  return out
}

function unpackIndices (bytes: unknown, what: string): number[] {
  if (!(bytes instanceof Uint8Array) || bytes.length % 2 !== 0) throw violation(`${what}: not packed u16`)
  const out: number[] = []
  for (let i = 0; i < bytes.length; i += 2) out.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number))
  return out
}

export function encodeFrame (frame: Frame): Uint8Array {
  switch (frame.type) {
    case FrameType.Hello: return encodeCbor([frame.type, frame.version, frame.root, frame.keys, frame.window, frame.fresh])
    case FrameType.Nodes: return encodeCbor([frame.type, frame.level, packIndices(frame.indices), frame.hashes, packIndices(frame.pull)])
    case FrameType.Entries: return encodeCbor([frame.type, packIndices(frame.buckets), frame.counts, frame.leaves, packIndices(frame.pull)])
    case FrameType.Want: return encodeCbor([frame.type, frame.leaves])
    case FrameType.States: return encodeCbor([frame.type, frame.states.map(s => [s.storeKey, s.state])])
    case FrameType.Done: return encodeCbor([frame.type, frame.level, packIndices(frame.pull)])
    case FrameType.Busy: return encodeCbor([frame.type])
    case FrameType.Refused: return encodeCbor([frame.type, frame.count])
    case FrameType.StatePart: return encodeCbor([frame.type, frame.storeKey, frame.total, frame.offset, frame.bytes])
  }
}

/** CBOR overhead of one [storeKey, state] pair beyond the raw bytes, an upper bound. */
export const STATE_ENTRY_OVERHEAD = 1 + 9 + 9

/** The peer broke the protocol: something an honest node never sends. */
export function violation (message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(`anti-entropy: ${message}`, cause === undefined ? {} : { cause })
}

/** The exchange stopped (deadline, stop, the peer went away) with no proof that the peer lied. */
export function interrupted (message: string, cause?: unknown): ExchangeInterruptedError {
  return new ExchangeInterruptedError(`anti-entropy: ${message}`, cause === undefined ? {} : { cause })
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isStoreKey = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && Buffer.byteLength(v, 'utf8') <= MAX_KEY_BYTES + 2

export function decodeFrame (bytes: Uint8Array): Frame {
  let raw: unknown
  try {
    raw = decodeCbor(bytes, 'anti-entropy frame')
  } catch (err) {
    throw violation('frame is not CBOR', err)
  }
  if (!Array.isArray(raw) || raw.length === 0) throw violation('frame is not a typed array')
  const f = raw as unknown[]
  const shape = (n: number): void => { if (f.length !== n) throw violation(`frame type ${String(f[0])} has ${f.length} fields`) }
  switch (f[0]) {
    case FrameType.Hello: {
      shape(6)
      const [, version, root, keys, window, fresh] = f
      if (!isUint(version) || !(root instanceof Uint8Array) || root.length !== HASH_BYTES || !isUint(keys) || !isUint(window) || window > MAX_WINDOW || !isUint(fresh) || fresh > MAX_AE_FRESH_MS) throw violation('bad HELLO')
      return { type: FrameType.Hello, version, root, keys, window, fresh }
    }
    case FrameType.Nodes: {
      shape(5)
      const [, level, indices, hashes, pull] = f
      if (!isUint(level) || !(hashes instanceof Uint8Array)) throw violation('bad NODES')
      return { type: FrameType.Nodes, level, indices: unpackIndices(indices, 'NODES indices'), hashes, pull: unpackIndices(pull, 'NODES pull') }
    }
    case FrameType.Entries: {
      shape(5)
      const [, buckets, counts, leaves, pull] = f
      if (!Array.isArray(counts) || !counts.every(isUint) || !(leaves instanceof Uint8Array)) throw violation('bad ENTRIES')
      return { type: FrameType.Entries, buckets: unpackIndices(buckets, 'ENTRIES buckets'), counts: counts as number[], leaves, pull: unpackIndices(pull, 'ENTRIES pull') }
    }
    case FrameType.Want: {
      shape(2)
      const [, leaves] = f
      if (!(leaves instanceof Uint8Array) || leaves.length % LEAF_BYTES !== 0) throw violation('bad WANT')
      return { type: FrameType.Want, leaves }
    }
    case FrameType.States: {
      shape(2)
      const [, list] = f
      if (!Array.isArray(list)) throw violation('bad STATES')
      const states: StateEntry[] = []
      for (const item of list as unknown[]) {
        if (!Array.isArray(item) || item.length !== 2) throw violation('bad STATES entry')
        const [storeKey, state] = item as unknown[]
        if (!isStoreKey(storeKey) || !(state instanceof Uint8Array)) throw violation('bad STATES entry')
        states.push({ storeKey, state })
      }
      return { type: FrameType.States, states }
    }
    case FrameType.Done: {
      shape(3)
      const [, level, pull] = f
      if (!isUint(level)) throw violation('bad DONE')
      return { type: FrameType.Done, level, pull: unpackIndices(pull, 'DONE pull') }
    }
    case FrameType.Busy:
      shape(1)
      return { type: FrameType.Busy }
    case FrameType.Refused: {
      shape(2)
      const [, count] = f
      if (!isUint(count) || count === 0) throw violation('bad REFUSED')
      return { type: FrameType.Refused, count }
    }
    case FrameType.StatePart: {
      shape(5)
      const [, storeKey, total, offset, bytes] = f
      if (!isStoreKey(storeKey) || !isUint(total) || total > MAX_AE_STATE_BYTES || !isUint(offset) || !(bytes instanceof Uint8Array) ||
        bytes.length === 0 || offset + bytes.length > total) throw violation('bad STATE_PART')
      return { type: FrameType.StatePart, storeKey, total, offset, bytes }
    }
    default:
      throw violation(`unknown frame type ${String(f[0])}`)
  }
}
