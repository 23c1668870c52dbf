/**
 * Peer accountability with real nodes: a member that keeps sending what no honest build sends
 * — gossip messages whose every state is invalid, anti-entropy frames that break the protocol
 * — is disconnected and then refused, while the honest nodes go on converging.
 */
import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { encodeRegister } from '../../src/codec/index.js'
import { digestTopic, MAX_EVENT_COUNTER, MAX_IHAVE_IDS_PER_TOPIC } from '../../src/constants.js'
import { encodeGossip } from '../../src/gossip/message.js'
import { createHost } from '../antientropy/helpers/peers.js'
import { dialRaw } from '../antientropy/helpers/raw.js'
import { connectGossipLiar, type LiarPubSub } from '../helpers/gossip-liar.js'
import { connectAll, startNodes, waitConverged, waitFor } from '../helpers/nodes.js'
import type { ChorusNode } from '../../src/node/index.js'

const metric = async (node: ChorusNode, name: string): Promise<number> => {
  const line = (await node.metricsText()).split('\n').find(l => l.startsWith(`${name} `))
  return Number(line?.split(' ')[1] ?? NaN)
}

async function connected (node: ChorusNode, peer: string): Promise<boolean> {
  return (await node.peers()).some(p => p.peerId === peer && p.connected)
}

async function dialFails (host: Awaited<ReturnType<typeof createHost>>, node: ChorusNode): Promise<boolean> {
  try {
    await host.dial(multiaddr(node.multiaddrs()[0] as string), { signal: AbortSignal.timeout(5_000) })
    // The TCP socket may be accepted and dropped during the upgrade: judge by the node's view.
    return !(await connected(node, host.peerId.toString()))
  } catch {
    return true
  }
}

/** An RPC advertising `perTopic` invented message ids on each of `topics`: ids nobody can deliver. */
function ihaveRpc (topics: string[], perTopic: number): unknown {
  const ihave = topics.map(topicID => ({ topicID, messageIDs: Array.from({ length: perTopic }, () => randomBytes(32)) }))
  return { subscriptions: [], messages: [], control: { ihave, iwant: [], graft: [], prune: [], idontwant: [] } }
}

