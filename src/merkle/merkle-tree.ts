/**
 * A fixed-shape Merkle tree over every key of the store, in memory (about 1.2 MB).
 *
 * Keys fall into 16^4 = 65,536 buckets by their key hash. A bucket's hash is the XOR of the
 * leaf hashes of its keys, and every inner node is the XOR of its 16 children, so a write
 * updates the tree in O(depth) without reading any other key: the new bucket hash is
 * old ⊕ oldLeaf ⊕ newLeaf, and the same delta is XORed into each ancestor. (Riak's tictac AAE
 * uses the same trick.) An all-zero hash means an empty subtree, which lets anti-entropy stream
 * a whole subtree to a peer that has nothing there instead of descending into it.
 *
 * Only the bucket hashes are persisted (store/), in the same LevelDB batch as the data they
 * reflect; inner levels are recomputed at start-up in a few milliseconds.
 *
 * Pure: no I/O. Level 0 is the root, level DEPTH holds the buckets.
 */
import { HASH_BYTES, keyHash } from './hash.js'

export const FANOUT_BITS = 4
export const FANOUT = 1 << FANOUT_BITS
export const DEPTH = 4
export const BUCKETS = FANOUT ** DEPTH

export function bucketOf (storeKey: string): number {
  return bucketOfKeyHash(keyHash(storeKey))
}

export function bucketOfKeyHash (kh: Uint8Array): number {
  return ((kh[0] as number) << 8) | (kh[1] as number)
}

export function xorInto (target: Uint8Array, a: Uint8Array): void {
  for (let i = 0; i < HASH_BYTES; i++) target[i] = (target[i] as number) ^ (a[i] as number)
}

export function isZeroHash (h: Uint8Array): boolean {
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) return false
  return true
}

export class MerkleTree {
  /** levels[L] holds FANOUT^L hashes back to back. */
  private readonly levels: Uint8Array[]

  constructor () {
    this.levels = []
    for (let level = 0; level <= DEPTH; level++) this.levels.push(new Uint8Array(FANOUT ** level * HASH_BYTES))
  }

  /** Rebuild from persisted bucket hashes (any order; missing buckets are empty). */
  static fromBuckets (buckets: Iterable<readonly [number, Uint8Array]>): MerkleTree {
    const tree = new MerkleTree()
    for (const [bucket, hash] of buckets) tree.setBucket(bucket, hash)
    return tree
  }

  /** A copy of all bucket hashes back to back (for a shutdown snapshot). */
  bucketBytes (): Uint8Array {
    return Uint8Array.from(this.levels[DEPTH] as Uint8Array)
  }

  /** Rebuild from bucketBytes(); undefined if the bytes are not a whole bucket level. */
  static fromBucketBytes (bytes: Uint8Array): MerkleTree | undefined {
    if (bytes.byteLength !== BUCKETS * HASH_BYTES) return undefined
    const tree = new MerkleTree()
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const hash = bytes.subarray(bucket * HASH_BYTES, (bucket + 1) * HASH_BYTES)
      if (!isZeroHash(hash)) tree.setBucket(bucket, hash)
    }
    return tree
  }

  root (): Uint8Array {
    return this.node(0, 0)
  }

  /** A copy-free view of one node's hash; do not mutate it. */
  node (level: number, index: number): Uint8Array {
    const bytes = this.levels[level]
    if (bytes === undefined || index < 0 || index >= FANOUT ** level) throw new RangeError(`no tree node ${level}/${index}`)
    return bytes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES)
  }

  bucket (bucket: number): Uint8Array {
    return this.node(DEPTH, bucket)
  }

  /** Replace a bucket's hash, moving every ancestor by the same XOR delta. */
  setBucket (bucket: number, hash: Uint8Array): void {
    const delta = Uint8Array.from(this.bucket(bucket))
    xorInto(delta, hash)
    if (isZeroHash(delta)) return
    let index = bucket
    for (let level = DEPTH; level >= 0; level--) {
      xorInto(this.node(level, index), delta)
      index >>= FANOUT_BITS
    }
  }
}

/** The bucket hash after a key's leaf changes from `oldLeaf` to `newLeaf` (either may be absent). */
export function nextBucketHash (current: Uint8Array, oldLeaf: Uint8Array | undefined, newLeaf: Uint8Array | undefined): Uint8Array {
  const next = Uint8Array.from(current)
  if (oldLeaf !== undefined) xorInto(next, oldLeaf)
  if (newLeaf !== undefined) xorInto(next, newLeaf)
  return next
}
