import { describe, expect, it } from 'vitest'
import { puts, writeMany } from './helpers/data.js'
import { connect, createHost, createPeer, waitFor } from './helpers/peers.js'
import { dialRaw, serveRaw } from './helpers/raw.js'
import { FrameType, PROTOCOL_VERSION } from '../../src/antientropy/wire.js'
import { decodeCbor, encodeCbor } from '../../src/codec/index.js'
import { digestTopic } from '../../src/constants.js'

describe('anti-entropy scheduling and digests', () => {
  it('converges on its own every (jittered) interval with a random connected peer', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(async () => await createPeer({ schedule: true, intervalMs: 150, newPeerDelayMs: 60_000 })))
    if (a === undefined || b === undefined || c === undefined) throw new Error('unreachable')
    await writeMany(a.replica, puts('a', 0, 100))
    await writeMany(b.replica, puts('b', 0, 100))
    await writeMany(c.replica, puts('c', 0, 100))
    await connect(a, b)
    await connect(b, c)

    await waitFor(() => a.root() === b.root() && b.root() === c.root(), 'three nodes in a line to converge')
    expect(c.replica.keyCount()).toBe(300)
  })

  it('syncs shortly after a new peer is identified, without waiting for the interval', async () => {
    const a = await createPeer({ schedule: true, intervalMs: 600_000, newPeerDelayMs: 20 })
    const b = await createPeer({ schedule: true, intervalMs: 600_000, newPeerDelayMs: 20 })
    await writeMany(a.replica, puts('a', 0, 500))
    await writeMany(b.replica, puts('b', 0, 50))

    await connect(a, b)

    await waitFor(() => a.root() === b.root(), 'the new-peer exchange', 10_000)
    expect(a.replica.keyCount()).toBe(550)
  })

  it('does not start an exchange with a peer whose exchange with it is still running (that one repairs both ways)', async () => {
    const a = await createPeer({ schedule: true, intervalMs: 50, jitter: 0, newPeerDelayMs: 60_000, timeoutMs: 5_000 })
    await writeMany(a.replica, puts('a', 0, 10))
    const peer = await createHost()
    const dialledByA = await serveRaw(peer, async io => { await io.write({ type: FrameType.Busy }) })
    await connect({ libp2p: peer }, a)
    let stalled = false
    let release = (): void => {}
    const held = dialRaw(peer, a.libp2p, async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: new Uint8Array(16).fill(1), keys: 1, window: 0, fresh: 0 })
      await io.read() // a's first answer: a is now serving us, and waits for our next turn
      stalled = true
      await new Promise<void>(resolve => { release = resolve })
    })
    await waitFor(() => stalled, 'a to serve the held exchange')
    // a may have dialled before it read our HELLO (a round is due every 50 ms, and a loaded
    // machine can take longer than that to deliver it): only dials from here on count.
    const dialsBefore = dialledByA.length
    await new Promise(resolve => setTimeout(resolve, 1_500)) // some 30 of a's scheduled rounds
    expect(dialledByA).toHaveLength(dialsBefore)
    release()
    await held
    await waitFor(() => dialledByA.length > dialsBefore, 'a to dial the peer once its exchange ended')
  })

  it('two nodes that start an exchange with each other at once run one of them: the higher id gives way', async () => {
    const a = await createPeer({ schedule: true, intervalMs: 600_000, newPeerDelayMs: 20 })
    const b = await createPeer({ schedule: true, intervalMs: 600_000, newPeerDelayMs: 20 })
    await writeMany(a.replica, puts('a', 0, 5000))
    await writeMany(b.replica, puts('b', 0, 5000))

    await connect(a, b)

    await waitFor(() => a.root() === b.root(), 'the new-peer exchanges', 20_000)
    const outcomes = async (peer: typeof a): Promise<string[]> => (await peer.metrics.getSingleMetric('chorus_ae_exchanges_total')?.get())?.values.filter(v => v.value > 0).map(v => `${String(v.labels.role)} ${String(v.labels.outcome)} ${v.value}`) ?? []
    const keys = async (peer: typeof a): Promise<number> => (await peer.metrics.getSingleMetric('chorus_ae_keys_total')?.get())?.values.find(v => v.labels.direction === 'sent')?.value ?? 0
    // Each key crossed once: 5,000 each way (an exchange that gave way counts nothing).
    expect((await keys(a)) + (await keys(b)), `${(await outcomes(a)).join(', ')} / ${(await outcomes(b)).join(', ')}`).toBe(10_000)
  })

  it('announces digests on the cluster topic and records the peers\' announcements', async () => {
    const init = { pubsub: true, clusterName: 'digest-test', announceCheckMs: 50, announceIntervalMs: 60_000 }
    const a = await createPeer(init)
    const b = await createPeer(init)
    await connect(a, b)

    await waitFor(() => a.ae.peerDigests().get(b.id)?.digest === b.root(), 'b\'s first announcement')
    await writeMany(b.replica, puts('k', 0, 10))
    await waitFor(() => a.ae.peerDigests().get(b.id)?.digest === b.root(), 'the announcement of b\'s changed root')

    expect(a.ae.peerDigests().get(b.id)?.keys).toBe(10)
    expect(b.ae.peerDigests().get(a.id)?.digest).toBe(a.root())
  })
  it('regression: announcements naming a peer that is not on the topic with us are ignored; a peer that leaves is dropped', async () => {
    const init = { pubsub: true, clusterName: 'digest-liar', announceCheckMs: 50, announceIntervalMs: 60_000 }
    const a = await createPeer(init)
    const liar = await createPeer(init)
    await connect(a, liar)
    await waitFor(() => a.ae.peerDigests().has(liar.id), 'the liar\'s own announcement')
    const pubsub = liar.libp2p.services.pubsub as unknown as { publish: (t: string, d: Uint8Array) => Promise<unknown> }
    const invented = Array.from({ length: 50 }, (_, i) => `12D3KooWInvented${i}`)
    for (const [i, peer] of invented.entries()) await pubsub.publish(digestTopic('digest-liar'), encodeCbor([new Uint8Array(16), 1, peer, Date.now() + i]))
    // A marker the liar sends under its own id after the lies: once it is seen, the lies were too.
    await pubsub.publish(digestTopic('digest-liar'), encodeCbor([new Uint8Array(16).fill(7), 424242, liar.id, Date.now() + 999]))
    await waitFor(() => a.ae.peerDigests().get(liar.id)?.keys === 424242, 'the marker')
    expect([...a.ae.peerDigests().keys()]).toEqual([liar.id])
    await liar.libp2p.stop()
    await waitFor(() => !a.ae.peerDigests().has(liar.id), 'the departed peer\'s entry to go')
  })

  it('regression: an announcement travels one hop: a neighbour keeps it, and one relayed from farther away is neither kept nor relayed again', async () => {
    // a — b — c in a line: a's announcements reach b, which keeps them; b's mesh relays them to
    // c, which must drop them. Relayed cluster-wide, announcements cost every node in proportion
    // to the cluster's size.
    const init = { pubsub: true, clusterName: 'digest-hop', announceCheckMs: 50, announceIntervalMs: 60_000 }
    const a = await createPeer(init)
    const b = await createPeer(init)
    const c = await createPeer(init)
    const namingA: string[] = []
    const cPubsub = c.libp2p.services.pubsub as unknown as { addEventListener: (e: string, l: (evt: CustomEvent<{ topic: string, data: Uint8Array }>) => void) => void }
    cPubsub.addEventListener('message', (evt) => {
      if (evt.detail.topic !== digestTopic('digest-hop')) return
      const raw = decodeCbor(evt.detail.data, 'test') as unknown[]
      if (raw[2] === a.id) namingA.push(String(raw[2]))
    })
    await connect(a, b)
    await connect(b, c)
    await waitFor(() => b.ae.peerDigests().has(a.id) && c.ae.peerDigests().has(b.id), 'the neighbours\' announcements')
    for (let i = 0; i < 5; i++) {
      await writeMany(a.replica, puts(`hop${i}-`, 0, 1))
      await waitFor(() => b.ae.peerDigests().get(a.id)?.digest === a.root(), `b to see a's root ${i}`)
    }
    // b relays a's announcements to c (b accepted them); c saw them arrive and accepted none.
    expect(namingA).toEqual([])
    expect(c.ae.peerDigests().has(a.id)).toBe(false)
  })

  it('regression: a member cannot announce a digest in the name of another connected peer', async () => {
    const init = { pubsub: true, clusterName: 'digest-forger', announceCheckMs: 50, announceIntervalMs: 60_000 }
    const a = await createPeer(init)
    const c = await createPeer(init)
    const liar = await createPeer(init)
    await connect(a, c)
    await connect(a, liar)
    await waitFor(() => a.ae.peerDigests().has(c.id) && a.ae.peerDigests().has(liar.id), 'both announcements')
    const pubsub = liar.libp2p.services.pubsub as unknown as { publish: (t: string, d: Uint8Array) => Promise<unknown> }
    await pubsub.publish(digestTopic('digest-forger'), encodeCbor([new Uint8Array(16).fill(9), 31337, c.id, Date.now() + 1]))
    await pubsub.publish(digestTopic('digest-forger'), encodeCbor([new Uint8Array(16).fill(7), 424242, liar.id, Date.now() + 2]))
    await waitFor(() => a.ae.peerDigests().get(liar.id)?.keys === 424242, 'the liar\'s marker')
    expect(a.ae.peerDigests().get(c.id)?.digest).toBe(c.root())
    expect(a.ae.peerDigests().get(c.id)?.keys).not.toBe(31337)
  })
})
