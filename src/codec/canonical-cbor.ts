/**
 * The small CBOR subset replicated states are made of — unsigned integers, byte strings, text
 * strings and arrays — written and read in canonical form directly, without cborg's general
 * machinery.
 *
 * Why not cborg here: every write encodes its state once and hashes it, every state received
 * is decoded and then re-encoded to prove it canonical (equal states must be equal bytes, or the
 * Merkle tree sees differences that are not there). cborg builds a token list per value and a
 * buffer list per encoding; in a profile of `kv.put` that was a tenth of the node's CPU. This
 * writer produces the very bytes cborg does for the same values (test/codec/canonical-cbor.test.ts
 * checks it on random states), and the reader refuses every other encoding as it reads, so no
 * re-encoding is needed:
 * - integers in their shortest form (RFC 8949 §4.2.1 "preferred serialization"), at most
 *   Number.MAX_SAFE_INTEGER; no negative integers, floats, maps, tags or simple values;
 * - definite lengths only, each no larger than the bytes left;
 * - text that is valid UTF-8 (never silently replaced);
 * - nesting at most MAX_CBOR_DEPTH deep, and nothing after the top-level item.
 */
import { CorruptDataError } from '../errors.js'

/** What the subset holds. */
export type CanonicalValue = number | string | Uint8Array | readonly CanonicalValue[]

/** States nest 3 deep (register: [vv, [sibling, …]] of arrays); anything deeper is not a state. */
export const MAX_CBOR_DEPTH = 8

const MAJOR_UINT = 0
const MAJOR_BYTES = 2
const MAJOR_TEXT = 3
const MAJOR_ARRAY = 4

// ---- writing

const SCRATCH_BYTES = 64 * 1024
let scratch = Buffer.allocUnsafe(SCRATCH_BYTES)
let at = 0

function room (n: number): void {
  if (at + n <= scratch.length) return
  const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, at + n))
  scratch.copy(bigger, 0, 0, at)
  scratch = bigger
}

function head (major: number, n: number): void {
  const m = major << 5
  room(9)
  if (n < 24) {
    scratch[at++] = m | n
  } else if (n < 0x100) {
    scratch[at++] = m | 24
    scratch[at++] = n
  } else if (n < 0x10000) {
    scratch[at++] = m | 25
    scratch.writeUInt16BE(n, at)
    at += 2
  } else if (n < 0x100000000) {
    scratch[at++] = m | 26
    scratch.writeUInt32BE(n, at)
    at += 4
  } else {
    scratch[at++] = m | 27
    scratch.writeUInt32BE(Math.floor(n / 0x100000000), at)
    scratch.writeUInt32BE(n % 0x100000000, at + 4)
    at += 8
  }
}

function write (value: CanonicalValue): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`canonical CBOR holds unsigned safe integers only, not ${value}`)
    head(MAJOR_UINT, value)
  } else if (typeof value === 'string') {
    // Short strings: one pass that writes the UTF-8 and measures it, then the header in front.
    const max = value.length * 3
    if (max < 24) {
      room(1 + max)
      const n = scratch.write(value, at + 1, 'utf8')
      scratch[at] = (MAJOR_TEXT << 5) | n
      at += 1 + n
    } else {
      const n = Buffer.byteLength(value, 'utf8')
      head(MAJOR_TEXT, n)
      room(n)
      at += scratch.write(value, at, 'utf8')
    }
  } else if (value instanceof Uint8Array) {
    head(MAJOR_BYTES, value.byteLength)
    room(value.byteLength)
    scratch.set(value, at)
    at += value.byteLength
  } else if (Array.isArray(value)) {
    head(MAJOR_ARRAY, value.length)
    for (const item of value) write(item)
  } else {
    throw new TypeError(`canonical CBOR cannot hold ${typeof value}`)
  }
}

/** The canonical CBOR of `value`, in a fresh buffer of its own. */
export function encodeCanonical (value: CanonicalValue): Uint8Array {
  at = 0
  write(value)
  const bytes = new Uint8Array(at)
  bytes.set(scratch.subarray(0, at))
  shrinkScratch()
  return bytes
}

