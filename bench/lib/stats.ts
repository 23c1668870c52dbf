import { performance } from 'node:perf_hooks'

export interface Distribution {
  n: number
  p50: number | null
  p95: number | null
  p99: number | null
  max: number | null
  mean: number | null
}

/** Nearest-rank percentile of an ascending array. */
export function percentile (sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] ?? null
}

export function distribution (xs: readonly number[]): Distribution {
  const s = Float64Array.from(xs).sort()
  const arr = Array.from(s)
  let sum = 0
  for (const x of arr) sum += x
  return {
    n: arr.length,
    p50: percentile(arr, 50),
    p95: percentile(arr, 95),
    p99: percentile(arr, 99),
    max: arr.length > 0 ? (arr[arr.length - 1] ?? null) : null,
    mean: arr.length > 0 ? sum / arr.length : null
  }
}

export const now = (): number => performance.now()

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `worker(i)` for i in [0, total) with `concurrency` in flight; stops early at `deadline` (performance.now() ms). */
export async function pool (total: number, concurrency: number, worker: (i: number) => Promise<void>, deadline = Infinity): Promise<number> {
  let next = 0
  let done = 0
  const lane = async (): Promise<void> => {
    while (next < total && now() < deadline) {
      const i = next++
      await worker(i)
      done++
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane))
  return done
}

export function round (x: number | null | undefined, digits = 2): number | null {
  if (x == null || !Number.isFinite(x)) return null
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** A 100-byte string value, distinct per i (so nothing is deduplicated). */
export function value100 (i: number): string {
  const head = `v${i}:`
  return head + 'x'.repeat(100 - head.length)
}

export function fmtBytes (b: number | null | undefined): string {
  if (b == null) return '–'
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(2)} GiB`
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(1)} MiB`
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`
  return `${b} B`
}
