/**
 * The change log on a real LevelDB (a temp dir): contiguous seqs that survive a reopen, reads
 * that return exactly what follows a seq, pruning that turns older reads into
 * ERR_HISTORY_GONE, and cursors refused by any other log. A model-based run checks reads
 * against a plain array through random appends, failed commits and prunes.
 */
import { describe, expect, it } from 'vitest'
import { HistoryGoneError, InvalidParamsError } from '../../src/errors.js'
import { ChangeLog } from '../../src/feed/index.js'
import type { AppliedChange } from '../../src/replica/index.js'
import { Store } from '../../src/store/index.js'
import { tempDir } from '../helpers/nodes.js'

const NODE = '12D3KooWTestNode'

async function openStore (dir?: string): Promise<{ store: Store, dir: string }> {
  const location = dir ?? await tempDir()
  const store = await Store.open({ location, fsync: false })
  return { store, dir: location }
}

/** Commits `keys` as one group, the way the replica does: stage, commit, settle. */
async function append (store: Store, log: ChangeLog, keys: string[], options: { fail?: boolean, origin?: 'local' | 'remote' } = {}): Promise<AppliedChange[]> {
  const changes = keys.map(key => [{ space: 'counter', key, storeKey: `c/${key}`, state: new Uint8Array(0), origin: options.origin ?? 'local' } as AppliedChange, {}] as const)
  const writes = log.stage(changes, 1_700_000_000_000)
  let ok = false
  try {
    if (options.fail === true) throw new Error('disk full')
    await store.commit(writes)
    ok = true
  } catch {} finally {
    log.settle(ok)
  }
  return changes.map(([c]) => c)
}

function caught (fn: () => unknown): unknown {
  try { fn() } catch (err) { return err }
  return undefined
}

