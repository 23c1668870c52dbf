import { describe, expect, it } from 'vitest'
import { TopicValidatorResult, type Message, type PeerId } from '@libp2p/interface'
import pino from 'pino'
import { MAX_GOSSIP_MESSAGE_BYTES } from '../../src/constants.js'
import { encodeGossip, Gossip } from '../../src/gossip/index.js'
import { InFlightBudget } from '../../src/gossip/in-flight.js'

const MiB = 1024 * 1024

describe('InFlightBudget', () => {
  it('bounds the bytes of each peer and of all, and gives them back', () => {
    const budget = new InFlightBudget(4 * MiB, 6 * MiB)
    expect(budget.tryTake('a', 3 * MiB)).toBe(true)
    expect(budget.tryTake('a', 2 * MiB)).toBe(false) // a would hold 5 MiB
    expect(budget.tryTake('a', 1 * MiB)).toBe(true) // exactly at the bound
    expect(budget.tryTake('b', 3 * MiB)).toBe(false) // all would hold 7 MiB
    expect(budget.tryTake('b', 2 * MiB)).toBe(true)
    expect(budget.bytes).toBe(6 * MiB)
    budget.release('a', 3 * MiB)
    expect(budget.tryTake('b', 2 * MiB)).toBe(true)
    budget.release('a', 1 * MiB)
    budget.release('b', 4 * MiB)
    expect([budget.bytes, budget.peers]).toEqual([0, 0])
  })

  it('asserts its accounting and its bounds', () => {
    const budget = new InFlightBudget(MAX_GOSSIP_MESSAGE_BYTES, MAX_GOSSIP_MESSAGE_BYTES)
    expect(() => { budget.release('a', 1) }).toThrow(/accounting broke/)
    expect(() => new InFlightBudget(MAX_GOSSIP_MESSAGE_BYTES - 1, 64 * MiB)).toThrow(RangeError)
    expect(() => new InFlightBudget(4 * MiB, 2 * MiB)).toThrow(RangeError)
  })
})

/** A gossipsub stand-in: the validator Gossip installs, and nothing else. */
function fakePubSub (): { topicValidators: Map<string, (peer: PeerId, m: Message) => Promise<TopicValidatorResult>>, [k: string]: unknown } {
  return { topicValidators: new Map(), addEventListener () {}, removeEventListener () {}, subscribe () {}, unsubscribe () {}, getSubscribers: () => [] }
}

describe('the gossip validator under a flood', () => {
  it('merges at most the in-flight bound of one peer at once and ignores the rest; others are still heard', async () => {
    const pubsub = fakePubSub()
    const gates: Array<() => void> = []
    const replica = {
      onChange: () => () => {},
      applyRemote: async (changes: unknown[]) => { await new Promise<void>(resolve => gates.push(resolve)); return { applied: changes.length, changed: changes.length, rejected: 0 } }
    }
    const gossip = new Gossip({ pubsub: pubsub as never, replica, logger: pino({ level: 'silent' }) }, { maxInFlightBytesPerPeer: 4 * MiB, maxInFlightBytes: 5 * MiB })
    gossip.start()
    const validate = [...pubsub.topicValidators.values()][0]
    if (validate === undefined) throw new Error('no validator installed')
    const message = (i: number): Message => ({ type: 'unsigned', topic: 't', data: encodeGossip([{ storeKey: `r/${i}`, state: new Uint8Array(MiB + 1000) }]) })
    const peer = (id: string): PeerId => ({ toString: () => id }) as PeerId

    const flood = Array.from({ length: 10 }, async (_, i) => await validate(peer('liar'), message(i)))
    const honest = validate(peer('honest'), message(100))
    const late = validate(peer('other'), message(101)) // all would pass 5 MiB
    // 3 of the liar's ~1 MiB messages fit its 4 MiB; the other 7 are ignored at once.
    expect(gates).toHaveLength(4)
    expect(gossip.stats.shed).toBe(8)
    expect(await late).toBe(TopicValidatorResult.Ignore)
    for (const open of gates.splice(0)) open()
    const results = await Promise.all(flood)
    expect(results.filter(r => r === TopicValidatorResult.Accept)).toHaveLength(3)
    expect(await honest).toBe(TopicValidatorResult.Accept)
    // Released: the liar is heard again.
    const again = validate(peer('liar'), message(200))
    gates.splice(0).forEach(open => { open() })
    await new Promise(resolve => setImmediate(resolve))
    gates.splice(0).forEach(open => { open() })
    expect(await again).toBe(TopicValidatorResult.Accept)
    gossip.stop()
  })
})
