/**
 * cluster.members / cluster.forget / cluster.connect over JSON-RPC against real nodes: results
 * through the typed client, and -32602 naming the field for every bad parameter.
 */
import { describe, expect, it } from 'vitest'
import { MAX_MULTIADDR_LENGTH, MAX_PEER_ID_LENGTH } from '../../src/constants.js'
import { ChorusRpcError } from '../../src/rpc/index.js'
import { startRealNode, waitFor } from './helpers.js'

async function rpcError (p: Promise<unknown>): Promise<ChorusRpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ChorusRpcError)
  return err as ChorusRpcError
}

describe('membership over JSON-RPC', () => {
  it('connect, members and forget through the client', async () => {
    const a = await startRealNode()
    const b = await startRealNode()
    const addr = b.node.multiaddrs()[0] as string
    expect(await a.client.connect(addr)).toMatchObject({ peerId: b.node.peerId, connected: true })
    await waitFor('b as a member of a', async () => (await a.client.members()).some(m => m.peerId === b.node.peerId))
    await a.client.sync(b.node.peerId)
    const [m] = await a.client.members()
    expect(m).toMatchObject({ peerId: b.node.peerId, connected: true, lastSeenMs: 0, holdsGc: false })
    expect(await a.client.forget(b.node.peerId)).toEqual({ peerId: b.node.peerId, wasMember: true, disconnected: true })
    expect(await a.client.members()).toEqual([])
    const refused = await rpcError(a.client.connect(addr))
    expect(refused.code).toBe(-32020)
    expect(refused.data.code).toBe('ERR_PEER_REFUSED')
  })

  it('bad params give -32602 naming the field', async () => {
    const { client, node } = await startRealNode()
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['cluster.members', { x: 1 }, /^params\.x: is not a known parameter/],
      ['cluster.forget', {}, /^params\.peerId: is required/],
      ['cluster.forget', { peerId: 5 }, /^params\.peerId: must be a string/],
      ['cluster.forget', { peerId: '' }, /^params\.peerId: must not be empty/],
      ['cluster.forget', { peerId: 'x'.repeat(MAX_PEER_ID_LENGTH + 1) }, /^params\.peerId: is too big/],
      ['cluster.forget', { peerId: 'not-a-peer-id' }, /^params\.peerId: is not a peer id/],
      ['cluster.forget', { peerId: node.peerId }, /^params\.peerId: is this node itself/],
      ['cluster.connect', {}, /^params\.addr: is required/],
      ['cluster.connect', { addr: ['/ip4/127.0.0.1'] }, /^params\.addr: must be a string/],
      ['cluster.connect', { addr: '/ip4/127.0.0.1/tcp/1/p2p/' + 'x'.repeat(MAX_MULTIADDR_LENGTH) }, /^params\.addr: is too big/],
      ['cluster.connect', { addr: 'hello' }, /^params\.addr: is not a multiaddr/],
      ['cluster.connect', { addr: '/ip4/127.0.0.1/tcp/7071' }, /^params\.addr: must name the peer/],
      ['cluster.connect', { addr: '/ip4/127.0.0.1/tcp/7071', extra: true }, /params\.extra: is not a known parameter/]
    ]
    for (const [method, params, message] of cases) {
      const err = await rpcError(client.call(method, params))
      expect(err.code, `${method} ${JSON.stringify(params).slice(0, 80)}`).toBe(-32602)
      expect(err.message).toMatch(message)
      expect(err.data.field).toMatch(/^params\./)
    }
    // Nothing was refused or forgotten by the bad calls.
    expect(await client.members()).toEqual([])
  })
})
