/**
 * The opaque context strings clients carry between reads and writes:
 * base64url(CBOR([1, keyTag, vv, dots])). The key tag (64 bits of SHA-256 of the store key)
 * binds a context to the key it was read from, so a context of key `x` cannot silently
 * supersede versions of key `y` that the client never saw.
 */
import { compareDots, type CausalContext, type Dot } from '../causal/index.js'
import { MAX_CONTEXT_DOTS, MAX_EVENT_COUNTER, MAX_VV_ENTRIES } from '../constants.js'
import { InvalidContextError } from '../errors.js'
import { keyHash } from '../util/key-hash.js'
import { decodeCanonical, encodeCanonicalBase64url } from './canonical-cbor.js'
import { decodeDot, decodeVv, encodeVv } from './state-codec.js'

const CONTEXT_FORMAT = 1
const KEY_TAG_BYTES = 8

/** The key's tree hash (util/key-hash.ts): the same 64 bits of SHA-256, already computed by the write. */
function keyTag (storeKey: string): Uint8Array {
  return keyHash(storeKey).subarray(0, KEY_TAG_BYTES)
}

export function encodeContext (storeKey: string, context: CausalContext): string {
  const dots = [...context.dots].sort(compareDots).map(d => [d.node, d.counter])
  return encodeCanonicalBase64url([CONTEXT_FORMAT, keyTag(storeKey), encodeVv(context.vv), dots])
}

function invalid (why: string, cause?: unknown): InvalidContextError {
  return new InvalidContextError(`not a context returned by Chorus (${why})`, cause === undefined ? {} : { cause })
}

/** The context, if it was made for `storeKey`; InvalidContextError (-32602) otherwise. */
export function decodeContext (storeKey: string, text: string): CausalContext {
  if (text === '' || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid('not base64url')
  let raw: unknown
  try {
    raw = decodeCanonical(Buffer.from(text, 'base64url'), 'context')
  } catch (err) {
    throw invalid('not CBOR', err)
  }
  if (!Array.isArray(raw) || raw.length !== 4 || raw[0] !== CONTEXT_FORMAT) throw invalid('unknown format: contexts of earlier builds, not bound to a key, are not accepted; read the key again')
  const [, tag, vvRaw, dotsRaw] = raw as [number, unknown, unknown, unknown]
  if (!(tag instanceof Uint8Array) || tag.length !== KEY_TAG_BYTES) throw invalid('bad key tag')
  if (!Buffer.from(tag).equals(keyTag(storeKey))) throw new InvalidContextError('belongs to another key: a context may only be used on the key (and key space) it was read from')
  if (!Array.isArray(vvRaw) || vvRaw.length > MAX_VV_ENTRIES) throw invalid(`more than ${MAX_VV_ENTRIES} nodes`)
  if (!Array.isArray(dotsRaw) || dotsRaw.length > MAX_CONTEXT_DOTS) throw invalid(`more than ${MAX_CONTEXT_DOTS} dots`)
  try {
    const vv = decodeVv(vvRaw, 'context')
    const dots = dotsRaw.map(d => decodeDot(d, 'context'))
    for (let i = 1; i < dots.length; i++) if (compareDots(dots[i - 1] as Dot, dots[i] as Dot) >= 0) throw invalid('dots not in order')
    // No replica ever reaches such a counter (state-bounds.ts refuses it), so no honest context names one.
    if (Object.values(vv).some(n => n > MAX_EVENT_COUNTER) || dots.some(d => d.counter > MAX_EVENT_COUNTER)) throw invalid(`event counter above ${MAX_EVENT_COUNTER}`)
    return { vv, dots }
  } catch (err) {
    if (err instanceof InvalidContextError) throw err
    throw invalid('bad entries', err)
  }
}
