/**
 * A small CBOR writer for inputs cborg will not produce: text strings holding invalid UTF-8,
 * non-minimal integer heads, indefinite lengths, spliced raw items. Everything else is written
 * as cborg writes it (minimal heads, definite lengths), so a value without any of these encodes
 * to the same bytes as encodeCbor.
 */
import { encode as cborgEncode } from 'cborg'

/** Bytes spliced in verbatim as one item. */
export class Raw { constructor (readonly bytes: Uint8Array) {} }
/** A text string (major type 3) whose bytes are given: they need not be UTF-8. */
export class RawText { constructor (readonly bytes: Uint8Array) {} }
/** An integer written with a wider head than needed (non-canonical). */
export class Wide { constructor (readonly value: number, readonly width: 1 | 2 | 4 | 8) {} }
/** An array written with an indefinite length. */
export class Indefinite { constructor (readonly items: unknown[]) {} }

export function head (major: number, n: number | bigint, width?: 0 | 1 | 2 | 4 | 8): Uint8Array {
  const m = major << 5
  const big = BigInt(n)
  const w = width ?? (big < 24n ? 0 : big < 0x100n ? 1 : big < 0x10000n ? 2 : big < 0x100000000n ? 4 : 8)
  if (w === 0) return Uint8Array.of(m | Number(big))
  const out = new Uint8Array(1 + w)
  out[0] = m | ({ 1: 24, 2: 25, 4: 26, 8: 27 } as const)[w]
  let v = big
  for (let i = w; i >= 1; i--) { out[i] = Number(v & 0xffn); v >>= 8n }
  return out
}

function parts (v: unknown, out: Uint8Array[]): void {
  if (v instanceof Raw) { out.push(v.bytes); return }
  if (v instanceof RawText) { out.push(head(3, v.bytes.length), v.bytes); return }
  if (v instanceof Wide) { out.push(v.value >= 0 ? head(0, v.value, v.width) : head(1, -1 - v.value, v.width)); return }
  if (v instanceof Indefinite) {
    out.push(Uint8Array.of(0x9f))
    for (const item of v.items) parts(item, out)
    out.push(Uint8Array.of(0xff))
    return
  }
  if (v instanceof Uint8Array) { out.push(head(2, v.length), v); return }
  if (typeof v === 'string') { const b = Buffer.from(v, 'utf8'); out.push(head(3, b.length), b); return }
  if (typeof v === 'number' && Number.isSafeInteger(v)) { out.push(v >= 0 ? head(0, v) : head(1, -1 - v)); return }
  if (Array.isArray(v)) {
    out.push(head(4, v.length))
    for (const item of v) parts(item, out)
    return
  }
  out.push(cborgEncode(v))
}

export function cbor (v: unknown): Uint8Array {
  const out: Uint8Array[] = []
  parts(v, out)
  return Buffer.concat(out)
}
