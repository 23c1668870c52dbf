/**
 * Human-readable output for the CLI (`--json` bypasses all of this).
 */
import type { NodeInfo, PeerInfo } from '../node/api.js'
import { formatAge as formatDuration } from '../util/format-age.js'

export { formatDuration }

/** Values print as JSON, so that what `get` prints is what `put` accepts. */
export function formatValue (value: unknown): string {
  return JSON.stringify(value) ?? 'null'
}

/** lastSeenMs: 0 while connected, -1 never seen, else the age in ms (an epoch time is accepted too). */
function seen (p: PeerInfo): string {
  const ms = p.lastSeenMs
  if (p.connected) return 'now'
  if (!Number.isFinite(ms) || ms < 0) return 'never'
  const age = ms > 1e12 ? Date.now() - ms : ms
  return `${formatDuration(Math.max(0, age))} ago`
}

function syncMark (p: PeerInfo): string {
  if (p.inSync === true) return '✔ in sync'
  if (p.inSync === false) return '✘ differs'
  return '? unknown'
}

const EXPOSURE: Record<string, string> = {
  'cluster-key': 'private (cluster key)',
  'this-host': 'this host only (no cluster key: peers on other hosts are refused)',
  open: 'OPEN (no cluster key, reachable by anyone)'
}

export function formatStatus (info: NodeInfo, peers: PeerInfo[]): string {
  const connected = peers.filter(p => p.connected).length
  const inSync = peers.filter(p => p.inSync === true).length
  const lines = [
    `peer id   ${info.peerId}`,
    `version   ${info.version}`,
    `uptime    ${formatDuration(info.uptimeMs)}`,
    `rpc       ${info.rpcUrl}`,
    `keys      ${info.keys}`,
    `digest    ${info.digest}`,
    `network   ${EXPOSURE[info.exposure] ?? (info.open ? EXPOSURE.open : EXPOSURE['cluster-key'])}`,
    `listening ${info.addrs.join('\n          ') || '(none)'}`,
    `peers     ${peers.length} known, ${connected} connected, ${inSync} in sync`
  ]
  return peers.length === 0 ? lines.join('\n') : `${lines.join('\n')}\n\n${formatPeers(peers)}`
}

export function formatPeers (peers: PeerInfo[]): string {
  if (peers.length === 0) return '(no peers)'
  const rows = peers.map(p => [p.peerId, p.connected ? 'connected' : 'disconnected', syncMark(p), p.digest ?? '', seen(p), p.addrs[0] ?? ''])
  const header = ['PEER', 'CONNECTION', 'DATA', 'DIGEST', 'LAST SEEN', 'ADDRESS']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
