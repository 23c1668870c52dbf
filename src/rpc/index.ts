/**
 * The RPC edge of a node: a transport-free JSON-RPC handler, the HTTP + WebSocket server, and
 * the typed client. It sees only the node's public interface (src/node/api.ts).
 */
export { createRpcHandler, serialiseReply } from './handler.js'
export type { RpcHandler, RpcHandlerInit, RpcContext, RpcReply, WatchSession } from './handler.js'
export { startRpcServer } from './http.js'
export type { RpcServer, RpcServerInit } from './http.js'
export { ChorusClient, baseUrl } from './client.js'
export type { ChorusClientOptions, WatchCallbacks, WatchHandle, WatchOptions } from './client.js'
export {
  ChorusRpcError,
  RPC_PARSE_ERROR, RPC_INVALID_REQUEST, RPC_METHOD_NOT_FOUND, RPC_INVALID_PARAMS, RPC_INTERNAL_ERROR, RPC_UNAUTHORIZED,
  ERR_PARSE, ERR_INVALID_REQUEST, ERR_METHOD_NOT_FOUND, ERR_INVALID_PARAMS, ERR_INTERNAL, ERR_UNAUTHORIZED,
  ERR_FORBIDDEN_HOST, ERR_BODY_TOO_LARGE, ERR_UNSUPPORTED_MEDIA_TYPE, ERR_CONNECTION, ERR_TIMEOUT
} from './errors.js'
export { methodSchemas, parseParams } from './schemas.js'
export type { MethodName, MethodParams } from './schemas.js'
export { isLoopbackHost } from './security.js'
export { DEFAULT_WS_MAX_BUFFERED_BYTES, MAX_WATCHES_PER_SOCKET } from './ws.js'
