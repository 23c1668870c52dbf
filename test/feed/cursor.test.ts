/**
 * The feed's pure codecs, property-style: every cursor and entry round-trips, and text that is
 * not a cursor is refused with a reason, never misread.
 */
import { describe, expect, it } from 'vitest'
import { decodeEntry, decodeFeedCursor, encodeEntryValue, encodeFeedCursor, seqKey } from '../../src/feed/index.js'
import { MAX_FEED_CURSOR_CHARS } from '../../src/constants.js'

/** A small seeded generator, so a failure names the case that reproduces it. */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const pick = (r: () => number, alphabet: string, n: number): string => {
  const chars = [...alphabet] // by code point: never half a surrogate pair
  return Array.from({ length: n }, () => chars[Math.floor(r() * chars.length)]).join('')
}

describe('feed cursor codec', () => {
  it('round-trips any node, incarnation and seq (1,000 random cases)', () => {
    const r = rng(13)
    for (let i = 0; i < 1000; i++) {
      const seq = i % 7 === 0 ? Number.MAX_SAFE_INTEGER - i : Math.floor(r() * 2 ** (r() * 53))
      const cursor = { node: pick(r, ALNUM, 1 + Math.floor(r() * 60)), incarnation: pick(r, '0123456789abcdef', 8 + Math.floor(r() * 57)), seq }
      const text = encodeFeedCursor(cursor)
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(text.length).toBeLessThanOrEqual(MAX_FEED_CURSOR_CHARS)
      expect(decodeFeedCursor(text), `case ${i}`).toEqual(cursor)
    }
  })

  it('refuses what is not a cursor: wrong types, garbage, other versions, out-of-range seqs', () => {
    const bad: unknown[] = [
      undefined, null, 7, {}, '', 'a b', 'x'.repeat(MAX_FEED_CURSOR_CHARS + 1), '!!!',
      Buffer.from('f2 0011223344556677 5 12D3KooW').toString('base64url'),
      Buffer.from('f1 0011223344556677 -5 12D3KooW').toString('base64url'),
      Buffer.from('f1 0011223344556677 05 12D3KooW').toString('base64url'),
      Buffer.from('f1 0011223344556677 9007199254740993 12D3KooW').toString('base64url'),
      Buffer.from('f1 XYZ 5 12D3KooW').toString('base64url'),
      Buffer.from('f1 0011223344556677 5 12D3 KooW').toString('base64url'),
      Buffer.from('f1 0011223344556677 5').toString('base64url')
    ]
    for (const text of bad) expect(decodeFeedCursor(text), String(text)).toHaveProperty('problem')
    // Random bytes are (almost surely) refused, and never throw.
    const r = rng(7)
    for (let i = 0; i < 1000; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 90) }, () => Math.floor(r() * 256))).toString('base64url')
      expect(() => decodeFeedCursor(junk)).not.toThrow()
    }
  })
})

describe('feed entry codec', () => {
  it('round-trips seq, space, key, origin, deleted and time; keys sort as their seqs', () => {
    const r = rng(3)
    const tags = ['r', 'c', 's']
    const spaces = { r: 'kv', c: 'counter', s: 'set' } as const
    let previous = ''
    for (let i = 0; i < 1000; i++) {
      const seq = i * 977 + Math.floor(r() * 977)
      const tag = tags[i % 3] as 'r' | 'c' | 's'
      const key = pick(r, ALNUM + '/é😀', 1 + Math.floor(r() * 40))
      const origin = r() < 0.5 ? 'local' : 'remote'
      const deleted = tag === 'r' && r() < 0.5
      const atMs = Math.floor(r() * 2 ** 46)
      const k = seqKey(seq)
      expect(k > previous).toBe(true)
      previous = k
      expect(decodeEntry(k, encodeEntryValue(`${tag}/${key}`, origin, deleted, atMs))).toEqual({ seq, space: spaces[tag], key, origin, deleted, atMs })
    }
  })

  it('an entry that does not decode reads as undefined (skipped), never as another key', () => {
    expect(decodeEntry('zz', encodeEntryValue('r/a', 'local', false, 1))).toBeUndefined()
    expect(decodeEntry(seqKey(1), new Uint8Array(3))).toBeUndefined()
    expect(decodeEntry(seqKey(1), encodeEntryValue('q/a', 'local', false, 1))).toBeUndefined()
    const bad = encodeEntryValue('r/ab', 'local', false, 1)
    bad[bad.length - 1] = 0xff // not UTF-8
    expect(decodeEntry(seqKey(1), bad)).toBeUndefined()
  })
})
