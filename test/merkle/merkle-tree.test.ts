import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BUCKETS, DEPTH, FANOUT, FANOUT_BITS, HASH_BYTES, MerkleTree, bucketOf, bucketOfKeyHash, isZeroHash, keyHash, leafHash, nextBucketHash, xorInto
} from '../../src/merkle/index.js'
import { createHash } from 'node:crypto'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const ZERO = hex(new Uint8Array(HASH_BYTES))

/**
 * The non-zero nodes, as hex: walks down from the root through non-zero nodes, and also lists
 * every node on the path to each of `buckets` (the buckets a test touched), so a stray non-zero
 * node under a zero parent is caught there.
 */
function dump (tree: MerkleTree, buckets: Iterable<number> = []): string[] {
  const out = new Set<string>()
  const visit = (level: number, index: number): void => {
    const h = tree.node(level, index)
    if (isZeroHash(h)) return
    out.add(`${level}/${index}:${hex(h)}`)
    if (level < DEPTH) for (let c = 0; c < FANOUT; c++) visit(level + 1, index * FANOUT + c)
  }
  visit(0, 0)
  for (const b of buckets) {
    for (let level = DEPTH, i = b; level >= 0; level--, i >>= FANOUT_BITS) {
      const h = tree.node(level, i)
      if (!isZeroHash(h)) out.add(`${level}/${i}:${hex(h)}`)
    }
  }
  return [...out].sort()
}

/** Every node of every level is zero (a full scan: 69,905 nodes). */
function allZero (tree: MerkleTree): boolean {
  for (let level = 0; level <= DEPTH; level++) {
    for (let i = 0; i < FANOUT ** level; i++) if (!isZeroHash(tree.node(level, i))) return false
  }
  return true
}

/** Bucket hashes computed from scratch: XOR of the leaf hashes of the keys in each bucket. */
function bucketsFromScratch (data: ReadonlyMap<string, Uint8Array>): Map<number, Uint8Array> {
  const buckets = new Map<number, Uint8Array>()
  for (const [key, state] of data) {
    const b = bucketOf(key)
    const h = buckets.get(b) ?? new Uint8Array(HASH_BYTES)
    xorInto(h, leafHash(key, state))
    buckets.set(b, h)
  }
  return buckets
}

/** The store's write path: new bucket hash from the old and new leaf, then setBucket. */
function put (tree: MerkleTree, data: Map<string, Uint8Array>, key: string, state: Uint8Array | undefined): void {
  const old = data.get(key)
  const b = bucketOf(key)
  const next = nextBucketHash(tree.bucket(b), old === undefined ? undefined : leafHash(key, old), state === undefined ? undefined : leafHash(key, state))
  tree.setBucket(b, next)
  if (state === undefined) data.delete(key)
  else data.set(key, state)
}

type Op = { key: string, state: Uint8Array | undefined }
// A small key pool so updates and deletes hit existing keys; a few keys share buckets by construction below.
const keyArb = fc.oneof(fc.constantFrom('r/a', 'c/a', 's/a', 'r/b', 'r/é'), fc.string({ minLength: 1, maxLength: 3 }).map(k => `r/${k}`))
const opArb: fc.Arbitrary<Op> = fc.record({ key: keyArb, state: fc.option(fc.uint8Array({ maxLength: 6 }), { nil: undefined, freq: 3 }) })

