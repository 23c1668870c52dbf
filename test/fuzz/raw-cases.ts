/**
 * Bodies and frames below the JSON-RPC layer: bytes that are not UTF-8, text that is not JSON,
 * truncated and mangled requests, and (over HTTP) the wrong content types, methods and paths.
 */
import fc from 'fast-check'
import { messageArb, type Message } from './cases.js'
import { messageText } from './driver.js'
import type { ResolvedCase, Transport } from './oracle.js'
import type { RefPool } from './refs.js'

/** Byte sequences no UTF-8 decoder may accept: stray continuation, truncated, overlong, surrogate, past U+10FFFF. */
const INVALID_UTF8: readonly number[][] = [[0xff], [0xfe], [0x80], [0xc3], [0xe2, 0x82], [0xc0, 0x80], [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xef, 0xbf]]

const NOT_JSON = ['', ' ', '\n', 'NaN', 'Infinity', 'undefined', '{', '[', '{"jsonrpc":"2.0","id":1,"method":"node.info",}',
  '\ufeff{"jsonrpc":"2.0","id":1,"method":"node.info"}', '// c\n{}', "{'jsonrpc':'2.0'}", '{"jsonrpc":"2.0","id":1,"method":"node.info"}{}',
  '1 2', '[1,]', '{"a":1,"a"}', '"\\x41"', '"\\ud800', '0x10', '01', '-', '1e', '.5', '+1', '"\t"', 'nul', 'tru']

/** Valid JSON that is no request, or exercises the parser: duplicate members, escapes, top-level scalars. */
const ODD_JSON = ['null', '[]', '[[]]', '{}', '"x"', '1', 'true', '"\\ud800"', '{"jsonrpc":"2.0","id":1,"id":2,"method":"node.info"}',
  '{"jsonrpc":"2.0","id":3,"method":"node.info","params":{},"params":[]}', '{"jsonrpc":"2.0","id":"\\u0000","method":"kv.get","params":{"key":"\\ud83d\\ude00"}}',
  '[{"jsonrpc":"2.0","id":1,"method":"node.info"},[{"jsonrpc":"2.0","id":2,"method":"node.info"}]]', ' \r\n\t{"jsonrpc":"2.0","id":4,"method":"cluster.peers"} \n']

export type Body =
  | { kind: 'message', message: Message }
  | { kind: 'text', text: string }
  | { kind: 'bytes', bytes: Uint8Array }
  | { kind: 'mangled', message: Message, at: number, seq: number }
  | { kind: 'truncated', message: Message, at: number }

export function bodyArb (transport: Transport): fc.Arbitrary<Body> {
  const message = messageArb(transport)
  return fc.oneof(
    { weight: 6, arbitrary: message.map((m): Body => ({ kind: 'message', message: m })) },
    { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...NOT_JSON, ...ODD_JSON), fc.string({ unit: 'binary', maxLength: 30 })).map((text): Body => ({ kind: 'text', text })) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 48 }).map((bytes): Body => ({ kind: 'bytes', bytes })) },
    { weight: 3, arbitrary: fc.tuple(message, fc.nat(), fc.nat(INVALID_UTF8.length - 1)).map(([m, at, seq]): Body => ({ kind: 'mangled', message: m, at, seq })) },
    { weight: 2, arbitrary: fc.tuple(message, fc.nat()).map(([m, at]): Body => ({ kind: 'truncated', message: m, at })) }
  )
}

/** The bytes of a body and the cases behind its requests (when it still parses as they were built). */
export function bodyBytes (b: Body, pool: RefPool): { bytes: Uint8Array, items: Array<ResolvedCase | undefined> } {
  switch (b.kind) {
    case 'text': return { bytes: Buffer.from(b.text, 'utf8'), items: [] }
    case 'bytes': return { bytes: b.bytes, items: [] }
    case 'message': {
      const { text, items } = messageText(b.message, pool)
      return { bytes: Buffer.from(text, 'utf8'), items }
    }
    case 'mangled': {
      const raw = Buffer.from(messageText(b.message, pool).text, 'utf8')
      const at = b.at % (raw.length + 1)
      return { bytes: Buffer.concat([raw.subarray(0, at), Buffer.from(INVALID_UTF8[b.seq] as number[]), raw.subarray(at)]), items: [] }
    }
    case 'truncated': {
      const raw = Buffer.from(messageText(b.message, pool).text, 'utf8')
      return { bytes: raw.subarray(0, b.at % Math.max(1, raw.length)), items: [] }
    }
  }
}

export interface HttpShape { method: string, path: string, contentType: string | null }

export const httpShapeArb: fc.Arbitrary<HttpShape> = fc.record({
  method: fc.oneof({ weight: 20, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH') }),
  path: fc.oneof({ weight: 20, arbitrary: fc.constant('/rpc') }, { weight: 1, arbitrary: fc.constantFrom('/rpc?x=1', '/rpc/', '/RPC', '/', '/rpc%00', '/nope') }),
  contentType: fc.oneof(
    { weight: 12, arbitrary: fc.constant<string | null>('application/json') },
    { weight: 4, arbitrary: fc.constantFrom<string | null>('application/json; charset=utf-8', 'Application/JSON ; charset=latin1', 'APPLICATION/JSON') },
    { weight: 4, arbitrary: fc.constantFrom<string | null>(null, 'text/plain', 'application/json-rpc', 'application/jsonx', 'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded', 'json', 'text/json', 'application/*') }
  )
})

/** "a charset parameter is fine" (docs/api.md): the media type alone decides. */
export function isJsonMediaType (contentType: string | null): boolean {
  return contentType !== null && contentType.split(';')[0]?.trim().toLowerCase() === 'application/json'
}

/** A body with invalid UTF-8 somewhere: over WebSocket, only a binary frame may carry it. */
export function isStrictUtf8 (bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return true
  } catch {
    return false
  }
}
