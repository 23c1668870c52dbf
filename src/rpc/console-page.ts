/**
 * GET / — the node console (docs/operations.md, "The console"). The page itself is a shell:
 * the script (console/console.js) fills it over JSON-RPC, live over the WebSocket. When the
 * request may read the node (no token set, or the right one sent), the shell already holds the
 * node's summary and peers, so the page says something without JavaScript too. Without the
 * token it holds no data: the script asks for the token.
 */
import { readFileSync } from 'node:fs'
import type { NodeInfo, PeerInfo } from '../node/api.js'
import { formatAge } from '../util/format-age.js'

/** The console's static files, read once; served without the token (they hold no data). */
export const CONSOLE_ASSETS: ReadonlyMap<string, { type: string, body: Buffer }> = new Map([
  ['/console.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./console/console.js', import.meta.url)) }],
  ['/console.css', { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./console/console.css', import.meta.url)) }]
])

/** Scripts and styles from this node only; connections to it only; no frames, forms or plugins. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

function esc (s: unknown): string {
  return String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)
}

/** lastSeenMs: 0 while connected, -1 never seen, else the age in ms. */
function ago (connected: boolean, ms: number): string {
  if (connected) return 'now'
  if (!Number.isFinite(ms) || ms < 0) return 'never'
  return `${formatAge(ms)} ago`
}

const EXPOSURE: Record<NodeInfo['exposure'], string> = {
  'cluster-key': 'nodes holding the cluster key',
  'this-host': 'processes on this host only (no cluster key)',
  open: '<span class="bad">anyone: no cluster key, open</span>'
}

function nodeSummary (info: NodeInfo): string {
  return `<div class="scroll"><table>
<tr><th>peer id</th><td><code>${esc(info.peerId)}</code></td></tr>
<tr><th>version</th><td>${esc(info.version)}</td></tr>
<tr><th>uptime</th><td>${esc(formatAge(info.uptimeMs))}</td></tr>
<tr><th>keys</th><td>${esc(info.keys)}</td></tr>
<tr><th>digest</th><td><code>${esc(info.digest)}</code></td></tr>
<tr><th>who may connect</th><td>${EXPOSURE[info.exposure] ?? ''}</td></tr>
<tr><th>listening</th><td>${info.addrs.map(a => `<code>${esc(a)}</code>`).join('<br>')}</td></tr>
</table></div>`
}

function peerTable (peers: PeerInfo[]): string {
  if (peers.length === 0) return '<p class="dim">no peers known</p>'
  const rows = peers.map(p => {
    const sync = p.inSync === true ? '<span class="ok">✔ in sync</span>' : p.inSync === false ? '<span class="warn">✘ differs</span>' : '<span class="dim">?</span>'
    const conn = p.connected ? '<span class="ok">connected</span>' : '<span class="dim">disconnected</span>'
    return `<tr><td><code>${esc(p.peerId)}</code></td><td>${conn}</td><td>${sync}</td><td>${esc(ago(p.connected, p.lastSeenMs))}</td></tr>`
  }).join('\n')
  return `<div class="scroll"><table><tr><th>peer</th><th>connection</th><th>data</th><th>last seen</th></tr>\n${rows}</table></div>`
}

/** The console; `view` is what the request may see (undefined without the token). */
export function renderConsolePage (view: { info: NodeInfo, peers: PeerInfo[] } | undefined): string {
  const title = view === undefined ? 'Chorus' : `Chorus ${esc(view.info.peerId.slice(-8))}`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
</head><body>
<header><h1>Chorus</h1><span class="id" id="node-id">${view === undefined ? '' : esc(view.info.peerId)}</span><span class="live" id="live"></span><span id="logout"></span></header>
<div id="login-box"></div>
<main id="app">
<div id="failure" class="wide"></div>
<section class="wide"><h2>Node</h2><div id="node">${view === undefined ? '<noscript>The console needs JavaScript and, on this node, its RPC token.</noscript>' : nodeSummary(view.info)}</div></section>
<section class="wide"><h2 id="peers-title">Peers${view === undefined ? '' : ` (${view.peers.length}, ${view.peers.filter(p => p.inSync === true).length} in sync)`}</h2><div id="peers">${view === undefined ? '' : peerTable(view.peers)}</div></section>
<section class="wide"><h2 id="conflicts-title">Conflicts</h2><div id="conflicts"></div></section>
<section class="wide"><h2>Recent warnings and errors</h2><div id="errors"></div></section>
</main>
</body></html>
`
}
