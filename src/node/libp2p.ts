/**
 * The libp2p host: TCP, noise, yamux, identify, ping, gossipsub, optional mDNS and pnet.
 * Everything stays on the libp2p 2.x line (gossipsub 14 needs @libp2p/interface 2).
 */
import '../util/polyfills.js'
import type { GossipsubEvents } from '@chainsafe/libp2p-gossipsub'
import { createPeerScoreParams, createPeerScoreThresholds, createTopicScoreParams } from '@chainsafe/libp2p-gossipsub/score'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PeerDiscovery, PrivateKey, PubSub } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { ping, type PingService } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MAX_INBOUND_RPC_BYTES } from '../constants.js'
import { ConfigError } from '../errors.js'
import { auditedGossipsub, type ControlAuditing } from './audited-gossipsub.js'

export type ChorusServices = {
  identify: Identify
  ping: PingService
  pubsub: PubSub<GossipsubEvents>
}

export type ChorusLibp2p = Libp2p<ChorusServices>

export interface HostInit {
  privateKey: PrivateKey
  listen: string[]
  mdns: boolean
  clusterKey?: Uint8Array
  maxConnections: number
  /** The only gossip topics whose subscriptions and messages we keep (the cluster's). */
  topics: string[]
  /** Who may connect (node/peer-gate.ts). */
  connectionGater: ConnectionGater
  /** Score peers (below). Off only in hostile-input tests. */
  scorePeers: boolean
  /** Inbound gossip control that no honest router sends is dropped and reported (node/audited-gossipsub.ts). */
  controlAuditing: ControlAuditing
}

/**
 * gossipsub peer scoring, tuned for a cluster in which every peer is a member and writes may
 * stop for hours: what lowers a score is only what an honest node never does.
 * - P4, invalid messages (our validator rejects a message only when every state in it is
 *   invalid): three of them take a peer below the graylist.
 * - P7, broken IHAVE promises: a peer that keeps advertising messages it never delivers.
 *   One broken now and then (a message that left the cache) stays under the threshold.
 * - P1 (time in the mesh) and P2 (first deliveries) reward a peer by at most +3.6 and +1 per
 *   topic, +9.2 over our two topics, so they never offset three invalid messages (−90). (The
 *   library's defaults, 1 point per *millisecond* in the mesh up to 3,600 per topic and 1 per
 *   delivery up to 2,000, outweighed P4 entirely; the topic score cap of 10 hid it.)
 * - P3 (too few mesh deliveries) is off: an idle cluster delivers nothing, honestly.
 * - P6 (many peers on one IP) is off: nodes on one host, or behind one NAT, are normal here.
 * Below the graylist gossipsub ignores the peer's gossip until its score decays; it is not
 * banned for it: under a one-way partition or a clock jump honest nodes break IHAVE promises by
 * the hundred (the fault harness saw −578,000), and a ban would have kept them apart for good.
 * Anti-entropy repairs whatever gossip ignored.
 */
export const GOSSIP_SCORE_THRESHOLDS = createPeerScoreThresholds({ gossipThreshold: -10, publishThreshold: -50, graylistThreshold: -80 })

function gossipScoreParams (topics: string[]): ReturnType<typeof createPeerScoreParams> {
  const topic = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0.001,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 3600,
    firstMessageDeliveriesWeight: 0.01,
    firstMessageDeliveriesCap: 100,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -10,
    invalidMessageDeliveriesDecay: 0.9
  })
  return createPeerScoreParams({
    topics: Object.fromEntries(topics.map(t => [t, topic])),
    IPColocationFactorWeight: 0,
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 5,
    behaviourPenaltyDecay: 0.9
  })
}

export async function createHost (init: HostInit): Promise<ChorusLibp2p> {
  try {
    return await createConfiguredHost(init)
  } catch (err) {
    throw listenError(err, init.listen) ?? err
  }
}

/**
 * libp2p reports a listen address it could not bind as UnsupportedListenAddressesError with
 * every address's reason in one long message; an operator needs one line: which address, why.
 */
function listenError (err: unknown, listen: readonly string[]): ConfigError | undefined {
  if ((err as Error)?.name !== 'UnsupportedListenAddressesError') return undefined
  const message = (err as Error).message
  const failed = listen.find(addr => message.includes(`${addr}:`)) ?? listen.join(', ')
  const why = /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES)\b/.exec(message)?.[1]
  const reason = why === 'EADDRINUSE'
    ? 'address already in use (another node or program listens there: pick another port, or 0 for any free one)'
    : why === 'EADDRNOTAVAIL'
      ? 'this machine has no such address'
      : why === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : 'cannot listen there'
  return new ConfigError(`libp2p listen address ${failed}: ${reason}`, { cause: err, data: { option: 'listen' } })
}

async function createConfiguredHost (init: HostInit): Promise<ChorusLibp2p> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (init.mdns) peerDiscovery.push(mdns({ interval: 10_000 }))
  return await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(init.clusterKey === undefined ? {} : { connectionProtector: preSharedKey({ psk: init.clusterKey }) }),
    peerDiscovery,
    connectionGater: init.connectionGater,
    connectionManager: {
      maxConnections: init.maxConnections,
      dialTimeout: 10_000
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: auditedGossipsub({
        // Unsigned: gossiped states are merged, never trusted, so a signature adds nothing a
        // peer inside the cluster could not already do — and signing capped throughput at a
        // few thousand messages/s (docs/architecture.md). Peers are still authenticated by
        // noise, and kept out by the cluster key. Ids are content hashes (the default for
        // StrictNoSign), so identical states dedupe.
        globalSignaturePolicy: 'StrictNoSign',
        // A write must never be refused because no peer has subscribed yet: gossip keeps it
        // and anti-entropy delivers it anyway.
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        // Subscriptions to other topics are dropped unread: gossipsub keeps state per topic,
        // and a peer subscribing to millions of invented topics would grow it without bound.
        allowedTopics: init.topics,
        ...(init.scorePeers ? { scoreParams: gossipScoreParams(init.topics), scoreThresholds: GOSSIP_SCORE_THRESHOLDS } : {}),
        maxInboundDataLength: MAX_INBOUND_RPC_BYTES,
        // gossipsub 14.1 passes the control limits below as `control$`, but its decoder reads
        // `control`: only subscriptions and messages are bounded when decoding. The control
        // audit bounds entries and ids instead (gossip/control-audit.ts, docs/security.md).
        decodeRpcLimits: {
          maxSubscriptions: 64,
          maxMessages: 256,
          maxIhaveMessageIDs: 5000,
          maxIwantMessageIDs: 5000,
          maxIdontwantMessageIDs: 5000,
          maxControlMessages: 256,
          maxPeerInfos: 64
        }
      }, init.controlAuditing)
    }
  })
}
