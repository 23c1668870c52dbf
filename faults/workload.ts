/**
 * The workload: on every node, WORKERS_PER_NODE workers, each at most ~22 operations/s, each
 * request with a 2 s client timeout. Every choice comes from the worker's own seeded stream.
 *
 * Key spaces, chosen so that the checker can judge every value without guessing:
 *   u/<node>/<worker>/<n>     unique puts (written once; maybe deleted later by the same worker)
 *   b/<node>/<worker>/<n>/<j> kv.batch of 2–4 unique puts (never deleted)
 *   r/<node>/<worker>/<n>     read-your-writes: put here, then kv.get {after} on another node
 *   d/<node>/<worker>/<n>     durable puts, `replicas: 2` (never deleted): acknowledged means on
 *                             two nodes' disks, so they survive a wipe; ERR_REPLICAS_TIMEOUT
 *                             means applied here but not confirmed, recorded as unknown
 *   h/0..7                    hot keys written blindly by every worker ("<node>-<worker>-<n>")
 *   c/0..3                    counters, by in −3..5
 *   s/0..3                    sets: shared members a–f, plus members private to one worker
 *   q/<client>/0..3           session clients' keys: one client writes "q:<client>:<n>" with n
 *                             increasing, and reads, hopping to a random node for every call
 *                             and carrying its session token (checker: checkSessions)
 */
import type { Outcome } from './agent-client.js'
import type { Cluster } from './cluster.js'
import type { History, Op, OpKind } from './history.js'
import { rng, type Rng } from './prng.js'

export const WORKERS_PER_NODE = 2
export const CLIENT_TIMEOUT_MS = 2000
const PERIOD_MS = 45
export const HOT_KEYS = 8
export const COUNTERS = 4
export const SETS = 4
/** Session clients (not tied to a node: each call goes to a random one). */
export const SESSION_CLIENTS = 6
/** Keys per session client. */
const SESSION_KEYS = 4
/** How long a session call may wait to catch up: below the client timeout, so it fails cleanly. */
const SESSION_WAIT_MS = 1500
const SHARED_MEMBERS = ['a', 'b', 'c', 'd', 'e', 'f']

const WEIGHTS = { put: 28, delete: 8, hot: 14, incr: 14, sadd: 12, srem: 8, batch: 6, ryw: 10, dput: 10 }
/** Durable puts wait this long for their second node, inside the client's timeout. */
export const DURABLE_TIMEOUT_MS = 1500

export class Workload {
  private stopping = false
  private running: Array<Promise<void>> = []

  constructor (private readonly cluster: Cluster, private readonly history: History, private readonly seed: number) {}

  start (): void {
    for (const node of this.cluster.nodes) {
      for (let w = 0; w < WORKERS_PER_NODE; w++) this.running.push(this.worker(node.index, w))
    }
    for (let c = 0; c < SESSION_CLIENTS; c++) this.running.push(this.sessionClient(c))
  }

  /** Stops issuing new operations and waits for the ones in flight (at most one timeout). */
  async stop (): Promise<void> {
    this.stopping = true
    await Promise.all(this.running)
    this.running = []
  }

  private async worker (node: number, w: number): Promise<void> {
    const r = rng(this.seed, `worker/${node}/${w}`)
    const state: WorkerState = { node, w, r, n: 0, deletable: [] }
    while (!this.stopping) {
      const began = Date.now()
      await this.step(state)
      const wait = PERIOD_MS - (Date.now() - began)
      if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    }
  }

  private async sessionClient (client: number): Promise<void> {
    const state: SessionClientState = { client, r: rng(this.seed, `session/${client}`), n: 0 }
    const nodes = this.cluster.nodes.map(x => x.index)
    while (!this.stopping) {
      const began = Date.now()
      await sessionStep(state, nodes, async (node, kind, method, params) => {
        const start = Date.now()
        const outcome = await this.cluster.node(node).agent.call(method, params, CLIENT_TIMEOUT_MS)
        return this.history.record({ node, worker: client, session: client, kind, method, params, start, end: Date.now() }, outcome)
      })
      const wait = PERIOD_MS - (Date.now() - began)
      if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    }
  }

  private async call (s: WorkerState, node: number, kind: OpKind, method: string, params: any, ref?: number): Promise<Op> {
    const start = Date.now()
    const answer = await this.cluster.node(node).agent.call(method, params, CLIENT_TIMEOUT_MS)
    // Not confirmed on enough nodes is not "not applied": the write is kept and spreads.
    const outcome: Outcome = answer.kind === 'failed' && answer.error.data?.code === 'ERR_REPLICAS_TIMEOUT' ? { kind: 'unknown', reason: 'ERR_REPLICAS_TIMEOUT' } : answer
    return this.history.record({ node, worker: s.w, kind, method, params, start, end: Date.now(), ...(ref !== undefined ? { ref } : {}) }, outcome)
  }

