/**
 * The root: builds the parts in order — identity, store, replica, libp2p, gossip,
 * anti-entropy — starts them, and stops them in reverse. Implements ChorusApi on top of the
 * replica, which is the only thing that writes.
 */
import '../util/polyfills.js'
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import type { Registry } from 'prom-client'
import { createAntiEntropy, type AntiEntropy } from '../antientropy/index.js'
import { HybridLogicalClock, skewCorrection } from '../clock/index.js'
import type { RegisterState } from '../causal/index.js'
import { encodeContext } from '../codec/index.js'
import { resolveNodeConfig, type NodeConfig, type NodeInit } from '../config.js'
import { DEFAULT_SCAN_LIMIT, MAX_BATCH_OPS, MAX_SCAN_LIMIT } from '../constants.js'
import { counterContext, counterValue, setMembers, type CounterState, type OrSetState } from '../crdt/index.js'
import { InvalidParamsError, NotReadyError } from '../errors.js'
import { Gossip } from '../gossip/index.js'
import { isDeleted, registerWinner } from '../causal/index.js'
import { Replica, type LocalOp } from '../replica/index.js'
import { Store } from '../store/index.js'
import type {
  BatchOp, ChangeEvent, ChorusApi, ChorusApiExtras, ConflictsOptions, ConflictsResult, CounterResult, KvGetOptions,
  KvGetResult, NodeInfo, PeerInfo, ReadAfterOptions, ScanOptions, ScanResult, SetResult, SyncReport, WriteResult
} from './api.js'
import { waitUntilSeen } from './after-wait.js'
import { decodeCursor, encodeCursor, scanBounds } from './cursor.js'
import { loadOrCreateIdentity } from './identity.js'
import { createHost, type ChorusLibp2p } from './libp2p.js'
import { createMetrics } from './metrics.js'
import { Membership } from './membership.js'
import { Redialer } from './redialer.js'
import { TombstoneCollector } from './tombstone-gc.js'
import { checkContext, checkIncrement, checkKey, checkMembers, checkTimeout, checkValue } from './validate-input.js'
import { changeEvent, registerView } from './views.js'

const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

export interface ChorusNode extends ChorusApi, ChorusApiExtras {
  readonly peerId: string
  readonly logger: Logger
  multiaddrs: () => string[]
  setRpcUrl: (url: string) => void
  dial: (multiaddr: string) => Promise<void>
  /** One tombstone-collection pass now (it also runs every gcIntervalMs). */
  collectGarbage: () => Promise<number>
  /** Idempotent; flushes, leaves the mesh, closes LevelDB. */
  stop: () => Promise<void>
}

/** Build and start a node. */
export async function createChorusNode (init: NodeInit = {}): Promise<ChorusNode> {
  const node = new ChorusNodeImpl(resolveNodeConfig(init))
  await node.start()
  return node
}

class ChorusNodeImpl implements ChorusNode {
  readonly logger: Logger
  private readonly config: NodeConfig
  private readonly startedAt = Date.now()
  private rpcUrl = ''
  private ready = false
  private stopping?: Promise<void>
  private store?: Store
  private replica?: Replica
  private libp2p?: ChorusLibp2p
  private gossip?: Gossip
  private antiEntropy?: AntiEntropy
  private redialer?: Redialer
  private metrics?: Registry
  private readonly lastSeen = new Map<string, number>()
  /** Added to the physical clock when this node runs ahead of the cluster (clock/skew.ts). */
  private clockCorrectionMs = 0
  private clock?: HybridLogicalClock
  private skewTimer?: NodeJS.Timeout
  private membership?: Membership
  private collector?: TombstoneCollector

  constructor (config: NodeConfig) {
    this.config = config
    this.logger = pino({ level: config.logLevel, base: { app: 'chorus' } }, config.logDestination ?? pino.destination(2))
  }

  get peerId (): string {
    return this.libp2p?.peerId.toString() ?? ''
  }

