/**
 * The pure parts of sessions: the token codec (canonical, bounded), vector comparison, the
 * client's carrier, and the fault harness's session rule.
 */
import { describe, expect, it } from 'vitest'
import { checkSessions } from '../../faults/checker.js'
import type { Op } from '../../faults/history.js'
import { SessionCarrier } from '../../src/rpc/session-carrier.js'
import { decodeToken, encodeToken, mergeVectors, type Position } from '../../src/session/index.js'
import { uncovered } from '../../src/session/vector.js'

const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
const pos = (incarnation: number, commits: number): Position => ({ incarnation, commits })

describe('session tokens', () => {
  it('round-trip, one text per vector whatever the insertion order', () => {
    const v = new Map([[B, pos(2, 300)], [A, pos(1, 2 ** 40)]])
    const token = encodeToken(v)
    expect(encodeToken(new Map([[A, pos(1, 2 ** 40)], [B, pos(2, 300)]]))).toBe(token)
    expect(decodeToken(token, 64)).toEqual(new Map([[A, pos(1, 2 ** 40)], [B, pos(2, 300)]]))
    // One entry: a version byte, a count, a 52-byte id, two varints.
    expect(encodeToken(new Map([[A, pos(3, 123456)]])).length).toBeLessThan(80)
  })

  it('refuse more entries than allowed, unsorted ids and non-canonical text', () => {
    const v = new Map([[A, pos(1, 1)], [B, pos(1, 1)]])
    expect(decodeToken(encodeToken(v), 1)).toMatch(/at most 1/)
    const bytes = Buffer.from(encodeToken(v), 'base64url')
    // Swap the two entries: same length, ids in descending order.
    const entry = (bytes.length - 2) / 2
    const swapped = Buffer.concat([bytes.subarray(0, 2), bytes.subarray(2 + entry), bytes.subarray(2, 2 + entry)])
    expect(decodeToken(swapped.toString('base64url'), 64)).toMatch(/ascending/)
    expect(decodeToken(encodeToken(v) + '=', 64)).toMatch(/base64url/)
  })

  it('a vector covers a token per node, this node by its own position', () => {
    const held = new Map([[B, pos(2, 10)]])
    expect(uncovered(new Map([[B, pos(2, 10)]]), held, A, pos(1, 0)).size).toBe(0)
    expect(uncovered(new Map([[B, pos(1, 99)]]), held, A, pos(1, 0)).size).toBe(0) // an older incarnation
    expect([...uncovered(new Map([[B, pos(2, 11)]]), held, A, pos(1, 0)).keys()]).toEqual([B])
    expect(uncovered(new Map([[A, pos(1, 5)]]), held, A, pos(1, 5)).size).toBe(0)
    expect([...uncovered(new Map([[A, pos(1, 6)]]), held, A, pos(1, 5)).keys()]).toEqual([A])
    expect(mergeVectors(new Map([[A, pos(1, 5)]]), new Map([[A, pos(1, 3)], [B, pos(1, 1)]]))).toEqual(new Map([[A, pos(1, 5)], [B, pos(1, 1)]]))
  })
})

describe('the client\'s session carrier', () => {
  it('replaces the token after a call that ran alone, merges results of calls that overlapped', () => {
    const c = new SessionCarrier()
    const first = c.begin()
    const second = c.begin()
    c.absorb(first.mark, { session: encodeToken(new Map([[A, pos(1, 4)]])) })
    c.absorb(second.mark, { session: encodeToken(new Map([[B, pos(1, 9)]])) })
    expect(decodeToken(c.token as string, 64)).toEqual(new Map([[A, pos(1, 4)], [B, pos(1, 9)]]))
    const third = c.begin()
    c.absorb(third.mark, { session: encodeToken(new Map([[B, pos(1, 10)]])) })
    expect(decodeToken(c.token as string, 64)).toEqual(new Map([[B, pos(1, 10)]]))
    c.absorb(c.begin().mark, { no: 'session' })
    expect(decodeToken(c.token as string, 64)).toEqual(new Map([[B, pos(1, 10)]]))
  })
})

describe('the fault harness\'s session rule', () => {
  let id = 0
  const op = (kind: 'sess-put' | 'sess-get', key: string, extra: Partial<Op>): Op => ({
    id: ++id, node: 0, worker: 0, session: 0, kind, method: kind === 'sess-put' ? 'kv.put' : 'kv.get', params: { key }, start: id, end: id, outcome: 'ok', ...extra
  })
  const put = (key: string, n: number, outcome: Op['outcome'] = 'ok'): Op => op('sess-put', key, { params: { key, value: `q:0:${n}` }, outcome })
  const get = (key: string, n: number | undefined, conflict = false): Op => op('sess-get', key, { result: { found: n !== undefined, value: n === undefined ? null : `q:0:${n}`, conflict } })

  it('passes newer-or-equal reads, an unknown put showing up, and conflicted reads', () => {
    const found: unknown[] = []
    const judged = checkSessions([put('k', 1), get('k', 1), put('k', 2, 'unknown'), get('k', 2), get('k', 2), get('k', 1, true), put('x', 3), get('x', 3)], x => found.push(x))
    expect(found).toEqual([])
    expect(judged).toBe(4)
  })

  it('fails a read older than what the session wrote or read, absent included', () => {
    const found: Array<{ kind: string }> = []
    checkSessions([put('k', 1), put('k', 2), get('k', 1), get('j', 5), put('j', 4), get('j', undefined)], x => found.push(x as { kind: string }))
    expect(found.map(f => f.kind)).toEqual(['session', 'session'])
    const more: unknown[] = []
    checkSessions([get('k', 5), get('k', undefined)], x => more.push(x))
    expect(more).toHaveLength(1)
  })
})
