/**
 * Fresh changes (docs/protocol.md): a scheduled exchange leaves to gossip the keys whose run of
 * changes began within the fresh window, with a peer connected for longer than twice the window.
 * These peers have no gossip at all, so anything that arrives came by anti-entropy: what is left
 * out must still arrive once it is no longer fresh, and an explicit sync must send everything.
 */
import { describe, expect, it } from 'vitest'
import type { LocalOp } from '../../src/replica/index.js'
import { puts, writeMany } from './helpers/data.js'
import { connect, createPeer, waitFor, type TestPeer } from './helpers/peers.js'

/**
 * Long enough that, however loaded the machine, some exchange (every 40 ms) starts while the
 * keys just written are still fresh.
 */
const FRESH_MS = 1_500

async function counter (peer: TestPeer, name: string): Promise<number> {
  const metric = await peer.metrics.getSingleMetric(name)?.get()
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0)
}

/** Until every connection between a and b is older than the fresh window twice over. */
async function connectedLongEnough (a: TestPeer, b: TestPeer): Promise<void> {
  await waitFor(() => a.libp2p.getConnections(b.libp2p.peerId).some(c => Date.now() - c.timeline.open > 2 * FRESH_MS + 50) &&
    b.libp2p.getConnections(a.libp2p.peerId).some(c => Date.now() - c.timeline.open > 2 * FRESH_MS + 50), 'an old enough connection')
}

describe('anti-entropy leaves fresh changes to gossip', () => {
  it('scheduled exchanges leave fresh keys out, send them once they are no longer fresh, and count the peer synced only up to the fresh window', async () => {
    const synced: Array<{ startedAtMs: number, recordedAtMs: number }> = []
    const a = await createPeer({ schedule: true, intervalMs: 40, jitter: 0, newPeerDelayMs: 60_000, freshMs: FRESH_MS, onExchangeComplete: (_peer, at) => { synced.push({ startedAtMs: Date.now(), recordedAtMs: at }) } })
    const b = await createPeer({ freshMs: FRESH_MS })
    await connect(a, b)
    await connectedLongEnough(a, b)
    await waitFor(() => synced.length > 0, 'a first scheduled exchange')
    const before = synced.length

    await writeMany(a.replica, puts('fresh', 0, 50))
    await waitFor(() => a.root() === b.root(), 'b to get the keys once they are no longer fresh')

    expect(b.replica.keyCount()).toBe(50)
    expect(await counter(a, 'chorus_ae_keys_left_to_gossip_total')).toBeGreaterThan(0)
    // An exchange that left keys out records the peer as synced from before the fresh window
    // (tombstone GC counts from there), not from its own start.
    const later = synced.slice(before)
    expect(later.some(s => s.startedAtMs - s.recordedAtMs >= FRESH_MS)).toBe(true)
  })

  it('a key written without pause still reaches the peer while the writes go on', async () => {
    const a = await createPeer({ schedule: true, intervalMs: 40, jitter: 0, newPeerDelayMs: 60_000, freshMs: FRESH_MS })
    const b = await createPeer({ freshMs: FRESH_MS })
    await connect(a, b)
    await connectedLongEnough(a, b)
    let writing = true
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        const op: LocalOp = { kind: 'counter.incr', key: 'hot', by: 1 }
        await a.replica.applyLocal([op])
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    })()
    try {
      // Every change of `hot` is fresh when it is made; its run is not, once older than the window.
      await waitFor(async () => Object.keys(await b.replica.read('counter', 'hot')).length > 0, 'the hot key on b while it is still being written')
    } finally {
      writing = false
      await writes
    }
    await waitFor(() => a.root() === b.root(), 'agreement once the writes stop')
  })

  it('fresh keys are left out by the responder too', async () => {
    const a = await createPeer({ schedule: true, intervalMs: 40, jitter: 0, newPeerDelayMs: 60_000, freshMs: FRESH_MS })
    const b = await createPeer({ freshMs: FRESH_MS })
    await connect(a, b)
    await connectedLongEnough(a, b)
    await writeMany(b.replica, puts('onB', 0, 40))
    await waitFor(() => a.root() === b.root(), 'a to get b\'s keys once they are no longer fresh')
    expect(await counter(b, 'chorus_ae_keys_left_to_gossip_total')).toBeGreaterThan(0)
  })

  it('an explicit sync sends everything, fresh or not', async () => {
    const a = await createPeer({ freshMs: FRESH_MS })
    const b = await createPeer({ freshMs: FRESH_MS })
    await connect(a, b)
    await connectedLongEnough(a, b)
    await writeMany(a.replica, puts('x', 0, 30))
    await writeMany(b.replica, puts('y', 0, 20))

    const report = await a.ae.sync(b.id)

    expect(a.root()).toBe(b.root())
    expect(report.keysSent).toBe(30)
    expect(report.keysReceived).toBe(20)
    expect(await counter(a, 'chorus_ae_keys_left_to_gossip_total')).toBe(0)
  })

  it('over a connection younger than the window nothing is left out: gossip may not have reached the peer', async () => {
    const a = await createPeer({ schedule: true, intervalMs: 30_000, jitter: 0, newPeerDelayMs: 10, freshMs: 60_000 })
    const b = await createPeer({ freshMs: 60_000 })
    await writeMany(a.replica, puts('p', 0, 25))
    await writeMany(b.replica, puts('q', 0, 25))
    await connect(a, b)
    // The new-peer exchange, well inside a minute-long fresh window of keys written just now.
    await waitFor(() => a.root() === b.root(), 'the new-peer exchange to repair both ways')
    expect(await counter(a, 'chorus_ae_keys_left_to_gossip_total')).toBe(0)
    expect(await counter(b, 'chorus_ae_keys_left_to_gossip_total')).toBe(0)
  })
})