  async start (): Promise<void> {
    const { config } = this
    try {
      await mkdir(config.dataDir, { recursive: true })
      const privateKey = await loadOrCreateIdentity(config.dataDir)
      this.store = await Store.open({ location: join(config.dataDir, 'db'), fsync: config.fsync })
      this.libp2p = await createHost({ privateKey, listen: config.listen, mdns: config.mdns, clusterKey: config.clusterKey, maxConnections: config.maxConnections })
      const logger = this.logger.child({ peer: this.libp2p.peerId.toString() })
      const clock = new HybridLogicalClock({ now: () => config.now() + this.clockCorrectionMs, maxDriftMs: config.maxDriftMs })
      this.clock = clock
      this.replica = await Replica.open({ store: this.store, nodeId: this.libp2p.peerId.toString(), clock, logger: logger.child({ part: 'replica' }) })
      const membership = Membership.fromJSON(await this.store.getMeta('members'), config.memberTtlMs)
      this.membership = membership
      const pubsub = this.libp2p.services.pubsub
      this.gossip = new Gossip({ pubsub, replica: this.replica, logger: logger.child({ part: 'gossip' }) }, { clusterName: config.clusterName, publish: config.gossip })
      this.metrics = createMetrics({ replica: this.replica, gossip: this.gossip, connections: () => this.libp2p?.getConnections().length ?? 0 })
      this.antiEntropy = createAntiEntropy(
        {
          libp2p: this.libp2p,
          replica: this.replica,
          logger: logger.child({ part: 'anti-entropy' }),
          pubsub,
          metrics: this.metrics,
          onExchangeComplete: (peer, startedAtMs) => { membership.synced(peer, startedAtMs, clock.physicalNow()) }
        },
        // Exchange times use the corrected clock, like tombstone times (GC compares them);
        // announcements carry the raw physical clock, so peers see our true skew.
        { intervalMs: config.aeIntervalMs, clusterName: config.clusterName, now: () => clock.physicalNow(), announceNow: config.now }
      )
      this.redialer = new Redialer(this.libp2p, logger.child({ part: 'redialer' }), { bootstrap: config.bootstrap })
      const store = this.store
      const persistMembers = (): void => { store.commit([store.metaWrite('members', membership.toJSON())]).catch(() => {}) }
      this.libp2p.addEventListener('peer:connect', evt => {
        this.lastSeen.set(evt.detail.toString(), Date.now())
        // A new member holds collection back from now on, also across a crash.
        if (membership.seen(evt.detail.toString(), clock.physicalNow())) persistMembers()
      })
      this.libp2p.addEventListener('peer:disconnect', evt => { membership.seen(evt.detail.toString(), clock.physicalNow()) })
      this.collector = new TombstoneCollector({
        replica: this.replica,
        membership,
        connectedPeers: () => new Set(this.libp2p?.getConnections().map(c => c.remotePeer.toString()) ?? []),
        now: () => clock.physicalNow(),
        graceMs: config.tombstoneGraceMs,
        memberTtlMs: config.memberTtlMs,
        intervalMs: config.gcIntervalMs,
        maxDriftMs: config.maxDriftMs,
        logger: logger.child({ part: 'tombstone-gc' }),
        persist: async () => {
          await store.commit([store.metaWrite('members', membership.toJSON())])
        }
      })
      this.libp2p.addEventListener('peer:disconnect', evt => { this.lastSeen.set(evt.detail.toString(), Date.now()) })

      this.gossip.start()
      await this.antiEntropy.start()
      this.redialer.start()
      this.collector.start()
      this.skewTimer = setInterval(() => { this.checkClockSkew(logger) }, 1000)
      this.skewTimer.unref()
      this.ready = true
      if (config.clusterKey === undefined) {
        logger.warn('NO CLUSTER KEY: this node is OPEN — any peer that can reach its listen address can join the cluster and read and write all data. Create a key with `chorus keygen > cluster.key` and start every node with --cluster-key cluster.key')
      }
      logger.info({ addrs: this.multiaddrs(), dataDir: config.dataDir }, 'node started')
    } catch (err) {
      await this.stop().catch(() => {})
      throw err
    }
  }

  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false
      clearInterval(this.skewTimer)
      this.redialer?.stop()
      await this.collector?.stop()
      if (this.membership !== undefined && this.store !== undefined && this.replica !== undefined) {
        await this.store.commit([this.store.metaWrite('members', this.membership.toJSON())]).catch(() => {})
      }
      await this.antiEntropy?.stop().catch((err: unknown) => { this.logger.warn({ err }, 'anti-entropy stop failed') })
      this.gossip?.stop()
      await this.replica?.flush().catch(() => {})
      await Promise.resolve(this.libp2p?.stop()).catch((err: unknown) => { this.logger.warn({ err }, 'libp2p stop failed') })
      // Nothing can write any more: a snapshot of the tree saves the next start a full rebuild.
      await this.replica?.saveSnapshot().catch((err: unknown) => { this.logger.warn({ err }, 'tree snapshot not saved') })
      await this.store?.close()
    })()
    await this.stopping
  }

  /** Recompute the clock correction from peers' recent announcements (see clock/skew.ts). */
  private checkClockSkew (logger: Logger): void {
    if (this.antiEntropy === undefined || this.clock === undefined) return
    const fresh = this.config.now() - 30_000
    // Only peers we are connected to count: announcements are unsigned, and a peer could
    // otherwise speak for many made-up ones.
    const connected = new Set(this.libp2p?.getConnections().map(c => c.remotePeer.toString()) ?? [])
    const offsets = [...this.antiEntropy.peerDigests()].filter(([peer, d]) => connected.has(peer) && d.atMs >= fresh).map(([, d]) => d.offsetMs)
    const correction = skewCorrection(offsets, this.config.maxDriftMs, this.clockCorrectionMs !== 0)
    if (Math.abs(correction - this.clockCorrectionMs) <= this.config.maxDriftMs / 2) return
    const previous = this.clockCorrectionMs
    this.clockCorrectionMs = correction
    if (correction < previous) this.clock.rebase()
    if (correction === 0) logger.info('clock agrees with the cluster again: correction removed')
    else logger.warn({ correctionMs: correction }, 'this node\'s clock is ahead of the cluster by more than the allowed drift: using the cluster\'s time for new writes. Fix the system clock (NTP).')
  }

  /** Run one tombstone collection pass now; resolves with how many were collected. */
  async collectGarbage (): Promise<number> {
    this.parts()
    return await (this.collector as TombstoneCollector).sweep()
  }

  multiaddrs (): string[] {
    return this.libp2p?.getMultiaddrs().map(String) ?? []
  }

  setRpcUrl (url: string): void {
    this.rpcUrl = url
  }

  async dial (addr: string): Promise<void> {
    const { multiaddr } = await import('@multiformats/multiaddr')
    await this.parts().libp2p.dial(multiaddr(addr))
  }

  isReady (): boolean {
    return this.ready
  }

  private parts (): { replica: Replica, libp2p: ChorusLibp2p, antiEntropy: AntiEntropy, metrics: Registry } {
    if (!this.ready || this.replica === undefined || this.libp2p === undefined || this.antiEntropy === undefined || this.metrics === undefined) {
      throw new NotReadyError('the node is not running')
    }
    return { replica: this.replica, libp2p: this.libp2p, antiEntropy: this.antiEntropy, metrics: this.metrics }
  }

  // ---- registers

  async kvPut (key: unknown, value: unknown, context?: unknown): Promise<WriteResult> {
    const op: LocalOp = { kind: 'kv.put', key: checkKey(key), json: checkValue(value), context: checkContext(context) }
    const [state] = await this.parts().replica.applyLocal([op]) as RegisterState[]
    return { context: encodeContext((state as RegisterState).vv) }
  }

  async kvDelete (key: unknown, context?: unknown): Promise<WriteResult> {
    const op: LocalOp = { kind: 'kv.delete', key: checkKey(key), context: checkContext(context) }
    const [state] = await this.parts().replica.applyLocal([op]) as RegisterState[]
    return { context: encodeContext((state as RegisterState).vv) }
  }

  async kvGet (key: unknown, options: KvGetOptions = {}): Promise<KvGetResult> {
    const k = checkKey(key)
    const { replica } = this.parts()
    const after = checkContext(options.after, 'after')
    if (after !== undefined) await waitUntilSeen(replica, 'kv', k, after, checkTimeout(options.timeoutMs))
    return registerView(await replica.read('kv', k), options.all === true)
  }

  async kvBatch (ops: BatchOp[]): Promise<{ contexts: string[] }> {
    if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_BATCH_OPS) {
      throw new InvalidParamsError(`ops: must be an array of 1 to ${MAX_BATCH_OPS} operations`, { data: { field: 'ops' } })
    }
    const local: LocalOp[] = ops.map((op, i) => {
      const at = `ops[${i}]`
      if (op === null || typeof op !== 'object') throw new InvalidParamsError(`${at}: must be an object`, { data: { field: at } })
      const key = checkKey(op.key, `${at}.key`)
      const context = checkContext(op.context, `${at}.context`)
      if (op.op === 'put') return { kind: 'kv.put', key, json: checkValue(op.value, `${at}.value`), context }
      if (op.op === 'delete') return { kind: 'kv.delete', key, context }
      throw new InvalidParamsError(`${at}.op: must be "put" or "delete"`, { data: { field: `${at}.op` } })
    })
    const states = await this.parts().replica.applyLocal(local) as RegisterState[]
    return { contexts: states.map(s => encodeContext(s.vv)) }
  }

  async kvScan (options: ScanOptions = {}): Promise<ScanResult> {
    const limit = checkLimit(options.limit)
    const prefix = options.prefix === undefined ? undefined : checkString(options.prefix, 'prefix')
    const start = options.start === undefined ? undefined : checkString(options.start, 'start')
    const end = options.end === undefined ? undefined : checkString(options.end, 'end')
    const bounds = scanBounds({ prefix, start, end, after: decodeCursor(options.cursor) })
    const items: ScanResult['items'] = []
    // Deleted keys are skipped; bound the work per page so pages of tombstones stay cheap.
    let examined = 0
    const maxExamined = Math.max(limit * 4, 1000)
    for await (const [key, state] of this.parts().replica.registers(bounds)) {
      examined++
      if (!isDeleted(state)) {
        const winner = registerWinner(state)
        items.push({ key, value: JSON.parse(winner?.value as string), conflict: state.siblings.length > 1 })
        if (items.length >= limit) return { items, cursor: encodeCursor(key) }
      }
      if (examined >= maxExamined) return { items, cursor: encodeCursor(key) }
    }
    return { items }
  }

  async kvConflicts (options: ConflictsOptions = {}): Promise<ConflictsResult> {
    const limit = checkLimit(options.limit)
    const prefix = options.prefix === undefined ? undefined : checkString(options.prefix, 'prefix')
    const bounds = scanBounds({ prefix, after: decodeCursor(options.cursor) })
    const keys: string[] = []
    for await (const key of this.parts().replica.conflictKeys(bounds)) {
      keys.push(key)
      if (keys.length >= limit) return { keys, cursor: encodeCursor(key) }
    }
    return { keys }
  }

  // ---- counters and sets

  async counterIncr (key: unknown, by?: unknown): Promise<CounterResult> {
    const op: LocalOp = { kind: 'counter.incr', key: checkKey(key), by: checkIncrement(by) }
    const [state] = await this.parts().replica.applyLocal([op]) as CounterState[]
    return { value: counterValue(state as CounterState), context: encodeContext(counterContext(state as CounterState)) }
  }

  async counterGet (key: unknown, options: ReadAfterOptions = {}): Promise<CounterResult> {
    const k = checkKey(key)
    const { replica } = this.parts()
    const after = checkContext(options.after, 'after')
    if (after !== undefined) await waitUntilSeen(replica, 'counter', k, after, checkTimeout(options.timeoutMs))
    const state = await replica.read('counter', k)
    return { value: counterValue(state), context: encodeContext(counterContext(state)) }
  }

  async setAdd (key: unknown, members: unknown): Promise<SetResult> {
    return await this.setOp({ kind: 'set.add', key: checkKey(key), members: checkMembers(members) })
  }

  async setRemove (key: unknown, members: unknown): Promise<SetResult> {
    return await this.setOp({ kind: 'set.remove', key: checkKey(key), members: checkMembers(members) })
  }

  private async setOp (op: LocalOp): Promise<SetResult> {
    const [state] = await this.parts().replica.applyLocal([op]) as OrSetState[]
    return { members: setMembers(state as OrSetState), context: encodeContext((state as OrSetState).vv) }
  }

  async setGet (key: unknown, options: ReadAfterOptions = {}): Promise<SetResult> {
    const k = checkKey(key)
    const { replica } = this.parts()
    const after = checkContext(options.after, 'after')
    if (after !== undefined) await waitUntilSeen(replica, 'set', k, after, checkTimeout(options.timeoutMs))
    const state = await replica.read('set', k)
    return { members: setMembers(state), context: encodeContext(state.vv) }
  }

  // ---- node and cluster

  async info (): Promise<NodeInfo> {
    const { replica } = this.parts()
    return {
      peerId: this.peerId,
      addrs: this.multiaddrs(),
      rpcUrl: this.rpcUrl,
      version: VERSION,
      uptimeMs: Date.now() - this.startedAt,
      keys: replica.keyCount(),
      digest: Buffer.from(replica.tree.root()).toString('hex'),
      open: this.config.clusterKey === undefined,
      clockCorrectionMs: this.clockCorrectionMs
    }
  }

  async peers (): Promise<PeerInfo[]> {
    const { libp2p, antiEntropy, replica } = this.parts()
    const ours = Buffer.from(replica.tree.root()).toString('hex')
    const digests = antiEntropy.peerDigests()
    const connected = new Map<string, string[]>()
    for (const conn of libp2p.getConnections()) {
      const id = conn.remotePeer.toString()
      connected.set(id, [...(connected.get(id) ?? []), conn.remoteAddr.toString()])
    }
    const ids = new Set([...connected.keys(), ...this.lastSeen.keys(), ...digests.keys()])
    const now = Date.now()
    return [...ids].sort().map(peerId => {
      const digest = digests.get(peerId)
      const isConnected = connected.has(peerId)
      const seen = Math.max(this.lastSeen.get(peerId) ?? 0, digest?.atMs ?? 0)
      const info: PeerInfo = {
        peerId,
        addrs: connected.get(peerId) ?? [],
        connected: isConnected,
        lastSeenMs: isConnected ? 0 : (seen === 0 ? -1 : now - seen)
      }
      if (digest !== undefined) {
        info.digest = digest.digest
        info.inSync = digest.digest === ours
      }
      return info
    })
  }

  async sync (peer?: unknown): Promise<SyncReport> {
    if (peer !== undefined && peer !== null && typeof peer !== 'string') throw new InvalidParamsError('peer: must be a peer id string', { data: { field: 'peer' } })
    return await this.parts().antiEntropy.sync(peer ?? undefined)
  }

  watch (prefix: string, listener: (event: ChangeEvent) => void): () => void {
    const { replica } = this.parts()
    return replica.onChange((change, decoded) => {
      if (change.key.startsWith(prefix)) listener(changeEvent(change.space, change.key, decoded, change.origin))
    })
  }

  async metricsText (): Promise<string> {
    return await this.parts().metrics.metrics()
  }
}

function checkLimit (limit: unknown): number {
  if (limit === undefined) return DEFAULT_SCAN_LIMIT
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_SCAN_LIMIT) {
    throw new InvalidParamsError(`limit: must be an integer from 1 to ${MAX_SCAN_LIMIT}`, { data: { field: 'limit' } })
  }
  return limit
}

function checkString (value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidParamsError(`${field}: must be a string`, { data: { field } })
  return value
}
