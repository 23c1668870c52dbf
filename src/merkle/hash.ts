/**
 * The two hashes the tree is built from. A key's *position* (which bucket it lives in) depends
 * on its store key alone; its *leaf hash* on the store key and its full replicated state, so
 * any difference in state changes the leaf.
 */
import { createHash } from 'node:crypto'

/** Bytes of every hash in the tree (a truncated SHA-256). */
export const HASH_BYTES = 16

const SEPARATOR = new Uint8Array([0])

export function leafHash (storeKey: string, state: Uint8Array): Uint8Array {
  const h = createHash('sha256').update(storeKey, 'utf8').update(SEPARATOR).update(state).digest()
  return new Uint8Array(h.buffer, h.byteOffset, HASH_BYTES)
}

/** 64 bits of the key's SHA-256: the bucket is its top bits; anti-entropy sends it to name keys compactly. */
export function keyHash (storeKey: string): Uint8Array {
  const h = createHash('sha256').update(storeKey, 'utf8').digest()
  return new Uint8Array(h.buffer, h.byteOffset, 8)
}
