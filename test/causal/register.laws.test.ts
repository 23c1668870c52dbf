import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EMPTY_REGISTER, mergeRegisters } from '../../src/causal/index.js'
import type { RegisterState } from '../../src/causal/index.js'
import { encodeRegister } from '../../src/codec/index.js'
import { crdtLaws, worldArbitrary } from '../helpers/crdt-laws.js'
import { registerApplier, registerOp, registers } from './register-subject.js'
import type { RegisterOp } from './register-subject.js'

crdtLaws(registers)

// With a tiny cap on writes, dropping the oldest siblings still converges.
crdtLaws<RegisterState, RegisterOp>({
  name: 'DVV register capped at 2 siblings',
  empty: EMPTY_REGISTER,
  merge: (a, b) => mergeRegisters(a, b),
  encode: encodeRegister,
  op: registerOp,
  createApplier: registerApplier(2)
})

describe('DVV register: reachable states', () => {
  it('every sibling is covered by the version vector and siblings are sorted by dot with unique dots', () => {
    fc.assert(fc.property(worldArbitrary(registers), w => {
      for (const s of w.all) {
        for (const sib of s.siblings) expect(sib.counter).toBeLessThanOrEqual(s.vv[sib.node] ?? 0)
        const ids = s.siblings.map(x => `${x.node}:${String(x.counter).padStart(6, '0')}`)
        expect(ids).toEqual([...new Set(ids)].sort())
      }
    }), { numRuns: 100 })
  })
})

describe('DVV register: the sibling cap', () => {
  it('no reachable state holds more than the cap of siblings written by any one node', () => {
    const capped = { ...registers, createApplier: registerApplier(2) }
    fc.assert(fc.property(worldArbitrary(capped), w => {
      for (const s of w.all) {
        const perNode = new Map<string, number>()
        for (const sib of s.siblings) perNode.set(sib.node, (perNode.get(sib.node) ?? 0) + 1)
        for (const n of perNode.values()) expect(n).toBeLessThanOrEqual(2)
      }
    }), { numRuns: 100 })
  })
})
