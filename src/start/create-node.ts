/**
 * createNode(): a node inside an application's own process (an offline-first app, an edge
 * service that wants its own local leader), started exactly as `chorus start` starts one.
 */
import { resolveCreateNodeOptions, type CreateNodeOptions } from './resolve.js'
import { camelName } from './options.js'
import type { ChorusApi, ChorusApiExtras } from '../node/api.js'

/** A running embedded node. */
export interface EmbeddedNode {
  /** The JSON-RPC base URL, e.g. `http://127.0.0.1:41234`: give it to `new ChorusClient(url)`. */
  readonly rpcUrl: string
  /** This node's libp2p peer id (kept in the data directory across restarts). */
  readonly peerId: string
  /** The libp2p addresses it listens on, each ending in /p2p/<peerId>: what other nodes `bootstrap` to. */
  readonly addrs: string[]
  /** The data directory. */
  readonly dataDir: string
  /**
   * The node's API in this process, without HTTP: the same methods, checks, errors (ChorusError
   * subclasses) and results as JSON-RPC (`kvPut`, `kvGet`, `counterIncr`, `info`, `sync`, `watch`, …).
   */
  readonly api: ChorusApi & ChorusApiExtras
  /** Closes the RPC server, leaves the mesh, flushes and closes LevelDB. Idempotent. */
  stop: () => Promise<void>
}

/** A node started with `rpc: false`: no HTTP server, only the in-process `api`. */
export interface LocalNode extends Omit<EmbeddedNode, 'rpcUrl'> {
  readonly rpcUrl: undefined
}

/**
 * Starts a node and (unless `rpc: false`) its JSON-RPC server; resolves once both are ready.
 * Throws ConfigError (`code` ERR_CONFIG, `data.option` the option) for an invalid option, and
 * DataDirError (ERR_DATA_DIR) when the data directory is in use by another node.
 */
export async function createNode (options: CreateNodeOptions & { rpc: false }): Promise<LocalNode>
export async function createNode (options?: CreateNodeOptions & { rpc?: string }): Promise<EmbeddedNode>
export async function createNode (options?: CreateNodeOptions): Promise<EmbeddedNode | LocalNode>
export async function createNode (options?: CreateNodeOptions): Promise<EmbeddedNode | LocalNode> {
  const opts = resolveCreateNodeOptions(options)
  // Loaded on first use: an app that imports only ChorusClient never loads libp2p or LevelDB.
  const { launchNode } = await import('./launch.js')
  const launched = await launchNode(opts, camelName)
  const { node } = launched
  return {
    rpcUrl: launched.rpcUrl,
    peerId: node.peerId,
    get addrs () { return launched.addrs() },
    dataDir: opts.data,
    api: node,
    stop: launched.stop
  } as EmbeddedNode | LocalNode
}

