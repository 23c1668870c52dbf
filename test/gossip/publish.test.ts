/**
 * Gossip's publishing against a stand-in for gossipsub that behaves as gossipsub does where it
 * matters here: a message id is the hash of its bytes, and bytes it was given before are
 * refused as PublishError.Duplicate, whether they reached anyone or not.
 */
import { describe, expect, it } from 'vitest'
import pino from 'pino'
import { changesTopic, MAX_GOSSIP_MESSAGE_BYTES } from '../../src/constants.js'
import { decodeGossip, encodeGossip, Gossip, MAX_REPUBLISH_TAG_BYTES } from '../../src/gossip/index.js'
import type { AppliedChange } from '../../src/replica/index.js'
import { waitFor } from '../helpers/nodes.js'

class SeenCachePubSub {
  readonly topicValidators = new Map()
  private readonly seen = new Set<string>()
  private readonly listeners: Array<(evt: CustomEvent) => void> = []
  subscribers: string[] = ['low-score']
  /** Whether a publish reaches anyone: the one subscriber scores below the publish threshold at first. */
  reach = false
  delivered: Uint8Array[] = []

  addEventListener (_: string, l: (evt: CustomEvent) => void): void { this.listeners.push(l) }
  removeEventListener (): void {}
  subscribe (): void {}
  unsubscribe (): void {}
  getSubscribers (): string[] { return this.subscribers }
  async publish (_topic: string, data: Uint8Array): Promise<{ recipients: string[] }> {
    const id = Buffer.from(data).toString('base64')
    if (this.seen.has(id)) throw new Error('PublishError.Duplicate')
    this.seen.add(id)
    if (!this.reach) return { recipients: [] }
    this.delivered.push(data)
    return { recipients: this.subscribers }
  }

  subscribed (peer: string): void {
    this.subscribers.push(peer)
    for (const l of this.listeners) l(new CustomEvent('subscription-change', { detail: { peerId: { toString: () => peer }, subscriptions: [{ topic: changesTopic('default'), subscribe: true }] } }))
  }
}

function setUp (coalesceMs = 0): { gossip: Gossip, pubsub: SeenCachePubSub, write: (storeKey: string, bytes: number) => void } {
  const pubsub = new SeenCachePubSub()
  let listener: ((c: AppliedChange) => void) | undefined
  const replica = {
    onChange: (l: (c: AppliedChange) => void) => { listener = l; return () => {} },
    applyRemote: async () => ({ applied: 0, changed: 0, rejected: 0 })
  }
  const gossip = new Gossip({ pubsub: pubsub as never, replica, logger: pino({ level: 'silent' }) }, { coalesceMs })
  gossip.start()
  const write = (storeKey: string, bytes: number): void => { listener?.({ origin: 'local', storeKey, state: new Uint8Array(bytes) } as unknown as AppliedChange) }
  return { gossip, pubsub, write }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve)) }

describe('gossip publishing', () => {
  it('publishes a lone write in the next tick, and the writes of the following window together in one message', async () => {
    const { pubsub, write } = setUp(200)
    pubsub.reach = true
    write('r/first', 10)
    await settle()
    expect(pubsub.delivered.map(d => decodeGossip(d).map(c => c.storeKey))).toEqual([['r/first']])
    write('r/a', 10)
    await settle()
    write('r/b', 10)
    write('r/a', 11) // a later state of a key supersedes the earlier one in the same message
    expect(pubsub.delivered).toHaveLength(1)
    await waitFor(() => pubsub.delivered.length === 2, { what: 'the window\'s message' })
    const second = decodeGossip(pubsub.delivered[1] as Uint8Array)
    expect(second.map(c => [c.storeKey, c.state.byteLength])).toEqual([['r/a', 11], ['r/b', 10]])
  })

  it('regression: a message that reached no one goes out again, re-tagged, when a peer subscribes', async () => {
    const { gossip, pubsub, write } = setUp()
    write('r/a', 10)
    await settle()
    expect(gossip.stats.published).toBe(1)
    expect(pubsub.delivered).toHaveLength(0)
    pubsub.reach = true
    pubsub.subscribed('b')
    await settle()
    expect(pubsub.delivered).toHaveLength(1)
    expect(decodeGossip(pubsub.delivered[0] as Uint8Array).map(c => c.storeKey)).toEqual(['r/a'])
    expect(gossip.stats.republished).toBe(1)
    expect(gossip.stats.publishedChanges).toBe(1)
  })

  it('leaves to anti-entropy a change whose message would pass the limit once tagged', async () => {
    const { gossip, pubsub, write } = setUp()
    pubsub.reach = true
    const overhead = encodeGossip([{ storeKey: 'r/big', state: new Uint8Array(0) }]).byteLength
    // Untagged it fits exactly; the tag would not.
    const fits = (bytes: number): number => encodeGossip([{ storeKey: 'r/big', state: new Uint8Array(bytes) }]).byteLength
    let bytes = MAX_GOSSIP_MESSAGE_BYTES - overhead - 64
    while (fits(bytes + 1) <= MAX_GOSSIP_MESSAGE_BYTES - MAX_REPUBLISH_TAG_BYTES) bytes++
    write('r/big', bytes)
    await settle()
    expect([gossip.stats.tooLarge, pubsub.delivered.length]).toEqual([0, 1])
    write('r/big', bytes + 1)
    await settle()
    expect([gossip.stats.tooLarge, pubsub.delivered.length]).toEqual([1, 1])
  })
})
