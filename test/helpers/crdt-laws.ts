/**
 * A shared law suite for every state-based CRDT in the pure core (registers, counters, sets),
 * written once and run against each (cf. abstract-level's test/index.js).
 *
 * States are never hand-made: a *world* is a random run of real operations on 3–4 replicas
 * ('a', 'b', 'c', 'd') interleaved with random one-way state transfers, and every state any
 * replica held along the way is kept (a stale state is a reachable gossip message). The laws
 * compare canonical encoded bytes.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

export const NODE_IDS = ['a', 'b', 'c', 'd'] as const

/** Applies one operation at one replica; created fresh for every world (it may hold per-node clocks). */
export type ApplyOp<S, Op> = (state: S, node: string, op: Op, history: readonly S[]) => S

export interface CrdtSubject<S, Op> {
  /** Shown in test names. */
  name: string
  empty: S
  merge: (a: S, b: S) => S
  encode: (state: S) => Uint8Array
  /** Random operations as the public API would issue them. */
  op: fc.Arbitrary<Op>
  /** A fresh operation applier per world. */
  createApplier: () => ApplyOp<S, Op>
  /** fast-check runs per property. @default 150 */
  numRuns?: number
}

export interface World<S> {
  /** The final state of each replica. */
  finals: S[]
  /** Every state held by any replica at any time (including the finals and the empty state). */
  all: S[]
}

type Step<Op> =
  | { kind: 'op', node: number, op: Op }
  | { kind: 'sync', from: number, to: number }

/** Random runs of real operations and partial exchanges on 3–4 replicas. */
export function worldArbitrary<S, Op> (subject: CrdtSubject<S, Op>, maxSteps = 30): fc.Arbitrary<World<S>> {
  return fc.integer({ min: 3, max: 4 }).chain(n => {
    const node = fc.integer({ min: 0, max: n - 1 })
    const step: fc.Arbitrary<Step<Op>> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('op' as const), node, op: subject.op }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: node, to: node }) }
    )
    return fc.array(step, { maxLength: maxSteps }).map(steps => runWorld(subject, n, steps))
  })
}

function runWorld<S, Op> (subject: CrdtSubject<S, Op>, n: number, steps: ReadonlyArray<Step<Op>>): World<S> {
  const apply = subject.createApplier()
  const states: S[] = Array.from({ length: n }, () => subject.empty)
  const all: S[] = [subject.empty]
  for (const step of steps) {
    if (step.kind === 'op') {
      const node = NODE_IDS[step.node] as string
      states[step.node] = apply(states[step.node] as S, node, step.op, all)
      all.push(states[step.node] as S)
    } else if (step.from !== step.to) {
      states[step.to] = subject.merge(states[step.to] as S, states[step.from] as S)
      all.push(states[step.to] as S)
    }
  }
  return { finals: states, all: [...all, ...states] }
}

/** Hex of the canonical encoding: readable in failures, compared exactly. */
export function bytesOf<S> (subject: Pick<CrdtSubject<S, unknown>, 'encode'>, state: S): string {
  return Buffer.from(subject.encode(state)).toString('hex')
}

/** One replica's delivery order: every message at least once, in random order, with duplicates. */
function deliveryOrder (count: number): fc.Arbitrary<number[]> {
  const indices = Array.from({ length: count }, (_, i) => i)
  return fc.tuple(
    fc.shuffledSubarray(indices, { minLength: count, maxLength: count }),
    fc.array(fc.tuple(fc.nat(count - 1), fc.nat()), { maxLength: count })
  ).map(([order, duplicates]) => {
    const out = [...order]
    for (const [message, at] of duplicates) out.splice(at % (out.length + 1), 0, message)
    return out
  })
}

export function crdtLaws<S, Op> (subject: CrdtSubject<S, Op>): void {
  const numRuns = subject.numRuns ?? 150
  const world = worldArbitrary(subject)
  const enc = (s: S): string => bytesOf(subject, s)
  const pick = (w: World<S>, i: number): S => w.all[i % w.all.length] as S

  describe(`${subject.name}: CRDT laws`, () => {
    it('merge is commutative', () => {
      fc.assert(fc.property(world, fc.nat(), fc.nat(), (w, i, j) => {
        const a = pick(w, i)
        const b = pick(w, j)
        expect(enc(subject.merge(a, b))).toBe(enc(subject.merge(b, a)))
      }), { numRuns })
    })

    it('merge is associative', () => {
      fc.assert(fc.property(world, fc.nat(), fc.nat(), fc.nat(), (w, i, j, k) => {
        const a = pick(w, i)
        const b = pick(w, j)
        const c = pick(w, k)
        expect(enc(subject.merge(subject.merge(a, b), c))).toBe(enc(subject.merge(a, subject.merge(b, c))))
      }), { numRuns })
    })

    it('merge is idempotent, absorbs what it has seen, and has the empty state as identity', () => {
      fc.assert(fc.property(world, fc.nat(), fc.nat(), (w, i, j) => {
        const a = pick(w, i)
        const b = pick(w, j)
        expect(enc(subject.merge(a, a))).toBe(enc(a))
        const ab = subject.merge(a, b)
        expect(enc(subject.merge(ab, a))).toBe(enc(ab))
        expect(enc(subject.merge(ab, b))).toBe(enc(ab))
        expect(enc(subject.merge(a, subject.empty))).toBe(enc(a))
        expect(enc(subject.merge(subject.empty, a))).toBe(enc(a))
      }), { numRuns })
    })

    it('merging does not mutate its arguments', () => {
      fc.assert(fc.property(world, fc.nat(), fc.nat(), (w, i, j) => {
        const a = pick(w, i)
        const b = pick(w, j)
        const before = [enc(a), enc(b)]
        subject.merge(a, b)
        subject.merge(b, a)
        expect([enc(a), enc(b)]).toEqual(before)
      }), { numRuns: Math.ceil(numRuns / 3) })
    })

    it('replicas converge to byte-identical states whatever the delivery order, with duplicates', () => {
      const scenario = world.chain(w => fc.tuple(
        fc.constant(w),
        fc.array(deliveryOrder(w.all.length), { minLength: w.finals.length, maxLength: w.finals.length })
      ))
      fc.assert(fc.property(scenario, ([w, orders]) => {
        const results = w.finals.map((own, r) => {
          let state = own
          for (const m of orders[r] as number[]) state = subject.merge(state, w.all[m] as S)
          return enc(state)
        })
        // Everyone agrees, and agrees with a plain left-to-right fold of every message.
        const reference = enc(w.all.reduce((acc, s) => subject.merge(acc, s), subject.empty))
        for (const r of results) expect(r).toBe(reference)
      }), { numRuns })
    })
  })
}
