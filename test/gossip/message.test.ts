import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { encodeCbor } from '../../src/codec/index.js'
import { decodeGossip, encodeGossip, MAX_REPUBLISH_TAG, packGossip } from '../../src/gossip/index.js'

const change = (storeKey: string, n = 3): { storeKey: string, state: Uint8Array } => ({ storeKey, state: new Uint8Array(n).fill(7) })

describe('gossip message', () => {
  it('round-trips changes, with and without a republish tag; the tag makes other bytes', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.string({ minLength: 1 }), fc.uint8Array())), fc.integer({ min: 0, max: MAX_REPUBLISH_TAG }), (entries, tag) => {
      const changes = entries.map(([k, state]) => ({ storeKey: `r/${k}`, state }))
      const plain = encodeGossip(changes)
      const tagged = encodeGossip(changes, tag)
      expect(decodeGossip(plain)).toEqual(changes)
      expect(decodeGossip(tagged)).toEqual(changes)
      expect(Buffer.from(tagged).equals(Buffer.from(plain))).toBe(false)
    }), { numRuns: 200 })
  })

  it('refuses anything but [1, changes] or [1, changes, uint32]', () => {
    const body = [['r/a', new Uint8Array([1])]]
    for (const bad of [[1], [2, body], [1, body, -1], [1, body, MAX_REPUBLISH_TAG + 1], [1, body, 1.5], [1, body, 'x'], [1, body, 0, 0], [1, [['r/a', 'not bytes']]], [1, [[1, new Uint8Array()]]]]) {
      expect(() => decodeGossip(encodeCbor(bad)), JSON.stringify(bad)).toThrow(/gossip/)
    }
    expect(decodeGossip(encodeCbor([1, body, MAX_REPUBLISH_TAG]))).toHaveLength(1)
  })

  it('packs changes into messages under the byte bound, a larger change alone', () => {
    const messages = packGossip([change('r/a', 40), change('r/b', 40), change('r/c', 200), change('r/d', 10)], 100)
    expect(messages.map(m => m.map(c => c.storeKey))).toEqual([['r/a'], ['r/b'], ['r/c'], ['r/d']])
    expect(packGossip([change('r/a'), change('r/b')], 1000)).toHaveLength(1)
  })
})
