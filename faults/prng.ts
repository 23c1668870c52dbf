/**
 * Seeded pseudo-random numbers. Every random choice of the harness (the fault schedule, each
 * worker's operations) draws from its own named stream derived from the seed, so that the
 * same seed gives the same choices even when timing (how many operations a worker gets to
 * make) differs between runs.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next: () => number
  /** Integer in [lo, hi], both inclusive. */
  int: (lo: number, hi: number) => number
  /** Uniform in [lo, hi). */
  float: (lo: number, hi: number) => number
  chance: (p: number) => boolean
  pick: <T>(items: readonly T[]) => T
  /** A shuffled copy. */
  shuffle: <T>(items: readonly T[]) => T[]
  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted: <K extends string>(weights: Record<K, number>) => K
}

/** FNV-1a over the stream's name: independent streams for "schedule", "worker/1/0", … */
function hash32 (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** mulberry32: tiny, fast, good enough for choosing faults and operations. */
function mulberry32 (state: number): () => number {
  let a = state >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function rng (seed: number, stream: string): Rng {
  const next = mulberry32(hash32(`${seed}/${stream}`))
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1))
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[int(0, items.length - 1)] as T
  }
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(0, i)
      const tmp = out[i] as T
      out[i] = out[j] as T
      out[j] = tmp
    }
    return out
  }
  const weighted = <K extends string>(weights: Record<K, number>): K => {
    const entries = Object.entries(weights) as Array<[K, number]>
    const total = entries.reduce((s, [, w]) => s + w, 0)
    let x = next() * total
    for (const [k, w] of entries) {
      if (x < w) return k
      x -= w
    }
    return (entries[entries.length - 1] as [K, number])[0]
  }
  return { next, int, float: (lo, hi) => lo + next() * (hi - lo), chance: p => next() < p, pick, shuffle, weighted }
}
