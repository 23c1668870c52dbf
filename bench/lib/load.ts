/**
 * Load patterns shared by the multi-node suites: a steady open-loop writer with write-to-visible
 * tracking on every other node, and a ramp for the highest sustained aggregate write rate.
 */
import type { ChorusNode } from './chorus.js'
import { waitConverged } from './chorus.js'
import { RpcClient, RpcError, watchKeys } from './rpc.js'
import { distribution, now, sleep, value100, type Distribution } from './stats.js'

export interface LatencyRun {
  dist: Distribution
  writes: number
  expected: number
  observed: number
  errors: number
  mode: 'watch' | 'poll'
  achievedRate: number
  firstError?: string
}

/**
 * Writes `rate` puts per second for `durationMs`, round-robin over all nodes, and measures for
 * each write the time from issuing it to its being visible on every other node: via kv.watch
 * over WebSocket when the nodes offer it, else by polling each node with JSON-RPC batches of
 * kv.get for the keys it has not shown yet.
 */
export async function steadyLatency (nodes: ChorusNode[], rate: number, durationMs: number, tag: string): Promise<LatencyRun> {
  const n = nodes.length
  const prefix = `lat/${tag}/`
  const sentAt = new Map<string, { t: number, writer: number }>()
  const lat: number[] = []
  const seen = new Set<string>()
  let mode: 'watch' | 'poll' = 'watch'
  const subs: Array<{ close: () => void }> = []
  try {
    for (let j = 0; j < n; j++) {
      const node = nodes[j]
      if (node == null) continue
      subs.push(await watchKeys(node.url, (key) => {
        const s = sentAt.get(key)
        if (s == null || s.writer === j) return
        const id = `${j}|${key}`
        if (seen.has(id)) return
        seen.add(id)
        lat.push(now() - s.t)
      }, prefix))
    }
  } catch {
    for (const s of subs) s.close()
    subs.length = 0
    mode = 'poll'
  }

  const total = Math.max(1, Math.round((rate * durationMs) / 1000))
  let errors = 0
  let firstError: string | undefined
  let inFlight = 0
  // Polling fallback: per node, one JSON-RPC batch of kv.get for every key not yet seen there,
  // back to back (own connection, so the writes never queue behind it). A key counts as
  // visible when the response that found it arrives: an upper bound, off by at most one poll.
  const pending: Array<Map<string, number>> = nodes.map(() => new Map())
  let writing = true
  let drainDeadline = Infinity
  const pollers: Array<Promise<void>> = []
  if (mode === 'poll') {
    for (let j = 0; j < n; j++) {
      const node = nodes[j]
      const mine = pending[j]
      if (node == null || mine == null) continue
      const client = new RpcClient(node.url, 64)
      let batchOk = true
      pollers.push((async () => {
        const stopAt = (): boolean => !writing && (mine.size === 0 || now() > drainDeadline)
        while (!stopAt()) {
          if (mine.size === 0) { await sleep(1); continue }
          const keys = [...mine.keys()].slice(0, 500)
          try {
            const res = batchOk
              ? await client.batch(keys.map((key) => ({ method: 'kv.get', params: { key } }))).catch((err: unknown) => {
                if (err instanceof RpcError) batchOk = false // no JSON-RPC batches: one request per key
                throw err
              })
              : await Promise.all(keys.slice(0, 64).map(async (key) => await client.call('kv.get', { key }).catch(() => null)))
            const t = now()
            res.forEach((r, idx) => {
              const key = keys[idx]
              if (key == null) return
              if (r != null && typeof r === 'object' && (r as { found?: unknown }).found === true) {
                const s0 = mine.get(key)
                mine.delete(key)
                if (s0 != null) { lat.push(t - s0); seen.add(`${j}|${key}`) }
              }
            })
          } catch { await sleep(5) }
        }
        client.close()
      })())
    }
  }
  const t0 = now()
  let issued = 0
  while (issued < total && now() - t0 < durationMs + 5000) {
    const due = Math.min(total, Math.floor(((now() - t0) * rate) / 1000) + 1)
    while (issued < due) {
      if (inFlight >= 256) break
      const i = issued++
      const writer = i % n
      const key = `${prefix}${i}`
      const t = now()
      const node = nodes[writer]
      if (node == null) continue
      sentAt.set(key, { t, writer })
      inFlight++
      if (mode === 'poll') for (let j = 0; j < n; j++) if (j !== writer) pending[j]?.set(key, t)
      const p = node.rpc.call('kv.put', { key, value: value100(i) }).then(() => {
        inFlight--
      }, (err: unknown) => {
        inFlight--
        errors++
        firstError ??= (err as Error).message
        sentAt.delete(key)
        for (const m of pending) m.delete(key)
      })
      void p
    }
    await sleep(1)
  }
  const writeMs = now() - t0
  while (inFlight > 0 && now() - t0 < durationMs + 15_000) await sleep(5)
  const written = sentAt.size
  const expected = written * (n - 1)
  drainDeadline = now() + 10_000
  writing = false
  if (mode === 'watch') {
    while (seen.size < expected && now() < drainDeadline) await sleep(10)
  } else {
    await Promise.all(pollers)
  }
  for (const s of subs) s.close()
  return {
    dist: distribution(lat),
    writes: written,
    expected,
    observed: lat.length,
    errors,
    mode,
    achievedRate: written / (writeMs / 1000),
    ...(firstError != null ? { firstError } : {})
  }
}

