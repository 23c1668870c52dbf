/**
 * The one way a node is started with its RPC server: `chorus start` and createNode() both call
 * launchNode(). It checks what only makes sense for both together (a token for a non-loopback
 * RPC address, with or without TLS; the TLS certificate and key), starts the node, then the server, records the URL in DATA/rpc.url, and stops
 * both in reverse order, once.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from '../errors.js'
import { createChorusNode, type ChorusNode } from '../node/index.js'
import { isLoopbackHost, startRpcServer, type RpcServer } from '../rpc/index.js'
import { splitHostPort } from './addresses.js'
import { toNodeInit, type OptionNaming, type StartOptions } from './options.js'
import { rpcTlsMaterial } from './rpc-tls.js'

/** The file in the data directory that holds the RPC URL (useful with port 0). */
export const RPC_URL_FILE = 'rpc.url'

export interface LaunchedNode {
  readonly node: ChorusNode
  /** The RPC base URL (`http://127.0.0.1:PORT`, `https://…` with TLS); undefined with `rpc: false`. */
  readonly rpcUrl: string | undefined
  /** The libp2p listen addresses, each ending in /p2p/<peerId> (what peers bootstrap to). */
  addrs: () => string[]
  /** Closes the RPC server, then stops the node. Idempotent: every call returns the same promise. */
  stop: () => Promise<void>
}

export async function launchNode (opts: StartOptions, name: OptionNaming): Promise<LaunchedNode> {
  const address = opts.rpc === false ? undefined : splitHostPort(opts.rpc)
  if (address !== undefined && !isLoopbackHost(address.host) && opts.rpcToken === undefined) {
    throw new ConfigError(`${name('rpc')} ${String(opts.rpc)} is not a loopback address: set ${name('rpcToken')} so that only clients with the token can use it`, { data: { option: 'rpcToken' } })
  }
  // Read and matched before the node starts: a wrong file costs nothing to report.
  const tls = rpcTlsMaterial(opts, name)
  const node = await createChorusNode(toNodeInit(opts, name))
  let rpc: RpcServer | undefined
  if (address !== undefined) {
    try {
      rpc = await startRpcServer({ api: node, ...address, ...(opts.rpcToken !== undefined ? { token: opts.rpcToken } : {}), ...(tls !== undefined ? { tls } : {}), logger: node.logger.child({ component: 'rpc' }) })
      node.setRpcUrl(rpc.url)
      await writeFile(join(opts.data, RPC_URL_FILE), rpc.url + '\n')
    } catch (err) {
      await rpc?.close()
      await node.stop()
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new ConfigError(`${name('rpc')} ${String(opts.rpc)}: address already in use`, { cause: err, data: { option: 'rpc' } })
      }
      throw err
    }
  }
  const server = rpc
  let stopping: Promise<void> | undefined
  return {
    node,
    rpcUrl: server?.url,
    addrs: () => node.multiaddrs().map(a => a.includes('/p2p/') ? a : `${a}/p2p/${node.peerId}`),
    stop: () => {
      stopping ??= (async () => {
        await server?.close()
        await node.stop()
      })()
      return stopping
    }
  }
}
