/**
 * The root: builds the parts in order — identity, store, replica, libp2p, gossip,
 * anti-entropy — starts them, and stops them in reverse. The data methods of ChorusApi live in
 * data-methods.ts; this file adds the node and cluster methods.
 */
import '../util/polyfills.js'
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { createLogger } from '../util/logger.js'
import { LogThrottle } from '../util/log-throttle.js'
import type { Registry } from 'prom-client'
import { createAntiEntropy, type AntiEntropy } from '../antientropy/index.js'
import type { RegisterState } from '../causal/index.js'
import { ClusterTime, HybridLogicalClock } from '../clock/index.js'
import { resolveNodeConfig, type NodeConfig, type NodeInit } from '../config.js'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import {
  antiEntropyProtocol, changesTopic, digestTopic, TIME_SAMPLE_TIMEOUT_MS, TIME_SYNC_INTERVAL_MS, timeProtocol
} from '../constants.js'
import { warnAboutExposure } from './exposure.js'
import { PeerGate } from './peer-gate.js'
import { PeerPenalties } from './peer-penalties.js'
import { PeerVersions } from './peer-versions.js'
import { InvalidParamsError, NotReadyError } from '../errors.js'
import { Gossip, GossipControlAudit, type AuditFinding } from '../gossip/index.js'
import { freshRunGapMs, Replica } from '../replica/index.js'
import { Store } from '../store/index.js'
import { ChangeLog, FeedRetention } from '../feed/index.js'
import type { ChangeEvent, ChangesOptions, ChangesResult, ChorusApi, ChorusApiExtras, ConnectResult, FeedWatch, ExportOptions, ExportPage, ForgetResult, ImportResult, MemberInfo, NodeInfo, PeerInfo, SyncReport } from './api.js'
import { MemberService } from './member-service.js'
import { DataMethods } from './data-methods.js'
import { ExportSessions } from './export-sessions.js'
import { importStates } from './import-states.js'
import { MapMethods } from './map-methods.js'
import type { MapGetOptions, MapGetResult, MapScanResult, ScanOptions, WriteResult } from './api.js'
import { loadOrCreateIdentity, markIdentityConflict } from './identity.js'
import type { GossipWireStats } from './audited-gossipsub.js'
import { createHost, type ChorusLibp2p } from './libp2p.js'
import { Membership } from './membership.js'
import { directoryBytes } from './data-dir-size.js'
import { RecentErrors, type ErrorRecord } from './recent-errors.js'
import { createMetrics, createTimings, observeReplicationDelay, rpcObserver, type Timings } from './metrics.js'
import { Redialer } from './redialer.js'
import { RefusedPeers, refusalMessage } from './refused-peers.js'
import { checkReturn } from './stale-check.js'
import { TimeSync } from './time-sync.js'
import { TombstoneCollector } from './tombstone-gc.js'
import { SessionPositions } from '../session/index.js'
import { SessionService } from './session-service.js'
import { changeEvent } from './views.js'
import { changesPage, watchFeed } from './change-feed.js'
import { replicateProtocol } from '../constants.js'
import { Replicator, requiredNodes, type DurableOptions, type DurableTarget } from '../replication/index.js'

/** How often the clock is read for a jump when no write reads it. */
const CLOCK_WATCH_MS = 1000

const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

export interface ChorusNode extends ChorusApi, ChorusApiExtras {
  readonly peerId: string
  readonly logger: Logger
  multiaddrs: () => string[]
  setRpcUrl: (url: string) => void
  dial: (multiaddr: string) => Promise<void>
  /** One tombstone-collection pass now (it also runs every gcIntervalMs). */
  collectGarbage: () => Promise<number>
  /** One pruning pass of the change feed now (it also runs every feedPruneIntervalMs). */
  pruneFeed: () => Promise<number>
  /** Idempotent; flushes, leaves the mesh, closes LevelDB. */
  stop: () => Promise<void>
}

