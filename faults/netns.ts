/**
 * The network: one hub namespace holding a Linux bridge, one namespace per node with a veth
 * to the bridge. Nothing is ever created in the host's (root) namespace: each veth pair is
 * created inside the hub namespace with its peer end placed straight into the node's
 * namespace, and addresses (10.77.0.I) exist only inside the node namespaces.
 *
 * Names carry the run's prefix `chf<pid>` so that a later run can recognise, and remove,
 * what a crashed run left behind — and never anything else.
 */
import { readFileSync } from 'node:fs'
import { run, runSyncQuiet } from './exec.js'

export const PREFIX_BASE = 'chf'
// `chf<pid>` for a run, `chf<pid>j<k>` for its k-th concurrent job (--jobs).
const NAME_RE = /^chf(\d+)(?:j\d+)?[hn]\d*$/

export interface NodeNet { index: number, ns: string, ip: string }
export interface Topology { prefix: string, hub: string, nodes: NodeNet[] }

export function runPrefix (job = 0): string { return `${PREFIX_BASE}${process.pid}${job > 0 ? `j${job}` : ''}` }

export function nodeIp (index: number): string { return `10.77.0.${index}` }

export async function createTopology (prefix: string, count: number): Promise<Topology> {
  const hub = `${prefix}h`
  const topo: Topology = { prefix, hub, nodes: [] }
  await run('ip', ['netns', 'add', hub])
  await run('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge'])
  await run('ip', ['-n', hub, 'link', 'set', 'br0', 'up'])
  for (let i = 1; i <= count; i++) {
    const ns = `${prefix}n${i}`
    await run('ip', ['netns', 'add', ns])
    topo.nodes.push({ index: i, ns, ip: nodeIp(i) })
    // The pair is born in the hub; its peer end goes directly into the node's namespace.
    await run('ip', ['-n', hub, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    await run('ip', ['-n', hub, 'link', 'set', `v${i}`, 'master', 'br0', 'up'])
    await run('ip', ['-n', ns, 'addr', 'add', `${nodeIp(i)}/24`, 'dev', 'eth0'])
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
  }
  return topo
}

function listNamespaces (): string[] {
  return runSyncQuiet('ip', ['netns', 'list']).split('\n').map(l => l.trim().split(/\s+/)[0] ?? '').filter(n => n !== '')
}

/** Kills whatever still runs inside a namespace (orphaned nodes of a crashed run), then deletes it. */
function deleteNamespace (ns: string): void {
  for (const pid of runSyncQuiet('ip', ['netns', 'pids', ns]).split('\n').map(Number).filter(p => p > 0)) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  runSyncQuiet('ip', ['netns', 'del', ns])
}

/** Deleting the namespaces also deletes the veth ends and the bridge inside them. */
export function destroyNamespaces (prefix: string): void {
  for (const ns of listNamespaces()) {
    if (ns.startsWith(prefix) && NAME_RE.test(ns) && ns.slice(prefix.length).match(/^[hn]\d*$/) !== null) deleteNamespace(ns)
  }
}

/** Is the harness run with this pid still alive? (A reused pid running something else is not.) */
export function harnessAlive (pid: number): boolean {
  if (pid === process.pid) return true
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('faults/run.ts')
  } catch {
    return false
  }
}

/** Removes the namespaces of earlier harness runs that are no longer alive; returns their names. */
export function removeStaleNamespaces (): string[] {
  const removed: string[] = []
  for (const ns of listNamespaces()) {
    const m = NAME_RE.exec(ns)
    if (m === null || harnessAlive(Number(m[1]))) continue
    deleteNamespace(ns)
    removed.push(ns)
  }
  return removed
}
