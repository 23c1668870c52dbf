/**
 * The gossip message: `CBOR [1, [[storeKey, state], …]]` — the full encoded state of every key
 * a group of local writes changed. Full states (not operations) make delivery idempotent and
 * order-free: a duplicate or late message merges to the same result.
 */
import { decodeCbor, encodeCbor } from '../codec/index.js'
import { MAX_GOSSIP_MESSAGE_BYTES } from '../constants.js'
import { ProtocolError } from '../errors.js'
import type { EncodedChange } from '../replica/index.js'

export const GOSSIP_VERSION = 1
/** Bytes of framing per message and per change, bounded generously for packing. */
const OVERHEAD = 16

export function encodeGossip (changes: EncodedChange[]): Uint8Array {
  return encodeCbor([GOSSIP_VERSION, changes.map(c => [c.storeKey, c.state])])
}

/** Throws ProtocolError for anything but a well-formed message; states are validated by the replica. */
export function decodeGossip (bytes: Uint8Array): EncodedChange[] {
  if (bytes.byteLength > MAX_GOSSIP_MESSAGE_BYTES) throw new ProtocolError('gossip message too large')
  let raw: unknown
  try {
    raw = decodeCbor(bytes, 'gossip message')
  } catch (err) {
    throw new ProtocolError('gossip message is not CBOR', { cause: err })
  }
  if (!Array.isArray(raw) || raw.length !== 2 || raw[0] !== GOSSIP_VERSION || !Array.isArray(raw[1])) {
    throw new ProtocolError('gossip message is not [1, changes]')
  }
  return (raw[1] as unknown[]).map(entry => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !(entry[1] instanceof Uint8Array)) {
      throw new ProtocolError('gossip change is not [storeKey, state]')
    }
    return { storeKey: entry[0], state: entry[1] }
  })
}

/** Split changes into messages of at most `maxBytes` each (a single larger change gets its own). */
export function packGossip (changes: EncodedChange[], maxBytes = MAX_GOSSIP_MESSAGE_BYTES): EncodedChange[][] {
  const messages: EncodedChange[][] = []
  let current: EncodedChange[] = []
  let size = OVERHEAD
  for (const change of changes) {
    const bytes = change.state.byteLength + Buffer.byteLength(change.storeKey) + OVERHEAD
    if (current.length > 0 && size + bytes > maxBytes) {
      messages.push(current)
      current = []
      size = OVERHEAD
    }
    current.push(change)
    size += bytes
  }
  if (current.length > 0) messages.push(current)
  return messages
}
