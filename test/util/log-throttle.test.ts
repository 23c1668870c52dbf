import { describe, expect, it } from 'vitest'
import { LogThrottle } from '../../src/util/log-throttle.js'

describe('LogThrottle', () => {
  it('lets one line per key and interval through, and counts what it held back', () => {
    let now = 0
    const t = new LogThrottle(10_000, 100, () => now)
    expect(t.take('a')).toEqual({ log: true, held: 0 })
    expect(t.take('a')).toEqual({ log: false })
    expect(t.take('b')).toEqual({ log: true, held: 0 })
    now = 9_999
    expect(t.take('a')).toEqual({ log: false })
    now = 10_000
    expect(t.take('a')).toEqual({ log: true, held: 2 })
    expect(t.take('a')).toEqual({ log: false })
  })

  it('remembers at most maxKeys keys (a forgotten key logs at once)', () => {
    const t = new LogThrottle(10_000, 2, () => 0)
    t.take('a'); t.take('b'); t.take('c')
    expect(t.take('a')).toEqual({ log: true, held: 0 })
    expect(t.take('c')).toEqual({ log: false })
  })
})
