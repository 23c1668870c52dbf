/**
 * GET / — a small, self-contained HTML status page (no scripts, no external assets; it
 * refreshes itself every few seconds).
 */
import type { NodeInfo, PeerInfo } from '../node/api.js'

function esc (s: unknown): string {
  return String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)
}

/** lastSeenMs: 0 while connected, -1 never seen, else the age in ms (an epoch time is accepted too). */
function ago (connected: boolean, ms: number): string {
  if (connected) return 'now'
  if (!Number.isFinite(ms) || ms < 0) return 'never'
  // An epoch timestamp, or (small values) an age in milliseconds.
  const age = ms > 1e12 ? Date.now() - ms : ms
  const s = Math.max(0, Math.round(age / 1000))
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`
}

function duration (ms: number): string {
  const s = Math.floor(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`
}

export function renderStatusPage (info: NodeInfo, peers: PeerInfo[]): string {
  const rows = peers.map(p => {
    const sync = p.inSync === true ? '<span class="ok">✔ in sync</span>' : p.inSync === false ? '<span class="warn">✘ differs</span>' : '<span class="dim">?</span>'
    const conn = p.connected ? '<span class="ok">connected</span>' : '<span class="dim">disconnected</span>'
    return `<tr><td><code>${esc(p.peerId)}</code></td><td>${conn}</td><td>${sync}</td><td>${esc(ago(p.connected, p.lastSeenMs))}</td><td><code>${esc(p.digest?.slice(0, 16) ?? '')}</code></td><td>${p.addrs.map(a => `<code>${esc(a)}</code>`).join('<br>')}</td></tr>`
  }).join('\n')
  const inSync = peers.filter(p => p.inSync === true).length
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chorus ${esc(info.peerId.slice(-8))}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
code{font-size:12px}.ok{color:#080}.warn{color:#b60}.dim{color:#888}.open{color:#c00;font-weight:bold}
</style></head><body>
<h1>Chorus node</h1>
<table>
<tr><th>peer id</th><td><code>${esc(info.peerId)}</code></td></tr>
<tr><th>version</th><td>${esc(info.version)}</td></tr>
<tr><th>uptime</th><td>${esc(duration(info.uptimeMs))}</td></tr>
<tr><th>RPC</th><td><code>${esc(info.rpcUrl)}</code></td></tr>
<tr><th>keys</th><td>${esc(info.keys)}</td></tr>
<tr><th>digest</th><td><code>${esc(info.digest)}</code></td></tr>
<tr><th>cluster key</th><td>${info.open ? '<span class="open">none — this node is open to any peer</span>' : 'set (private network)'}</td></tr>
<tr><th>listening</th><td>${info.addrs.map(a => `<code>${esc(a)}</code>`).join('<br>')}</td></tr>
</table>
<h2>Peers (${peers.length}, ${inSync} in sync)</h2>
${peers.length === 0 ? '<p class="dim">no peers known</p>' : `<table><tr><th>peer</th><th>connection</th><th>data</th><th>last seen</th><th>digest</th><th>addresses</th></tr>\n${rows}</table>`}
</body></html>
`
}