/** Sends IHAVE frames every `everyMs` until `stop()` says so or the node hangs up; resolves to the frames sent. */
async function advertise (pubsub: LiarPubSub, node: ChorusNode, rpc: () => unknown, everyMs: number, stop: (framesSent: number) => boolean): Promise<number> {
  let frames = 0
  while (!stop(frames) && pubsub.sendRpc(node.peerId, rpc())) {
    frames++
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  return frames
}

describe('peer bans', () => {
  it('a member publishing invalid gossip is disconnected and refused; the honest nodes converge', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('two nodes')
    await connectAll([a, b])
    const { liar, pubsub, topic } = await connectGossipLiar(a)

    const poison = (i: number): Uint8Array => encodeGossip([{
      storeKey: `r/poison${i}`,
      state: encodeRegister({ vv: { [liar.peerId.toString()]: MAX_EVENT_COUNTER + 1 }, siblings: [{ node: liar.peerId.toString(), counter: MAX_EVENT_COUNTER + 1, hlc: { wall: Date.now(), logical: 0 }, value: '"x"' }] })
    }])
    for (let i = 0; i < 6; i++) await pubsub.publish(topic, poison(i)).catch(() => {})
    await waitFor(async () => !(await connected(a, liar.peerId.toString())), { what: 'a to hang up on the liar', timeoutMs: 10_000 })
    expect(await metric(a, 'chorus_peer_bans_total')).toBe(1)
    expect(await metric(a, 'chorus_peers_banned')).toBe(1)
    expect(await dialFails(liar, a)).toBe(true)

    await a.kvPut('after-ban', 1)
    await waitFor(async () => (await b.kvGet('after-ban')).found, { what: 'honest gossip to flow on' })
    await waitConverged([a, b])
    for (const node of [a, b]) expect((await node.kvGet('poison0')).found).toBe(false)
    await liar.stop()
  })

  it('a member breaking the anti-entropy protocol twice is banned; a timeout costs nothing', async () => {
    const [a] = await startNodes(1)
    if (a === undefined) throw new Error('a node')
    const liar = await createHost()
    const garbage = async (io: { writeBytes: (b: Uint8Array) => Promise<void> }): Promise<void> => {
      await io.writeBytes(new Uint8Array([0xff, 0xfe, 0xfd]))
      await new Promise(resolve => setTimeout(resolve, 2_000))
    }
    const fakePeer = { getMultiaddrs: () => [multiaddr(a.multiaddrs()[0] as string)] }
    expect(await dialRaw(liar, fakePeer as never, garbage)).toBe('reset')
    expect(await metric(a, 'chorus_peer_bans_total')).toBe(0)
    await dialRaw(liar, fakePeer as never, garbage).catch(() => 'failed')
    await waitFor(async () => await metric(a, 'chorus_peer_bans_total') === 1, { what: 'the second violation to ban the liar' })
    await waitFor(async () => !(await connected(a, liar.peerId.toString())), { what: 'a to hang up on the liar' })
    expect(await dialFails(liar, a)).toBe(true)
    await liar.stop()
  })

  it('a member advertising gossip it never delivers, faster or bigger than any honest router, is banned; the honest nodes converge', async () => {
    // A burst allowance of 2 heartbeats instead of 30, so the rate case's three windows take seconds.
    const [a, b] = await startNodes(2, { gossipBurstHeartbeats: 2 })
    if (a === undefined || b === undefined) throw new Error('two nodes')
    await connectAll([a, b])
    const topics = (t: string): string[] => [t, digestTopic('default')]

    // 80,000 ids in one frame: more than one heartbeat of gossip on two topics (10,000).
    const big = await connectGossipLiar(a)
    expect(big.pubsub.sendRpc(a.peerId, ihaveRpc(topics(big.topic), 40_000))).toBe(true)
    await waitFor(async () => !(await connected(a, big.liar.peerId.toString())), { what: 'a to hang up on the 80,000-id frame', timeoutMs: 10_000 })
    expect(await dialFails(big.liar, a)).toBe(true)

    // 5,000 IHAVE entries without an id: nothing to count, but no honest router sends them.
    const empty = await connectGossipLiar(a)
    const entries = Array.from({ length: 5000 }, () => ({ topicID: empty.topic, messageIDs: [] }))
    expect(empty.pubsub.sendRpc(a.peerId, { subscriptions: [], messages: [], control: { ihave: entries, iwant: [], graft: [], prune: [], idontwant: [] } })).toBe(true)
    await waitFor(async () => !(await connected(a, empty.liar.peerId.toString())), { what: 'a to hang up on 5,000 empty IHAVE entries', timeoutMs: 10_000 })

    // Frames an honest router could send, 20 times a second: past the burst allowance in a
    // fraction of a second, then dropped; penalised once per window, banned in the third.
    const fast = await connectGossipLiar(a)
    let hungUp = false
    const floodStarted = Date.now()
    const flooding = advertise(fast.pubsub, a, () => ihaveRpc(topics(fast.topic), MAX_IHAVE_IDS_PER_TOPIC), 50, () => hungUp)
    await waitFor(async () => !(await connected(a, fast.liar.peerId.toString())), { what: 'a to hang up on the IHAVE flood', timeoutMs: 30_000 })
    hungUp = true
    // The third penalty comes two 2-second windows after the first, at the earliest.
    expect(Date.now() - floodStarted).toBeGreaterThanOrEqual(4000)
    expect(await flooding).toBeGreaterThan(3)
    expect(await dialFails(fast.liar, a)).toBe(true)

    expect(await metric(a, 'chorus_peer_bans_total')).toBe(3)
    expect(await metric(a, 'chorus_peer_penalties_total{offence="gossip-flood"}')).toBe(2)
    expect(await metric(a, 'chorus_peer_penalties_total{offence="gossip-rate"}')).toBe(3)
    await a.kvPut('after-flood', 1)
    await waitFor(async () => (await b.kvGet('after-flood')).found, { what: 'honest gossip to flow on' })
    await waitConverged([a, b])
    await big.liar.stop()
    await fast.liar.stop()
  })

  it('a member advertising at an honest router\'s rate what it never delivers stays connected: an honest node under a one-way partition looks the same', async () => {
    const [a] = await startNodes(1)
    if (a === undefined) throw new Error('a node')
    const { liar, pubsub, topic } = await connectGossipLiar(a)
    // One heartbeat's worth a second for longer than a promise lasts (3 s): the promises break,
    // as an honest node's do under a one-way partition.
    const started = Date.now()
    // Eight frames and eight seconds, whichever comes later (timers slip on a loaded machine).
    const frames = await advertise(pubsub, a, () => ihaveRpc([topic, digestTopic('default')], MAX_IHAVE_IDS_PER_TOPIC), 1_000, sent => sent >= 8 && Date.now() - started > 8_000)
    expect(frames).toBeGreaterThanOrEqual(8)
    expect(await connected(a, liar.peerId.toString())).toBe(true)
    expect(await metric(a, 'chorus_peer_penalties_total{offence="gossip-flood"}')).toBe(0)
    expect(await metric(a, 'chorus_peer_bans_total')).toBe(0)
    await liar.stop()
  })
})