export interface RampStep {
  target: number
  achieved: number
  convergeMs: number | null
  ok: boolean
  errors: number
  /** Writes acknowledged in the step. */
  writes: number
  /** CPU each node used from the step's start until the digests agreed, ms (null where unreadable). */
  cpuMs: Array<number | null>
}

/**
 * Open-loop writes at each target rate (kv.batch of `batch` puts, round-robin over all
 * leaders) for `stepMs`; after each step, waits for every node's digest to agree. A step is
 * sustained when ≥ 95 % of the target was written and the nodes agreed within `maxLagMs` of
 * the writes stopping. Stops at the first step that is not sustained.
 */
export async function rampSustained (nodes: ChorusNode[], targets: number[], stepMs: number, batch: number, maxLagMs: number, tag: string): Promise<RampStep[]> {
  const steps: RampStep[] = []
  let seq = 0
  for (const target of targets) {
    const reqRate = target / batch
    const totalReqs = Math.max(1, Math.round((reqRate * stepMs) / 1000))
    let issued = 0
    let done = 0
    let errors = 0
    let inFlight = 0
    const cpuBefore = nodes.map(n => n.cpuMs())
    const t0 = now()
    while (issued < totalReqs && now() - t0 < stepMs * 1.5) {
      const due = Math.min(totalReqs, Math.floor(((now() - t0) * reqRate) / 1000) + 1)
      while (issued < due && inFlight < 32 * nodes.length) {
        const node = nodes[issued % nodes.length]
        issued++
        if (node == null) continue
        const ops = []
        for (let j = 0; j < batch; j++) { const k = seq++; ops.push({ op: 'put', key: `sus/${tag}/${target}/${k}`, value: value100(k) }) }
        inFlight++
        node.rpc.call('kv.batch', { ops }).then(() => { inFlight--; done++ }, () => { inFlight--; errors++ })
      }
      await sleep(1)
    }
    while (inFlight > 0 && now() - t0 < stepMs * 3) await sleep(2)
    const writeMs = now() - t0
    const achieved = (done * batch) / (Math.min(writeMs, stepMs * 3) / 1000)
    const convergeMs = await waitConverged(nodes, Math.max(maxLagMs * 10, 10_000), 10)
    const ok = achieved >= target * 0.95 && convergeMs != null && convergeMs <= maxLagMs && errors === 0
    const cpuMs = nodes.map((n, i) => { const a = cpuBefore[i]; const b = n.cpuMs(); return a == null || b == null ? null : b - a })
    steps.push({ target, achieved, convergeMs, ok, errors, writes: done * batch, cpuMs })
    if (!ok) break
  }
  return steps
}
