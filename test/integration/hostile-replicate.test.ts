/**
 * The replicate protocol against a peer that lies: a raw libp2p host opens replicate streams to
 * a real node and sends what no honest node sends. Each such stream is reset and penalised
 * (two violations ban the peer); the node keeps serving honest pushes.
 */
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { describe, expect, it } from 'vitest'
import { FramedStream } from '../../src/antientropy/framed-stream.js'
import { encodeCounter, encodeRegister } from '../../src/codec/index.js'
import { MAX_EVENT_COUNTER, MAX_REPLICATE_FRAME_BYTES, replicateProtocol } from '../../src/constants.js'
import type { ChorusNode } from '../../src/node/index.js'
import { decodeAck, encodePush } from '../../src/replication/index.js'
import { createHost } from '../antientropy/helpers/peers.js'
import { startNode, waitFor } from '../helpers/nodes.js'

async function metric (node: ChorusNode, name: string): Promise<number> {
  const line = (await node.metricsText()).split('\n').find(l => l.startsWith(`${name} `))
  return Number(line?.split(' ')[1] ?? NaN)
}

const violations = async (node: ChorusNode): Promise<number> => await metric(node, 'chorus_peer_penalties_total{offence="replicate-violation"}')

/** Writes `frames` (raw bytes, length-prefixed by the framer) then reads: 'reset' or the first reply. */
async function send (host: Libp2p, node: ChorusNode, frames: Uint8Array[]): Promise<'reset' | Uint8Array | undefined> {
  const stream = await host.dialProtocol(multiaddr(node.multiaddrs()[0] as string), replicateProtocol('default'))
  const fs = new FramedStream(stream, { maxFrameBytes: 2 * MAX_REPLICATE_FRAME_BYTES, timeoutMs: 20_000, signal: new AbortController().signal })
  try {
    for (const f of frames) await fs.write(f)
    return await fs.read()
  } catch {
    return 'reset'
  }
}

const poison = (writer: string): Uint8Array => encodeRegister({
  vv: { [writer]: MAX_EVENT_COUNTER + 1 },
  siblings: [{ node: writer, counter: MAX_EVENT_COUNTER + 1, hlc: { wall: Date.now(), logical: 0 }, value: '"x"' }]
})

describe('replicate protocol: hostile peers', () => {
  it('an honest push from any allowed peer is merged and acknowledged after its commit', async () => {
    const node = await startNode()
    const host = await createHost()
    const writer = host.peerId.toString()
    const state = encodeCounter({ [writer]: { p: 7, n: 0, ops: 1 } })
    const reply = await send(host, node, [encodePush([{ storeKey: 'c/honest', state }])])
    expect(reply).toBeInstanceOf(Uint8Array)
    expect(decodeAck(reply as Uint8Array)).toEqual({ applied: 1, rejected: 0 })
    expect((await node.counterGet('honest')).value).toBe(7)
    expect(await violations(node)).toBe(0)
  })

  it('garbage, a push of invalid states, and an oversized frame are each reset and penalised; two ban the peer', async () => {
    const node = await startNode()
    const first = await createHost()
    expect(await send(first, node, [new Uint8Array([0xff, 0xfe, 0xfd])])).toBe('reset')
    await waitFor(async () => await violations(node) === 1, { what: 'garbage to be penalised' })

    const second = await createHost()
    expect(await send(second, node, [encodePush([{ storeKey: 'r/poison', state: poison(second.peerId.toString()) }])])).toBe('reset')
    await waitFor(async () => await violations(node) === 2, { what: 'an all-invalid push to be penalised' })
    expect((await node.kvGet('poison')).found).toBe(false)

    // The frame's length prefix alone is past the limit: refused before it is buffered. The
    // same peer's second violation bans it.
    const big = lp.encode.single(new Uint8Array(MAX_REPLICATE_FRAME_BYTES + 1)).subarray()
    const stream = await first.dialProtocol(multiaddr(node.multiaddrs()[0] as string), replicateProtocol('default')).catch(() => undefined)
    if (stream !== undefined) {
      const fs = new FramedStream(stream, { maxFrameBytes: 2 * MAX_REPLICATE_FRAME_BYTES + 16, timeoutMs: 20_000, signal: new AbortController().signal })
      // Already length-prefixed above: send the raw bytes as the body of nothing else.
      stream.sink([big]).catch(() => {})
      await fs.read().catch(() => {})
    }
    await waitFor(async () => await violations(node) === 3, { what: 'the oversized frame to be penalised' })
    await waitFor(async () => await metric(node, 'chorus_peer_bans_total') === 1, { what: 'the peer with two violations to be banned' })
    expect(await metric(node, 'chorus_replicate_served_total{result="violation"}')).toBe(3)

    // The node still serves honest pushes.
    const honest = await createHost()
    const state = encodeCounter({ [honest.peerId.toString()]: { p: 1, n: 0, ops: 1 } })
    const reply = await send(honest, node, [encodePush([{ storeKey: 'c/after', state }])])
    expect(decodeAck(reply as Uint8Array)).toEqual({ applied: 1, rejected: 0 })
  })
})