describe('ChangeLog', () => {
  it('numbers changes 1, 2, 3… in commit order; a failed commit gives its seqs back; a reopen goes on', async () => {
    const { store, dir } = await openStore()
    let log = await ChangeLog.open(store, NODE)
    expect(log.head).toBe(0)
    const first = await append(store, log, ['a', 'b'])
    expect(first.map(c => c.seq)).toEqual([1, 2])
    await append(store, log, ['lost'], { fail: true })
    expect(log.head).toBe(2)
    const next = await append(store, log, ['c'])
    expect(next[0]?.seq).toBe(3)
    await store.close()

    const reopened = await openStore(dir)
    log = await ChangeLog.open(reopened.store, NODE)
    expect(log.head).toBe(3)
    expect((await append(reopened.store, log, ['d']))[0]?.seq).toBe(4)
    const page = await log.read(0, { limit: 100, maxExamined: 100 })
    expect(page.entries.map(e => [e.seq, e.key])).toEqual([[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']])
    await reopened.store.close()
  })

  it('reads exactly what follows a seq, by limit and by prefix (the cursor moves past filtered entries)', async () => {
    const { store } = await openStore()
    const log = await ChangeLog.open(store, NODE)
    await append(store, log, ['u/1', 'x/1', 'u/2', 'x/2', 'x/3', 'u/3'])
    for (let after = 0; after <= 6; after++) {
      const page = await log.read(after, { limit: 100, maxExamined: 100 })
      expect(page.entries.map(e => e.seq)).toEqual([1, 2, 3, 4, 5, 6].filter(s => s > after))
      expect(page.last).toBe(6)
    }
    const limited = await log.read(1, { limit: 2, maxExamined: 100 })
    expect(limited.entries.map(e => e.seq)).toEqual([2, 3])
    expect(limited.last).toBe(3)
    const users = await log.read(0, { prefix: 'u/', limit: 100, maxExamined: 100 })
    expect(users.entries.map(e => e.key)).toEqual(['u/1', 'u/2', 'u/3'])
    expect(users.last).toBe(6)
    const bounded = await log.read(0, { prefix: 'u/', limit: 100, maxExamined: 2 })
    expect(bounded.entries.map(e => e.key)).toEqual(['u/1'])
    expect(bounded.last).toBe(2) // examined 1 and 2: the next page starts after 2
    await store.close()
  })

  it('prunes down to the retention; older reads get ERR_HISTORY_GONE with the current cursor', async () => {
    const { store } = await openStore()
    const log = await ChangeLog.open(store, NODE)
    await append(store, log, Array.from({ length: 10 }, (_, i) => `k${i}`))
    expect(await log.prune(4)).toBe(6)
    expect(log.oldest).toBe(7)
    expect((await log.read(6, { limit: 100, maxExamined: 100 })).entries.map(e => e.seq)).toEqual([7, 8, 9, 10])
    const err = await log.read(5, { limit: 100, maxExamined: 100 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HistoryGoneError)
    expect((err as HistoryGoneError).code).toBe('ERR_HISTORY_GONE')
    expect((err as HistoryGoneError).rpcCode).toBe(-32032)
    // Resuming from the cursor the error carries works and returns what comes next.
    const resumed = log.resolveSince((err as HistoryGoneError).data?.cursor)
    expect(resumed).toBe(10)
    await append(store, log, ['after'])
    expect((await log.read(resumed, { limit: 100, maxExamined: 100 })).entries.map(e => e.key)).toEqual(['after'])
    await store.close()
  })

  it('refuses cursors of another node, of a reset data directory, from the future, and junk (-32602 naming since)', async () => {
    const a = await openStore()
    const logA = await ChangeLog.open(a.store, NODE)
    await append(a.store, logA, ['x'])
    const b = await openStore()
    const logB = await ChangeLog.open(b.store, NODE) // the same peer id, another data directory
    const other = await ChangeLog.open((await openStore()).store, '12D3KooWOtherNode')
    const cursorA = logA.cursorAt(1)
    expect(logA.resolveSince(cursorA)).toBe(1)
    for (const [log, text, reason] of [[logB, cursorA, 'foreign-cursor'], [other, cursorA, 'foreign-cursor'], [logA, logA.cursorAt(2), 'future-cursor']] as const) {
      const err = caught(() => log.resolveSince(text))
      expect(err).toBeInstanceOf(InvalidParamsError)
      expect((err as InvalidParamsError).data).toMatchObject({ field: 'since', reason, cursor: expect.any(String) })
    }
    expect((caught(() => logB.resolveSince(cursorA)) as Error).message).toMatch(/earlier incarnation of this node's data directory/)
    expect((caught(() => other.resolveSince(cursorA)) as Error).message).toMatch(/issued by node 12D3KooWTestNode/)
    expect(caught(() => logA.resolveSince('garbage!'))).toBeInstanceOf(InvalidParamsError)
    await a.store.close()
    await b.store.close()
  })

  it('against a model: random appends, failed commits and prunes; every read is exact or says the history is gone', async () => {
    const { store, dir } = await openStore()
    let log = await ChangeLog.open(store, NODE)
    let current = store
    const model: string[] = [] // model[seq - 1] = key
    let oldest = 1
    let s = 42
    const rand = (n: number): number => { // mulberry32
      s = (s + 0x6d2b79f5) >>> 0
      let t = Math.imul(s ^ (s >>> 15), s | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n)
    }
    let gone = 0
    for (let step = 0; step < 120; step++) {
      const what = rand(10)
      if (what < 6) {
        const keys = Array.from({ length: 1 + rand(5) }, () => `k${rand(20)}`)
        const fail = rand(8) === 0
        await append(current, log, keys, { fail })
        if (!fail) model.push(...keys)
      } else if (what < 8) {
        const retain = 1 + rand(15)
        await log.prune(retain)
        oldest = Math.max(oldest, model.length + 1 - retain)
      } else if (what === 8) {
        await current.close()
        current = (await openStore(dir)).store
        log = await ChangeLog.open(current, NODE)
      }
      expect(log.head).toBe(model.length)
      const after = rand(model.length + 1)
      const read = log.read(after, { limit: 1000, maxExamined: 1000 })
      if (after + 1 < oldest) {
        gone++
        await expect(read).rejects.toBeInstanceOf(HistoryGoneError)
      } else {
        const page = await read
        expect(page.entries.map(e => [e.seq, e.key]), `step ${step}, after ${after}`).toEqual(model.slice(after).map((k, i) => [after + 1 + i, k]))
      }
    }
    expect(gone).toBeGreaterThan(5) // the run did exercise pruned reads
    await current.close()
  })
})
