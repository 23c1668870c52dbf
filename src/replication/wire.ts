/**
 * The replicate protocol's two frames (docs/protocol.md, "Replicate"), canonical CBOR:
 *
 * - PUSH `[1, [[storeKey, state], …]]`: full encoded states of keys a local write changed,
 *   exactly what gossip carries (idempotent, order-free: a duplicate merges to the same state);
 * - ACK `[1, applied, rejected]`: the responder's answer to one PUSH, sent only once the merge
 *   of that PUSH is committed to its LevelDB.
 *
 * Decoders throw ProtocolError for anything else; states are validated by the replica.
 */
import { decodeCanonical, encodeCanonical } from '../codec/index.js'
import { MAX_KEY_BYTES, MAX_REPLICATE_FRAME_BYTES } from '../constants.js'
import { ProtocolError } from '../errors.js'
import { packChanges, type EncodedChange } from '../replica/index.js'

export const REPLICATE_VERSION = 1
/** A store key is a one-character space tag, a slash and the key. */
const MAX_STORE_KEY_BYTES = MAX_KEY_BYTES + 2

export interface Ack {
  applied: number
  rejected: number
}

export function encodePush (changes: EncodedChange[]): Uint8Array {
  return encodeCanonical([REPLICATE_VERSION, changes.map(c => [c.storeKey, c.state])])
}

export function decodePush (bytes: Uint8Array): EncodedChange[] {
  if (bytes.byteLength > MAX_REPLICATE_FRAME_BYTES) throw violation('push frame too large')
  const raw = decode(bytes, 'push frame')
  if (!Array.isArray(raw) || raw.length !== 2 || raw[0] !== REPLICATE_VERSION || !Array.isArray(raw[1]) || raw[1].length === 0) {
    throw violation('push frame is not [1, changes] with at least one change')
  }
  return (raw[1] as unknown[]).map(entry => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !(entry[1] instanceof Uint8Array) ||
      Buffer.byteLength(entry[0]) > MAX_STORE_KEY_BYTES) {
      throw violation('push change is not [storeKey, state]')
    }
    return { storeKey: entry[0], state: entry[1] }
  })
}

export function encodeAck (ack: Ack): Uint8Array {
  return encodeCanonical([REPLICATE_VERSION, ack.applied, ack.rejected])
}

export function decodeAck (bytes: Uint8Array): Ack {
  const raw = decode(bytes, 'ack frame')
  if (!Array.isArray(raw) || raw.length !== 3 || raw[0] !== REPLICATE_VERSION || !isCount(raw[1]) || !isCount(raw[2])) {
    throw violation('ack frame is not [1, applied, rejected]')
  }
  return { applied: raw[1], rejected: raw[2] }
}

/** Split changes into PUSH frames of at most `maxBytes`; a single larger change gets its own (the sender refuses it: replicator.ts). */
export function packPushes (changes: EncodedChange[], maxBytes = MAX_REPLICATE_FRAME_BYTES): EncodedChange[][] {
  return packChanges(changes, maxBytes)
}

function decode (bytes: Uint8Array, what: string): unknown {
  try {
    return decodeCanonical(bytes, what)
  } catch (err) {
    throw violation(`${what} is not CBOR`, err)
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

export function violation (message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(`replicate: ${message}`, cause === undefined ? {} : { cause })
}