/** Build and start a node. */
export async function createChorusNode (init: NodeInit = {}): Promise<ChorusNode> {
  const node = new ChorusNodeImpl(resolveNodeConfig(init))
  await node.start()
  return node
}

class ChorusNodeImpl extends DataMethods implements ChorusNode {
  readonly logger: Logger
  private readonly config: NodeConfig
  private readonly startedAt = Date.now()
  private rpcUrl = ''
  private ready = false
  private stopping?: Promise<void>
  private store?: Store
  private replica?: Replica
  private libp2p?: ChorusLibp2p
  private addrsCache?: { atMs: number, addrs: string[] }
  private gossip?: Gossip
  private antiEntropy?: AntiEntropy
  private redialer?: Redialer
  private metrics?: Registry
  private readonly timings: Timings = createTimings()
  private readonly errors = new RecentErrors()
  /** Connects and disconnects are logged at info, once per peer and PEER_EVENT_LOG_INTERVAL_MS. */
  private readonly peerEvents = new LogThrottle(PEER_EVENT_LOG_INTERVAL_MS)
  private readonly lastSeen = new Map<string, number>()
  private time?: ClusterTime
  private timeSync?: TimeSync
  /** Reads the clock now and then, so a jump is seen even while no write comes (clock/cluster-time.ts). */
  private clockWatch?: NodeJS.Timeout
  private membership?: Membership
  private collector?: TombstoneCollector
  private gate?: PeerGate
  private refused?: RefusedPeers
  private memberMethods?: MemberService
  private penalties?: PeerPenalties
  private readonly exports = new ExportSessions({ node: () => this.peerId })
  private sessions?: SessionService
  private feed?: ChangeLog
  private feedRetention?: FeedRetention
  /** Durable writes (replication/): pushes a write to peers and counts their acknowledgements. */
  private replicator?: Replicator
  private readonly maps = new MapMethods({
    replica: () => this.parts().replica,
    applyLocal: async (ops, durable) => await this.applyLocal(ops, durable),
    scan: async (options, view) => await this.scanSpace('map', options, view)
  })

  constructor (config: NodeConfig) {
    super()
    this.config = config
    // Warnings and errors also go to a small ring the console shows (node.errors).
    this.logger = createLogger({ level: config.logLevel, errors: this.errors, ...(config.logDestination !== undefined ? { destination: config.logDestination } : {}) })
  }

  get peerId (): string {
    return this.libp2p?.peerId.toString() ?? ''
  }

