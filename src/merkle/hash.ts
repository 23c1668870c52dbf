/**
 * The two hashes the tree is built from. A key's *position* (which bucket it lives in) depends
 * on its store key alone; its *leaf hash* on the store key and its full replicated state, so
 * any difference in state changes the leaf.
 *
 * Both hash on every write, so they use the one-shot `crypto.hash` over one scratch buffer:
 * `createHash(...).update(...)` costs 1.7× as much per call (measured, 150-byte states).
 */
import { hash } from 'node:crypto'

/** The key's position hash lives below merkle/ and codec/, which both use it. */
export { keyHash } from '../util/key-hash.js'

/** Bytes of every hash in the tree (a truncated SHA-256). */
export const HASH_BYTES = 16

let scratch = Buffer.allocUnsafe(4096)

/** SHA-256 of the store key's UTF-8, a zero byte, and the encoded state; truncated. */
export function leafHash (storeKey: string, state: Uint8Array): Uint8Array {
  const keyBytes = Buffer.byteLength(storeKey, 'utf8')
  const length = keyBytes + 1 + state.byteLength
  if (scratch.length < length) scratch = Buffer.allocUnsafe(Math.max(length, scratch.length * 2))
  scratch.write(storeKey, 0, 'utf8')
  scratch[keyBytes] = 0
  scratch.set(state, keyBytes + 1)
  const h = hash('sha256', scratch.subarray(0, length), 'buffer') as unknown as Buffer
  return new Uint8Array(h.buffer, h.byteOffset, HASH_BYTES)
}

