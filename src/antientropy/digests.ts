/**
 * Digest announcements: each node publishes its root and key count on the cluster's digest
 * topic when the root changes (checked every `announceCheckMs`, which is also the throttle)
 * when a peer newly subscribes, and every `announceIntervalMs` regardless; peers' announcements are
 * kept for `cluster.peers`.
 *
 * Payload: CBOR `[root, keys, peerId, atMs]`. The node runs gossipsub unsigned (StrictNoSign),
 * where a message's id is its content: the time makes a repeated announcement new, and the
 * peer id names the sender (trusted as far as cluster membership is — a signed message's
 * `from` takes precedence). Only announcements naming a peer we are connected to on the topic
 * are kept, and a peer's entry goes when it leaves the topic: a member cannot invent peers for
 * `cluster.peers`, and the map is bounded by our connections.
 */
import type { Message } from '@libp2p/interface'
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
  addEventListener: (type: 'message', listener: (evt: CustomEvent<Message>) => void) => void
  removeEventListener: (type: 'message', listener: (evt: CustomEvent<Message>) => void) => void
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
    this.init.pubsub.addEventListener('message', this.onMessage)
    this.init.pubsub.subscribe(this.init.topic)
    this.timer = setInterval(() => { this.tick() }, this.init.checkMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.init.pubsub.removeEventListener('message', this.onMessage)
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

  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    const msg = evt.detail
    if (msg.topic !== this.init.topic) return
    try {
      const raw = decodeCbor(msg.data, 'digest announcement')
      if (!Array.isArray(raw) || raw.length !== 4) return
      const [root, keys, sender] = raw as unknown[]
      if (!(root instanceof Uint8Array) || root.length !== HASH_BYTES || typeof keys !== 'number' || !Number.isSafeInteger(keys) || keys < 0 || typeof sender !== 'string' || sender.length > 128) return
      const from = msg.type === 'signed' ? msg.from.toString() : sender
      if (from === this.init.self) return
      if (!this.isSubscriber(from)) return
      const now = this.init.now()
      this.digests.set(from, { digest: Buffer.from(root).toString('hex'), keys, atMs: now })
    } catch {
      this.init.logger.debug('malformed digest announcement ignored')
    }
  }
}