  async start (): Promise<void> {
    const { config } = this
    try {
      await mkdir(config.dataDir, { recursive: true })
      // The store first: its lock keeps a second process off this directory before the
      // identity is looked at (and perhaps renewed).
      this.store = await Store.open({ location: join(config.dataDir, 'db'), fsync: config.fsync })
      const identity = await loadOrCreateIdentity(config.dataDir)
      const privateKey = identity.key
      const logger = this.logger.child({ node: peerIdFromPrivateKey(privateKey).toString() })
      const refused = RefusedPeers.fromJSON(await this.store.getMeta('refused'))
      this.refused = refused
      const peersLogger = logger.child({ component: 'peers' })
      const gate = new PeerGate({
        loopbackOnly: config.loopbackOnly,
        refused: peer => refused.reason(peer) !== undefined,
        onRefused: peer => {
          const refusal = refused.reason(peer)
          if (refusal !== undefined && refused.shouldLog(peer, Date.now())) peersLogger.warn({ peer, reason: refusal.reason, refusedAtMs: refusal.atMs }, refusalMessage(refusal, config.memberTtlMs))
        }
      })
      this.gate = gate
      const topics = [changesTopic(config.clusterName), digestTopic(config.clusterName)]
      const aeProtocol = antiEntropyProtocol(config.clusterName)
      // Nodes of another build: logged and counted, never penalised (peer-versions.ts).
      const versions = new PeerVersions({ protocols: [aeProtocol, timeProtocol(config.clusterName)], topics, logger: peersLogger })
      // Before the host: gossipsub reports floods from its first RPC on. The host it hangs up
      // with exists by the time a peer can have sent one.
      const penalties = new PeerPenalties({ gate, logger: peersLogger, enabled: config.peerPenalties, hangUp: async peer => { await this.libp2p?.hangUp(peerIdFromString(peer)) } })
      this.penalties = penalties
      const gossipWire: GossipWireStats = { rpcsSent: 0, bytesSent: 0 }
      const controlAuditing = {
        wire: gossipWire,
        audit: new GossipControlAudit({ topics: topics.length, now: () => performance.now(), ...(config.gossipBurstHeartbeats !== undefined ? { burstHeartbeats: config.gossipBurstHeartbeats } : {}) }),
        onFlood: (peer: string, finding: AuditFinding) => {
          if (finding.report) penalties.penalise(peer, finding.kind === 'shape' ? 'gossip-flood' : 'gossip-rate', finding.why)
        },
        onSubscriptions: (peer: string, changes: Array<{ topic: string, subscribe: boolean }>) => { versions.subscriptionChange(peer, changes) }
      }
      const libp2p = await createHost({ privateKey, listen: config.listen, mdns: config.mdns, clusterKey: config.clusterKey, maxConnections: config.maxConnections, topics, connectionGater: gate.gater(), scorePeers: config.peerPenalties, controlAuditing })
      this.libp2p = libp2p
      // A peer banned while the host was starting could not be hung up on yet (no host to ask).
      for (const conn of libp2p.getConnections()) {
        if (gate.denies(conn.remotePeer.toString())) void libp2p.hangUp(conn.remotePeer).catch(() => {})
      }
      // A jump shifts the offsets we have; fresh samples confirm them (late-bound: the sampler
      // needs libp2p, which needs nothing of the clock).
      const time = clusterTime(config, logger.child({ component: 'clock' }), () => { this.timeSync?.resampleAll() })
      this.time = time
      const clock = new HybridLogicalClock({ now: () => time.now(), maxDriftMs: config.maxDriftMs })
      const positions = await SessionPositions.open(this.store, peerIdFromPrivateKey(privateKey).toString())
      if (identity.renewed !== undefined) logger.warn({ reason: identity.renewed }, 'this node took a new identity, so that its writes can never be mistaken for another process\'s')
      const feed = await ChangeLog.open(this.store, peerIdFromPrivateKey(privateKey).toString())
      this.feed = feed
      this.feedRetention = new FeedRetention({ log: feed, retain: config.feedRetain, intervalMs: config.feedPruneIntervalMs, logger: logger.child({ component: 'feed' }) })
      this.replica = await Replica.open({
        store: this.store,
        commitHook: feed,
        nodeId: this.libp2p.peerId.toString(),
        clock,
        freshWindowMs: config.aeFreshMs,
        freshRunGapMs: freshRunGapMs(config.aeFreshMs, config.aeIntervalMs),
        onCommit: seconds => { this.timings.commit.observe(seconds) },
        onCommitting: () => positions.committing(),
        logger: logger.child({ component: 'replica' }),
        onIdentityConflict: (conflict) => {
          markIdentityConflict(config.dataDir, { ...conflict }).catch((err: unknown) => { logger.error({ err }, 'could not record the identity conflict') })
        }
      })
      const membership = Membership.fromJSON(await this.store.getMeta('members'), config.memberTtlMs, clock.physicalNow())
      this.membership = membership
      if (membership.incomplete) logger.warn({ holdMs: config.memberTtlMs }, 'the stored members record is unreadable: tombstone collection waits one member TTL, since an away member may be missing from it')
      checkReturn({ membership, keys: this.replica.keyCount(), now: clock.physicalNow(), ttlMs: config.memberTtlMs, dataDir: config.dataDir, acceptStaleData: config.acceptStaleData, logger })
      const pubsub = this.libp2p.services.pubsub
      this.gossip = new Gossip({
        pubsub,
        replica: this.replica,
        logger: logger.child({ component: 'gossip' }),
        onInvalid: (peer, why) => { penalties.penalise(peer, 'invalid-gossip', why) }
      }, { clusterName: config.clusterName, publish: config.gossip })
      this.metrics = createMetrics({
        timings: this.timings,
        replica: this.replica,
        gossip: this.gossip,
        gossipWire,
        connections: () => this.libp2p?.getConnections().length ?? 0,
        peers: () => this.connectedPeers().size,
        inSyncPeers: () => this.inSyncPeers(),
        clockCorrectionMs: () => time.correctionMs,
        dataDirBytes: async () => await directoryBytes(config.dataDir),
        penalties,
        bannedPeers: () => gate.bannedCount(),
        peerVersions: versions,
        version: VERSION,
        members: () => {
          const list = this.memberMethods?.members() ?? []
          return { members: list.length, holdingGc: list.filter(m => m.holdsGc).length }
        },
        refusedPeers: () => refused.size
      })
      this.replica.onChange((change, decoded) => { if (change.origin === 'remote' && change.space === 'kv') observeReplicationDelay(this.timings, decoded as RegisterState, clock.physicalNow()) })
      this.antiEntropy = createAntiEntropy(
        {
          libp2p: this.libp2p,
          replica: this.replica,
          logger: logger.child({ component: 'anti-entropy' }),
          pubsub,
          metrics: this.metrics,
          onExchangeComplete: (peer, startedAtMs) => {
            // An exchange that was running when its peer was forgotten must not make it a member again.
            if (refused.reason(peer) === undefined) membership.synced(peer, startedAtMs, clock.physicalNow())
          },
          onViolation: (peer, err) => { penalties.penalise(peer, 'ae-violation', err.message) }
        },
        // Exchange times use the corrected clock, like tombstone times (GC compares them).
        { intervalMs: config.aeIntervalMs, freshMs: config.aeFreshMs, clusterName: config.clusterName, now: () => clock.physicalNow(), announceNow: () => time.raw() }
      )
      this.sessions = new SessionService({ libp2p: this.libp2p, antiEntropy: this.antiEntropy, positions, store: this.store, logger: logger.child({ component: 'sessions' }), clusterName: config.clusterName })
      this.replicator = new Replicator({
        libp2p: this.libp2p,
        replica: this.replica,
        allowed: peer => !gate.denies(peer),
        onViolation: (peer, why) => { penalties.penalise(peer, 'replicate-violation', why) },
        logger: logger.child({ component: 'replicate' })
      }, { protocol: replicateProtocol(config.clusterName) })
      this.replicator.metrics.register(this.metrics)
      this.timeSync = new TimeSync(
        { libp2p: this.libp2p, time, logger: logger.child({ component: 'clock' }) },
        { settleTimeoutMs: config.clockSettleTimeoutMs, intervalMs: TIME_SYNC_INTERVAL_MS, timeoutMs: TIME_SAMPLE_TIMEOUT_MS, protocol: timeProtocol(config.clusterName), peersToAsk: config.bootstrap.length > 0 || membership.size > 0 }
      )
      this.redialer = new Redialer(this.libp2p, logger.child({ component: 'redialer' }), { bootstrap: config.bootstrap })
      const persistMembers = (): void => { this.persistMembers().catch(() => {}) }
      this.libp2p.addEventListener('peer:connect', evt => {
        this.lastSeen.set(evt.detail.toString(), Date.now())
        logPeerEvent(peersLogger, this.peerEvents, evt.detail.toString(), 'connected')
      })
      // Only a peer that speaks our cluster's protocol becomes a member: any other libp2p host
      // that connects would otherwise hold tombstone collection back for a member TTL.
      this.libp2p.addEventListener('peer:identify', evt => { versions.identified(evt.detail.peerId.toString(), evt.detail.protocols) })
      this.libp2p.addEventListener('peer:identify', evt => {
        if (!evt.detail.protocols.includes(aeProtocol) || refused.reason(evt.detail.peerId.toString()) !== undefined) return
        // A new member holds collection back from now on, also across a crash.
        if (membership.seen(evt.detail.peerId.toString(), clock.physicalNow())) persistMembers()
      })
      this.libp2p.addEventListener('peer:disconnect', evt => {
        membership.touch(evt.detail.toString(), clock.physicalNow())
        versions.disconnected(evt.detail.toString())
      })
      this.collector = new TombstoneCollector({
        replica: this.replica,
        membership,
        connectedPeers: () => this.connectedPeers(),
        now: () => clock.physicalNow(),
        graceMs: config.tombstoneGraceMs,
        memberTtlMs: config.memberTtlMs,
        intervalMs: config.gcIntervalMs,
        maxDriftMs: config.maxDriftMs,
        logger: logger.child({ component: 'tombstone-gc' }),
        persist: async () => { await this.persistMembers() },
        onExpired: peer => {
          refused.add(peer, 'expired', clock.physicalNow())
          peersLogger.warn({ peer, memberTtlMs: config.memberTtlMs }, 'member expired: unseen for the member TTL, it no longer holds tombstone collection back and is refused from now on; to bring it back, reset it (an empty --data)')
        }
      })
      this.memberMethods = new MemberService({
        libp2p: this.libp2p,
        membership,
        refused,
        redialer: this.redialer,
        loopbackOnly: config.loopbackOnly,
        memberTtlMs: config.memberTtlMs,
        heldSinceMs: () => this.collector?.heldSinceMs,
        maxDriftMs: config.maxDriftMs,
        now: () => clock.physicalNow(),
        connectedPeers: () => this.connectedPeers(),
        persist: async () => { await this.persistMembers() },
        logger: peersLogger
      })
      this.libp2p.addEventListener('peer:disconnect', evt => {
        this.lastSeen.set(evt.detail.toString(), Date.now())
        logPeerEvent(peersLogger, this.peerEvents, evt.detail.toString(), 'disconnected')
      })
      this.libp2p.addEventListener('self:peer:update', () => { this.addrsCache = undefined })

      await this.timeSync.start()
      this.gossip.start()
      await this.antiEntropy.start()
      await this.sessions.start()
      await this.replicator.start()
      this.redialer.start()
      this.collector.start()
      this.feedRetention.start()
      this.clockWatch = setInterval(() => { time.raw() }, CLOCK_WATCH_MS)
      this.clockWatch.unref()
      this.ready = true
      warnAboutExposure(config, logger)
      logger.info({ addrs: this.multiaddrs(), dataDir: config.dataDir }, 'node started')
    } catch (err) {
      await this.stop().catch(() => {})
      throw err
    }
  }

  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      // A start that failed (a stale node, say) must not count its peers as seen.
      const wasRunning = this.ready
      this.ready = false
      clearInterval(this.clockWatch)
      this.redialer?.stop()
      await this.exports.closeAll()
      await this.collector?.stop()
      await this.feedRetention?.stop()
      if (this.membership !== undefined && this.store !== undefined && this.replica !== undefined) {
        // The start-up check reads the last contact from this record (node/stale-check.ts).
        if (wasRunning) this.membership.touchAll(this.connectedPeers(), this.now())
        await this.persistMembers().catch(() => {})
      }
      await this.sessions?.stop()
      await this.antiEntropy?.stop().catch((err: unknown) => { this.logger.warn({ err }, 'anti-entropy stop failed') })
      await this.replicator?.stop()
      this.gossip?.stop()
      await this.timeSync?.stop()
      await this.replica?.flush().catch(() => {})
      await Promise.resolve(this.libp2p?.stop()).catch((err: unknown) => { this.logger.warn({ err }, 'libp2p stop failed') })
      // Nothing can write any more: a snapshot of the tree saves the next start a full rebuild.
      await this.replica?.saveSnapshot().catch((err: unknown) => { this.logger.warn({ err }, 'tree snapshot not saved') })
      await this.store?.close()
    })()
    await this.stopping
  }

  /** Members and refusals, in one commit. */
  private async persistMembers (): Promise<void> {
    const { store, membership, refused } = this
    if (store === undefined || membership === undefined || refused === undefined) return
    await store.commit([store.metaWrite('members', membership.toJSON()), store.metaWrite('refused', refused.toJSON())])
  }

  private connectedPeers (): Set<string> {
    return new Set(this.libp2p?.getConnections().map(c => c.remotePeer.toString()) ?? [])
  }

  /** The corrected physical clock (what membership times are measured with). */
  private now (): number {
    return this.time?.now() ?? this.config.now()
  }

  /** Run one tombstone collection pass now; resolves with how many were collected. */
  async collectGarbage (): Promise<number> {
    this.parts()
    return await (this.collector as TombstoneCollector).sweep()
  }

  multiaddrs (): string[] {
    if (this.libp2p === undefined) return []
    // libp2p rebuilds and filters every address on each call (≈0.1 ms: it made node.info, which
    // the status page polls, cost as much as a write). Addresses change with the node's own
    // peer record, which libp2p announces; interfaces behind 0.0.0.0 may change unannounced,
    // hence also a short expiry.
    const now = Date.now()
    if (this.addrsCache === undefined || now - this.addrsCache.atMs > 5000) {
      this.addrsCache = { atMs: now, addrs: this.libp2p.getMultiaddrs().map(String) }
    }
    return this.addrsCache.addrs
  }

  setRpcUrl (url: string): void {
    this.rpcUrl = url
  }

  async dial (addr: string): Promise<void> {
    await this.parts().libp2p.dial(multiaddr(addr))
  }

  isReady (): boolean {
    return this.ready
  }

  async sessionWait (session: unknown, timeoutMs?: unknown): Promise<void> {
    this.parts()
    await (this.sessions as SessionService).wait(session, timeoutMs)
  }

  sessionToken (): string {
    this.parts()
    return (this.sessions as SessionService).token()
  }

  protected async awaitReplicas (storeKeys: string[], target: DurableTarget): Promise<void> {
    this.parts()
    const nodes = requiredNodes(target.replicas, this.membership?.size ?? 0)
    await (this.replicator as Replicator).replicate(storeKeys, nodes, target.timeoutMs)
  }

  protected clockFence (): Promise<void> | undefined {
    return this.timeSync === undefined || this.timeSync.ready ? undefined : this.timeSync.settled()
  }

  protected parts (): { replica: Replica, libp2p: ChorusLibp2p, antiEntropy: AntiEntropy, metrics: Registry } {
    if (!this.ready || this.replica === undefined || this.libp2p === undefined || this.antiEntropy === undefined || this.metrics === undefined) {
      throw new NotReadyError('the node is not running')
    }
    return { replica: this.replica, libp2p: this.libp2p, antiEntropy: this.antiEntropy, metrics: this.metrics }
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
      open: this.config.clusterKey === undefined && this.config.open,
      exposure: this.config.clusterKey !== undefined ? 'cluster-key' : this.config.open ? 'open' : 'this-host',
      clockCorrectionMs: this.time?.correctionMs ?? 0,
      clockPeers: this.time?.samples ?? 0,
      clockJumps: this.time?.jumps ?? 0
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

  // ---- maps (node/map-methods.ts; docs/api.md, "Maps")

  async mapUpdate (key: unknown, ops: unknown, context?: unknown, options?: DurableOptions): Promise<WriteResult> {
    return await this.maps.update(key, ops, context, options)
  }

  async mapGet (key: unknown, options?: MapGetOptions): Promise<MapGetResult> {
    return await this.maps.get(key, options)
  }

  async mapDelete (key: unknown, context?: unknown, options?: DurableOptions): Promise<WriteResult> {
    return await this.maps.delete(key, context, options)
  }

  async mapScan (options?: ScanOptions): Promise<MapScanResult> {
    return await this.maps.scan(options)
  }

  // ---- backup (docs/backup.md)

  async exportPage (options: ExportOptions = {}): Promise<ExportPage> {
    return await this.exports.page(this.parts().replica, options)
  }

  async importStates (items: unknown): Promise<ImportResult> {
    return await importStates(this.parts().replica, items)
  }

  // ---- members (docs/consistency.md, "Members")

  async members (): Promise<MemberInfo[]> {
    return this.memberService().members()
  }

  async forget (peerId: unknown): Promise<ForgetResult> {
    return await this.memberService().forget(peerId)
  }

  async connect (addr: unknown): Promise<ConnectResult> {
    return await this.memberService().connect(addr)
  }

  private memberService (): MemberService {
    this.parts()
    return this.memberMethods as MemberService
  }

  watch (prefix: string, listener: (event: ChangeEvent) => void): () => void {
    const { replica } = this.parts()
    return replica.onChange((change, decoded) => {
      if (change.key.startsWith(prefix)) listener(changeEvent(change.space, change.key, decoded, change.origin, replica.readTime()))
    })
  }

  // ---- the change feed (docs/api.md, "Change feed")

  async changes (options: ChangesOptions = {}): Promise<ChangesResult> {
    return await changesPage(this.feedParts(), options)
  }

  watchFeed (options: { prefix: string, since?: string }, listener: (event: ChangeEvent) => void, onEnd: (err: unknown) => void): FeedWatch {
    return watchFeed(this.feedParts(), options, listener, onEnd)
  }

  /** One pruning pass of the change feed now (it also runs every feedPruneIntervalMs). */
  async pruneFeed (): Promise<number> {
    this.parts()
    return await (this.feedRetention as FeedRetention).run()
  }

  private feedParts (): { log: ChangeLog, replica: Replica } {
    const { replica } = this.parts()
    return { log: this.feed as ChangeLog, replica }
  }

  recentErrors (): ErrorRecord[] {
    return this.errors.list()
  }

  rpcObserver (methods: readonly string[]): (method: string, seconds: number, ok: boolean) => void {
    return rpcObserver(this.timings, methods)
  }

  /** Connected peers whose last announced digest equals our root. */
  private inSyncPeers (): number {
    if (this.replica === undefined || this.libp2p === undefined || this.antiEntropy === undefined) return 0
    const ours = Buffer.from(this.replica.tree.root()).toString('hex')
    const connected = this.connectedPeers()
    let n = 0
    for (const [peer, d] of this.antiEntropy.peerDigests()) if (connected.has(peer) && d.digest === ours) n++
    return n
  }

  async metricsText (): Promise<string> {
    return await this.parts().metrics.metrics()
  }
}

