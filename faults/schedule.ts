/**
 * The seeded fault schedule: which faults, when, on which nodes — a pure function of
 * (seed, duration, kinds, node count), so `--seed S` replays the same schedule.
 *
 * Faults overlap: a new fault starts every 1–3.5 s whatever is still active, so several nodes
 * are often faulted at once. Each seed first goes through every selected kind once, in a
 * shuffled order (so a short run still covers every kind), then picks kinds at random.
 * Process-level faults (kill, pause, skew-start, clock-jump, disk-full) never overlap on the
 * same node; network faults compose freely (the firewall applies their union). Every fault
 * heals at least 1 s before the fault phase ends. At most one `wipe` per schedule: the promise
 * it tests is "the loss of any one node's data directory" (a later pick of it takes another kind).
 */
import { cutBetween, type Drop } from './firewall.js'
import { rng, type Rng } from './prng.js'

export const FAULT_KINDS = [
  'partition-halves', 'partition-isolate', 'partition-bridge', 'partition-ring', 'partition-oneway',
  'loss', 'kill', 'pause', 'skew-start', 'clock-jump', 'disk-full', 'wipe'
] as const
export type FaultKind = typeof FAULT_KINDS[number]

const PROCESS_KINDS: ReadonlySet<FaultKind> = new Set(['kill', 'pause', 'skew-start', 'clock-jump', 'disk-full', 'wipe'])
export const isProcessFault = (k: FaultKind): boolean => PROCESS_KINDS.has(k)

export interface Fault {
  id: number
  kind: FaultKind
  /** ms after the start of the fault phase. */
  at: number
  /** When it heals, ms after the start of the fault phase. */
  until: number
  /** The nodes it is about (for process faults: the one node it acts on). */
  nodes: number[]
  /** Network faults: the packets dropped while it is active. */
  drops?: Drop[]
  /** skew-start and clock-jump: the clock offset in seconds. */
  offsetSec?: number
  /** Human-readable, for the schedule file and the log. */
  what: string
}

/** How long each kind lasts, ms. */
const DURATION: Record<FaultKind, [number, number]> = {
  'partition-halves': [3000, 8000],
  'partition-isolate': [3000, 8000],
  'partition-bridge': [3000, 8000],
  'partition-ring': [3000, 7000],
  'partition-oneway': [3000, 7000],
  loss: [4000, 8000],
  kill: [1000, 4000],
  pause: [2000, 5000],
  'skew-start': [5000, 10000],
  'clock-jump': [4000, 8000],
  'disk-full': [3000, 6000],
  // kill -9, the whole data directory deleted (identity included), restarted as a new member.
  wipe: [1000, 4000]
}

export const SKEW_SEC = 300

export function generateSchedule (seed: number, durationSec: number, kinds: readonly FaultKind[], nodeCount: number): Fault[] {
  const r = rng(seed, 'schedule')
  const nodes = Array.from({ length: nodeCount }, (_, i) => i + 1)
  const limit = durationSec * 1000 - 1000
  const busyUntil = new Map<number, number>(nodes.map(n => [n, 0]))
  // Ahead and behind both occur across seeds: the first skew of odd seeds is ahead, of even ones behind.
  let skewSign = seed % 2 === 1 ? 1 : -1
  const queue = r.shuffle(kinds)
  const faults: Fault[] = []
  let t = 2000
  const others = kinds.filter(k => k !== 'wipe')
  let wiped = false
  while (t < limit && kinds.length > 0) {
    let kind: FaultKind | undefined = queue.shift() ?? r.pick(kinds)
    if (kind === 'wipe' && wiped) kind = others.length > 0 ? r.pick(others) : undefined
    if (kind === undefined) break
    const [lo, hi] = DURATION[kind]
    const until = Math.min(t + r.int(lo, hi), limit)
    if (until - t >= lo / 2) {
      const fault = makeFault(r, kind, faults.length + 1, t, until, nodes, busyUntil, skewSign)
      if (fault !== null) {
        faults.push(fault)
        if (kind === 'wipe') wiped = true
        if (fault.offsetSec !== undefined) skewSign = -skewSign
        // A restart takes 1–2 s on an idle machine, many more on a loaded one: leave the node
        // alone for a while after a fault that restarts it, so the next one starts on time.
        if (isProcessFault(kind)) busyUntil.set(fault.nodes[0] as number, until + (kind === 'kill' || kind === 'skew-start' || kind === 'wipe' ? 4000 : 1000))
      }
    }
    t += r.int(1000, 3500)
  }
  return faults
}

