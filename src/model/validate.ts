/**
 * Limits on user input, shared by the RPC layer (which reports them as -32602 with the field
 * name) and the replica (which never trusts its caller).
 */
import { MAX_KEY_BYTES, MAX_MEMBER_BYTES, MAX_VALUE_BYTES } from '../constants.js'

/** Why a key is unacceptable, or undefined when it is fine. */
export function keyProblem (key: unknown): string | undefined {
  if (typeof key !== 'string') return 'must be a string'
  if (key.length === 0) return 'must not be empty'
  if (!key.isWellFormed()) return 'must be valid UTF-8 (no lone surrogates)'
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} bytes of UTF-8`
  return undefined
}

export function memberProblem (member: unknown): string | undefined {
  if (typeof member !== 'string') return 'must be a string'
  if (!member.isWellFormed()) return 'must be valid UTF-8 (no lone surrogates)'
  if (Buffer.byteLength(member, 'utf8') > MAX_MEMBER_BYTES) return `must be at most ${MAX_MEMBER_BYTES} bytes of UTF-8`
  return undefined
}

/** JSON text of a register value, or a problem description. */
export function encodeValue (value: unknown): { json: string } | { problem: string } {
  if (value === undefined) return { problem: 'is required (use null for an empty value)' }
  let json: string | undefined
  try {
    json = JSON.stringify(value) as string | undefined
  } catch {
    return { problem: 'must be JSON-serialisable' }
  }
  // Functions, symbols and toJSON() returning undefined have no JSON text.
  if (json === undefined) return { problem: 'must be JSON-serialisable' }
  if (Buffer.byteLength(json, 'utf8') > MAX_VALUE_BYTES) return { problem: `must be at most ${MAX_VALUE_BYTES} bytes encoded as JSON` }
  return { json }
}
