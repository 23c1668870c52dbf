/**
 * Rebuild-and-verify for the paranoid: recompute every key's leaf hash from its stored state
 * and compare it with the persisted leaf index (from which the Merkle tree is derived), then
 * look for index entries whose key has no state. With `repair`, the index is rewritten to match
 * the data. Runs on a closed node's data directory.
 */
import { bucketOf, leafHash } from '../merkle/index.js'
import { bucketPrefix, type Store, type StoreWrite } from './store.js'

export interface VerifyReport {
  /** Keys with a stored state. */
  keys: number
  /** Index entries that disagree with the state's hash, or are missing. */
  mismatched: number
  /** Index entries without a stored state. */
  orphaned: number
  /** Entries rewritten (with `repair`). */
  repaired: number
}

export interface VerifyOptions {
  repair?: boolean
  /** Called every few thousand keys with (done, total). */
  onProgress?: (done: number, total: number) => void
}

const CHUNK = 1000

export async function verifyTree (store: Store, options: VerifyOptions = {}): Promise<VerifyReport> {
  const report: VerifyReport = { keys: 0, mismatched: 0, orphaned: 0, repaired: 0 }
  let total = 0
  for await (const _ of store.keysOf('buckets', {})) total++
  const fixes: StoreWrite[] = []
  const flush = async (): Promise<void> => {
    if (options.repair === true && fixes.length > 0) {
      await store.commit(fixes)
      report.repaired += fixes.length
    }
    fixes.length = 0
  }

  let chunk: Array<[string, Uint8Array]> = []
  const check = async (): Promise<void> => {
    const indexKeys = chunk.map(([storeKey]) => bucketPrefix(bucketOf(storeKey)) + storeKey)
    const leaves = await store.getMany('buckets', indexKeys)
    chunk.forEach(([storeKey, state], i) => {
      const expected = leafHash(storeKey, state)
      const actual = leaves[i]
      if (actual === undefined || Buffer.compare(Buffer.from(actual), Buffer.from(expected)) !== 0) {
        report.mismatched++
        fixes.push({ sublevel: 'buckets', key: indexKeys[i] as string, value: Uint8Array.from(expected) })
      }
    })
    report.keys += chunk.length
    chunk = []
    await flush()
    options.onProgress?.(report.keys, Math.max(total, report.keys))
  }
  for await (const entry of store.entriesOf('data', {})) {
    chunk.push(entry)
    if (chunk.length >= CHUNK) await check()
  }
  await check()

  let orphans: string[] = []
  const checkOrphans = async (): Promise<void> => {
    const states = await store.getStates(orphans.map(k => k.slice(4)))
    orphans.forEach((indexKey, i) => {
      const inRightBucket = indexKey.slice(0, 4) === bucketPrefix(bucketOf(indexKey.slice(4)))
      if (states[i] === undefined || !inRightBucket) {
        report.orphaned++
        fixes.push({ sublevel: 'buckets', key: indexKey })
      }
    })
    orphans = []
    await flush()
  }
  for await (const indexKey of store.keysOf('buckets', {})) {
    orphans.push(indexKey)
    if (orphans.length >= CHUNK) await checkOrphans()
  }
  await checkOrphans()
  return report
}