/** A peer that flaps (a bad link, a crash loop) logs one line per this interval, with a count of the rest. */
const PEER_EVENT_LOG_INTERVAL_MS = 10_000

function logPeerEvent (logger: Logger, throttle: LogThrottle, peer: string, event: 'connected' | 'disconnected'): void {
  const turn = throttle.take(`${event} ${peer}`)
  if (turn.log) logger.info({ peer, ...(turn.held > 0 ? { heldBack: turn.held } : {}) }, `peer ${event}`)
  else logger.debug({ peer }, `peer ${event}`)
}

/** The node's clock, with log lines for what an operator must know: a correction, a jump. */
function clusterTime (config: NodeConfig, logger: Logger, resample: () => void): ClusterTime {
  return new ClusterTime({
    wall: config.now,
    maxDriftMs: config.maxDriftMs,
    onJump: (jumpMs) => {
      logger.warn({ jumpMs }, 'the system clock jumped: peers\' offsets shifted by the jump, and measured again')
      setImmediate(resample) // not from inside the clock read that saw the jump
    },
    onCorrection: (correctionMs) => {
      if (correctionMs === 0) logger.info('clock agrees with the cluster again: correction removed')
      else logger.warn({ correctionMs }, 'this node\'s clock is ahead of the cluster by more than the allowed drift: using the cluster\'s time for new writes. Fix the system clock (NTP).')
    }
  })
}
