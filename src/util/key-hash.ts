/**
 * A store key's 64-bit hash (the first 8 bytes of its SHA-256): the Merkle tree's bucket is its
 * top bits, anti-entropy names keys by it, and contexts carry it as their key tag. Here, below
 * both merkle/ and codec/, so each can use it without importing the other.
 */
import { hash } from 'node:crypto'

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
