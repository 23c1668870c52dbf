/**
 * How the session reads the local tree: windows of hashes as they travel on the wire, node
 * ranges in buckets, and a bitmap of buckets. Pure.
 *
 * A window is `width` bytes of a 16-byte hash starting at a per-exchange offset. Because every
 * inner hash is an XOR of leaf hashes, a window of an inner hash is the XOR of the windows of
 * its leaves, so windows compare subtrees as faithfully as the full hashes do, up to a false
 * match of probability 2^-(8·width) — and the initiator picks a fresh offset for every
 * exchange, so a false match never repeats for the same pair of subtrees.
 */
import { BUCKETS, DEPTH, FANOUT, FANOUT_BITS, type MerkleTree } from '../merkle/index.js'
import { NODE_BYTES } from './wire.js'

export function windowOf (hash: Uint8Array, offset: number, width: number): Uint8Array {
  return hash.subarray(offset, offset + width)
}

export function isZero (bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false
  return true
}

export function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Number of nodes at a level. */
export function levelSize (level: number): number {
  return FANOUT ** level
}

/** Buckets [from, to) under node `index` of `level`. */
export function bucketRange (level: number, index: number): [number, number] {
  const span = FANOUT ** (DEPTH - level)
  return [index * span, (index + 1) * span]
}

/** The parent of a node at `level` ≥ 1. */
export function parentOf (index: number): number {
  return index >> FANOUT_BITS
}

/** Windows of the FANOUT children of each node, back to back. */
export function childWindows (tree: MerkleTree, level: number, indices: readonly number[], offset: number): Uint8Array {
  const out = new Uint8Array(indices.length * FANOUT * NODE_BYTES)
  let at = 0
  for (const index of indices) {
    for (let k = 0; k < FANOUT; k++) {
      out.set(windowOf(tree.node(level + 1, index * FANOUT + k), offset, NODE_BYTES), at)
      at += NODE_BYTES
    }
  }
  return out
}

/**
 * Ranges to read, merged across gaps of buckets that are empty here: one storage scan instead
 * of one per subtree when the pushed subtrees are many and sparse.
 */
export function coalesce (ranges: Array<[number, number]>, tree: MerkleTree): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (const range of ranges) {
    const last = out[out.length - 1]
    if (last !== undefined && gapIsEmpty(tree, last[1], range[0])) last[1] = range[1]
    else out.push([range[0], range[1]])
  }
  return out
}

function gapIsEmpty (tree: MerkleTree, from: number, to: number): boolean {
  for (let b = from; b < to; b++) if (!isZero(tree.bucket(b))) return false
  return true
}

/** One bit per bucket. */
export class BucketSet {
  private readonly bits = new Uint8Array(BUCKETS / 8)

  has (bucket: number): boolean {
    return ((this.bits[bucket >> 3] as number) & (1 << (bucket & 7))) !== 0
  }

  add (bucket: number): void {
    this.bits[bucket >> 3] = (this.bits[bucket >> 3] as number) | (1 << (bucket & 7))
  }

  addRange ([from, to]: readonly [number, number]): void {
    for (let b = from; b < to; b++) this.add(b)
  }

  /** The sub-ranges of [from, to) not yet in the set, which are then added. */
  takeRange ([from, to]: readonly [number, number]): Array<[number, number]> {
    const out: Array<[number, number]> = []
    let start = -1
    for (let b = from; b < to; b++) {
      if (this.has(b)) {
        if (start >= 0) { out.push([start, b]); start = -1 }
      } else {
        this.add(b)
        if (start < 0) start = b
      }
    }
    if (start >= 0) out.push([start, to])
    return out
  }
}
