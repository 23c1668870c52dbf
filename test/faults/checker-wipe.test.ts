/**
 * The fault checker's wipe rule (faults/checker.ts), on small hand-made histories: a plain
 * write the wiped node acknowledged before its wipe may be gone; a write acknowledged with
 * replicas ≥ 2 may not, wipe or no wipe; and without a wipe nothing is excused.
 */
import { describe, expect, it } from 'vitest'
import { check, type Wipe } from '../../faults/checker.js'
import type { Op } from '../../faults/history.js'
import type { Snapshot } from '../../faults/snapshot.js'

let nextId = 1
function put (node: number, key: string, end: number, extra: Record<string, unknown> = {}): Op {
  return { id: nextId++, node, worker: 0, kind: 'put', method: 'kv.put', params: { key, value: key, ...extra }, start: end - 5, end, outcome: 'ok', result: {} }
}

function incr (node: number, by: number, end: number): Op {
  return { id: nextId++, node, worker: 0, kind: 'incr', method: 'counter.incr', params: { key: 'c/0', by }, start: end - 5, end, outcome: 'ok', result: {} }
}

/** Five nodes that all hold `kv` and the counter value. */
function snaps (kv: Record<string, string>, counter = 0): Snapshot[] {
  return [1, 2, 3, 4, 5].map(node => ({ node, digest: 'd', kv: new Map(Object.entries(kv)), hot: new Map(), counters: new Map([['c/0', counter]]), sets: new Map() }))
}

const WIPE: Wipe[] = [{ node: 1, at: 1000 }]

describe('fault checker: wipes', () => {
  it('a plain write the wiped node acknowledged before its wipe may be lost, but only with that wipe', () => {
    const ops = [put(1, 'u/1/0/1', 900), incr(1, 5, 950)]
    const withWipe = check(ops, snaps({}), [], WIPE)
    expect(withWipe.counts.lost).toBe(0)
    expect(withWipe.counts.counter).toBe(0)
    expect(withWipe.stats.excusedByWipe).toBe(2)
    const without = check(ops, snaps({}), [])
    expect(without.counts.lost).toBe(1)
    expect(without.counts.counter).toBe(5)
  })

  it('writes after the wipe, and writes other nodes acknowledged, are judged as always', () => {
    const ops = [put(1, 'u/1/0/2', 1100), put(2, 'u/2/0/1', 900)]
    expect(check(ops, snaps({}), [], WIPE).counts.lost).toBe(2)
  })

  it('a write acknowledged with replicas: 2 must survive a wipe', () => {
    const lost = put(1, 'd/1/0/1', 900, { replicas: 2, timeoutMs: 1500 })
    const r = check([lost], snaps({}), [], WIPE)
    expect(r.counts.lost).toBe(1)
    expect(r.stats.durablePutsChecked).toBe(1)
    expect(check([lost], snaps({ 'd/1/0/1': 'd/1/0/1' }), [], WIPE).counts.lost).toBe(0)
  })
})