describe('hashes', () => {
  it('leafHash is 16 bytes of SHA-256(storeKey ‖ 0 ‖ state)', () => {
    const state = new Uint8Array([1, 2, 3])
    const expected = createHash('sha256').update('r/k').update(new Uint8Array([0])).update(state).digest().subarray(0, 16)
    expect(hex(leafHash('r/k', state))).toBe(hex(expected))
    expect(leafHash('r/k', state)).toHaveLength(HASH_BYTES)
  })

  it('leafHash and keyHash agree with SHA-256 for any key and state size (multi-byte keys, states past the scratch buffer)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.uint8Array({ maxLength: 9000 }), (name, state) => {
      const key = `r/${name}`
      const leaf = createHash('sha256').update(key, 'utf8').update(new Uint8Array([0])).update(state).digest().subarray(0, 16)
      expect(hex(leafHash(key, state))).toBe(hex(leaf))
      expect(hex(keyHash(key))).toBe(hex(createHash('sha256').update(key, 'utf8').digest().subarray(0, 8)))
    }), { numRuns: 200 })
  })

  it('leafHash depends on the key and on the state', () => {
    const s = new Uint8Array([1])
    expect(hex(leafHash('r/a', s))).not.toBe(hex(leafHash('c/a', s)))
    expect(hex(leafHash('r/a', s))).not.toBe(hex(leafHash('r/a', new Uint8Array([2]))))
    // The separator keeps (key, state) pairs apart: "r/a" + [0x62] vs "r/ab" + [].
    expect(hex(leafHash('r/a', new Uint8Array([0x62])))).not.toBe(hex(leafHash('r/ab', new Uint8Array([]))))
  })

  it('keyHash is the first 8 bytes of SHA-256 and the bucket is its top 16 bits', () => {
    const full = createHash('sha256').update('s/x', 'utf8').digest()
    expect(hex(keyHash('s/x'))).toBe(hex(full.subarray(0, 8)))
    expect(bucketOf('s/x')).toBe(full.readUInt16BE(0))
    expect(bucketOfKeyHash(new Uint8Array([0xff, 0xfe, 1, 2, 3, 4, 5, 6]))).toBe(0xfffe)
    expect(bucketOfKeyHash(new Uint8Array([0, 1, 0, 0, 0, 0, 0, 0]))).toBe(1)
  })

  it('shape constants', () => {
    expect([FANOUT_BITS, FANOUT, DEPTH, BUCKETS, HASH_BYTES]).toEqual([4, 16, 4, 65536, 16])
    fc.assert(fc.property(fc.string(), k => {
      const b = bucketOf(k)
      expect(Number.isInteger(b) && b >= 0 && b < BUCKETS).toBe(true)
    }))
  })

  it('xorInto and isZeroHash', () => {
    const a = Uint8Array.from({ length: HASH_BYTES }, (_, i) => i)
    const b = Uint8Array.from(a)
    expect(isZeroHash(a)).toBe(false)
    xorInto(b, a)
    expect(isZeroHash(b)).toBe(true)
    expect(isZeroHash(new Uint8Array(HASH_BYTES))).toBe(true)
    expect(isZeroHash(new Uint8Array(0))).toBe(true)
  })

  it('nextBucketHash adds, replaces and removes leaves without touching its input', () => {
    const l1 = leafHash('r/1', new Uint8Array([1]))
    const l2 = leafHash('r/1', new Uint8Array([2]))
    const empty = new Uint8Array(HASH_BYTES)
    const with1 = nextBucketHash(empty, undefined, l1)
    expect(hex(with1)).toBe(hex(l1))
    expect(isZeroHash(empty)).toBe(true)
    const with2 = nextBucketHash(with1, l1, l2)
    expect(hex(with2)).toBe(hex(l2))
    expect(hex(with1)).toBe(hex(l1))
    expect(isZeroHash(nextBucketHash(with2, l2, undefined))).toBe(true)
    expect(hex(nextBucketHash(with2, undefined, undefined))).toBe(hex(with2))
  })
})

