/**
 * The contract between bench/run.ts and the suites in bench/suites/*.ts.
 *
 * A suite module exports `suite` (or a default export) shaped like `Suite`. Its `run` returns
 * rows of named metrics; the runner prints them as a table, writes them into
 * docs/benchmarks.md and draws the charts the suite asks for.
 */

/** A metric value: a number (units in `SuiteResult.units`), a short string, or null (not measured). */
export type MetricValue = number | string | null

export interface SuiteRow {
  /** What this row measured, e.g. `kv.put, 64 clients`. */
  name: string
  metrics: Record<string, MetricValue>
}

/** A bar chart: one bar per item (e.g. throughput of each case). */
export interface BarChart {
  kind: 'bar'
  /** File name stem under docs/bench/ (without .svg). */
  id: string
  title: string
  unit: string
  bars: Array<{ label: string, value: number, group?: string }>
  /** Log scale for values spanning orders of magnitude (level vs OrbitDB). */
  log?: boolean
}

/** Latency distributions: per series, p50/p95/p99/max as grouped bars. */
export interface LatencyChart {
  kind: 'latency'
  id: string
  title: string
  unit: string
  series: Array<{ label: string, p50: number | null, p95: number | null, p99: number | null, max: number | null }>
  log?: boolean
}

export type Chart = BarChart | LatencyChart

export interface SuiteResult {
  /** Column units by metric name, e.g. `{ 'ops/s': 'ops/s', p50: 'ms' }`. */
  units?: Record<string, string>
  rows: SuiteRow[]
  charts?: Chart[]
  /** Free-text lines printed under the table (method, caveats, reasons). */
  notes?: string[]
  /** Set when the suite did not run; the reason is printed and published. */
  skipped?: string
  /** Machine-readable extras for other suites and the summary (e.g. raw figures). */
  data?: Record<string, unknown>
}

export interface RunOptions {
  quick: boolean
  /** Results of suites already finished in this run, by suite name (same-run baselines). */
  prior?: Readonly<Record<string, SuiteResult>>
}

export interface Suite {
  name: string
  /** One sentence for the docs. */
  description: string
  /** Suites whose same-run results this one compares against; the runner runs them first. */
  needs?: string[]
  /** Sort key for the default run order (lower first). */
  order?: number
  run: (opts: RunOptions) => Promise<SuiteResult>
}
