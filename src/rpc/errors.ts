/**
 * JSON-RPC error codes and their stable string codes, plus the client-side error class.
 *
 * Every error response Chorus sends carries `error.data.code`, a stable string: the
 * ChorusError subclasses' `code` (src/errors.ts) or one of the transport codes below.
 * docs/errors.md lists them all.
 */
import { ChorusError } from '../errors.js'
import type { JSONRPCError, JSONRPCErrorResponse, JSONRPCID } from 'json-rpc-2.0'

/** Standard JSON-RPC 2.0 codes. */
export const RPC_PARSE_ERROR = -32700
export const RPC_INVALID_REQUEST = -32600
export const RPC_METHOD_NOT_FOUND = -32601
export const RPC_INVALID_PARAMS = -32602
export const RPC_INTERNAL_ERROR = -32603
/** UnauthorizedError's code: missing or wrong token, or a refused Host/Origin. */
export const RPC_UNAUTHORIZED = -32007

/** Stable string codes for errors raised by the RPC layer itself (not by the node). */
export const ERR_PARSE = 'ERR_PARSE'
export const ERR_INVALID_REQUEST = 'ERR_INVALID_REQUEST'
export const ERR_METHOD_NOT_FOUND = 'ERR_METHOD_NOT_FOUND'
export const ERR_INVALID_PARAMS = 'ERR_INVALID_PARAMS'
export const ERR_INTERNAL = 'ERR_INTERNAL'
export const ERR_UNAUTHORIZED = 'ERR_UNAUTHORIZED'
export const ERR_FORBIDDEN_HOST = 'ERR_FORBIDDEN_HOST'
export const ERR_BODY_TOO_LARGE = 'ERR_BODY_TOO_LARGE'
export const ERR_UNSUPPORTED_MEDIA_TYPE = 'ERR_UNSUPPORTED_MEDIA_TYPE'
/** Client side: the server could not be reached or answered something that is not JSON-RPC. */
export const ERR_CONNECTION = 'ERR_CONNECTION'
/** Client side: the node did not answer within the client's `timeoutMs` (the call may have been applied). */
export const ERR_TIMEOUT = 'ERR_TIMEOUT'

export function errorResponse (id: JSONRPCID, code: number, message: string, stringCode: string, extra?: Record<string, unknown>): JSONRPCErrorResponse {
  return { jsonrpc: '2.0', id, error: { code, message, data: { ...extra, code: stringCode } } }
}

/**
 * Error thrown by ChorusClient for every failed call: `code` is the JSON-RPC code (a number),
 * `data.code` the stable string code, `message` the server's message.
 */
export class ChorusRpcError extends Error {
  readonly code: number
  readonly data: { code: string, [k: string]: unknown }

  constructor (error: JSONRPCError, options?: { cause?: unknown }) {
    super(error.message, options)
    this.name = 'ChorusRpcError'
    this.code = error.code
    const data: unknown = error.data
    const stringCode = typeof data === 'object' && data !== null && typeof (data as { code?: unknown }).code === 'string'
      ? (data as { code: string }).code
      : ERR_INTERNAL
    this.data = { ...(typeof data === 'object' && data !== null ? data as Record<string, unknown> : {}), code: stringCode }
  }
}

/** Turns anything a method threw into an error object that is safe to send (no stack traces). */
export function toRpcError (err: unknown): { error: JSONRPCError, internal: boolean } {
  if (err instanceof ChorusError) {
    const field = err.data?.field
    if (err.rpcCode === RPC_INVALID_PARAMS && typeof field === 'string') return { error: invalidParamsError(err, field), internal: false }
    return { error: { code: err.rpcCode, message: err.message, data: { ...err.data, code: err.code } }, internal: false }
  }
  return { error: { code: RPC_INTERNAL_ERROR, message: 'Internal error', data: { code: ERR_INTERNAL } }, internal: true }
}

/**
 * The node names fields without the `params.` prefix the RPC layer uses (`after`, `ops[2].key`):
 * both the message and `data.field` get it, so that every -32602 names its field one way and the
 * message starts with `data.field`, whichever layer refused the request.
 */
function invalidParamsError (err: ChorusError, field: string): JSONRPCError {
  const withPrefix = (s: string): string => s.startsWith('params') ? s : `params.${s}`
  return { code: err.rpcCode, message: withPrefix(err.message), data: { ...err.data, field: withPrefix(field), code: err.code } }
}
