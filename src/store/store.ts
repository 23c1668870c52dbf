/**
 * One LevelDB per node, split into sublevels:
 *
 *   data      store key (`r/…`, `c/…`, `s/…`) → encoded state     (reads, scans)
 *   buckets   `hhhh` + store key → leaf hash (16 B)               (the Merkle tree's leaves, by bucket)
 *   conflicts store key of a register with siblings → empty      (kv.conflicts without a scan)
 *   tombstones store key of a register that is all tombstones → local ms when it became so (GC);
 *               also registers whose values all expire and expiring counters and sets → when they die
 *   collected store key of a collected register → when, and the version vector its tombstone had seen
 *   meta      name → text                                        (storage version)
 *   feed      16 hex digits of a seq → one change-feed entry      (feed/; written with the change it records)
 *
 * The store knows nothing of replication: the replica computes a whole batch — states and
 * their leaf hashes — and commits it here in one atomic LevelDB batch, so the data and the tree
 * derived from it can never disagree, also after `kill -9`. Inner tree nodes and the key count
 * are derived from the leaves at start-up (one sequential read of the small `buckets` index),
 * never stored twice.
 */
import { mkdir, statfs } from 'node:fs/promises'
import { Level } from 'level'
import { STORAGE_REOPEN_MIN_FREE_BYTES, STORAGE_VERSION } from '../constants.js'
import { DataDirError, StorageError } from '../errors.js'
import { BUCKETS, HASH_BYTES, MerkleTree, xorInto } from '../merkle/index.js'

type Bytes = Uint8Array
import type { AbstractSnapshot, AbstractSublevel } from 'abstract-level'

/** A point-in-time view of the database (LevelDB snapshot); close it when done. */
export type StoreSnapshot = AbstractSnapshot

type Sub = AbstractSublevel<Level<string, Bytes>, string | Bytes, string, Bytes>

/** One write of a commit: a key of a sublevel set to bytes, or deleted. */
export type StoreWrite =
  | { sublevel: StoreSublevel, key: string, value: Bytes }
  | { sublevel: StoreSublevel, key: string, value?: undefined }

export type StoreSublevel = 'data' | 'buckets' | 'conflicts' | 'tombstones' | 'collected' | 'meta' | 'feed'

export interface StoreInit {
  /** Directory of the LevelDB database. */
  location: string
  /** fsync every commit (survives power loss, much slower). */
  fsync: boolean
}

export interface RangeOptions {
  gte?: string
  gt?: string
  lt?: string
  limit?: number
  /** Newest first. */
  reverse?: boolean
  /** Read from this snapshot instead of the latest data. */
  snapshot?: StoreSnapshot
}

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** Four hex digits, so buckets sort numerically as strings. */
export function bucketPrefix (bucket: number): string {
  return bucket.toString(16).padStart(4, '0')
}

/** Index keys of buckets [from, to). Past the last bucket, 'g' follows every hex prefix ('10000' would sort before 'ffff'). */
function bucketRange (fromBucket: number, toBucket: number): { gte: string, lt: string } {
  return { gte: bucketPrefix(fromBucket), lt: toBucket >= BUCKETS ? 'g' : bucketPrefix(toBucket) }
}

/**
 * A data directory of another storage format: the message says who wrote it and the two ways
 * on (docs/operations.md, "Upgrades and compatibility"), since an operator reads it in a
 * service's failed start.
 */
function storageVersionError (location: string, text: string, version: number): DataDirError {
  const writer = !Number.isSafeInteger(version) ? 'something that is not Chorus' : version > STORAGE_VERSION ? 'a newer Chorus' : 'an older Chorus'
  return new DataDirError(`database in ${location} has storage version ${JSON.stringify(text)}, written by ${writer}; this Chorus reads storage version ${STORAGE_VERSION} only. Start the Chorus release that wrote it; or move the directory aside and start with an empty one, which fills from the cluster's other nodes (or from \`chorus export\` run against a node of that release, then \`chorus import\`); see docs/operations.md, "Upgrades and compatibility"`, { data: { storageVersion: text, readable: STORAGE_VERSION } })
}

export class Store {
  private readonly db: Level<string, Bytes>
  private readonly subs: Record<StoreSublevel, Sub>
  private readonly fsync: boolean
  private readonly location: string
  private closing?: Promise<void>
  /** Why the last commit failed: until the database is reopened, nothing more may be written. */
  private failed: unknown
  private reopening?: Promise<void>

  private constructor (db: Level<string, Bytes>, init: StoreInit) {
    this.db = db
    this.fsync = init.fsync
    this.location = init.location
    const sub = (name: string): Sub => db.sublevel<string, Bytes>(name, { keyEncoding: 'utf8', valueEncoding: 'view' })
    this.subs = { data: sub('data'), buckets: sub('buckets'), conflicts: sub('conflicts'), tombstones: sub('tombstones'), collected: sub('collected'), meta: sub('meta'), feed: sub('feed') }
  }

