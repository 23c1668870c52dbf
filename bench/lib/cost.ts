/**
 * Wall and CPU time per call of in-process work, for the cost scripts behind the `promises`
 * suite. CPU is this process's (user + system, all threads, LevelDB's included): on a shared,
 * loaded machine it moves far less than wall time.
 */
import { now } from './stats.js'

export interface PerCall { wallUs: number, cpuUs: number }

/** This process's CPU time so far, µs (user + system). */
export const cpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system }

/** Runs `fn(i)` for i in [0, n), one at a time; µs of wall and CPU time per call. */
export async function perCall (n: number, fn: (i: number) => Promise<unknown>): Promise<PerCall> {
  const t = now()
  const c = cpuUs()
  for (let i = 0; i < n; i++) await fn(i)
  return { wallUs: (now() - t) * 1000 / n, cpuUs: (cpuUs() - c) / n }
}

export function median (xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

/** Median wall and CPU per call over rounds (each a PerCall). */
export function medianPerCall (rounds: readonly PerCall[]): PerCall {
  return { wallUs: median(rounds.map(r => r.wallUs)), cpuUs: median(rounds.map(r => r.cpuUs)) }
}

/** A signed difference for the tables: "+12.3" or "-4.0". */
export function delta (a: number, b: number, digits = 1): string {
  const d = b - a
  return `${d >= 0 ? '+' : ''}${d.toFixed(digits)}`
}

/**
 * Several cases measured side by side: `rounds` rounds, each a block of `calls` calls of every
 * case, the order reversed every other round (so that LevelDB compactions and the machine's load
 * hit them alike); the first round only warms up when there are more. Median per case.
 */
export async function interleaved<K extends string> (cases: Record<K, (i: number) => Promise<unknown>>, calls: number, rounds: number): Promise<Record<K, PerCall>> {
  const names = Object.keys(cases) as K[]
  const samples = new Map<K, PerCall[]>(names.map(n => [n, []]))
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      const result = await perCall(calls, async i => await cases[name](r * calls + i))
      if (r > 0 || rounds === 1) samples.get(name)?.push(result)
    }
  }
  const out = {} as Record<K, PerCall>
  for (const n of names) out[n] = medianPerCall(samples.get(n) ?? [])
  return out
}
