/**
 * The JSON text the fuzzer sends. Requests are templates: plain JSON values, RawJson for text no
 * JS value stands for (1e400, -0, nesting 100000 deep), and Sym for a context or cursor that is
 * only known once the node has answered earlier requests (resolved just before sending).
 */
import type { ContextRef, CursorRef } from './refs.js'

export class RawJson {
  constructor (readonly text: string) {}
}

/** A context or cursor field to be filled from what the node returned so far. */
export class Sym {
  constructor (
    /** The field it fills, as -32602 messages name it (`params.ops[2].context`). */
    readonly path: string,
    readonly ref: ContextRef | CursorRef,
    /** The key space and key the field belongs to (a context is bound to both). */
    readonly space: 'kv' | 'counter' | 'set',
    readonly key: string | undefined
  ) {}
}

export type Tpl = null | boolean | number | string | RawJson | Sym | Tpl[] | { [k: string]: Tpl }

/** JSON text of a template whose Syms are resolved. Object keys keep their order. */
export function jsonText (v: Tpl): string {
  if (v instanceof RawJson) return v.text
  if (v instanceof Sym) throw new Error(`unresolved ${v.path}`)
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`
  }
  return JSON.stringify(v)
}

/** Replaces every Sym (depth-first) with what `resolve` gives; other values are shared, not copied. */
export function mapSyms (v: Tpl, resolve: (s: Sym) => Tpl): Tpl {
  if (v instanceof Sym) return resolve(v)
  if (v instanceof RawJson || v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(x => mapSyms(x, resolve))
  const out: { [k: string]: Tpl } = {}
  for (const [k, x] of Object.entries(v)) setOwn(out, k, mapSyms(x, resolve))
  return out
}

/** `o[k] = v`, also for k = "__proto__" (which an assignment would turn into a prototype). */
export function setOwn (o: { [k: string]: Tpl }, k: string, v: Tpl): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
}

/** Shorter text for failure messages: long runs are elided. */
export function preview (text: string, max = 600): string {
  return text.length <= max ? text : `${text.slice(0, max / 2)}…(${text.length} chars)…${text.slice(-max / 2)}`
}
