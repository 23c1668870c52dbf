export { HASH_BYTES, leafHash, keyHash } from './hash.js'
export { MerkleTree, nextBucketHash, bucketOf, bucketOfKeyHash, isZeroHash, xorInto, FANOUT, FANOUT_BITS, DEPTH, BUCKETS } from './merkle-tree.js'
