/**
 * Real parts for the RPC tests: a node from createChorusNode (temp data dir, 127.0.0.1, no
 * mDNS, silent), its RPC server on port 0, and the real client — torn down when the test ends.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { createChorusNode } from '../../src/node/index.js'
import { ChorusClient, startRpcServer } from '../../src/rpc/index.js'
import type { ChorusNode } from '../../src/node/index.js'
import type { RpcServer, RpcServerInit } from '../../src/rpc/index.js'
import { waitFor as waitUntil } from '../helpers/nodes.js'

export interface RealNode {
  node: ChorusNode
  server: RpcServer
  client: ChorusClient
  dataDir: string
}

export async function startRealNode (opts: Partial<Omit<RpcServerInit, 'api' | 'host' | 'port'>> & { bootstrap?: string[] } = {}): Promise<RealNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-rpc-test-'))
  const { bootstrap, ...rpcOpts } = opts
  const node = await createChorusNode({
    dataDir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    logLevel: 'silent',
    aeIntervalMs: 500,
    ...(bootstrap !== undefined ? { bootstrap } : {})
  })
  let server: RpcServer | undefined
  onTestFinished(async () => {
    await server?.close()
    await node.stop()
    await rm(dataDir, { recursive: true, force: true })
  })
  server = await startRpcServer({ api: node, host: '127.0.0.1', port: 0, ...rpcOpts })
  node.setRpcUrl(server.url)
  const client = new ChorusClient(server.url, rpcOpts.token !== undefined ? { token: rpcOpts.token } : {})
  return { node, server, client, dataDir }
}

/** Polls `check` until it returns true, or fails after `ms` (the shared harness in test/helpers/nodes.ts). */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  await waitUntil(check, { what, timeoutMs: ms })
}
