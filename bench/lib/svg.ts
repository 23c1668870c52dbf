/**
 * Small hand-written SVG charts (no dependencies): horizontal bar charts for throughput and
 * grouped bars for latency distributions (p50/p95/p99/max).
 */
import type { BarChart, Chart, LatencyChart } from './types.js'

const W = 760
const LABEL_W = 250
const VALUE_W = 90
const PLOT_W = W - LABEL_W - VALUE_W - 20
const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"'
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7']
const LAT_COLORS = { p50: '#4e79a7', p95: '#76b7b2', p99: '#f28e2b', max: '#e15759' } as const

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function fmtNum (v: number): string {
  const a = Math.abs(v)
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`
  if (a >= 100 || Number.isInteger(v)) return v.toFixed(0)
  if (a >= 10) return v.toFixed(1)
  if (a >= 1) return v.toFixed(2)
  return v.toPrecision(2)
}

interface Scale { len: (v: number) => number, ticks: number[] }

/** Maps values to bar lengths in [2, PLOT_W]; log scale spans whole decades. Ticks for gridlines. */
function scaler (values: number[], log: boolean): Scale {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v))
  if (pos.length === 0) return { len: () => 0, ticks: [] }
  const max = Math.max(...pos)
  if (!log) {
    const step = niceStep(max / 4)
    const top = Math.ceil(max / step) * step
    const ticks: number[] = []
    for (let t = 0; t <= top + step / 2; t += step) ticks.push(t)
    return { len: (v) => (v > 0 ? Math.max(2, (v / top) * PLOT_W) : 0), ticks }
  }
  const lo = Math.floor(Math.log10(Math.min(...pos)))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)))
  const span = hi - lo
  const ticks: number[] = []
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e)
  return { len: (v) => (v > 0 ? Math.max(2, ((Math.log10(v) - lo) / span) * PLOT_W) : 0), ticks }
}

function tickFmt (v: number): string {
  const a = Math.abs(v)
  const trim = (x: number): string => String(Number(x.toPrecision(3)))
  if (a >= 1e6) return `${trim(v / 1e6)}M`
  if (a >= 1e3) return `${trim(v / 1e3)}k`
  return trim(v)
}

function niceStep (raw: number): number {
  const e = 10 ** Math.floor(Math.log10(raw))
  const f = raw / e
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e
}

function grid (scale: Scale, top: number, bottom: number): string {
  let out = ''
  for (const t of scale.ticks) {
    const x = LABEL_W + (t === 0 ? 0 : scale.len(t))
    out += `<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#e3e3e3"/>\n`
    out += `<text x="${x.toFixed(1)}" y="${bottom + 12}" text-anchor="middle" font-size="10" fill="#888">${esc(tickFmt(t))}</text>\n`
  }
  return out
}

function legend (items: Array<{ label: string, color: string }>, y: number): string {
  let out = ''
  let x = LABEL_W
  for (const it of items) {
    out += `<rect x="${x}" y="${y}" width="12" height="12" fill="${it.color}"/><text x="${x + 16}" y="${y + 10}" fill="#333">${esc(it.label)}</text>\n`
    x += 16 + it.label.length * 6.5 + 18
  }
  return out
}

function frame (title: string, subtitle: string, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ${FONT} font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="12" y="22" font-size="15" font-weight="600" fill="#222">${esc(title)}</text>
<text x="12" y="40" fill="#666">${esc(subtitle)}</text>
${body}</svg>
`
}

export function barChartSvg (c: BarChart): string {
  const row = 24
  const groups = [...new Set(c.bars.map((b) => b.group ?? ''))]
  const named = groups.filter((g) => g !== '')
  const top = named.length > 0 ? 70 : 56
  const scale = scaler(c.bars.map((b) => b.value), c.log === true)
  const bottom = top + c.bars.length * row
  let body = grid(scale, top - 4, bottom)
  if (named.length > 0) body += legend(named.map((g) => ({ label: g, color: PALETTE[groups.indexOf(g) % PALETTE.length] ?? '#888' })), 48)
  c.bars.forEach((b, i) => {
    const y = top + i * row
    const len = scale.len(b.value)
    const color = PALETTE[groups.indexOf(b.group ?? '') % PALETTE.length] ?? PALETTE[0]
    body += `<text x="${LABEL_W - 8}" y="${y + 15}" text-anchor="end" fill="#222">${esc(b.label)}</text>\n`
    body += `<rect x="${LABEL_W}" y="${y + 3}" width="${len.toFixed(1)}" height="${row - 7}" fill="${color}" rx="2"/>\n`
    body += `<text x="${(LABEL_W + len + 6).toFixed(1)}" y="${y + 15}" fill="#333">${esc(Number.isFinite(b.value) && b.value > 0 ? fmtNum(b.value) : 'n/a')}</text>\n`
  })
  const sub = `${c.unit}${c.log === true ? ' (log scale)' : ''}`
  return frame(c.title, sub, bottom + 24, body)
}

export function latencyChartSvg (c: LatencyChart): string {
  const keys = ['p50', 'p95', 'p99', 'max'] as const
  const bar = 13
  const groupGap = 12
  const top = 70
  const all: number[] = []
  for (const s of c.series) for (const k of keys) { const v = s[k]; if (v != null) all.push(v) }
  const scale = scaler(all, c.log === true)
  const height = top + c.series.length * (keys.length * bar + groupGap)
  let body = grid(scale, top - 4, height - groupGap + 2)
  body += legend(keys.map((k) => ({ label: k, color: LAT_COLORS[k] })), 48)
  let y = top
  for (const s of c.series) {
    const gh = keys.length * bar
    body += `<text x="${LABEL_W - 8}" y="${y + gh / 2 + 4}" text-anchor="end" fill="#222">${esc(s.label)}</text>\n`
    keys.forEach((k, i) => {
      const v = s[k]
      const by = y + i * bar
      if (v == null) {
        body += `<text x="${LABEL_W + 4}" y="${by + 10}" fill="#999">${k}: n/a</text>\n`
        return
      }
      const len = scale.len(v)
      body += `<rect x="${LABEL_W}" y="${by + 1}" width="${len.toFixed(1)}" height="${bar - 2}" fill="${LAT_COLORS[k]}"/>\n`
      body += `<text x="${(LABEL_W + len + 5).toFixed(1)}" y="${by + 10}" font-size="10" fill="#333">${esc(fmtNum(v))}</text>\n`
    })
    y += gh + groupGap
  }
  const sub = `${c.unit}${c.log === true ? ' (log scale)' : ''}`
  return frame(c.title, sub, y + 22, body)
}

export function chartSvg (c: Chart): string {
  return c.kind === 'bar' ? barChartSvg(c) : latencyChartSvg(c)
}
