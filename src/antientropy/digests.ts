/**
 * Digest announcements: each node publishes its root and key count on the cluster's digest
 * topic when the root changes (checked every `announceCheckMs`, which is also the throttle)
 * when a peer newly subscribes, and every `announceIntervalMs` regardless; peers' announcements are
 * kept for `cluster.peers`.
 *
 * Payload: CBOR `[root, keys, peerId, atMs]`. The node runs gossipsub unsigned (StrictNoSign),
 * where a message's id is its content: the time makes a repeated announcement new. The peer id
 * in the payload is not taken on trust: an announcement is kept only when it names the peer
 * that handed it to us (the connection's authenticated peer, gossipsub's propagation source),
 * so a member can announce for itself only. An announcement relayed from farther away is
 * ignored: not kept, and not relayed again. Only a node's neighbours use its digest, so an
 * announcement travels one hop; relayed cluster-wide, the topic cost every node traffic and
 * CPU in proportion to the cluster's size (3.2 KB per minute per other node, measured; a
 * gossip message costs a node about a millisecond). A peer's entry goes when it leaves the
 * topic, so the map is bounded by our connections. A malformed announcement is rejected
 * (gossipsub scores it against the sender).
 */
import { TopicValidatorResult, type Message, type PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { decodeCbor, encodeCbor } from '../codec/index.js'
import { HASH_BYTES, type MerkleTree } from '../merkle/index.js'
import { sameBytes } from './tree-view.js'

/** The slice of a pubsub service digests need. */
export interface DigestPubSub {
  subscribe: (topic: string) => void
  unsubscribe: (topic: string) => void
  publish: (topic: string, data: Uint8Array) => Promise<unknown>
  getSubscribers: (topic: string) => Array<{ toString: () => string }>
  topicValidators: Map<string, (peer: PeerId, message: Message) => TopicValidatorResult | Promise<TopicValidatorResult>>
}

export interface PeerDigest {
  digest: string
  keys: number
  /** When we received it (our physical clock). */
  atMs: number
}

export interface DigestAnnouncerInit {
  pubsub: DigestPubSub
  topic: string
  tree: MerkleTree
  keyCount: () => number
  self: string
  logger: Logger
  checkMs: number
  intervalMs: number
  /** The node's system clock: announcements carry it (it makes a repeat a new message) and receipt times use it. */
  now: () => number
}

export class DigestAnnouncer {
  readonly digests = new Map<string, PeerDigest>()
  private timer: NodeJS.Timeout | undefined
  private lastRoot: Uint8Array | undefined
  private lastAt = 0
  private lastSubscribers = new Set<string>()

  constructor (private readonly init: DigestAnnouncerInit) {}

  start (): void {
    this.init.pubsub.topicValidators.set(this.init.topic, this.validate)
    this.init.pubsub.subscribe(this.init.topic)
    this.timer = setInterval(() => { this.tick() }, this.init.checkMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    if (this.init.pubsub.topicValidators.get(this.init.topic) === this.validate) this.init.pubsub.topicValidators.delete(this.init.topic)
    try { this.init.pubsub.unsubscribe(this.init.topic) } catch {}
  }

  private tick (): void {
    const root = this.init.tree.root()
    const now = this.init.now()
    const subscribers = new Set(this.init.pubsub.getSubscribers(this.init.topic).map(String))
    const newcomer = [...subscribers].some(p => !this.lastSubscribers.has(p))
    this.lastSubscribers = subscribers
    for (const peer of this.digests.keys()) if (!subscribers.has(peer)) this.digests.delete(peer)
    if (!newcomer && this.lastRoot !== undefined && sameBytes(root, this.lastRoot) && now - this.lastAt < this.init.intervalMs) return
    this.lastRoot = Uint8Array.from(root)
    this.lastAt = now
    const data = encodeCbor([this.lastRoot, this.init.keyCount(), this.init.self, now])
    this.init.pubsub.publish(this.init.topic, data).catch((err: unknown) => {
      this.init.logger.debug({ err }, 'digest announcement not published')
    })
  }

  private isSubscriber (peer: string): boolean {
    return this.init.pubsub.getSubscribers(this.init.topic).some(p => p.toString() === peer)
  }

  private readonly validate = (source: PeerId, msg: Message): TopicValidatorResult => {
    let root: Uint8Array
    let keys: number
    let sender: string
    try {
      const raw = decodeCbor(msg.data, 'digest announcement')
      if (!Array.isArray(raw) || raw.length !== 4) return TopicValidatorResult.Reject
      const [r, k, s] = raw as unknown[]
      if (!(r instanceof Uint8Array) || r.length !== HASH_BYTES || typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0 || typeof s !== 'string' || s.length > 128) return TopicValidatorResult.Reject
      root = r
      keys = k
      sender = s
    } catch {
      this.init.logger.debug('malformed digest announcement rejected')
      return TopicValidatorResult.Reject
    }
    const from = source.toString()
    if (sender !== from) return TopicValidatorResult.Ignore
    if (from !== this.init.self && this.isSubscriber(from)) {
      this.digests.set(from, { digest: Buffer.from(root).toString('hex'), keys, atMs: this.init.now() })
    }
    return TopicValidatorResult.Accept
  }
}