  private async step (s: WorkerState): Promise<void> {
    const { r, node } = s
    const n = ++s.n
    let kind = r.weighted(WEIGHTS)
    if (kind === 'delete' && s.deletable.length === 0) kind = 'put'
    switch (kind) {
      case 'put': {
        const key = `u/${node}/${s.w}/${n}`
        const op = await this.call(s, node, 'put', 'kv.put', { key, value: `u:${node}:${s.w}:${n}` })
        if (op.outcome === 'ok') s.deletable.push(key)
        return
      }
      case 'delete': {
        const i = r.int(0, s.deletable.length - 1)
        const key = s.deletable.splice(i, 1)[0] as string
        await this.call(s, node, 'delete', 'kv.delete', { key })
        return
      }
      case 'hot':
        await this.call(s, node, 'hot', 'kv.put', { key: `h/${r.int(0, HOT_KEYS - 1)}`, value: `${node}-${s.w}-${n}` })
        return
      case 'incr':
        await this.call(s, node, 'incr', 'counter.incr', { key: `c/${r.int(0, COUNTERS - 1)}`, by: r.int(-3, 5) })
        return
      case 'sadd':
      case 'srem': {
        const member = r.chance(0.5) ? r.pick(SHARED_MEMBERS) : `p${node}.${s.w}.${r.int(0, 2)}`
        await this.call(s, node, kind, kind === 'sadd' ? 'set.add' : 'set.remove', { key: `s/${r.int(0, SETS - 1)}`, members: [member] })
        return
      }
      case 'batch': {
        const size = r.int(2, 4)
        const ops = Array.from({ length: size }, (_, j) => ({ op: 'put', key: `b/${node}/${s.w}/${n}/${j}`, value: `b:${node}:${s.w}:${n}:${j}` }))
        await this.call(s, node, 'batch', 'kv.batch', { ops })
        return
      }
      case 'ryw': await this.readYourWrite(s, n); return
      case 'dput': {
        const key = `d/${node}/${s.w}/${n}`
        await this.call(s, node, 'dput', 'kv.put', { key, value: `d:${node}:${s.w}:${n}`, replicas: 2, timeoutMs: DURABLE_TIMEOUT_MS })
        return
      }
    }
  }

  /**
   * Put on this node, read with `after` on another (the checker judges the read: see
   * checkReadYourWrites).
   */
  private async readYourWrite (s: WorkerState, n: number): Promise<void> {
    const key = `r/${s.node}/${s.w}/${n}`
    const value = `r:${s.node}:${s.w}:${n}`
    const put = await this.call(s, s.node, 'ryw-put', 'kv.put', { key, value })
    if (put.outcome !== 'ok') return
    const others = this.cluster.nodes.map(x => x.index).filter(i => i !== s.node)
    const reader = s.r.pick(others)
    await this.call(s, reader, 'ryw-get', 'kv.get', { key, after: put.result.context, timeoutMs: 1000 }, put.id)
  }
}

interface WorkerState { node: number, w: number, r: Rng, n: number, deletable: string[] }

export interface SessionClientState { client: number, r: Rng, n: number, token?: string }

/**
 * A session client: puts and gets on its own keys, each call on a random node with the token
 * the last successful call returned. A call that failed or whose outcome is unknown leaves the
 * token as it was (an unknown put may still land: the checker allows it to show up later).
 */
export async function sessionStep (s: SessionClientState, nodes: number[], call: (node: number, kind: 'sess-put' | 'sess-get', method: string, params: any) => Promise<Op>): Promise<void> {
  const node = s.r.pick(nodes)
  const key = `q/${s.client}/${s.r.int(0, SESSION_KEYS - 1)}`
  const session = s.token !== undefined ? { session: s.token } : {}
  const op = s.r.chance(0.5)
    ? await call(node, 'sess-put', 'kv.put', { key, value: `q:${s.client}:${++s.n}`, timeoutMs: SESSION_WAIT_MS, ...session })
    : await call(node, 'sess-get', 'kv.get', { key, timeoutMs: SESSION_WAIT_MS, ...session })
  if (op.outcome === 'ok' && typeof op.result?.session === 'string') s.token = op.result.session
}
