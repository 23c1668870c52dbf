import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { EMPTY_REGISTER, writeRegister } from '../../src/causal/index.js'
import { encodeRegister } from '../../src/codec/index.js'
import { antiEntropyProtocol } from '../../src/constants.js'
import { bucketOf, FANOUT } from '../../src/merkle/index.js'
import { FrameType, LEAF_BYTES, NODE_BYTES, PROTOCOL_VERSION, type Frame } from '../../src/antientropy/wire.js'
import { allStates, puts, writeMany } from './helpers/data.js'
import { connect, createHost, createPeer, waitFor, type TestPeer } from './helpers/peers.js'
import { dialRaw, serveRaw, type RawIO } from './helpers/raw.js'

/** Random hashes with no zero window, so the honest side sees every node as differing. */
function lies (nodes: number): Uint8Array {
  const bytes = randomBytes(nodes * FANOUT * NODE_BYTES)
  for (let i = 0; i < bytes.length; i += NODE_BYTES) bytes[i] = (bytes[i] as number) | 1
  return bytes
}

function evilState (): Uint8Array {
  return encodeRegister(writeRegister(EMPTY_REGISTER, { node: 'Evi1', hlc: { wall: Date.now(), logical: 0 }, value: '"evil"' }))
}

function liarKey (accept: (bucket: number) => boolean): string {
  for (let i = 0; ; i++) {
    const key = `r/lie${i}`
    if (accept(bucketOf(key))) return key
  }
}

/** Buckets the honest side holds keys in (it never accepts streamed states there). */
const honestBuckets = new Set(Array.from({ length: 1000 }, (_, i) => bucketOf(`r/k${i}`)))

async function expectFrame<T extends Frame['type']> (io: RawIO, type: T): Promise<Extract<Frame, { type: T }>> {
  while (true) {
    const frame = await io.read()
    if (frame === undefined) throw new Error('stream ended')
    if (frame.type === FrameType.States) continue
    if (frame.type !== type) throw new Error(`expected frame ${type}, got ${frame.type}`)
    return frame as Extract<Frame, { type: T }>
  }
}

/** Lie consistently down to the buckets; returns the bucket the liar claims to differ in. */
async function descendToBuckets (io: RawIO): Promise<number> {
  await expectFrame(io, FrameType.Hello)
  await io.write({ type: FrameType.Nodes, level: 0, indices: [0], hashes: lies(1), pull: [] })
  const l1 = await expectFrame(io, FrameType.Nodes)
  const c2 = (l1.indices[0] as number) * FANOUT
  await io.write({ type: FrameType.Nodes, level: 2, indices: [c2], hashes: lies(1), pull: [] })
  const l3 = await expectFrame(io, FrameType.Nodes)
  // Claim a bucket the honest side holds keys in, as a real difference would be.
  for (let at = 0; at < l3.hashes.length; at += NODE_BYTES) {
    const bucket = (l3.indices[Math.floor(at / (FANOUT * NODE_BYTES))] as number) * FANOUT + (at / NODE_BYTES) % FANOUT
    if (honestBuckets.has(bucket)) return bucket
  }
  throw new Error('no non-empty bucket offered')
}

async function honestPair (): Promise<{ a: TestPeer, b: TestPeer }> {
  const a = await createPeer({ timeoutMs: 2000 })
  const b = await createPeer()
  await connect(a, b)
  await writeMany(a.replica, puts('k', 0, 1000))
  return { a, b }
}

/** The honest node survived: its data is unchanged, it serves and initiates honest exchanges. */
async function expectUnharmed (a: TestPeer, b: TestPeer, rootBefore: string): Promise<void> {
  expect(a.root()).toBe(rootBefore)
  expect([...(await allStates(a.replica)).keys()].some(k => k.startsWith('r/lie'))).toBe(false)
  await writeMany(b.replica, puts('later', 0, 5))
  const served = await b.ae.sync(a.id)
  expect(served.keysReceived).toBe(1000)
  expect(a.root()).toBe(b.root())
  const initiated = await a.ae.sync(b.id)
  expect(initiated.inSync).toBe(true)
}

