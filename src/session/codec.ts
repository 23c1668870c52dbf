/**
 * The binary form of a session vector, shared by client tokens, the session protocol and the
 * persisted catch-up record. Canonical: one encoding per vector, so two equal tokens are equal
 * strings.
 *
 *   version (1 byte, = 1) · count (varint) · count × [ id length (varint) · id (UTF-8) ·
 *   incarnation (varint) · commits (varint) ]
 *
 * Ids strictly ascending (by UTF-8 bytes, which is code-point order), no trailing bytes, every
 * varint minimal and at most Number.MAX_SAFE_INTEGER, incarnation ≥ 1. A token is the
 * base64url (no padding) of these bytes.
 */
import { MAX_PEER_ID_LENGTH } from '../constants.js'
import type { Position, SessionVector } from './vector.js'

export const SESSION_CODEC_VERSION = 1

/** Peer ids are base58btc (Ed25519, RSA) or base32 CIDs: letters and digits only. */
const ID_PATTERN = /^[A-Za-z0-9]+$/

export function encodeVector (vector: SessionVector): Uint8Array {
  const parts: number[] = [SESSION_CODEC_VERSION]
  pushVarint(parts, vector.size)
  const ids = [...vector.keys()].sort(compareIds)
  for (const id of ids) {
    const pos = vector.get(id) as Position
    const bytes = new TextEncoder().encode(id)
    pushVarint(parts, bytes.length)
    for (const b of bytes) parts.push(b)
    pushVarint(parts, pos.incarnation)
    pushVarint(parts, pos.commits)
  }
  return Uint8Array.from(parts)
}

/** Decodes a vector of at most `maxEntries` entries; a string saying what is wrong otherwise. */
export function decodeVector (bytes: Uint8Array, maxEntries: number): Map<string, Position> | string {
  const reader = { bytes, at: 0 }
  if (bytes[0] !== SESSION_CODEC_VERSION) return `version ${bytes[0] ?? 'missing'} is not one this node reads (${SESSION_CODEC_VERSION})`
  reader.at = 1
  const count = readVarint(reader)
  if (typeof count === 'string') return count
  if (count > maxEntries) return `names ${count} nodes (at most ${maxEntries})`
  const out = new Map<string, Position>()
  let previous: string | undefined
  for (let i = 0; i < count; i++) {
    const length = readVarint(reader)
    if (typeof length === 'string') return length
    if (length < 1 || length > MAX_PEER_ID_LENGTH) return `a node id of ${length} bytes (1 to ${MAX_PEER_ID_LENGTH})`
    if (reader.at + length > bytes.length) return 'ends inside a node id'
    const id = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(reader.at, reader.at + length))
    reader.at += length
    if (!ID_PATTERN.test(id)) return 'a node id that is not a peer id'
    if (previous !== undefined && compareIds(previous, id) >= 0) return 'node ids not in ascending order'
    previous = id
    const incarnation = readVarint(reader)
    if (typeof incarnation === 'string') return incarnation
    if (incarnation < 1) return 'an incarnation of 0'
    const commits = readVarint(reader)
    if (typeof commits === 'string') return commits
    out.set(id, { incarnation, commits })
  }
  if (reader.at !== bytes.length) return 'trailing bytes'
  return out
}

export function encodeToken (vector: SessionVector): string {
  return Buffer.from(encodeVector(vector)).toString('base64url')
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Decodes a token (base64url text); a string saying what is wrong otherwise. */
export function decodeToken (token: string, maxEntries: number): Map<string, Position> | string {
  if (token.length === 0 || !BASE64URL.test(token) || token.length % 4 === 1) return 'is not a session token (base64url text)'
  const bytes = Buffer.from(token, 'base64url')
  // Canonical text too: no padding bits set, so one token per vector.
  if (bytes.toString('base64url') !== token) return 'is not a session token (non-canonical base64url)'
  return decodeVector(bytes, maxEntries)
}

function compareIds (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function pushVarint (out: number[], value: number): void {
  let v = value
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
}

/** An unsigned LEB128 integer, minimal, ≤ MAX_SAFE_INTEGER. */
function readVarint (r: { bytes: Uint8Array, at: number }): number | string {
  let value = 0
  let scale = 1
  for (let i = 0; i < 8; i++) {
    const b = r.bytes[r.at]
    if (b === undefined) return 'ends inside a number'
    r.at++
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) return 'a number not minimally encoded'
      return Number.isSafeInteger(value) ? value : 'a number past 2^53'
    }
    scale *= 0x80
  }
  return 'a number past 2^53'
}
