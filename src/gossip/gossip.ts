/**
 * Dissemination: every change committed locally is published on the cluster's gossipsub
 * topic; every message received is merged through the replica's write path by the topic
 * validator, before gossipsub relays it.
 *
 * Changes committed in the same tick are coalesced into one message, and under load so are
 * those of a short window (GOSSIP_COALESCE_MS): each message costs every node the same half
 * millisecond whatever it carries, so coalescing is what lets writes go faster than messages.
 * A message that found no subscriber — right after a dial, before subscriptions are known —
 * is kept (bounded) and published again when a peer subscribes; anti-entropy covers the rest.
 */
import { randomInt } from 'node:crypto'
import { TopicValidatorResult, type Message, type PeerId, type PubSub } from '@libp2p/interface'
import type { Logger } from 'pino'
import { changesTopic, GOSSIP_COALESCE_MS, MAX_GOSSIP_IN_FLIGHT_BYTES, MAX_GOSSIP_IN_FLIGHT_BYTES_PER_PEER, MAX_GOSSIP_MESSAGE_BYTES } from '../constants.js'
import type { AppliedChange, EncodedChange } from '../replica/index.js'
import { InFlightBudget } from './in-flight.js'
import { decodeGossip, encodeGossip, MAX_REPUBLISH_TAG, MAX_REPUBLISH_TAG_BYTES, packGossip } from './message.js'

/** What gossip needs from the replica. */
export interface GossipReplica {
  onChange: (listener: (change: AppliedChange) => void) => () => void
  applyRemote: (changes: EncodedChange[], from: string, options: { viaGossip: true }) => Promise<{ applied: number, changed: number, rejected: number, superseded?: number }>
}

export interface GossipComponents {
  pubsub: PubSub
  replica: GossipReplica
  logger: Logger
  /** Called with the peer that sent us a message we rejected (the node penalises it). */
  onInvalid?: (peer: string, why: string) => void
}

export interface GossipInit {
  clusterName?: string
  /** Test-only: false keeps local changes from being published. @default true */
  publish?: boolean
  /** Bytes of unsent messages kept for peers that have not subscribed yet. @default 8 MiB */
  maxPendingBytes?: number
  /** Bytes of received messages merged at once from one peer. @default MAX_GOSSIP_IN_FLIGHT_BYTES_PER_PEER */
  maxInFlightBytesPerPeer?: number
  /** Bytes of received messages merged at once from all peers. @default MAX_GOSSIP_IN_FLIGHT_BYTES */
  maxInFlightBytes?: number
  /** Writes within this long of the last message wait for the next one (0: a message per tick). @default GOSSIP_COALESCE_MS */
  coalesceMs?: number
}

export interface GossipStats {
  published: number
  publishedChanges: number
  received: number
  receivedChanges: number
  invalid: number
  pendingDropped: number
  /** Changes too large for one message, left to anti-entropy. */
  tooLarge: number
  /** Kept messages that reached a peer when published again (after a peer subscribed). */
  republished: number
  /** Messages ignored because their sender, or all peers, had too many bytes being merged. */
  shed: number
}

/**
 * A message of local changes; `offered` once gossipsub has been given its bytes, `kept` once it
 * waited for a subscriber.
 */
interface OutgoingMessage { changes: EncodedChange[], data: Uint8Array, offered: boolean, kept: boolean }

export class Gossip {
  readonly stats: GossipStats = { published: 0, publishedChanges: 0, received: 0, receivedChanges: 0, invalid: 0, pendingDropped: 0, tooLarge: 0, republished: 0, shed: 0 }
  private readonly pubsub: PubSub
  private readonly replica: GossipReplica
  private readonly logger: Logger
  private readonly topic: string
  private readonly onInvalid: ((peer: string, why: string) => void) | undefined
  private readonly publishEnabled: boolean
  private readonly maxPendingBytes: number
  private readonly inFlight: InFlightBudget
  private outbox = new Map<string, Uint8Array>()
  private flushScheduled = false
  private lastFlushAt = -Infinity
  private readonly coalesceMs: number
  private pending: OutgoingMessage[] = []
  private pendingBytes = 0
  private unsubscribeReplica?: () => void
  private running = false

  constructor (components: GossipComponents, init: GossipInit = {}) {
    this.pubsub = components.pubsub
    this.replica = components.replica
    this.logger = components.logger
    this.onInvalid = components.onInvalid
    this.topic = changesTopic(init.clusterName ?? 'default')
    this.publishEnabled = init.publish ?? true
    this.maxPendingBytes = init.maxPendingBytes ?? 8 * 1024 * 1024
    this.coalesceMs = init.coalesceMs ?? GOSSIP_COALESCE_MS
    this.inFlight = new InFlightBudget(init.maxInFlightBytesPerPeer ?? MAX_GOSSIP_IN_FLIGHT_BYTES_PER_PEER, init.maxInFlightBytes ?? MAX_GOSSIP_IN_FLIGHT_BYTES)
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.pubsub.topicValidators.set(this.topic, this.validate)
    this.pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    this.pubsub.subscribe(this.topic)
    this.unsubscribeReplica = this.replica.onChange(change => {
      if (change.origin !== 'local' || !this.publishEnabled) return
      // Later states of a key supersede earlier ones in the same flush: they are joins.
      this.outbox.set(change.storeKey, change.state)
      this.scheduleFlush()
    })
  }

