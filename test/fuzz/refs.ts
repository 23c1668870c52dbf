/**
 * Contexts and cursors as the fuzzer uses them: real ones the node returned (kept per key),
 * stale ones, ones of another key or key space, damaged ones, and forged ones encoded the way
 * Chorus encodes them but naming what no replica holds. A reference is generated (seeded, so a
 * run replays) and resolved against the pool just before its request is sent.
 */
import { encodeCbor } from '../../src/codec/cbor.js'
import { encodeContext } from '../../src/codec/index.js'
import { toStoreKey } from '../../src/model/index.js'
import type { Sym } from './json-text.js'

export type Verdict = 'ok' | 'bad' | 'either'
export type Space = 'kv' | 'counter' | 'set'

/** A node name in a forged context: this node, another well-formed peer id, or a malformed one. */
export type ForgedNode = { kind: 'self' } | { kind: 'peer', id: string } | { kind: 'malformed', id: string }

export interface Forge {
  vv: Array<[ForgedNode, number]>
  dots: Array<[ForgedNode, number]>
  /** Extra well-formed nodes (counter 1) to reach a bound: 4096 is allowed, 4097 is not. */
  padNodes: number
  /** Extra dots of other nodes: 64 are allowed, 65 are not. */
  padDots: number
}

export type ContextRef =
  | { kind: 'latest' }
  | { kind: 'stale', pick: number }
  | { kind: 'other-key', pick: number }
  | { kind: 'other-space' }
  | { kind: 'truncated', pick: number, cut: number }
  | { kind: 'mutated', pick: number, at: number, to: string }
  | { kind: 'forged', forge: Forge }
  | { kind: 'legacy' }

export interface CursorRef { kind: 'cursor', pick: number }

/** Whether an `after` with this context may wait (it names something the node may not hold). */
export function mayBlock (ref: ContextRef): boolean {
  return ref.kind === 'truncated' || ref.kind === 'mutated' || ref.kind === 'forged'
}

const MAX_EVENT_COUNTER = 2 ** 50
const MAX_VV_ENTRIES = 4096
const MAX_CONTEXT_DOTS = 64
const KEPT_PER_KEY = 8
const KEPT_OVERALL = 512
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export interface Resolved { value: string, verdict: Verdict }

export class RefPool {
  private readonly byStoreKey = new Map<string, string[]>()
  private readonly recent: Array<{ storeKey: string, context: string }> = []
  private readonly cursors: string[] = []

  constructor (private readonly selfId: string) {}

  recordContext (space: Space, key: string, context: unknown): void {
    if (typeof context !== 'string') return
    const storeKey = toStoreKey(space, key)
    const list = this.byStoreKey.get(storeKey) ?? []
    list.push(context)
    if (list.length > KEPT_PER_KEY) list.shift()
    this.byStoreKey.set(storeKey, list)
    this.recent.push({ storeKey, context })
    if (this.recent.length > KEPT_OVERALL) this.recent.shift()
  }

  recordCursor (cursor: unknown): void {
    if (typeof cursor !== 'string') return
    this.cursors.push(cursor)
    if (this.cursors.length > KEPT_OVERALL) this.cursors.shift()
  }

  resolve (sym: Sym): Resolved {
    if (sym.ref.kind === 'cursor') return this.cursor(sym.ref.pick)
    return this.context(sym.ref, sym.space, sym.key ?? '')
  }

  private cursor (pick: number): Resolved {
    if (this.cursors.length === 0) return { value: Buffer.from('a').toString('base64url'), verdict: 'ok' }
    return { value: this.cursors[pick % this.cursors.length] as string, verdict: 'ok' }
  }

