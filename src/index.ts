/**
 * Chorus as a library: a replicated key-value node inside your own process, and the typed
 * client of any node. docs/library.md describes every option, the lifecycle and the errors.
 *
 * @example
 * ```ts
 * import { createNode, ChorusClient } from 'chorus'
 *
 * const node = await createNode({ data: './my-app-data', rpc: '127.0.0.1:0', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
 * const client = new ChorusClient(node.rpcUrl)
 * await client.put('greeting', 'hello')
 * console.log((await client.get('greeting')).value) // hello
 * await node.stop()
 * ```
 */
export { createNode } from './start/index.js'
export type { CreateNodeOptions, EmbeddedNode, LocalNode } from './start/index.js'
export type { LogLevel } from './config.js'

export { ChorusClient } from './rpc/index.js'
export type { ChorusClientOptions, WatchCallbacks, WatchHandle, WatchOptions } from './rpc/index.js'

export {
  ChorusError, InvalidParamsError, InvalidContextError, AfterTimeoutError, NotReadyError, NoPeerError,
  SyncFailedError, LimitExceededError, CorruptDataError, DataDirError, ProtocolError, ExchangeInterruptedError,
  ConfigError, IdentityConflictError, StorageError, UnauthorizedError, HistoryGoneError,
  ReplicasTimeoutError
} from './errors.js'
export { SessionTimeoutError } from './errors.js'
export type { ChorusErrorOptions } from './errors.js'
export {
  ChorusRpcError,
  RPC_PARSE_ERROR, RPC_INVALID_REQUEST, RPC_METHOD_NOT_FOUND, RPC_INVALID_PARAMS, RPC_INTERNAL_ERROR, RPC_UNAUTHORIZED,
  ERR_PARSE, ERR_INVALID_REQUEST, ERR_METHOD_NOT_FOUND, ERR_INVALID_PARAMS, ERR_INTERNAL, ERR_UNAUTHORIZED,
  ERR_FORBIDDEN_HOST, ERR_BODY_TOO_LARGE, ERR_UNSUPPORTED_MEDIA_TYPE, ERR_CONNECTION, ERR_TIMEOUT
} from './rpc/index.js'

export type * from './node/api.js'
