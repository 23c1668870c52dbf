/**
 * Limits on user input, shared by the RPC layer (which reports them as -32602 with the field
 * name) and the replica (which never trusts its caller).
 */
import { MAX_KEY_BYTES, MAX_MEMBER_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH } from '../constants.js'

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

/**
 * Why a bound on keys (a scan or watch prefix, a scan start or end) is unacceptable. Any string
 * may bound a range except one with lone surrogates: it has no UTF-8 form, and encoding it
 * (U+FFFD) would bound another range than the one asked for.
 */
export function keyBoundProblem (bound: unknown): string | undefined {
  if (typeof bound !== 'string') return 'must be a string'
  if (!bound.isWellFormed()) return 'must be valid UTF-8 (no lone surrogates)'
  return undefined
}

/** The CheckedValues this module made: `instanceof` alone would trust a forged prototype. */
const checked = new WeakSet<CheckedValue>()
/** Makes a CheckedValue; set by the class itself, so only this module can call it. */
let mint: (json: string) => CheckedValue

/**
 * A register value already turned into its JSON text and checked against every limit. The RPC
 * layer validates a value to name the failing field in its error, and hands the node this
 * instead of the value, so the node need not stringify and check it a second time. Only
 * encodeValue() makes one (the constructor is private), so holding one proves the text is valid;
 * nothing a client sends as JSON can be one.
 */
export class CheckedValue {
  static {
    mint = (json: string): CheckedValue => {
      const value = new CheckedValue(json)
      checked.add(value)
      return value
    }
  }

  private constructor (readonly json: string) {
    Object.freeze(this)
  }
}


/** JSON text of a register value (a CheckedValue's own), or a problem description. */
export function encodeValue (value: unknown): { json: string } | { problem: string } {
  if (value instanceof CheckedValue && checked.has(value)) return { json: value.json }
  if (value === undefined) return { problem: 'is required (use null for an empty value)' }
  let json: string | undefined
  try {
    json = JSON.stringify(value) as string | undefined
  } catch (err) {
    if (err instanceof RangeError) return { problem: DEPTH_PROBLEM }
    return { problem: 'must be JSON-serialisable' }
  }
  // Functions, symbols and toJSON() returning undefined have no JSON text.
  if (json === undefined) return { problem: 'must be JSON-serialisable' }
  if (Buffer.byteLength(json, 'utf8') > MAX_VALUE_BYTES) return { problem: `must be at most ${MAX_VALUE_BYTES} bytes encoded as JSON` }
  const depth = jsonDepthProblem(json)
  if (depth !== undefined) return { problem: depth }
  // JSON.stringify writes NaN and ±Infinity (what JSON.parse makes of 1e400) as null: the value
  // read back would not be the one written. Only text holding "null" can hide one.
  if (json.includes('null') && holdsNonFiniteNumber(value)) return { problem: NON_FINITE_PROBLEM }
  return { json }
}

/**
 * Text that may hold a number beyond a double: a digit, an exponent and a digit (1e400,
 * 1.5E+309), or more digits in a row than Number.MAX_VALUE has (309). It may match a string too.
 */
const MAY_OVERFLOW = /\d[eE]\+?\d|\d{309}/

const NON_FINITE_PROBLEM = 'must hold only finite numbers (at most ±1.7976931348623157e308): JSON has no form for NaN or ±Infinity, which a number like 1e400 becomes'

/**
 * Why JSON text from a peer cannot be stored, or undefined: a number beyond a double (1e400)
 * parses as ±Infinity, which every read would turn into null. `parsed` is JSON.parse(json),
 * and the text is known to nest within MAX_VALUE_DEPTH.
 */
export function nonFiniteTextProblem (json: string, parsed: unknown): string | undefined {
  if (!MAY_OVERFLOW.test(json)) return undefined
  return holdsNonFiniteNumber(parsed) ? NON_FINITE_PROBLEM : undefined
}

/** Whether JSON.stringify met NaN or ±Infinity in `value` (the value is known to stringify). */
function holdsNonFiniteNumber (value: unknown): boolean {
  let found = false
  JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) found = true
    return v
  })
  return found
}

const DEPTH_PROBLEM = `must nest arrays and objects at most ${MAX_VALUE_DEPTH} deep`
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * Why JSON text nests too deeply, or undefined. A scan of the text, not a recursive walk, so it
 * cannot itself overflow the stack; text shorter than the limit cannot exceed it.
 */
export function jsonDepthProblem (json: string): string | undefined {
  if (json.length <= MAX_VALUE_DEPTH) return undefined
  let depth = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) { // [ {
      if (++depth > MAX_VALUE_DEPTH) return DEPTH_PROBLEM
    } else if (c === 0x5d || c === 0x7d) { // ] }
      depth--
    }
  }
  return undefined
}

/** The value as a CheckedValue, or a problem description. */
export function checkedValue (value: unknown): CheckedValue | { problem: string } {
  if (value instanceof CheckedValue && checked.has(value)) return value
  const r = encodeValue(value)
  return 'problem' in r ? r : mint(r.json)
}
