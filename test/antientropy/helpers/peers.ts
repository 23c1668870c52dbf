/**
 * Anti-entropy test peers: a real libp2p node on 127.0.0.1 (TCP, noise, yamux, identify;
 * gossipsub on request; never mDNS) with a real LevelDB replica in a temp dir and the
 * anti-entropy service, all torn down when the test finishes.
 */
import '../../../src/util/polyfills.js'
import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, PubSub } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { Registry } from 'prom-client'
import { onTestFinished } from 'vitest'
import { createAntiEntropy, type AntiEntropy, type AntiEntropyInit } from '../../../src/antientropy/index.js'
import { HybridLogicalClock } from '../../../src/clock/index.js'
import { Replica } from '../../../src/replica/index.js'
import type { ApplyReport, EncodedChange } from '../../../src/replica/types.js'
import { Store } from '../../../src/store/index.js'
import { waitFor as waitUntil } from '../../helpers/nodes.js'

export async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-ae-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A bare host; stopped when the test ends unless `manualStop`. */
export async function createHost (options: { pubsub?: boolean, manualStop?: boolean } = {}): Promise<Libp2p<{ pubsub?: PubSub }>> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ...(options.pubsub === true ? { pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false, globalSignaturePolicy: 'StrictNoSign' }) } : {})
    }
  }) as unknown as Libp2p<{ pubsub?: PubSub }>
  if (options.manualStop !== true) onTestFinished(async () => { await node.stop() })
  return node
}

export interface TestPeer {
  id: string
  libp2p: Libp2p<{ pubsub?: PubSub }>
  replica: Replica
  ae: AntiEntropy
  metrics: Registry
  /** Hex root of the local tree. */
  root: () => string
}

export interface PeerOptions extends AntiEntropyInit {
  pubsub?: boolean
  /** Start the anti-entropy service (handler, scheduler). @default true */
  startAntiEntropy?: boolean
  /** Receives the anti-entropy service's onExchangeComplete calls. */
  onExchangeComplete?: (peer: string, startedAtMs: number) => void
  /**
   * Remote states the replica refuses as if they did not validate (counted as rejected), to
   * test what the protocol does with a refusal; everything else is merged as usual.
   */
  refuse?: (storeKey: string) => boolean
}

export async function createPeer (options: PeerOptions = {}): Promise<TestPeer> {
  const { pubsub, startAntiEntropy, onExchangeComplete, refuse, ...init } = options
  const libp2p = await createHost({ pubsub, manualStop: true })
  const store = await Store.open({ location: await tempDir(), fsync: false })
  const logger = pino({ level: 'silent' })
  const replica = await Replica.open({ store, nodeId: libp2p.peerId.toString(), clock: new HybridLogicalClock(), logger, ...(init.freshMs === undefined ? {} : { freshWindowMs: init.freshMs }) })
  const metrics = new Registry()
  const ae = createAntiEntropy(
    { libp2p, replica: refuse === undefined ? replica : refusing(replica, refuse), logger, metrics, ...(libp2p.services.pubsub === undefined ? {} : { pubsub: libp2p.services.pubsub }), ...(onExchangeComplete === undefined ? {} : { onExchangeComplete }) },
    { schedule: false, ...init }
  )
  if (startAntiEntropy !== false) await ae.start()
  onTestFinished(async () => {
    await ae.stop()
    await libp2p.stop()
    await store.close()
  })
  return { id: libp2p.peerId.toString(), libp2p, replica, ae, metrics, root: () => Buffer.from(replica.tree.root()).toString('hex') }
}

/** Dial a → b and wait until both ends list the connection. */
export async function connect (a: { libp2p: Libp2p<any> }, b: { libp2p: Libp2p<any> }): Promise<void> {
  await a.libp2p.dial(b.libp2p.getMultiaddrs()[0] as never)
  const open = (x: Libp2p<any>, y: Libp2p<any>): boolean => x.getConnections(y.peerId).some(c => c.status === 'open')
  await waitFor(() => open(a.libp2p, b.libp2p) && open(b.libp2p, a.libp2p), 'both ends of the connection')
}

/** Poll until `condition` holds or fail at the deadline. */
export async function waitFor (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  await waitUntil(condition, { what, timeoutMs })
}

/** The replica, refusing the remote states `refuse` picks (they count as rejected, like invalid ones). */
function refusing (replica: Replica, refuse: (storeKey: string) => boolean): Replica {
  return new Proxy(replica, {
    get (target, prop, receiver) {
      if (prop !== 'applyRemote') {
        const value = Reflect.get(target, prop, receiver) as unknown
        return typeof value === 'function' ? value.bind(target) : value
      }
      return async (changes: EncodedChange[], from: string): Promise<ApplyReport> => {
        const kept = changes.filter(c => !refuse(c.storeKey))
        const report = await target.applyRemote(kept, from)
        return { ...report, rejected: report.rejected + changes.length - kept.length }
      }
    }
  })
}
