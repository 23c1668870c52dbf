/**
 * The gossip message: `CBOR [1, [[storeKey, state], …]]` (or `[1, changes, republish]` when sent
 * again) — the full encoded state of every key a group of local writes changed. Full states (not
 * operations) make delivery idempotent and order-free: a duplicate or late message merges to
 * the same result. Written and read as canonical CBOR (codec/canonical-cbor.ts): the envelope
 * holds only arrays, texts, byte strings and small integers, and reading it that way costs a
 * fraction of cborg's general decoder on every message every node receives.
 */
import { decodeCanonical, encodeCanonical } from '../codec/index.js'
import { MAX_GOSSIP_MESSAGE_BYTES } from '../constants.js'
import { ProtocolError } from '../errors.js'
import { packChanges, type EncodedChange } from '../replica/index.js'

export const GOSSIP_VERSION = 1

/** The largest `republish` tag: a 32-bit unsigned integer. */
export const MAX_REPUBLISH_TAG = 0xffff_ffff
/** What a tag adds to a message: the CBOR head of a 32-bit integer. */
export const MAX_REPUBLISH_TAG_BYTES = 5

/**
 * `republish` tags a message sent again: gossipsub names a message by the hash of its bytes and
 * refuses to publish the same bytes twice (its seen cache holds them for minutes), so a message
 * kept for a later subscriber must differ from the first attempt. Receivers ignore the tag.
 */
export function encodeGossip (changes: EncodedChange[], republish?: number): Uint8Array {
  const body = changes.map(c => [c.storeKey, c.state])
  return encodeCanonical(republish === undefined ? [GOSSIP_VERSION, body] : [GOSSIP_VERSION, body, republish])
}

/** Throws ProtocolError for anything but a well-formed message; states are validated by the replica. */
export function decodeGossip (bytes: Uint8Array): EncodedChange[] {
  if (bytes.byteLength > MAX_GOSSIP_MESSAGE_BYTES) throw new ProtocolError('gossip message too large')
  let raw: unknown
  try {
    raw = decodeCanonical(bytes, 'gossip message')
  } catch (err) {
    throw new ProtocolError('gossip message is not CBOR', { cause: err })
  }
  if (!Array.isArray(raw) || (raw.length !== 2 && raw.length !== 3) || raw[0] !== GOSSIP_VERSION || !Array.isArray(raw[1])) {
    throw new ProtocolError('gossip message is not [1, changes] or [1, changes, republish]')
  }
  if (raw.length === 3 && !(Number.isInteger(raw[2]) && (raw[2] as number) >= 0 && (raw[2] as number) <= MAX_REPUBLISH_TAG)) {
    throw new ProtocolError('gossip republish tag is not a 32-bit unsigned integer')
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
  return packChanges(changes, maxBytes)
}
