/** Text tables for stdout and the Markdown/SVG report in docs/. */
import type { MetricValue, SuiteResult } from './types.js'

export function fmtMetric (v: MetricValue | undefined): string {
  if (v == null) return '–'
  if (typeof v === 'string') return v
  if (!Number.isFinite(v)) return String(v)
  const a = Math.abs(v)
  if (Number.isInteger(v) || a >= 1000) return Math.round(v).toLocaleString('en-US')
  if (a >= 100) return v.toFixed(0)
  if (a >= 10) return v.toFixed(1)
  if (a >= 0.1) return v.toFixed(2)
  if (a === 0) return '0'
  return v.toPrecision(2)
}

export function columns (r: SuiteResult): string[] {
  const cols: string[] = []
  for (const row of r.rows) for (const k of Object.keys(row.metrics)) if (!cols.includes(k)) cols.push(k)
  return cols
}

function header (r: SuiteResult, c: string): string {
  const u = r.units?.[c]
  return u != null && u !== '' && u !== c ? `${c} (${u})` : c
}

export function textTable (r: SuiteResult): string {
  const cols = columns(r)
  const head = ['case', ...cols.map((c) => header(r, c))]
  const body = r.rows.map((row) => [row.name, ...cols.map((c) => fmtMetric(row.metrics[c]))])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

export function markdownTable (r: SuiteResult): string {
  const cols = columns(r)
  const esc = (s: string): string => s.replace(/\|/g, '\\|')
  const head = `| case | ${cols.map((c) => esc(header(r, c))).join(' | ')} |`
  const sep = `| --- | ${cols.map(() => '---:').join(' | ')} |`
  const body = r.rows.map((row) => `| ${esc(row.name)} | ${cols.map((c) => esc(fmtMetric(row.metrics[c]))).join(' | ')} |`)
  return [head, sep, ...body].join('\n')
}
