/**
 * The two hashes the tree is built from. A key's *position* (which bucket it lives in) depends
 * on its store key alone; its *leaf hash* on the store key and its full replicated state, so
 * any difference in state changes the leaf.
 *
 * Both hash on every write, so they use the one-shot `crypto.hash` over one scratch buffer:
 * `createHash(...).update(...)` costs 1.7× as much per call (measured, 150-byte states).
 */
import { hash } from 'node:crypto'

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

/** Keys whose keyHash is remembered: a write hashes its key for the tree and again for its context. */
const KEY_HASH_MEMO_ENTRIES = 4096
let memo = new Map<string, Uint8Array>()

/**
 * 64 bits of the key's SHA-256: the bucket is its top bits; anti-entropy sends it to name keys
 * compactly; contexts carry it as their key tag. Remembered for the last few thousand keys (one
 * write asks for it twice), so the array returned is shared: never modify it.
 */
export function keyHash (storeKey: string): Uint8Array {
  const known = memo.get(storeKey)
  if (known !== undefined) return known
  const h = hash('sha256', storeKey, 'buffer') as unknown as Buffer
  const bytes = new Uint8Array(h.buffer, h.byteOffset, 8)
  if (memo.size >= KEY_HASH_MEMO_ENTRIES) memo = new Map()
  memo.set(storeKey, bytes)
  return bytes
}
