/** The replicate frames and the `replicas` rules, as pure functions. */
import { describe, expect, it } from 'vitest'
import { encodeCanonical } from '../../src/codec/index.js'
import { MAX_REPLICAS, MAX_REPLICAS_TIMEOUT_MS } from '../../src/constants.js'
import { InvalidParamsError, ProtocolError } from '../../src/errors.js'
import { checkDurable, decodeAck, decodePush, encodeAck, encodePush, packPushes, requiredNodes } from '../../src/replication/index.js'

describe('replicate frames', () => {
  it('round-trip a push and an ack', () => {
    const changes = [{ storeKey: 'r/a', state: new Uint8Array([1, 2]) }, { storeKey: 'c/b', state: new Uint8Array([3]) }]
    expect(decodePush(encodePush(changes))).toEqual(changes)
    expect(decodeAck(encodeAck({ applied: 2, rejected: 1 }))).toEqual({ applied: 2, rejected: 1 })
  })

  it('refuse every other shape with a ProtocolError', () => {
    const bad = [
      new Uint8Array([0xff]),
      encodeCanonical([2, [['r/a', new Uint8Array([1])]]]),
      encodeCanonical([1, []]),
      encodeCanonical([1, [['r/a', 'text']]]),
      encodeCanonical([1, [['r/' + 'k'.repeat(2000), new Uint8Array([1])]]])
    ]
    for (const b of bad) expect(() => decodePush(b)).toThrow(ProtocolError)
    for (const b of [encodeCanonical([1, 'x', 0]), encodeCanonical([1, 1]), encodeCanonical([2, 1, 0])]) expect(() => decodeAck(b)).toThrow(ProtocolError)
  })

  it('pack changes into frames under the byte bound', () => {
    const change = (i: number): { storeKey: string, state: Uint8Array } => ({ storeKey: `r/${i}`, state: new Uint8Array(400) })
    const frames = packPushes(Array.from({ length: 10 }, (_, i) => change(i)), 1000)
    expect(frames.map(f => f.length)).toEqual([2, 2, 2, 2, 2])
  })
})

describe('replicas and timeoutMs', () => {
  it('a majority is more than half of the known members plus this node', () => {
    expect([0, 1, 2, 3, 4, 5].map(m => requiredNodes('majority', m))).toEqual([1, 2, 2, 3, 3, 4])
    expect(requiredNodes(3, 0)).toBe(3)
  })

  it('no replicas: nothing asked (the call is unchanged); bad values name their field', () => {
    expect(checkDurable(undefined)).toBeUndefined()
    expect(checkDurable({ timeoutMs: 100 })).toBeUndefined()
    expect(checkDurable({ replicas: 'majority' })).toEqual({ replicas: 'majority', timeoutMs: 5000 })
    expect(checkDurable({ replicas: MAX_REPLICAS, timeoutMs: 0 })).toEqual({ replicas: MAX_REPLICAS, timeoutMs: 0 })
    const cases: Array<[unknown, string]> = [
      [{ replicas: 0 }, 'replicas'], [{ replicas: MAX_REPLICAS + 1 }, 'replicas'], [{ replicas: 'all' }, 'replicas'], [{ replicas: 2.5 }, 'replicas'],
      [{ replicas: 2, timeoutMs: -1 }, 'timeoutMs'], [{ replicas: 2, timeoutMs: MAX_REPLICAS_TIMEOUT_MS + 1 }, 'timeoutMs'], [{ timeoutMs: 'soon' }, 'timeoutMs']
    ]
    for (const [options, field] of cases) {
      let caught: unknown
      try { checkDurable(options as never) } catch (err) { caught = err }
      expect(caught).toBeInstanceOf(InvalidParamsError)
      expect((caught as InvalidParamsError).data?.field).toBe(field)
    }
  })
})
