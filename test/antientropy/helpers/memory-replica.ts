/**
 * An AntiEntropyReplica in memory: for benchmarks at sizes LevelDB would take minutes to fill,
 * and as the hostile peer's side of the hostile kit's exchanges (test/hostile/kit.ts).
 * It uses the real tree, leaf hashes, buckets and merges (SPACE_TYPES), so what it exchanges
 * is byte for byte what a LevelDB replica would.
 */
import { BUCKETS, bucketOf, leafHash, MerkleTree, nextBucketHash } from '../../../src/merkle/index.js'
import { fromStoreKey, SPACE_TYPES } from '../../../src/model/index.js'
import type { AntiEntropyReplica, ApplyReport, BucketEntry, EncodedChange } from '../../../src/replica/types.js'

/** What a replica held: its states, their leaf hashes, the keys in each bucket and each bucket's hash. */
export interface ReplicaSnapshot {
  states: ReadonlyMap<string, Uint8Array>
  leaves: ReadonlyMap<string, Uint8Array>
  buckets: ReadonlyMap<number, readonly string[]>
  hashes: ReadonlyMap<number, Uint8Array>
}

export class MemoryReplica implements AntiEntropyReplica {
  readonly tree: MerkleTree
  private readonly states: Map<string, Uint8Array>
  private readonly leaves: Map<string, Uint8Array>
  private readonly buckets: Array<Set<string> | undefined> = new Array(BUCKETS)

  constructor (snapshot?: ReplicaSnapshot) {
    this.tree = snapshot === undefined ? new MerkleTree() : MerkleTree.fromBuckets(snapshot.hashes)
    this.states = new Map(snapshot?.states)
    this.leaves = new Map(snapshot?.leaves)
    for (const [b, keys] of snapshot?.buckets ?? []) this.buckets[b] = new Set(keys)
  }

  /** Store a state as is (a local write), moving the tree. */
  set (storeKey: string, state: Uint8Array): void {
    const bucket = bucketOf(storeKey)
    const leaf = leafHash(storeKey, state)
    this.tree.setBucket(bucket, nextBucketHash(this.tree.bucket(bucket), this.leaves.get(storeKey), leaf))
    this.states.set(storeKey, state)
    this.leaves.set(storeKey, leaf)
    let keys = this.buckets[bucket]
    if (keys === undefined) this.buckets[bucket] = keys = new Set()
    keys.add(storeKey)
  }

  get (storeKey: string): Uint8Array | undefined {
    return this.states.get(storeKey)
  }

  keysIn (bucket: number): string[] {
    return [...this.buckets[bucket] ?? []]
  }

  async applyRemote (changes: EncodedChange[]): Promise<ApplyReport> {
    const report = { applied: 0, changed: 0, rejected: 0 }
    for (const { storeKey, state } of changes) {
      const addr = fromStoreKey(storeKey)
      if (addr === undefined) { report.rejected++; continue }
      const type = SPACE_TYPES[addr.space] as (typeof SPACE_TYPES)['kv']
      let merged: Uint8Array
      try {
        const current = this.states.get(storeKey)
        merged = type.encode(type.merge(current === undefined ? type.empty : type.decode(current), type.decode(state)))
      } catch {
        report.rejected++
        continue
      }
      report.applied++
      const current = this.states.get(storeKey)
      if (current !== undefined && Buffer.compare(current, merged) === 0) continue
      report.changed++
      this.set(storeKey, merged)
    }
    return report
  }

  /** Changes here are never fresh: every exchange sends everything. */
  freshSince (): number | undefined {
    return undefined
  }

  async bucketEntries (bucket: number): Promise<BucketEntry[]> {
    return [...this.buckets[bucket] ?? []].map(storeKey => ({ storeKey, leaf: this.leaves.get(storeKey) as Uint8Array }))
  }

  async readStates (storeKeys: string[]): Promise<Array<Uint8Array | undefined>> {
    return storeKeys.map(k => this.states.get(k))
  }

  async * statesInBuckets (fromBucket: number, toBucket: number): AsyncIterable<EncodedChange> {
    // A hostile peer's request can name a range past the last bucket (the hostile kit sends them).
    for (let b = fromBucket; b < Math.min(toBucket, BUCKETS); b++) {
      for (const storeKey of this.buckets[b] ?? []) yield { storeKey, state: this.states.get(storeKey) as Uint8Array }
    }
  }

  keyCount (): number {
    return this.states.size
  }
}
