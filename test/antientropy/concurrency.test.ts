import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { FrameType, PROTOCOL_VERSION } from '../../src/antientropy/wire.js'
import { puts, writeMany } from './helpers/data.js'
import { connect, createHost, createPeer, waitFor } from './helpers/peers.js'
import { dialRaw, serveRaw } from './helpers/raw.js'

describe('anti-entropy concurrency caps', () => {
  it('refuses inbound exchanges beyond maxInbound with BUSY, and serves again once a slot frees', async () => {
    const a = await createPeer({ maxInbound: 1, timeoutMs: 30_000 })
    const b = await createPeer()
    await connect(a, b)
    await writeMany(a.replica, puts('k', 0, 200))
    const holder = await createHost()
    let release!: () => void
    const released = new Promise<void>(resolve => { release = resolve })
    let held = false
    // Occupies a's only inbound slot: a answered HELLO and now waits for our next turn.
    const holding = dialRaw(holder, a.libp2p, async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
      await io.read()
      held = true
      await released
      await io.write({ type: FrameType.Done, level: 1, pull: [] })
    })
    await waitFor(() => held, 'the holder to occupy the slot')

    const refused = await b.ae.sync(a.id).catch((err: unknown) => err)
    expect(refused).toMatchObject({ code: 'ERR_SYNC_FAILED', data: { busy: true } })
    expect(b.replica.keyCount()).toBe(0)

    release()
    expect(await holding).toBe('closed')
    const report = await b.ae.sync(a.id)
    expect(report.keysReceived).toBe(200)
    expect(b.root()).toBe(a.root())
    const text = await a.metrics.getSingleMetricAsString('chorus_ae_exchanges_total')
    expect(text).toContain('chorus_ae_exchanges_total{role="responder",outcome="busy"} 1')
  })

  it('regression: one peer holds at most maxInboundPerPeer exchanges; its extra streams get BUSY and honest peers are still served', async () => {
    const a = await createPeer({ timeoutMs: 30_000 })
    const b = await createPeer()
    await connect(a, b)
    await writeMany(a.replica, puts('k', 0, 50))
    const hog = await createHost()
    let release!: () => void
    const released = new Promise<void>(resolve => { release = resolve })
    let held = false
    const holding = dialRaw(hog, a.libp2p, async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
      await io.read()
      held = true
      await released
      await io.write({ type: FrameType.Done, level: 1, pull: [] })
    })
    await waitFor(() => held, 'the hog to hold one exchange')
    // The global cap (4) has room, but not for a second exchange of the same peer.
    const answers: Array<number | undefined> = []
    const extra = await Promise.all([0, 1, 2].map(async () => await dialRaw(hog, a.libp2p, async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
      answers.push((await io.read())?.type)
    })))
    expect(answers).toEqual([FrameType.Busy, FrameType.Busy, FrameType.Busy])
    expect(extra).toEqual(['closed', 'closed', 'closed'])
    const report = await b.ae.sync(a.id)
    expect(report.keysReceived).toBe(50)
    release()
    expect(await holding).toBe('closed')
    const text = await a.metrics.getSingleMetricAsString('chorus_ae_exchanges_total')
    expect(text).toContain('chorus_ae_exchanges_total{role="responder",outcome="busy"} 3')
  })

  it('regression: members holding every inbound slot lose the longest-held one to a peer that asks after slotHoldMs', async () => {
    const a = await createPeer({ maxInbound: 2, slotHoldMs: 300, timeoutMs: 30_000 })
    const b = await createPeer()
    await connect(a, b)
    await writeMany(a.replica, puts('k', 0, 50))
    // Two colluding members, each trickling nothing but keeping its exchange alive.
    const holds: Array<Promise<string>> = []
    let held = 0
    for (let i = 0; i < 2; i++) {
      const hog = await createHost()
      holds.push(dialRaw(hog, a.libp2p, async io => {
        await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
        await io.read()
        held++
        await io.read() // never answered: only a reset ends it
      }))
    }
    await waitFor(() => held === 2, 'both slots to be held')
    await new Promise(resolve => setTimeout(resolve, 400)) // past slotHoldMs: the slots are now preemptable
    const report = await b.ae.sync(a.id)
    expect(report.keysReceived).toBe(50)
    expect(b.root()).toBe(a.root())
    // The longest holder was reset; the other still holds its slot.
    expect(await Promise.race([...holds.map(async h => await h), new Promise(resolve => setTimeout(() => { resolve('none') }, 5_000))])).toBe('reset')
    const text = await a.metrics.getSingleMetricAsString('chorus_ae_exchanges_total')
    expect(text).toContain('chorus_ae_exchanges_total{role="responder",outcome="interrupted"} 1')
    expect(text).toMatch(/outcome="busy"} 0$/m)
    expect(text).not.toMatch(/outcome="busy"} [1-9]/)
  })

  it('runs at most maxOutbound exchanges at once: concurrent sync() calls queue', async () => {
    const a = await createPeer({ maxOutbound: 1 })
    const server = await createHost()
    let open = 0
    let maxOpen = 0
    let release!: () => void
    const released = new Promise<void>(resolve => { release = resolve })
    const runs = await serveRaw(server, async io => {
      const hello = await io.read()
      if (hello?.type !== FrameType.Hello) throw new Error('expected HELLO')
      open++
      maxOpen = Math.max(maxOpen, open)
      await released
      open--
      // Pretend to be in sync: a bare DONE is the reply to equal roots.
      await io.write({ type: FrameType.Done, level: 0, pull: [] })
    })
    await connect(a, { libp2p: server })

    const syncs = [a.ae.sync(server.peerId.toString()), a.ae.sync(server.peerId.toString()), a.ae.sync(server.peerId.toString())]
    await waitFor(() => open === 1, 'the first exchange to start')
    release()
    const reports = await Promise.all(syncs)

    expect(reports.map(r => r.inSync)).toEqual([true, true, true])
    expect(runs).toHaveLength(3)
    expect(maxOpen).toBe(1)
    expect(await Promise.all(runs.map(async r => await r.ending))).toEqual(['closed', 'closed', 'closed'])
  })

  it('stop() ends exchanges in flight at once instead of waiting for their deadlines', async () => {
    const a = await createPeer({ timeoutMs: 30_000 })
    const holder = await createHost()
    let held = false
    const holding = dialRaw(holder, a.libp2p, async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
      await io.read()
      held = true
      await io.read()
    })
    await waitFor(() => held, 'an exchange in flight')
    const started = Date.now()

    await a.ae.stop()

    expect(Date.now() - started).toBeLessThan(2_000)
    expect(await holding).toBe('reset')
    await expect(a.ae.sync()).rejects.toMatchObject({ code: 'ERR_SYNC_FAILED' })
  })
})