function makeFault (r: Rng, kind: FaultKind, id: number, at: number, until: number, nodes: number[], busyUntil: Map<number, number>, skewSign: number): Fault | null {
  const base = { id, kind, at, until }
  const order = r.shuffle(nodes)
  switch (kind) {
    case 'partition-halves': {
      const a = order.slice(0, Math.floor(nodes.length / 2))
      const b = order.slice(a.length)
      return { ...base, nodes: order, drops: cutBetween(a, b), what: `{${a.join(',')}} | {${b.join(',')}}` }
    }
    case 'partition-isolate': {
      const [alone, ...rest] = order as [number, ...number[]]
      return { ...base, nodes: [alone], drops: cutBetween([alone], rest), what: `${alone} alone` }
    }
    case 'partition-bridge': {
      const [bridge, ...rest] = order as [number, ...number[]]
      const a = rest.slice(0, Math.ceil(rest.length / 2))
      const b = rest.slice(a.length)
      return { ...base, nodes: [bridge], drops: cutBetween(a, b), what: `${bridge} bridges {${a.join(',')}} and {${b.join(',')}}` }
    }
    case 'partition-ring': {
      // Each node keeps only its two neighbours in a shuffled ring.
      const drops: Drop[] = []
      for (let i = 0; i < order.length; i++) {
        for (let j = i + 1; j < order.length; j++) {
          const gap = Math.min(j - i, order.length - (j - i))
          if (gap > 1) drops.push(...cutBetween([order[i] as number], [order[j] as number]))
        }
      }
      return { ...base, nodes: order, drops, what: `ring ${order.join('-')}` }
    }
    case 'partition-oneway': {
      const [from, ...rest] = order as [number, ...number[]]
      const to = rest.slice(0, r.int(1, Math.min(2, rest.length)))
      return { ...base, nodes: [from, ...to], drops: to.map(t => ({ from, to: t, pct: 100 })), what: `${from} → {${to.join(',')}} dropped, replies pass` }
    }
    case 'loss': {
      const pairs = new Set<string>()
      const links = r.int(1, 3)
      const drops: Drop[] = []
      for (let i = 0; i < links; i++) {
        const [a, b] = r.shuffle(nodes) as [number, number]
        const k = `${Math.min(a, b)}-${Math.max(a, b)}`
        if (pairs.has(k)) continue
        pairs.add(k)
        drops.push(...cutBetween([a], [b], 20))
      }
      return { ...base, nodes: [...new Set(drops.map(d => d.from))], drops, what: `20% loss on ${[...pairs].join(' ')}` }
    }
    default: {
      const free = order.filter(n => (busyUntil.get(n) ?? 0) <= at)
      if (free.length === 0) return null
      const node = free[0] as number
      if (kind === 'skew-start' || kind === 'clock-jump') {
        const offsetSec = skewSign * SKEW_SEC
        return { ...base, nodes: [node], offsetSec, what: `node ${node} clock ${offsetSec > 0 ? '+' : ''}${offsetSec}s (${kind === 'skew-start' ? 'restarted' : 'live jump'})` }
      }
      return { ...base, nodes: [node], what: `node ${node}` }
    }
  }
}

export function parseKinds (list: string | undefined): FaultKind[] {
  if (list === undefined || list === '' || list === 'all') return [...FAULT_KINDS]
  const out: FaultKind[] = []
  for (const k of list.split(',').map(s => s.trim()).filter(s => s !== '')) {
    if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`unknown fault kind "${k}" (known: ${FAULT_KINDS.join(', ')})`)
    out.push(k as FaultKind)
  }
  return out
}
