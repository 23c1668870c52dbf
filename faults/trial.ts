/**
 * One seed, start to finish: network, tmpfs data dirs, nodes, the fault phase with the
 * workload running, the heal, the wait for convergence, the full read of every node and the
 * check. Whatever happens, the namespaces and mounts are removed before it returns.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Cluster, type ClusterEvent } from './cluster.js'
import { check, type CheckResult, type Wipe } from './checker.js'
import { MOUNT_BASE, mountTmpfs, unmountAll } from './disk.js'
import { annotate } from './explain.js'
import { Firewall } from './firewall.js'
import { History } from './history.js'
import { Injector, type InjectEvent } from './inject.js'
import { createTopology, destroyNamespaces } from './netns.js'
import { generateSchedule, type FaultKind } from './schedule.js'
import { readNode, type Snapshot } from './snapshot.js'
import { Workload } from './workload.js'

export interface TrialOptions {
  seed: number
  durationSec: number
  kinds: FaultKind[]
  nodes: number
  fsync: boolean
  keep: boolean
  /** The nodes' --log-level. */
  nodeLogLevel: string
  dir: string
  prefix: string
  convergeDeadlineMs: number
}

export interface TrialResult {
  seed: number
  ops: { ok: number, failed: number, unknown: number }
  /** Failed and unknown operations by error code / reason. */
  reasons: Record<string, number>
  faults: number
  kinds: Partial<Record<FaultKind, number>>
  skews: number[]
  check: CheckResult
  /** ms from the last heal (and the workload's stop) until every digest was equal; null if never. */
  convergenceMs: number | null
  wallMs: number
  dir: string
  error?: string
}

/** What signal and exit handlers must tear down if the process is interrupted mid-trial (one entry per running job). */
interface LiveTrial { cluster?: Cluster, prefix: string, mountBase: string }
const live = new Set<LiveTrial>()

export function teardownNow (): void {
  for (const t of live) {
    t.cluster?.killAllNow()
    destroyNamespaces(t.prefix)
    unmountAll(t.mountBase)
  }
  live.clear()
}

export async function runTrial (o: TrialOptions): Promise<TrialResult> {
  const began = Date.now()
  await mkdir(o.dir, { recursive: true })
  const schedule = generateSchedule(o.seed, o.durationSec, o.kinds, o.nodes)
  await writeFile(join(o.dir, 'schedule.json'), JSON.stringify(schedule, null, 2))
  const eventsFile: string[] = []
  const injectEvents: InjectEvent[] = []
  const crashes: string[] = []
  const record = (e: InjectEvent | ClusterEvent): void => {
    eventsFile.push(JSON.stringify(e))
    if ('phase' in e) injectEvents.push(e)
    if ('what' in e && e.what === 'unexpected-exit') crashes.push(`node ${e.node} exited by itself at ${new Date(e.t).toISOString()}: ${JSON.stringify(e.detail)}`)
  }
  const history = new History(join(o.dir, 'history.jsonl'))
  const mountBase = join(MOUNT_BASE, o.prefix)
  const mine: LiveTrial = { prefix: o.prefix, mountBase }
  live.add(mine)
  let result: Omit<TrialResult, 'wallMs'> | undefined
  let cluster: Cluster | undefined
  try {
    const topo = await createTopology(o.prefix, o.nodes)
    const firewall = new Firewall(topo)
    await firewall.init()
    const mounts = topo.nodes.map(n => join(mountBase, `n${n.index}`))
    for (const m of mounts) await mountTmpfs(m)
    cluster = await Cluster.create(topo.nodes, mounts, o.dir, { fsync: o.fsync, logLevel: o.nodeLogLevel, logDir: o.dir, onEvent: record })
    mine.cluster = cluster
    await cluster.startAll()
    await waitConnected(cluster, 60_000)

    const injector = new Injector(cluster, firewall, record)
    const workload = new Workload(cluster, history, o.seed)
    const phaseStart = Date.now()
    record({ t: phaseStart, phase: 'phase-start' })
    workload.start()
    injector.schedule(schedule, phaseStart)
    await sleepUntil(phaseStart + o.durationSec * 1000)
    await workload.stop()
    const stoppedAt = Date.now()
    await injector.healAll()
    const quiet = Math.max(injector.lastHealAt, stoppedAt)
    record({ t: quiet, phase: 'quiet' })

    const equalAt = await waitDigestsEqual(cluster, quiet + o.convergeDeadlineMs, record)
    record({ t: Date.now(), phase: equalAt === null ? 'not-converged' : 'converged' })
    const snaps: Snapshot[] = []
    for (const n of cluster.nodes) snaps.push(await readNode(n.index, n.agent))
    await writeFile(join(o.dir, 'snapshots.json'), JSON.stringify(snaps.map(serialise)))
    const checked = check(history.ops, snaps, crashes, wipesOf(injectEvents))
    annotate(checked, history.ops, schedule, injectEvents)
    if (equalAt === null) {
      // Unequal digests can hide differences no read shows (tombstones, version vectors): one more divergence.
      checked.violations.push({ kind: 'divergent', key: '(digests)', detail: `digests unequal ${o.convergeDeadlineMs} ms after the last heal: ${snaps.map(s => `${s.node}=${s.digest.slice(0, 12)}`).join(' ')}` })
      checked.counts.divergent++
    }
    const kinds: Partial<Record<FaultKind, number>> = {}
    for (const f of schedule) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1
    result = {
      seed: o.seed,
      ops: history.counts(),
      reasons: history.reasons(),
      faults: injector.injected,
      kinds,
      skews: schedule.filter(f => f.offsetSec !== undefined).map(f => f.offsetSec as number),
      check: checked,
      convergenceMs: equalAt === null ? null : Math.max(0, equalAt - quiet),
      dir: o.dir
    }
    await writeFile(join(o.dir, 'violations.json'), JSON.stringify(checked, null, 2))
  } catch (err) {
    result = {
      seed: o.seed, ops: history.counts(), reasons: history.reasons(), faults: 0, kinds: {}, skews: [],
      check: { stats: { putsChecked: 0, deletesChecked: 0, batchesChecked: 0, counterBounds: 0, membersMustHave: 0, membersMustLack: 0 }, counts: { lost: 0, undone: 0, phantom: 0, failedApplied: 0, counter: 0, set: 0, divergent: 0, batch: 0, ryw: 0, crash: crashes.length, session: 0 }, violations: [], digestsEqual: false },
      convergenceMs: null, dir: o.dir, error: String((err as Error).stack ?? err)
    }
  } finally {
    await cluster?.stopAll().catch(() => { cluster?.killAllNow() })
    await history.close()
    await writeFile(join(o.dir, 'events.jsonl'), eventsFile.join('\n') + '\n')
    if (o.keep) await cp(mountBase, join(o.dir, 'data'), { recursive: true }).catch(() => {})
    destroyNamespaces(o.prefix)
    unmountAll(mountBase)
    live.delete(mine)
  }
  const final = { ...result, wallMs: Date.now() - began }
  await writeFile(join(o.dir, 'result.json'), JSON.stringify({ ...final, check: { stats: final.check.stats, counts: final.check.counts, digestsEqual: final.check.digestsEqual } }, null, 2))
  return final
}