  private context (ref: ContextRef, space: Space, key: string): Resolved {
    const storeKey = toStoreKey(space, key)
    const own = this.byStoreKey.get(storeKey) ?? []
    // Covers nothing: a valid context for any key, and one `after` never waits on.
    const empty = (): string => encodeContext(storeKey, { vv: {}, dots: [] })
    const real = (pick: number): string => own.length === 0 ? empty() : own[pick % own.length] as string
    switch (ref.kind) {
      case 'latest': return { value: own.at(-1) ?? empty(), verdict: 'ok' }
      case 'stale': return { value: real(ref.pick), verdict: 'ok' }
      case 'other-key': {
        const others = this.recent.filter(r => r.storeKey !== storeKey)
        const other = others.length === 0 ? encodeContext(`${storeKey}~`, { vv: {}, dots: [] }) : (others[ref.pick % others.length] as { context: string }).context
        return { value: other, verdict: 'bad' }
      }
      case 'other-space': {
        const otherSpace: Space = space === 'kv' ? 'counter' : 'kv'
        return { value: encodeContext(toStoreKey(otherSpace, key), { vv: {}, dots: [] }), verdict: 'bad' }
      }
      case 'truncated': {
        const full = real(ref.pick)
        return { value: full.slice(0, 1 + (ref.cut % Math.max(1, full.length - 1))), verdict: 'either' }
      }
      case 'mutated': {
        const full = real(ref.pick)
        const at = ref.at % full.length
        const to = full[at] === ref.to ? BASE64URL[(BASE64URL.indexOf(ref.to) + 1) % 64] as string : ref.to
        return { value: full.slice(0, at) + to + full.slice(at + 1), verdict: 'either' }
      }
      case 'forged': return this.forged(storeKey, ref.forge)
      case 'legacy':
        // The format before contexts were bound to a key: [vv] without the tag.
        return { value: Buffer.from(encodeCbor([[[this.selfId, 1]], []])).toString('base64url'), verdict: 'bad' }
    }
  }

  private forged (storeKey: string, forge: Forge): Resolved {
    return { value: encodeContext(storeKey, forgedContext(forge, this.selfId)), verdict: forgeVerdict(forge) }
  }
}

function forgedContext (forge: Forge, selfId: string): { vv: Record<string, number>, dots: Array<{ node: string, counter: number }> } {
  const name = (n: ForgedNode): string => n.kind === 'self' ? selfId : n.id
  const vv: Record<string, number> = {}
  for (const [node, counter] of forge.vv) vv[name(node)] = counter
  for (let i = 0; i < forge.padNodes; i++) vv[padNode(i)] = 1
  const dots = forge.dots.map(([node, counter]) => ({ node: name(node), counter }))
  for (let i = 0; i < forge.padDots; i++) dots.push({ node: padNode(MAX_VV_ENTRIES + i), counter: 2 })
  return { vv, dots }
}

/** The documented bounds (docs/api.md, Contexts) make a forged context bad; other malformations may be refused. */
export function forgeVerdict (forge: Forge): Verdict {
  const { vv, dots } = forgedContext(forge, '12D3KooWSelf')
  const counters = [...Object.values(vv), ...dots.map(d => d.counter)]
  if (Object.keys(vv).length > MAX_VV_ENTRIES || dots.length > MAX_CONTEXT_DOTS || counters.some(c => c > MAX_EVENT_COUNTER)) return 'bad'
  const wellFormed = [...forge.vv, ...forge.dots].every(([n, c]) => n.kind !== 'malformed' && c >= 1) &&
    new Set(dots.map(d => `${d.node}:${d.counter}`)).size === dots.length
  return wellFormed ? 'ok' : 'either'
}

/** How a reference resolves, as far as it is known before the pool is consulted. */
export function refVerdict (ref: ContextRef | CursorRef): Verdict {
  switch (ref.kind) {
    case 'latest': case 'stale': case 'cursor': return 'ok'
    case 'other-key': case 'other-space': case 'legacy': return 'bad'
    case 'truncated': case 'mutated': return 'either'
    case 'forged': return forgeVerdict(ref.forge)
  }
}

/** A well-formed peer-id-like name (base58 alphabet), distinct for each i. */
function padNode (i: number): string {
  return `12D3KooWPad${i.toString(36).replace(/[0lIO]/g, 'z')}`
}