  stop (): void {
    if (!this.running) return
    this.running = false
    this.unsubscribeReplica?.()
    this.pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    this.pubsub.topicValidators.delete(this.topic)
    try { this.pubsub.unsubscribe(this.topic) } catch {}
  }

  /**
   * A change is published in the next tick if nothing was published for `coalesceMs`; otherwise
   * `coalesceMs` after the last message, together with everything that arrives meanwhile. An
   * idle node adds no delay; a busy one sends a message per window instead of one per write.
   */
  private scheduleFlush (): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    const wait = this.lastFlushAt + this.coalesceMs - performance.now()
    if (wait <= 0) setImmediate(this.flush)
    else setTimeout(this.flush, wait)
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    this.lastFlushAt = performance.now()
    const changes = [...this.outbox].map(([storeKey, state]) => ({ storeKey, state }))
    this.outbox = new Map()
    for (const message of packGossip(changes, MAX_GOSSIP_MESSAGE_BYTES)) {
      const data = encodeGossip(message)
      // Receivers reject (and penalise) anything larger, and a retry carries a tag as well;
      // such a state travels by anti-entropy.
      if (data.byteLength + MAX_REPUBLISH_TAG_BYTES > MAX_GOSSIP_MESSAGE_BYTES) {
        this.stats.tooLarge++
        continue
      }
      void this.publish({ changes: message, data, offered: false, kept: false })
    }
  }

  private async publish (message: OutgoingMessage): Promise<void> {
    if (!this.running) return
    if (this.pubsub.getSubscribers(this.topic).length === 0) {
      // Nobody to send to (yet): keep it for the first subscriber instead of encoding for no one.
      this.keepPending(message)
      return
    }
    // gossipsub remembers the bytes of everything it was given, sent or not, and refuses them
    // again as a duplicate: a message it has seen goes out re-tagged (message.ts).
    const data = message.offered ? encodeGossip(message.changes, randomInt(MAX_REPUBLISH_TAG + 1)) : message.data
    const sent: OutgoingMessage = { ...message, data, offered: true }
    try {
      const { recipients } = await this.pubsub.publish(this.topic, data)
      this.stats.published++
      if (!message.kept) this.stats.publishedChanges += message.changes.length
      if (recipients.length === 0) this.keepPending(sent)
      else if (message.kept) this.stats.republished++
    } catch (err) {
      this.logger.warn({ err }, 'gossip publish failed; kept for the next subscriber, and anti-entropy repairs anyway')
      this.keepPending(sent)
    }
  }

  private keepPending (message: OutgoingMessage): void {
    if (this.pendingBytes + message.data.byteLength > this.maxPendingBytes) {
      // Past the bound, anti-entropy (which runs when a peer connects) is the cheaper repair.
      this.stats.pendingDropped += this.pending.length + 1
      this.pending = []
      this.pendingBytes = 0
      return
    }
    this.pending.push({ ...message, kept: true })
    this.pendingBytes += message.data.byteLength
  }

  private readonly onSubscriptionChange = (evt: CustomEvent<{ peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    if (this.pending.length === 0) return
    if (!evt.detail.subscriptions.some(s => s.topic === this.topic && s.subscribe)) return
    const pending = this.pending
    this.pending = []
    this.pendingBytes = 0
    for (const message of pending) void this.publish(message)
  }

  /**
   * Runs before gossipsub forwards a message, and is where it is merged: a message is relayed
   * only once this node has taken it, and one whose every state was refused as invalid is
   * rejected, so gossipsub relays it to no one and counts it against the peer that sent it
   * (topic scoring, node/libp2p.ts), and so does our own tally (onInvalid). A failure
   * of our own (a full disk) is no fault of the sender: the message is still relayed. Past the
   * in-flight bounds (in-flight.ts) a message is ignored, unmerged, for anti-entropy to repair.
   */
  private readonly validate = async (peer: PeerId, message: Message): Promise<TopicValidatorResult> => {
    // Before anything awaits: gossipsub starts the validators of a whole frame's messages at once.
    const sender = peer.toString()
    const bytes = message.data.byteLength
    if (!this.inFlight.tryTake(sender, bytes)) {
      this.stats.shed++
      return TopicValidatorResult.Ignore
    }
    try {
      return await this.merge(peer, message)
    } finally {
      this.inFlight.release(sender, bytes)
    }
  }

  /** Merges the message; what the validator then tells gossipsub to do with it. */
  private async merge (peer: PeerId, message: Message): Promise<TopicValidatorResult> {
    let changes: EncodedChange[]
    try {
      changes = decodeGossip(message.data)
    } catch (err) {
      return this.reject(peer, `rejected malformed gossip message: ${(err as Error).message}`)
    }
    this.stats.received++
    this.stats.receivedChanges += changes.length
    const from = message.type === 'signed' ? message.from.toString() : 'gossip'
    try {
      const report = await this.replica.applyRemote(changes, from, { viaGossip: true })
      const invalid = report.rejected - (report.superseded ?? 0)
      if (changes.length > 0 && invalid === changes.length) return this.reject(peer, `rejected a gossip message whose ${invalid} states were all invalid`)
    } catch (err) {
      this.logger.error({ err }, 'applying gossip failed; anti-entropy will repair')
    }
    return TopicValidatorResult.Accept
  }

  private reject (peer: PeerId, why: string): TopicValidatorResult {
    this.stats.invalid++
    this.logger.warn({ peer: peer.toString() }, why)
    this.onInvalid?.(peer.toString(), why)
    return TopicValidatorResult.Reject
  }
}