/** When each wiped node's data directory was gone: the end of its fault's begin action. */
export function wipesOf (events: readonly InjectEvent[]): Wipe[] {
  return events.filter(e => e.kind === 'wipe' && e.phase === 'begin' && e.node !== undefined).map(e => ({ node: e.node as number, at: e.done ?? e.t }))
}

/** Maps as plain objects, so a node's final state can be read (and re-checked) from the out dir. */
function serialise (s: Snapshot): unknown {
  return { ...s, kv: Object.fromEntries(s.kv), hot: Object.fromEntries(s.hot), counters: Object.fromEntries(s.counters), sets: Object.fromEntries(s.sets) }
}

async function sleepUntil (t: number): Promise<void> {
  const ms = t - Date.now()
  if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms))
}

/** Condition wait: every node connected to every other, before any fault starts. */
async function waitConnected (cluster: Cluster, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs
  const want = cluster.nodes.length - 1
  for (;;) {
    const counts = await Promise.all(cluster.nodes.map(async n => {
      const o = await n.agent.call('cluster.peers', {}, 2000)
      return o.kind === 'ok' ? (o.result as Array<{ connected: boolean }>).filter(p => p.connected).length : 0
    }))
    if (counts.every(c => c >= want)) return
    if (Date.now() > until) throw new Error(`nodes not all connected after ${deadlineMs} ms: ${counts.join(',')}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/**
 * Polls node.info on every node until all digests are equal; the time they were, or null at the
 * deadline. Each change in which nodes agree is recorded (phase `digests`), so a slow convergence
 * shows which node lagged.
 */
async function waitDigestsEqual (cluster: Cluster, until: number, record: (e: InjectEvent) => void): Promise<number | null> {
  let last = ''
  for (;;) {
    const digests = await Promise.all(cluster.nodes.map(async n => {
      const o = await n.agent.call('node.info', {}, 2000)
      return o.kind === 'ok' ? (o.result as { digest: string }).digest : `down-${n.index}`
    }))
    const groups = agreeingGroups(digests, cluster.nodes.map(n => n.index))
    const shape = JSON.stringify(groups)
    if (shape !== last) { record({ t: Date.now(), phase: 'digests', detail: { groups } }); last = shape }
    if (groups.length === 1) return Date.now()
    if (Date.now() > until) return null
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

/** Node indexes grouped by equal digest, largest group first. */
function agreeingGroups (digests: string[], indexes: number[]): number[][] {
  const by = new Map<string, number[]>()
  digests.forEach((d, i) => { by.set(d, [...(by.get(d) ?? []), indexes[i] ?? i]) })
  return [...by.values()].sort((a, b) => b.length - a.length)
}