describe('a lying peer is reset and cannot harm the honest node', () => {
  const responderLies: Array<[string, (io: RawIO) => Promise<void>]> = [
    ['garbage instead of a frame', async io => {
      await expectFrame(io, FrameType.Hello)
      await io.writeBytes(new Uint8Array([0xff, 0xfe, 0x00, 0x13, 0x37]))
    }],
    ['a frame of an unknown type', async io => {
      await expectFrame(io, FrameType.Hello)
      await io.writeBytes(new Uint8Array([0x82, 0x18, 0x63, 0x00]))
    }],
    ['descent that skips levels', async io => {
      await expectFrame(io, FrameType.Hello)
      await io.write({ type: FrameType.Nodes, level: 3, indices: [0], hashes: lies(1), pull: [] })
    }],
    ['nodes outside the differing subtrees', async io => {
      await expectFrame(io, FrameType.Hello)
      await io.write({ type: FrameType.Nodes, level: 0, indices: [0], hashes: lies(1), pull: [] })
      const l1 = await expectFrame(io, FrameType.Nodes)
      const outside = [...Array(16).keys()].find(i => !l1.indices.includes(i)) ?? 0
      await io.write({ type: FrameType.Nodes, level: 2, indices: [outside * FANOUT + 256 * 16], hashes: lies(1), pull: [] })
    }],
    ['hashes of the wrong length', async io => {
      await expectFrame(io, FrameType.Hello)
      await io.write({ type: FrameType.Nodes, level: 0, indices: [0], hashes: randomBytes(7), pull: [] })
    }],
    ['an endless leaf list that does not match its counts', async io => {
      const bucket = await descendToBuckets(io)
      await io.write({ type: FrameType.Entries, buckets: [bucket], counts: [1], leaves: randomBytes(LEAF_BYTES * 100_000), pull: [] })
    }],
    ['a state that does not hash to the leaf it advertised', async io => {
      const bucket = await descendToBuckets(io)
      await io.write({ type: FrameType.Entries, buckets: [bucket], counts: [1], leaves: randomBytes(LEAF_BYTES), pull: [] })
      await expectFrame(io, FrameType.Want)
      await io.write({ type: FrameType.States, states: [{ storeKey: liarKey(b => b === bucket), state: evilState() }] })
      await io.write({ type: FrameType.Done, level: 4, pull: [] })
    }],
    ['ENTRIES listing a bucket again in a later part (an endless conversation)', async io => {
      const bucket = await descendToBuckets(io)
      await io.write({ type: FrameType.Entries, buckets: [bucket], counts: [1], leaves: randomBytes(LEAF_BYTES), pull: [] })
      await expectFrame(io, FrameType.Want)
      await io.write({ type: FrameType.Entries, buckets: [bucket], counts: [1], leaves: randomBytes(LEAF_BYTES), pull: [] })
    }],
    ['a later ENTRIES part listing no bucket', async io => {
      const bucket = await descendToBuckets(io)
      await io.write({ type: FrameType.Entries, buckets: [bucket], counts: [1], leaves: randomBytes(LEAF_BYTES), pull: [] })
      await expectFrame(io, FrameType.Want)
      await io.write({ type: FrameType.Entries, buckets: [], counts: [], leaves: new Uint8Array(0), pull: [] })
    }],
    ['a state outside the differing buckets', async io => {
      const bucket = await descendToBuckets(io)
      await io.write({ type: FrameType.Entries, buckets: [bucket], counts: [1], leaves: randomBytes(LEAF_BYTES), pull: [] })
      await expectFrame(io, FrameType.Want)
      await io.write({ type: FrameType.States, states: [{ storeKey: liarKey(b => b !== bucket && honestBuckets.has(b)), state: evilState() }] })
    }],
    ['a state in parts that skips bytes', async io => {
      await expectFrame(io, FrameType.Hello)
      const storeKey = liarKey(b => !honestBuckets.has(b))
      await io.write({ type: FrameType.StatePart, storeKey, total: 100, offset: 0, bytes: randomBytes(10) })
      await io.write({ type: FrameType.StatePart, storeKey, total: 100, offset: 20, bytes: randomBytes(10) })
    }],
    ['a state in parts cut short by a control frame', async io => {
      await expectFrame(io, FrameType.Hello)
      await io.write({ type: FrameType.StatePart, storeKey: liarKey(b => !honestBuckets.has(b)), total: 100, offset: 0, bytes: randomBytes(10) })
      await io.write({ type: FrameType.Done, level: 0, pull: [] })
    }],
    ['a state in parts that does not start at 0', async io => {
      await expectFrame(io, FrameType.Hello)
      await io.write({ type: FrameType.StatePart, storeKey: liarKey(b => !honestBuckets.has(b)), total: 100, offset: 90, bytes: randomBytes(10) })
    }],
    ['endless pulls after the conversation ended', async io => {
      await expectFrame(io, FrameType.Hello)
      await io.write({ type: FrameType.Done, level: 0, pull: [0] })
      await expectFrame(io, FrameType.Done)
      await io.write({ type: FrameType.Done, level: 0, pull: [0] })
    }]
  ]

  for (const [name, script] of responderLies) {
    it(`initiator facing ${name}`, async () => {
      const { a, b } = await honestPair()
      const liar = await createHost()
      const runs = await serveRaw(liar, script)
      await connect(a, { libp2p: liar })
      const rootBefore = a.root()

      const failure = await a.ae.sync(liar.peerId.toString()).catch((err: unknown) => err)

      expect(failure).toMatchObject({ code: 'ERR_SYNC_FAILED' })
      expect((failure as Error).cause).toMatchObject({ code: 'ERR_PROTOCOL' })
      expect(runs).toHaveLength(1)
      expect(await runs[0]?.ending).toBe('reset')
      await expectUnharmed(a, b, rootBefore)
    })
  }

  it('initiator facing silence times out and resets', async () => {
    const { a, b } = await honestPair()
    const liar = await createHost()
    const runs = await serveRaw(liar, async io => { await expectFrame(io, FrameType.Hello) })
    await connect(a, { libp2p: liar })
    const rootBefore = a.root()
    const started = Date.now()

    await expect(a.ae.sync(liar.peerId.toString())).rejects.toMatchObject({ code: 'ERR_SYNC_FAILED' })

    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await runs[0]?.ending).toBe('reset')
    await expectUnharmed(a, b, rootBefore)
  })

  const initiatorLies: Array<[string, (io: RawIO) => Promise<void>]> = [
    ['garbage', async io => { await io.writeBytes(randomBytes(64)) }],
    ['states nobody asked for', async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
      await expectFrame(io, FrameType.Nodes)
      await io.write({ type: FrameType.States, states: [{ storeKey: 'r/lie0', state: evilState() }] })
    }],
    ['a wrong protocol version', async io => {
      await io.write({ type: FrameType.Hello, version: 99, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
    }],
    ['a want for leaves never offered', async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
      const l0 = await expectFrame(io, FrameType.Nodes)
      await io.write({ type: FrameType.Nodes, level: 1, indices: [0], hashes: lies(1), pull: [] })
      expect(l0.indices).toEqual([0])
      const l2 = await expectFrame(io, FrameType.Nodes)
      // A level-3 node under which the honest side holds keys, so it lists them rather than pulling.
      const node3 = [...honestBuckets].map(b => b >> 4).filter(n => l2.indices.includes(n >> 4)).sort((x, y) => x - y)[0] as number
      await io.write({ type: FrameType.Nodes, level: 3, indices: [node3], hashes: lies(1), pull: [] })
      await expectFrame(io, FrameType.Entries)
      await io.write({ type: FrameType.Want, leaves: randomBytes(LEAF_BYTES * 3) })
    }]
  ]

  for (const [name, script] of initiatorLies) {
    it(`responder facing ${name}`, async () => {
      const { a, b } = await honestPair()
      const liar = await createHost()
      const rootBefore = a.root()

      const ending = await dialRaw(liar, a.libp2p, script)

      expect(ending).toBe('reset')
      await expectUnharmed(a, b, rootBefore)
    })
  }

  it('regression: responder facing a state in parts before HELLO resets at the first part, buffering nothing', async () => {
    // Read deadlines of a minute: before the fix, the responder buffered every part (up to
    // 64 MiB) and reset only when the liar stopped sending for that long.
    const a = await createPeer({ timeoutMs: 60_000 })
    const liar = await createHost()
    const rootBefore = a.root()
    const ending = dialRaw(liar, a.libp2p, async io => {
      await io.write({ type: FrameType.StatePart, storeKey: 'r/lie', total: 64 * 1024 * 1024, offset: 0, bytes: randomBytes(1024 * 1024) })
      await io.read()
    })
    const deadline = new Promise(resolve => setTimeout(() => { resolve('no reset within 20 s') }, 20_000))
    expect(await Promise.race([ending, deadline])).toBe('reset')
    expect(a.root()).toBe(rootBefore)
  })

  it('regression: an initiator that resets the stream mid-exchange is an interruption on the responder (not an error of its own, not a violation)', async () => {
    const a = await createPeer({ timeoutMs: 60_000 })
    await writeMany(a.replica, puts('k', 0, 100))
    const liar = await createHost()
    await dialRaw(liar, a.libp2p, async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: new Uint8Array(16).fill(3), keys: 1, window: 0, fresh: 0 })
      await io.read()
      io.stream.abort(new Error('the initiator went away'))
    })
    const outcome = async (): Promise<string[]> => ((await a.metrics.getSingleMetric('chorus_ae_exchanges_total')?.get())?.values ?? [])
      .filter(v => v.value > 0).map(v => `${String(v.labels.role)} ${String(v.labels.outcome)}`)
    await waitFor(async () => (await outcome()).length > 0, 'the responder to end the exchange')
    expect(await outcome()).toEqual(['responder interrupted'])
  })

  it('responder facing silence times out and resets', async () => {
    const a = await createPeer({ timeoutMs: 300 })
    const liar = await createHost()
    const started = Date.now()

    const ending = await dialRaw(liar, a.libp2p, async io => {
      await io.write({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomBytes(16), keys: 1, window: 0, fresh: 0 })
      await expectFrame(io, FrameType.Done)
    })

    expect(ending).toBe('reset')
    expect(Date.now() - started).toBeLessThan(5_000)
    const text = await a.metrics.getSingleMetricAsString('chorus_ae_exchanges_total')
    expect(text).toContain('chorus_ae_exchanges_total{role="responder",outcome="interrupted"} 1')
  })

  it('a frame over the size limit is refused before it is buffered', async () => {
    const { a, b } = await honestPair()
    const liar = await createHost()
    const stream = await liar.dialProtocol(a.libp2p.getMultiaddrs()[0] as never, antiEntropyProtocol('default'))
    const rootBefore = a.root()
    // A length prefix announcing 64 MiB, then a trickle of bytes.
    const sink = stream.sink((async function * () { yield new Uint8Array([0x80, 0x80, 0x80, 0x20]); yield randomBytes(1024) })())
    const ending = await (async () => {
      try {
        for await (const _ of stream.source) {}
        return 'closed'
      } catch {
        return 'reset'
      }
    })()
    await sink.catch(() => {})

    expect(ending).toBe('reset')
    await expectUnharmed(a, b, rootBefore)
  })

  it('regression (hostile-peer kit): a length prefix past the limit, or one that never ends, is a violation on either side, not an error of ours', async () => {
    const a = await createPeer({ timeoutMs: 2000 })
    const liar = await createHost()
    const prefixes = [Uint8Array.of(0x80, 0x80, 0x80, 0x20), new Uint8Array(11).fill(0xff)]
    const count = async (role: string): Promise<string> => await a.metrics.getSingleMetricAsString('chorus_ae_exchanges_total').then(text => text.split('\n').filter(l => l.includes(`role="${role}"`)).join('\n'))
    // a as responder: the liar dials and sends only a bad prefix (and some bytes).
    for (const prefix of prefixes) {
      const stream = await liar.dialProtocol(a.libp2p.getMultiaddrs()[0] as never, antiEntropyProtocol('default'))
      void stream.sink((async function * () { yield prefix; yield randomBytes(64) })()).catch(() => {})
      try { for await (const _ of stream.source) {} } catch {}
    }
    await waitFor(async () => (await count('responder')).includes('outcome="violation"} 2'), 'two responder violations')
    expect(await count('responder')).toContain('outcome="error"} 0')
    // a as initiator: the liar answers HELLO with a bad prefix.
    let next = 0
    await liar.handle(antiEntropyProtocol('default'), ({ stream }) => {
      const prefix = prefixes[next++ % prefixes.length] as Uint8Array
      void stream.sink((async function * () { yield prefix; yield randomBytes(64) })()).catch(() => {})
    })
    await connect(a, { libp2p: liar })
    for (let i = 0; i < prefixes.length; i++) {
      const failure = await a.ae.sync(liar.peerId.toString()).catch((err: unknown) => err)
      expect(failure).toMatchObject({ code: 'ERR_SYNC_FAILED' })
      expect((failure as Error).cause).toMatchObject({ code: 'ERR_PROTOCOL' })
    }
    expect(await count('initiator')).toContain('outcome="violation"} 2')
  })

  it('regression (hostile-peer kit): an empty STATES frame, which no honest sender sends, is a violation (it kept a slot alive before HELLO)', async () => {
    const a = await createPeer({ timeoutMs: 5000 })
    const liar = await createHost()
    const ending = await dialRaw(liar, a.libp2p, async io => {
      await io.write({ type: FrameType.States, states: [] })
      await io.read()
    })
    expect(ending).toBe('reset')
    const text = await a.metrics.getSingleMetricAsString('chorus_ae_exchanges_total')
    expect(text).toContain('chorus_ae_exchanges_total{role="responder",outcome="violation"} 1')
  })
})
