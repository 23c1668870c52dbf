/**
 * A write published when no subscriber could take it (every one scored below gossipsub's
 * publish threshold) is kept and published again when a peer subscribes. gossipsub had already
 * seen its bytes, so publishing them again failed as a duplicate (found in the fault harness's
 * logs: 13,097 "PublishError.Duplicate" warnings over 200 seeds); the message now goes out
 * re-tagged. Real nodes; a plain gossipsub host plays the subscriber that scored low.
 */
import { describe, expect, it } from 'vitest'
import { connectGossipLiar } from '../helpers/gossip-liar.js'
import type { ChorusNode } from '../../src/node/index.js'
import { startNodes, waitFor } from '../helpers/nodes.js'

const metric = async (node: { metricsText: () => Promise<string> }, name: string): Promise<number> => {
  const line = (await node.metricsText()).split('\n').find(l => l.startsWith(`${name} `))
  return Number(line?.split(' ')[1] ?? NaN)
}

/** a's gossipsub score of `peer`, as its publish sees it. */
function gossipScore (node: ChorusNode, peer: string): number {
  const pubsub = (node as unknown as { libp2p: { services: { pubsub: { score: { score: (id: string) => number } } } } }).libp2p.services.pubsub
  return pubsub.score.score(peer)
}

describe('gossip kept for a later subscriber', () => {
  it('regression: a message gossipsub already saw is published again, re-tagged, when a peer subscribes', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('two nodes')
    // The only subscriber a knows scores -90 (3 malformed messages): below the publish threshold (-50).
    const { liar, pubsub, topic } = await connectGossipLiar(a)
    for (let i = 0; i < 3; i++) await pubsub.publish(topic, new Uint8Array([0xff, i]))
    await waitFor(async () => await metric(a, 'chorus_gossip_invalid_total') === 3, { what: 'a to reject the 3 messages' })
    // gossipsub caches a score for a second; the publish below must see the new one.
    await waitFor(() => gossipScore(a, liar.peerId.toString()) < -50, { what: 'the liar\'s score on a to fall below the publish threshold' })

    await a.kvPut('kept', 'for b')
    await b.dial(a.multiaddrs()[0] as string)
    // b hears of the write by gossip, not only by the anti-entropy that runs on connect.
    await waitFor(async () => await metric(b, 'chorus_gossip_received_total') >= 1, { what: 'b to receive the kept message by gossip' })
    await waitFor(async () => (await b.kvGet('kept')).value === 'for b', { what: 'the write merged on b' })
    expect(await metric(a, 'chorus_gossip_republished_total')).toBe(1)
  })
})