describe('MerkleTree', () => {
  it('an empty tree is all zeros', () => {
    const tree = new MerkleTree()
    expect(hex(tree.root())).toBe(ZERO)
    expect(tree.root()).toHaveLength(HASH_BYTES)
    expect(allZero(tree)).toBe(true)
    expect(hex(MerkleTree.fromBuckets([]).root())).toBe(ZERO)
  })

  it('node() checks its coordinates', () => {
    const tree = new MerkleTree()
    expect(() => tree.node(DEPTH + 1, 0)).toThrow(RangeError)
    expect(() => tree.node(-1, 0)).toThrow(RangeError)
    expect(() => tree.node(0, 1)).toThrow(RangeError)
    expect(() => tree.node(1, -1)).toThrow(RangeError)
    expect(() => tree.bucket(BUCKETS)).toThrow(RangeError)
    expect(() => tree.node(DEPTH, BUCKETS - 1)).not.toThrow()
  })

  it('setBucket moves exactly the bucket and its ancestors', () => {
    const tree = new MerkleTree()
    const h = leafHash('r/x', new Uint8Array([9]))
    const bucket = 0x1234
    tree.setBucket(bucket, h)
    expect(dump(tree)).toEqual([
      `0/0:${hex(h)}`, `1/${0x1}:${hex(h)}`, `2/${0x12}:${hex(h)}`, `3/${0x123}:${hex(h)}`, `4/${0x1234}:${hex(h)}`
    ])
    tree.setBucket(bucket, new Uint8Array(HASH_BYTES))
    expect(allZero(tree)).toBe(true)
  })

  it('inner nodes are the XOR of their children; emptied subtrees are zero', () => {
    const tree = new MerkleTree()
    const h1 = leafHash('k1', new Uint8Array([1]))
    const h2 = leafHash('k2', new Uint8Array([2]))
    tree.setBucket(0x0000, h1)
    tree.setBucket(0x000f, h2) // same parent 0x000
    const both = Uint8Array.from(h1)
    xorInto(both, h2)
    expect(hex(tree.node(3, 0))).toBe(hex(both))
    expect(hex(tree.root())).toBe(hex(both))
    tree.setBucket(0xf000, h1)
    expect(hex(tree.node(1, 0xf))).toBe(hex(h1))
    expect(hex(tree.root())).toBe(hex(h2)) // h1 ⊕ h2 ⊕ h1
    tree.setBucket(0x0000, new Uint8Array(HASH_BYTES))
    tree.setBucket(0x000f, new Uint8Array(HASH_BYTES))
    for (let level = 1; level <= DEPTH; level++) expect(isZeroHash(tree.node(level, 0))).toBe(true)
    expect(isZeroHash(tree.node(1, 0xf))).toBe(false)
    expect(hex(tree.root())).toBe(hex(h1))
  })

  it('setBucket with the current hash changes nothing, and fromBuckets keeps the last hash of a repeated bucket', () => {
    const h = leafHash('k', new Uint8Array([1]))
    const tree = MerkleTree.fromBuckets([[7, h]])
    const before = dump(tree)
    tree.setBucket(7, Uint8Array.from(h))
    expect(dump(tree)).toEqual(before)
    const g = leafHash('k', new Uint8Array([2]))
    expect(dump(MerkleTree.fromBuckets([[7, h], [7, g]]))).toEqual(dump(MerkleTree.fromBuckets([[7, g]])))
  })

  it('setBucket does not keep a reference to the caller\'s array', () => {
    const h = Uint8Array.from(leafHash('k', new Uint8Array([1])))
    const tree = new MerkleTree()
    tree.setBucket(3, h)
    const root = hex(tree.root())
    h.fill(0)
    expect(hex(tree.root())).toBe(root)
  })

  it('property: a tree maintained incrementally equals the tree rebuilt from scratch', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), ops => {
      const tree = new MerkleTree()
      const data = new Map<string, Uint8Array>()
      for (const { key, state } of ops) put(tree, data, key, state)
      const rebuilt = MerkleTree.fromBuckets(bucketsFromScratch(data))
      const touched = ops.map(o => bucketOf(o.key))
      expect(dump(tree, touched)).toEqual(dump(rebuilt, touched))
      expect(hex(tree.root())).toBe(hex(rebuilt.root()))
      if (data.size === 0) expect(hex(tree.root())).toBe(ZERO)
    }), { numRuns: 200 })
  })

  it('property: the result does not depend on the order of the writes (last write per key wins)', () => {
    // Two nodes receive the same final key → state pairs in different orders, with intermediate values.
    const finalArb = fc.uniqueArray(fc.record({ key: keyArb, state: fc.uint8Array({ maxLength: 4 }) }), { selector: o => o.key, maxLength: 12 })
    fc.assert(fc.property(finalArb, fc.array(opArb, { maxLength: 10 }), fc.array(opArb, { maxLength: 10 }), fc.nat(), (finals, noiseA, noiseB, seed) => {
      const run = (noise: Op[], order: Op[]): MerkleTree => {
        const tree = new MerkleTree()
        const data = new Map<string, Uint8Array>()
        for (const op of noise) put(tree, data, op.key, op.state)
        for (const key of [...data.keys()]) if (!order.some(o => o.key === key)) put(tree, data, key, undefined)
        for (const op of order) put(tree, data, op.key, op.state)
        return tree
      }
      const shuffled = [...finals].sort((x, y) => ((hex(leafHash(x.key, new Uint8Array([seed & 255]))) < hex(leafHash(y.key, new Uint8Array([seed & 255])))) ? -1 : 1))
      const a = run(noiseA, finals)
      const b = run(noiseB, shuffled)
      const touched = [...finals, ...noiseA, ...noiseB].map(o => bucketOf(o.key))
      expect(dump(a, touched)).toEqual(dump(b, touched))
      expect(hex(a.root())).toBe(hex(b.root()))
    }), { numRuns: 100 })
  })

  it('property: deleting every key empties every subtree', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 30 }), ops => {
      const tree = new MerkleTree()
      const data = new Map<string, Uint8Array>()
      for (const { key, state } of ops) put(tree, data, key, state)
      for (const key of [...data.keys()]) put(tree, data, key, undefined)
      expect(dump(tree, ops.map(o => bucketOf(o.key)))).toEqual([])
      expect(isZeroHash(tree.root())).toBe(true)
    }), { numRuns: 100 })
  })

  it('two keys in the same bucket: their leaves XOR together and removing one leaves the other', () => {
    // Find two store keys that share a bucket (65,536 buckets: a few hundred thousand tries at most).
    const seen = new Map<number, string>()
    let pair: [string, string] | undefined
    for (let i = 0; pair === undefined; i++) {
      const k = `r/${i}`
      const b = bucketOf(k)
      const other = seen.get(b)
      if (other !== undefined) pair = [other, k]
      seen.set(b, k)
    }
    const [k1, k2] = pair
    const tree = new MerkleTree()
    const data = new Map<string, Uint8Array>()
    put(tree, data, k1, new Uint8Array([1]))
    put(tree, data, k2, new Uint8Array([2]))
    const expected = Uint8Array.from(leafHash(k1, new Uint8Array([1])))
    xorInto(expected, leafHash(k2, new Uint8Array([2])))
    expect(hex(tree.bucket(bucketOf(k1)))).toBe(hex(expected))
    put(tree, data, k1, undefined)
    expect(hex(tree.bucket(bucketOf(k1)))).toBe(hex(leafHash(k2, new Uint8Array([2]))))
    expect(hex(tree.root())).toBe(hex(leafHash(k2, new Uint8Array([2]))))
  })
})
