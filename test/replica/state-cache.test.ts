import { describe, expect, it } from 'vitest'
import { StateCache } from '../../src/replica/state-cache.js'

const entry = (n: number): { bytes: Uint8Array, state: number } => ({ bytes: new Uint8Array([n]), state: n })

describe('StateCache', () => {
  it('keeps the most recent half-capacity entries, drops a whole old generation, promotes hits', () => {
    const cache = new StateCache(4) // generations of 2
    cache.set('a', entry(1))
    cache.set('b', entry(2)) // young full → becomes old
    cache.set('c', entry(3))
    expect(cache.get('a')).toEqual(entry(1)) // from old, promoted into young → young full → rotates
    cache.set('d', entry(4))
    cache.set('e', entry(5)) // rotates again: the generation holding b is gone
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('e')).toEqual(entry(5))
    expect(cache.get('d')).toEqual(entry(4))
  })

  it('a later set replaces an earlier value wherever it lives', () => {
    const cache = new StateCache(4)
    cache.set('k', entry(1))
    cache.set('x', entry(9))
    cache.set('k', entry(2))
    expect(cache.get('k')).toEqual(entry(2))
  })
})