  /** Opens (creating if needed) the database; DataDirError if it is locked, corrupt or of another version. */
  static async open (init: StoreInit): Promise<Store> {
    await mkdir(init.location, { recursive: true })
    const db = new Level<string, Bytes>(init.location, { keyEncoding: 'utf8', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string, message?: string } }).cause
      const locked = cause?.code === 'LEVEL_LOCKED' || /lock/i.test(cause?.message ?? '')
      throw new DataDirError(locked
        ? `data directory ${init.location} is in use by another Chorus process`
        : `cannot open the database in ${init.location}: ${cause?.message ?? (err as Error).message}`, { cause: err })
    }
    const store = new Store(db, init)
    await store.checkVersion(init.location)
    return store
  }

  private async checkVersion (location: string): Promise<void> {
    const raw = await this.subs.meta.get('storageVersion')
    if (raw === undefined) {
      const anyData = await this.subs.data.keys({ limit: 1 }).all()
      if (anyData.length > 0) throw new DataDirError(`database in ${location} has data but no storage version: not a Chorus data directory?`)
      await this.subs.meta.put('storageVersion', utf8.encode(String(STORAGE_VERSION)))
      return
    }
    const text = fromUtf8.decode(raw)
    const version = Number(text)
    if (version !== STORAGE_VERSION) throw storageVersionError(location, text, version)
  }

  async getStates (storeKeys: string[]): Promise<Array<Bytes | undefined>> {
    return await this.getMany('data', storeKeys)
  }

  async getMany (sublevel: StoreSublevel, keys: string[]): Promise<Array<Bytes | undefined>> {
    if (keys.length === 0) return []
    await this.reopened()
    return await this.subs[sublevel].getMany(keys)
  }

  async getState (storeKey: string): Promise<Bytes | undefined> {
    await this.reopened()
    return await this.subs.data.get(storeKey)
  }

  /**
   * Commit every write atomically (and durably with fsync).
   *
   * A commit that fails (a full disk, an I/O error) may leave a torn record at the end of
   * LevelDB's log, and LevelDB goes on appending after it: at the next open, the reader drops
   * the rest of that log block — writes acknowledged *after* the failure vanished in a test
   * here. So after a failure nothing more is written to that log: the next commit first
   * reopens the database (which recovers the log up to the torn record and starts a new one),
   * and only once the disk has room for that (STORAGE_REOPEN_MIN_FREE_BYTES); until then every
   * commit fails with StorageError and reads go on.
   */
  async commit (writes: StoreWrite[]): Promise<void> {
    if (writes.length === 0) return
    if (this.failed !== undefined) await this.reopen()
    try {
      await this.write(writes)
    } catch (err) {
      if (LOG_MAY_BE_TORN.has((err as { code?: string }).code ?? '')) this.failed = err
      throw new StorageError(`the write was not stored: ${(err as Error).message}`, { cause: err })
    }
  }

  private async write (writes: StoreWrite[]): Promise<void> {
    // Written through the root database with the sublevels' own prefixes: the same keys the
    // sublevels read, without abstract-level's per-operation sublevel delegation (≈20% of a
    // large commit's CPU).
    const ops = writes.map(w => w.value === undefined
      ? { type: 'del' as const, key: this.subs[w.sublevel].prefix + w.key }
      : { type: 'put' as const, key: this.subs[w.sublevel].prefix + w.key, value: w.value })
    const direct = this.directBatch()
    if (direct !== undefined) await direct(ops, { sync: this.fsync })
    else await this.db.batch(ops, { sync: this.fsync })
  }

  private async reopen (): Promise<void> {
    this.reopening ??= (async () => {
      if (this.closing !== undefined) throw new StorageError('the store is closing')
      const free = await freeBytes(this.location)
      if (free < STORAGE_REOPEN_MIN_FREE_BYTES) {
        throw new StorageError(`writes are refused: the last one failed (${(this.failed as Error).message}) and the disk holding ${this.location} has ${free} bytes free; they resume once it has ${STORAGE_REOPEN_MIN_FREE_BYTES}`)
      }
      if (this.db.status === 'open') await this.db.close()
      await this.db.open()
      // Sublevels close with their parent but do not reopen with it.
      await Promise.all(Object.values(this.subs).map(async sub => { await sub.open() }))
      this.failed = undefined
    })().finally(() => { this.reopening = undefined })
    await this.reopening
  }

  /** Reads wait while the database is being reopened (see commit). */
  private async reopened (): Promise<void> {
    if (this.reopening !== undefined) await this.reopening.catch(() => {})
  }

  /**
   * classic-level's own batch, below abstract-level's public one. Our keys are strings and our
   * values bytes already — exactly what the binding takes — so the public path's per-operation
   * clone, encoding lookup and validation is pure overhead: it was 9–12 % of a loaded node's CPU.
   * Used only while the database is open and the method exists (any other `level` backend gets
   * the public path).
   */
  private directBatch (): ((ops: unknown[], options: { sync: boolean }) => Promise<void>) | undefined {
    const db = this.db as unknown as { status: string, _batch?: (ops: unknown[], options: { sync: boolean }) => Promise<void> }
    if (db.status !== 'open' || typeof db._batch !== 'function' || this.db.constructor.name !== 'ClassicLevel') return undefined
    return db._batch.bind(db)
  }

  async * entriesOf (sublevel: StoreSublevel, range: RangeOptions): AsyncGenerator<[string, Bytes]> {
    await this.reopened()
    for await (const entry of this.subs[sublevel].iterator(range)) yield entry
  }

  /**
   * A snapshot of everything committed so far, taken synchronously: reads given it see no later
   * commit. The caller closes it.
   */
  snapshot (): StoreSnapshot {
    return this.db.snapshot()
  }

  /** Whether a sublevel holds any key at all (one seek). */
  async isEmpty (sublevel: StoreSublevel): Promise<boolean> {
    await this.reopened()
    return (await this.subs[sublevel].keys({ limit: 1 }).all()).length === 0
  }

  /** Keys in a sublevel: a scan of its keys, 1,000 at a time (for metrics; not a hot path). */
  async count (sublevel: StoreSublevel): Promise<number> {
    await this.reopened()
    const keys = this.subs[sublevel].keys()
    let n = 0
    try {
      for (let batch = await keys.nextv(1000); batch.length > 0; batch = await keys.nextv(1000)) n += batch.length
    } finally {
      await keys.close()
    }
    return n
  }

  async * keysOf (sublevel: StoreSublevel, range: RangeOptions): AsyncGenerator<string> {
    await this.reopened()
    for await (const key of this.subs[sublevel].keys(range)) yield key
  }

  /** The keys (store keys) and leaf hashes of one bucket. */
  async bucketEntries (bucket: number): Promise<Array<{ storeKey: string, leaf: Bytes }>> {
    const out: Array<{ storeKey: string, leaf: Bytes }> = []
    await this.reopened()
    for await (const [key, leaf] of this.subs.buckets.iterator(bucketRange(bucket, bucket + 1))) {
      out.push({ storeKey: key.slice(4), leaf })
    }
    return out
  }

  /** Store keys of every key in buckets [from, to), in bucket order. */
  async * storeKeysInBuckets (fromBucket: number, toBucket: number): AsyncGenerator<string> {
    await this.reopened()
    for await (const key of this.subs.buckets.keys(bucketRange(fromBucket, toBucket))) yield key.slice(4)
  }

  /** Rebuild the tree from the persisted leaves; also counts the keys. */
  async loadTree (): Promise<{ tree: MerkleTree, keys: number }> {
    const hashes = new Map<number, Uint8Array>()
    let keys = 0
    for await (const [key, leaf] of this.subs.buckets.iterator()) {
      const bucket = Number.parseInt(key.slice(0, 4), 16)
      let hash = hashes.get(bucket)
      if (hash === undefined) {
        hash = new Uint8Array(HASH_BYTES)
        hashes.set(bucket, hash)
      }
      xorInto(hash, leaf)
      keys++
    }
    return { tree: MerkleTree.fromBuckets(hashes), keys }
  }

  /**
   * At a clean shutdown: the bucket level of the tree and the key count, so the next start
   * need not read every leaf. Valid only while nothing is written after it.
   */
  async saveTreeSnapshot (tree: MerkleTree, keys: number): Promise<void> {
    await this.commit([
      { sublevel: 'meta', key: 'treeSnapshot', value: tree.bucketBytes() },
      this.metaWrite('treeSnapshotKeys', String(keys))
    ])
  }

  /**
   * The snapshot of the last clean shutdown, if any — deleted before returning, so that after
   * the writes to come a crash can never leave a stale snapshot to trust.
   */
  async takeTreeSnapshot (): Promise<{ tree: MerkleTree, keys: number } | undefined> {
    const bytes = await this.subs.meta.get('treeSnapshot')
    const keys = Number(await this.getMeta('treeSnapshotKeys'))
    await this.commit([{ sublevel: 'meta', key: 'treeSnapshot' }, { sublevel: 'meta', key: 'treeSnapshotKeys' }])
    if (bytes === undefined || !Number.isSafeInteger(keys)) return undefined
    const tree = MerkleTree.fromBucketBytes(bytes)
    return tree === undefined ? undefined : { tree, keys }
  }

  async getMeta (name: string): Promise<string | undefined> {
    await this.reopened()
    const raw = await this.subs.meta.get(name)
    return raw === undefined ? undefined : fromUtf8.decode(raw)
  }

  metaWrite (name: string, value: string): StoreWrite {
    return { sublevel: 'meta', key: name, value: utf8.encode(value) }
  }

  /** Idempotent: flushes and releases the LevelDB lock. */
  async close (): Promise<void> {
    this.closing ??= this.db.close()
    await this.closing
  }
}

/** Errors after which LevelDB's log may end in a torn record (or the database is left closed). */
const LOG_MAY_BE_TORN = new Set(['LEVEL_IO_ERROR', 'LEVEL_CORRUPTION', 'LEVEL_DATABASE_NOT_OPEN'])

async function freeBytes (location: string): Promise<number> {
  const fs = await statfs(location)
  return fs.bavail * fs.bsize
}
