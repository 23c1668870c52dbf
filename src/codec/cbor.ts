/**
 * CBOR (RFC 8949) via cborg: compact, binary-safe, and deterministic (map keys sorted), so the
 * same state always encodes to the same bytes — which the Merkle tree relies on.
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg'
import { CorruptDataError } from '../errors.js'

export function encodeCbor (value: unknown): Uint8Array {
  return cborEncode(value)
}

/** Decode or throw CorruptDataError; never returns partially decoded data. */
export function decodeCbor (bytes: Uint8Array, what: string): unknown {
  try {
    return cborDecode(bytes, { useMaps: false, rejectDuplicateMapKeys: true, allowUndefined: false })
  } catch (err) {
    throw new CorruptDataError(`${what}: not valid CBOR`, { cause: err })
  }
}