/** The canonical CBOR of `value` as base64url text, without a buffer in between (contexts). */
export function encodeCanonicalBase64url (value: CanonicalValue): string {
  at = 0
  write(value)
  const text = scratch.toString('base64url', 0, at)
  shrinkScratch()
  return text
}

/** A rare large state (a value near the size limit) must not pin megabytes for good. */
function shrinkScratch (): void {
  if (scratch.length > 16 * SCRATCH_BYTES) scratch = Buffer.allocUnsafe(SCRATCH_BYTES)
}

// ---- reading

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

class Reader {
  private pos = 0
  constructor (private readonly bytes: Uint8Array, private readonly what: string) {}

  fail (why: string): never {
    throw new CorruptDataError(`${this.what}: not canonical CBOR (${why} at byte ${this.pos})`)
  }

  done (): void {
    if (this.pos !== this.bytes.length) this.fail('bytes after the value')
  }

  /** A header's argument, refused unless in its shortest form and a safe integer. */
  private argument (info: number): number {
    const b = this.bytes
    const left = b.length - this.pos
    if (info < 24) return info
    if (info === 24) {
      if (left < 1) this.fail('truncated')
      const n = b[this.pos++] as number
      if (n < 24) this.fail('integer not in shortest form')
      return n
    }
    if (info === 25) {
      if (left < 2) this.fail('truncated')
      const n = ((b[this.pos] as number) << 8) | (b[this.pos + 1] as number)
      this.pos += 2
      if (n < 0x100) this.fail('integer not in shortest form')
      return n
    }
    if (info === 26) {
      if (left < 4) this.fail('truncated')
      const n = (((b[this.pos] as number) << 24) >>> 0) + ((b[this.pos + 1] as number) << 16) + ((b[this.pos + 2] as number) << 8) + (b[this.pos + 3] as number)
      this.pos += 4
      if (n < 0x10000) this.fail('integer not in shortest form')
      return n
    }
    if (info === 27) {
      if (left < 8) this.fail('truncated')
      let hi = 0
      let lo = 0
      for (let i = 0; i < 4; i++) hi = hi * 256 + (b[this.pos + i] as number)
      for (let i = 4; i < 8; i++) lo = lo * 256 + (b[this.pos + i] as number)
      this.pos += 8
      if (hi === 0) this.fail('integer not in shortest form')
      if (hi > 0x1fffff) this.fail('integer above 2^53 - 1')
      return hi * 0x100000000 + lo
    }
    return this.fail(info === 31 ? 'indefinite length' : 'reserved header')
  }

  read (depth: number): CanonicalValue {
    const b = this.bytes
    if (this.pos >= b.length) this.fail('truncated')
    const initial = b[this.pos++] as number
    const major = initial >> 5
    if (major !== MAJOR_UINT && major !== MAJOR_BYTES && major !== MAJOR_TEXT && major !== MAJOR_ARRAY) {
      this.fail(`major type ${major} (only unsigned integers, byte and text strings and arrays)`)
    }
    const n = this.argument(initial & 0x1f)
    switch (major) {
      case MAJOR_UINT:
        return n
      case MAJOR_BYTES:
      case MAJOR_TEXT: {
        if (n > b.length - this.pos) this.fail('length past the end')
        const slice = b.subarray(this.pos, this.pos + n)
        this.pos += n
        if (major === MAJOR_BYTES) return new Uint8Array(slice)
        try {
          return utf8.decode(slice)
        } catch {
          return this.fail('text that is not valid UTF-8')
        }
      }
      case MAJOR_ARRAY: {
        if (depth >= MAX_CBOR_DEPTH) this.fail(`nested deeper than ${MAX_CBOR_DEPTH}`)
        // Every item takes a byte at least: a longer claim is a lie, refused before allocating.
        if (n > b.length - this.pos) this.fail('length past the end')
        const items: CanonicalValue[] = new Array(n)
        for (let i = 0; i < n; i++) items[i] = this.read(depth + 1)
        return items
      }
      default:
        return this.fail(`major type ${major}`)
    }
  }
}

/** Reads bytes written by encodeCanonical; CorruptDataError for anything else. */
export function decodeCanonical (bytes: Uint8Array, what: string): CanonicalValue {
  const reader = new Reader(bytes, what)
  const value = reader.read(0)
  reader.done()
  return value
}
