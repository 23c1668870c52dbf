/**
 * Real nodes for the session tests: createChorusNode (temp data dir, 127.0.0.1, no mDNS),
 * its RPC server on port 0 and the real client; plus a partition tool that closes the libp2p
 * connections between two nodes (nothing redials them: no mDNS, no bootstrap) and heals by
 * dialling again.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { onTestFinished } from 'vitest'
import type { NodeInit } from '../../src/config.js'
import { createChorusNode, type ChorusNode } from '../../src/node/index.js'
import { ChorusClient, startRpcServer, type RpcServer } from '../../src/rpc/index.js'
import { tempDir, waitFor } from '../helpers/nodes.js'

export interface SessionNode {
  node: ChorusNode
  server: RpcServer
  client: ChorusClient
  dataDir: string
  url: string
  /** Stops node and server (idempotent). */
  stop: () => Promise<void>
}

export async function startSessionNode (init: NodeInit = {}): Promise<SessionNode> {
  const dataDir = init.dataDir ?? await tempDir('chorus-session-')
  const node = await createChorusNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent', aeIntervalMs: 60_000, ...init, dataDir })
  const server = await startRpcServer({ api: node, host: '127.0.0.1', port: 0 })
  node.setRpcUrl(server.url)
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => { await server.close(); await node.stop() })()
    await stopping
  }
  onTestFinished(stop)
  return { node, server, client: new ChorusClient(server.url), dataDir, url: server.url, stop }
}

export async function startSessionNodes (n: number, init: NodeInit = {}): Promise<SessionNode[]> {
  const nodes = await Promise.all(Array.from({ length: n }, async () => await startSessionNode(init)))
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) await connect(nodes[i] as SessionNode, nodes[j] as SessionNode)
  return nodes
}

type Hangable = { libp2p: { hangUp: (peer: ReturnType<typeof peerIdFromString>) => Promise<void> } }

/** Dials b from a and waits until both see the connection. */
export async function connect (a: SessionNode, b: SessionNode): Promise<void> {
  await a.node.dial(b.node.multiaddrs()[0] as string)
  await waitFor(async () => (await a.node.peers()).some(p => p.peerId === b.node.peerId && p.connected) &&
    (await b.node.peers()).some(p => p.peerId === a.node.peerId && p.connected), { what: 'connected' })
}

/** Closes every connection between a and b (both sides) and waits until neither sees the other. */
export async function partition (a: SessionNode, b: SessionNode): Promise<void> {
  // The node keeps its host private; a test reaches it to cut the link the way a network would.
  await (a.node as unknown as Hangable).libp2p.hangUp(peerIdFromString(b.node.peerId))
  await (b.node as unknown as Hangable).libp2p.hangUp(peerIdFromString(a.node.peerId))
  await waitFor(async () => !(await a.node.peers()).some(p => p.peerId === b.node.peerId && p.connected) &&
    !(await b.node.peers()).some(p => p.peerId === a.node.peerId && p.connected), { what: 'partitioned' })
}

/** The error a call failed with (fails the test if it succeeded). */
export async function failure (call: Promise<unknown>): Promise<{ code: number, data: Record<string, unknown>, message: string }> {
  try {
    await call
  } catch (err) {
    return err as { code: number, data: Record<string, unknown>, message: string }
  }
  throw new Error('the call succeeded; an error was expected')
}
