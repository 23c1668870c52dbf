/**
 * Generators (fast-check) of what a hostile member can send a node, at three layers:
 *
 * - states: valid ones, ones at and past every bound of docs/security.md (event counters, HLC,
 *   counter totals, value nesting and size, members), huge sibling and vector counts (allowed
 *   from peers), wrong key spaces, bad keys, raw CBOR an encoder never writes, and mutations of
 *   real states harvested from an honest node (bit flips, truncation, field swaps and tweaks);
 * - gossip: messages on the changes topic (envelopes of those states, random bytes, truncated
 *   and valid-prefix CBOR, bad envelopes) and announcements on the digest topic;
 * - anti-entropy: scripted conversations (frames out of order, unknown types, wrong versions,
 *   oversize length prefixes, lying STATE_PART sequences) and real exchanges driven by the
 *   honest session code with one mutation applied (a frame dropped, repeated, flipped, retyped;
 *   invented ENTRIES or WANT leaves; forged, reordered or repeated states; parts that lie).
 *
 * Store keys are made unique per case by the runner (`unique`), so that what one case sends can
 * be told apart on the node; node ids are random ("Fz…") and never the honest nodes' own.
 */
import { decode as cborgDecode } from 'cborg'
import fc from 'fast-check'
import type { RegisterState, Sibling } from '../../src/causal/index.js'
import { encodeCbor } from '../../src/codec/index.js'
import {
  MAX_COUNTER_TOTAL, MAX_EVENT_COUNTER, MAX_HLC_LOGICAL, MAX_HLC_WALL, MAX_KEY_BYTES, MAX_MEMBER_BYTES, MAX_VALUE_DEPTH
} from '../../src/constants.js'
import type { CounterState } from '../../src/crdt/index.js'
import { Indefinite, Raw, RawText, Wide, cbor } from './cbor-raw.js'

/**
 * The state layouts of src/codec/state-codec.ts written with the general CBOR encoder, which
 * (unlike the product's canonical writer, which refuses them) also writes the out-of-range
 * integers (negative, past 2^53 - 1) that hostile states carry.
 */
const vvPairs = (vv: Readonly<Record<string, number>>): Array<[string, number]> => Object.keys(vv).sort().map(n => [n, vv[n] as number])
function encodeRegister (state: RegisterState): Uint8Array {
  return encodeCbor([vvPairs(state.vv), state.siblings.map(s => s.value === undefined ? [s.node, s.counter, s.hlc.wall, s.hlc.logical] : [s.node, s.counter, s.hlc.wall, s.hlc.logical, s.value])])
}
function encodeCounter (state: CounterState): Uint8Array {
  return encodeCbor(Object.keys(state).sort().map(node => { const e = state[node]!; return [node, e.p, e.n, e.ops] }))
}
function encodeOrSet (state: { vv: Readonly<Record<string, number>>, entries: ReadonlyMap<string, ReadonlyArray<{ node: string, counter: number }>> }): Uint8Array {
  return encodeCbor([vvPairs(state.vv), [...state.entries.keys()].sort().map(m => [m, (state.entries.get(m) ?? []).map(d => [d.node, d.counter])])])
}

/** A fixed base time keeps generated states the same from run to run. */
export const BASE_WALL = 1_735_689_600_000

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
export const nodeIdArb = fc.string({ unit: fc.constantFrom(...B58), minLength: 2, maxLength: 10 }).map(s => `Fz${s}`)

/** A store key as a function of the case's unique prefix: a string, or raw text bytes. */
export type KeyFn = (unique: string) => string | RawText
export interface Entry { key: KeyFn, state: Uint8Array, label: string }

// ---- small deterministic randomness for bulk bytes (derived from a generated seed)

export class Rng {
  private s: number
  constructor (seed: number) { this.s = (seed >>> 0) || 0x9e3779b9 }
  next (): number {
    // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  int (n: number): number { return Math.floor(this.next() * n) }
  pick<T> (xs: readonly T[]): T { return xs[this.int(xs.length)] as T }
  bytes (n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

// ---- keys

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8')

function padKey (tag: string, unique: string, bytes: number, unit: string): string {
  let key = `${unique}-`
  while (utf8(key + unit).length <= bytes) key += unit
  while (utf8(key).length < bytes) key += 'a'
  return `${tag}/${key}`
}

const tagArb = fc.constantFrom('r', 'c', 's')

const badKeyArb: fc.Arbitrary<{ key: KeyFn, label: string }> = fc.oneof(
  fc.tuple(tagArb, fc.constantFrom(MAX_KEY_BYTES, MAX_KEY_BYTES + 1, MAX_KEY_BYTES + 3, 4000), fc.constantFrom('a', 'é', '€', '😀'))
    .map(([tag, bytes, unit]) => ({ key: (u: string) => padKey(tag, u, bytes, unit), label: `key of ${bytes} bytes (${unit})` })),
  tagArb.map(tag => ({ key: () => `${tag}/`, label: 'empty key' })),
  fc.constant({ key: (u: string) => `r${u}`, label: 'no slash' }),
  fc.constantFrom('x', 'R', '0', '', '/', 'rr').map(tag => ({ key: (u: string) => `${tag}/${u}`, label: `tag ${JSON.stringify(tag)}` })),
  fc.tuple(tagArb, fc.constantFrom(
    Uint8Array.of(0xff), Uint8Array.of(0xc3), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xc0, 0xaf), Uint8Array.of(0xf4, 0x90, 0x80, 0x80), Uint8Array.of(0x80, 0x80)
  )).map(([tag, junk]) => ({ key: (u: string) => new RawText(Buffer.concat([utf8(`${tag}/${u}-`), junk])), label: `invalid UTF-8 key ${Buffer.from(junk).toString('hex')}` }))
)

// ---- states

interface SibSpec { node: number, counter: number, wall: number, logical: number, value: string | null }

const sibSpecArb: fc.Arbitrary<SibSpec> = fc.record({
  node: fc.nat(3),
  counter: fc.integer({ min: 1, max: 60 }),
  wall: fc.integer({ min: -86_400_000, max: 86_400_000 }).map(d => BASE_WALL + d),
  logical: fc.nat(40),
  value: fc.option(fc.json({ maxDepth: 3, stringUnit: 'binary' }), { freq: 5 })
})

/** A valid register state: unique dots, sorted, covered by the version vector. */
export function buildRegister (nodes: readonly string[], sibs: readonly SibSpec[], extraVv: Record<string, number> = {}): RegisterState {
  const byDot = new Map<string, Sibling>()
  for (const s of sibs) {
    const node = nodes[s.node % nodes.length] as string
    const sib: Sibling = s.value === null ? { node, counter: s.counter, hlc: { wall: s.wall, logical: s.logical } } : { node, counter: s.counter, hlc: { wall: s.wall, logical: s.logical }, value: s.value }
    byDot.set(`${s.counter}@${node}`, sib)
  }
  const siblings = [...byDot.values()].sort((a, b) => a.node < b.node ? -1 : a.node > b.node ? 1 : a.counter - b.counter)
  const vv: Record<string, number> = { ...extraVv }
  for (const s of siblings) vv[s.node] = Math.max(vv[s.node] ?? 0, s.counter)
  return { vv, siblings }
}

const registerArb = fc.tuple(fc.uniqueArray(nodeIdArb, { minLength: 1, maxLength: 4 }), fc.array(sibSpecArb, { maxLength: 4 }))
  .map(([nodes, sibs]) => buildRegister(nodes, sibs))

const counterArb: fc.Arbitrary<CounterState> = fc.uniqueArray(
  fc.record({ node: nodeIdArb, p: fc.nat(1_000_000), n: fc.nat(1_000_000), ops: fc.integer({ min: 1, max: 1_000_000 }) }),
  { selector: e => e.node, maxLength: 4 }
).map(rows => Object.fromEntries(rows.map(r => [r.node, { p: r.p, n: r.n, ops: r.ops }])))

interface SetSpec { nodes: string[], members: Array<{ member: string, dots: Array<[number, number]> }> }

const setSpecArb: fc.Arbitrary<SetSpec> = fc.record({
  nodes: fc.uniqueArray(nodeIdArb, { minLength: 1, maxLength: 3 }),
  members: fc.uniqueArray(fc.record({
    member: fc.string({ unit: 'grapheme', maxLength: 12 }),
    dots: fc.array(fc.tuple(fc.nat(2), fc.integer({ min: 1, max: 30 })), { minLength: 1, maxLength: 3 })
  }), { selector: m => m.member, maxLength: 6 })
})

export function buildSet (spec: SetSpec, poison?: { member?: string, counter?: number, vvExtra?: number }): Uint8Array {
  const vv: Record<string, number> = {}
  const entries = new Map<string, Array<{ node: string, counter: number }>>()
  const members = poison?.member === undefined ? spec.members : [...spec.members, { member: poison.member, dots: [[0, 1] as [number, number]] }]
  for (const m of members) {
    const dots = new Map<string, { node: string, counter: number }>()
    for (const [ni, c] of m.dots) {
      const node = spec.nodes[ni % spec.nodes.length] as string
      dots.set(`${c}@${node}`, { node, counter: c })
    }
    const list = [...dots.values()].sort((a, b) => a.node < b.node ? -1 : a.node > b.node ? 1 : a.counter - b.counter)
    for (const d of list) vv[d.node] = Math.max(vv[d.node] ?? 0, d.counter)
    entries.set(m.member, list)
  }
  if (poison?.counter !== undefined) {
    const node = spec.nodes[0] as string
    const first = [...entries.keys()][0]
    if (first !== undefined) entries.set(first, [{ node, counter: poison.counter }])
    vv[node] = Math.max(vv[node] ?? 0, poison.counter)
  }
  if (poison?.vvExtra !== undefined) vv.FzPoison = poison.vvExtra
  return encodeOrSet({ vv, entries })
}

const EVENT_EDGES = [MAX_EVENT_COUNTER, MAX_EVENT_COUNTER + 1, 2 ** 51, Number.MAX_SAFE_INTEGER, 2 ** 53]
const WALL_EDGES = [MAX_HLC_WALL, MAX_HLC_WALL + 1, Number.MAX_SAFE_INTEGER, 2 ** 53, -1, 0]
const LOGICAL_EDGES = [MAX_HLC_LOGICAL, MAX_HLC_LOGICAL + 1, 2 ** 40, Number.MAX_SAFE_INTEGER, -1]
const TOTAL_EDGES = [MAX_COUNTER_TOTAL, MAX_COUNTER_TOTAL - 1, 2 ** 53, 2 ** 60, -1, 0]

const nest = (depth: number, open: string, close: string, inner = '0'): string => open.repeat(depth) + inner + close.repeat(depth)

/** Register states at and past the value bounds, and sizes past the local-write bounds. */
const registerEdgeArb: fc.Arbitrary<{ state: Uint8Array, label: string }> = fc.oneof(
  fc.tuple(nodeIdArb, fc.constantFrom(...EVENT_EDGES)).map(([node, c]) => ({
    state: encodeRegister(buildRegister([node], [{ node: 0, counter: c, wall: BASE_WALL, logical: 0, value: '"edge"' }])), label: `dot counter ${c}`
  })),
  fc.tuple(nodeIdArb, fc.constantFrom(...EVENT_EDGES)).map(([node, c]) => ({
    state: encodeRegister(buildRegister([node], [], { [node]: c })), label: `vv entry ${c}, no sibling`
  })),
  fc.tuple(registerArb, nodeIdArb, fc.constantFrom(...EVENT_EDGES)).map(([r, node, c]) => ({
    state: encodeRegister(buildRegister([node], [{ node: 0, counter: 1, wall: BASE_WALL, logical: 0, value: '1' }], { ...r.vv, FzVv: c })), label: `extra vv entry ${c}`
  })),
  fc.tuple(nodeIdArb, fc.constantFrom(...WALL_EDGES)).map(([node, wall]) => ({
    state: encodeRegister(buildRegister([node], [{ node: 0, counter: 1, wall, logical: 0, value: '"w"' }])), label: `HLC wall ${wall}`
  })),
  fc.tuple(nodeIdArb, fc.constantFrom(...LOGICAL_EDGES)).map(([node, logical]) => ({
    state: encodeRegister(buildRegister([node], [{ node: 0, counter: 1, wall: BASE_WALL, logical, value: '"l"' }])), label: `HLC logical ${logical}`
  })),
  fc.tuple(nodeIdArb, fc.constantFrom(MAX_VALUE_DEPTH - 1, MAX_VALUE_DEPTH, MAX_VALUE_DEPTH + 1, MAX_VALUE_DEPTH + 8, 3000), fc.constantFrom('[]', '{}')).map(([node, depth, kind]) => ({
    state: encodeRegister(buildRegister([node], [{ node: 0, counter: 1, wall: BASE_WALL, logical: 0, value: kind === '[]' ? nest(depth, '[', ']') : nest(depth, '{"k":', '}') }])),
    label: `value nested ${depth} (${kind})`
  })),
  fc.tuple(fc.integer({ min: 33, max: 2500 }), fc.integer({ min: 1, max: 40 })).map(([n, writers]) => ({
    state: encodeRegister(buildRegister(Array.from({ length: writers }, (_, i) => `FzW${i}`), Array.from({ length: n }, (_, i) => ({ node: i, counter: 1 + Math.floor(i / writers), wall: BASE_WALL + i, logical: 0, value: String(i) })))),
    label: `${n} siblings of ${writers} writers`
  })),
  fc.integer({ min: 100, max: 6000 }).map(n => ({
    state: encodeRegister(buildRegister(['FzV'], [{ node: 0, counter: 1, wall: BASE_WALL, logical: 0, value: '"v"' }], Object.fromEntries(Array.from({ length: n }, (_, i) => [`FzV${i}`, 1 + i])))),
    label: `${n} version vector entries`
  })),
  fc.tuple(nodeIdArb, fc.constantFrom('not json', '{', '[1,]', 'NaN', "'x'", '', ' ', '01', '"\\x"')).map(([node, value]) => ({
    state: encodeRegister(buildRegister([node], [{ node: 0, counter: 1, wall: BASE_WALL, logical: 0, value }])), label: `value ${JSON.stringify(value)} (not JSON)`
  }))
)

/** CBOR that no encoder of ours writes: each a reason for a strict decoder to refuse. */
const rawStateArb: fc.Arbitrary<{ state: Uint8Array, label: string, tag: string }> = fc.tuple(nodeIdArb, nodeIdArb.map(n => `${n}z`)).chain(([n1, n2]) => {
  const [lo, hi] = n1 < n2 ? [n1, n2] : [n2, n1]
  const sib = (node: string, c: number, value: unknown = '1'): unknown[] => [node, c, BASE_WALL, 0, value]
  const cases: Array<[string, string, unknown]> = [
    ['r', 'vv not sorted', [[[hi, 1], [lo, 1]], []]],
    ['r', 'vv duplicate node', [[[lo, 1], [lo, 2]], []]],
    ['r', 'vv counter 0', [[[lo, 0]], []]],
    ['r', 'node id not base58', [[['0OIl', 1]], [sib('0OIl', 1)]]],
    ['r', 'node id of 129 chars', [[['F'.repeat(129), 1]], []]],
    ['r', 'empty node id', [[['', 1]], []]],
    ['r', 'sibling not covered', [[[lo, 1]], [sib(lo, 2)]]],
    ['r', 'siblings not sorted', [[[lo, 2]], [sib(lo, 2), sib(lo, 1)]]],
    ['r', 'duplicate sibling', [[[lo, 1]], [sib(lo, 1), sib(lo, 1)]]],
    ['r', 'sibling of 3 fields', [[[lo, 1]], [[lo, 1, BASE_WALL]]]],
    ['r', 'sibling of 6 fields', [[[lo, 1]], [[lo, 1, BASE_WALL, 0, '1', 'x']]]],
    ['r', 'value is a number', [[[lo, 1]], [sib(lo, 1, 5)]]],
    ['r', 'value is bytes', [[[lo, 1]], [sib(lo, 1, Uint8Array.of(0x31))]]],
    ['r', 'value is invalid UTF-8', [[[lo, 1]], [sib(lo, 1, new RawText(Uint8Array.of(0x22, 0xff, 0x22)))]]],
    ['r', 'value is CESU surrogate', [[[lo, 1]], [sib(lo, 1, new RawText(Uint8Array.of(0x22, 0xed, 0xa0, 0x80, 0x22)))]]],
    ['r', 'three fields', [[[lo, 1]], [sib(lo, 1)], 0]],
    ['r', 'a map', { vv: 1 }],
    ['r', 'non-minimal integer', [[[lo, new Wide(1, 2)]], [sib(lo, 1)]]],
    ['r', 'non-minimal wall', [[[lo, 1]], [[lo, 1, new Wide(BASE_WALL, 8), 0, '1']]]],
    ['r', 'indefinite siblings', [[[lo, 1]], new Indefinite([sib(lo, 1)])]],
    ['r', 'half-float counter', [[[lo, new Raw(Uint8Array.of(0xf9, 0x3c, 0x00))]], []]],
    ['r', 'tagged', new Raw(Uint8Array.of(0xc1, 0x01))],
    ['r', 'bigint counter', [[[lo, 2n ** 64n - 1n]], []]],
    ['r', 'negative counter', [[[lo, -1]], []]],
    ['r', 'negative logical', [[[lo, 1]], [[lo, 1, BASE_WALL, -1, '1']]]],
    ['r', 'float wall', [[[lo, 1]], [[lo, 1, 1.5, 0, '1']]]],
    ['r', 'text', 'abc'],
    ['r', 'empty', new Raw(new Uint8Array(0))],
    ['r', 'trailing byte', new Raw(Buffer.concat([cbor([[[lo, 1]], [sib(lo, 1)]]), Uint8Array.of(0)]))],
    ['c', 'counter row of 3', [[lo, 1, 0]]],
    ['c', 'counter rows not sorted', [[hi, 1, 0, 1], [lo, 1, 0, 1]]],
    ['c', 'counter negative', [[lo, -5, 0, 1]]],
    ['c', 'counter bigint total', [[lo, 2n ** 63n, 0, 1]]],
    ['c', 'counter float total', [[lo, 0.5, 0, 1]]],
    ['c', 'counter map', { [lo]: [1, 0, 1] }],
    ['s', 'set member without dots', [[[lo, 1]], [['m', []]]]],
    ['s', 'set dot not covered', [[[lo, 1]], [['m', [[lo, 2]]]]]],
    ['s', 'set members not sorted', [[[lo, 1]], [['n', [[lo, 1]]], ['m', [[lo, 1]]]]]],
    ['s', 'set duplicate member', [[[lo, 2]], [['m', [[lo, 1]]], ['m', [[lo, 2]]]]]],
    ['s', 'set member not text', [[[lo, 1]], [[Uint8Array.of(1), [[lo, 1]]]]]],
    ['s', 'set member invalid UTF-8', [[[lo, 1]], [[new RawText(Uint8Array.of(0xff)), [[lo, 1]]]]]],
    ['s', 'set dots not sorted', [[[lo, 2]], [['m', [[lo, 2], [lo, 1]]]]]]
  ]
  return fc.constantFrom(...cases).map(([tag, label, value]) => ({ tag, label, state: cbor(value) }))
})

const counterEdgeArb = fc.tuple(nodeIdArb, fc.constantFrom(...TOTAL_EDGES), fc.constantFrom(...TOTAL_EDGES), fc.constantFrom(1, ...EVENT_EDGES)).map(([node, p, n, ops]) => ({
  state: encodeCounter({ [node]: { p: Math.abs(p), n: Math.abs(n), ops } }), label: `counter p=${p} n=${n} ops=${ops}`
}))

const setEdgeArb = fc.tuple(setSpecArb, fc.oneof(
  fc.constantFrom(MAX_MEMBER_BYTES, MAX_MEMBER_BYTES + 1, 3000).map(n => ({ member: 'm'.repeat(n) })),
  fc.constantFrom(341, 342).map(n => ({ member: '€'.repeat(n) + 'ab' })),
  fc.constantFrom(...EVENT_EDGES).map(c => ({ counter: c })),
  fc.constantFrom(...EVENT_EDGES).map(c => ({ vvExtra: c }))
)).map(([spec, poison]) => ({ state: buildSet(spec, poison), label: `set ${JSON.stringify(poison).slice(0, 60)}` }))

const manySetArb = fc.tuple(fc.integer({ min: 100, max: 5000 }), fc.integer({ min: 1, max: 5000 })).map(([members, dots]) => {
  const vv: Record<string, number> = { FzS: members + dots }
  const entries = new Map<string, Array<{ node: string, counter: number }>>()
  for (let i = 0; i < members; i++) entries.set(`m${String(i).padStart(6, '0')}`, [{ node: 'FzS', counter: i + 1 }])
  // One member with many concurrent adds (dots of many nodes).
  const many = Array.from({ length: dots }, (_, i) => ({ node: `FzD${String(i).padStart(5, '0')}`, counter: 1 }))
  for (const d of many) vv[d.node] = 1
  entries.set('many-dots', many)
  return { state: encodeOrSet({ vv, entries }), label: `set of ${members} members, one with ${dots} dots` }
})

/** A state carried under the tag of another space. */
const wrongSpaceArb = fc.oneof(
  fc.tuple(registerArb, fc.constantFrom('c', 's')).map(([r, tag]) => ({ tag, state: encodeRegister(r), label: 'register state' })),
  counterArb.map(c => ({ tag: 'r', state: encodeCounter(c), label: 'counter state' })),
  counterArb.map(c => ({ tag: 's', state: encodeCounter(c), label: 'counter state' })),
  setSpecArb.map(s => ({ tag: 'r', state: buildSet(s), label: 'set state' })),
  setSpecArb.map(s => ({ tag: 'c', state: buildSet(s), label: 'set state' }))
).map(x => ({ ...x, label: `${x.label} under ${x.tag}/` }))

// ---- mutations of real states

const FIELD_VALUES: unknown[] = [
  0, 1, -1, 16, 65535, 2 ** 32, MAX_EVENT_COUNTER + 1, Number.MAX_SAFE_INTEGER, 2 ** 53, 1.5, 'x', '', 'Fzfake', new Uint8Array(0), new Uint8Array(7),
  [], [1, 2, 3], [['Fzq', 1]], null, true, 2n ** 64n - 1n, 'F'.repeat(200), MAX_HLC_WALL + 1
]

/** Every array inside a decoded CBOR value, with its path. */
function arraysOf (root: unknown): unknown[][] {
  const out: unknown[][] = []
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const v = stack.pop()
    if (Array.isArray(v)) {
      out.push(v)
      for (const c of v) stack.push(c)
    }
  }
  return out
}

export type DonorState = { storeKey: string, state: Uint8Array }

export function mutate (bytes: Uint8Array, op: string, seed: number): Uint8Array {
  const rng = new Rng(seed)
  const b = Uint8Array.from(bytes)
  switch (op) {
    case 'identity': return b
    case 'bitflip': {
      const flips = 1 + rng.int(3)
      for (let i = 0; i < flips && b.length > 0; i++) { const at = rng.int(b.length); b[at] = (b[at] as number) ^ (1 << rng.int(8)) }
      return b
    }
    case 'byteset': {
      if (b.length > 0) b[rng.int(b.length)] = rng.pick([0x00, 0xff, 0x1b, 0x9f, 0xf6, 0x60, 0x40, 0x80])
      return b
    }
    case 'truncate': return b.subarray(0, rng.int(Math.max(1, b.length)))
    case 'extend': return Buffer.concat([b, rng.bytes(1 + rng.int(8))])
    case 'delete-byte': { const at = rng.int(Math.max(1, b.length)); return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]) }
    case 'insert-byte': { const at = rng.int(b.length + 1); return Buffer.concat([b.subarray(0, at), rng.bytes(1), b.subarray(at)]) }
    case 'swap-fields':
    case 'replace-field':
    case 'drop-field':
    case 'dup-field': {
      let value: unknown
      try { value = decodeGeneric(b) } catch { return b }
      const arrays = arraysOf(value).filter(a => a.length > 0)
      if (arrays.length === 0) return b
      const arr = rng.pick(arrays)
      const i = rng.int(arr.length)
      if (op === 'swap-fields') { const j = rng.int(arr.length); [arr[i], arr[j]] = [arr[j], arr[i]] }
      if (op === 'replace-field') arr[i] = rng.pick(FIELD_VALUES)
      if (op === 'drop-field') arr.splice(i, 1)
      if (op === 'dup-field') arr.splice(i, 0, arr[i])
      return cbor(value)
    }
  }
  return b
}

export const MUTATIONS = ['identity', 'bitflip', 'byteset', 'truncate', 'extend', 'delete-byte', 'insert-byte', 'swap-fields', 'replace-field', 'drop-field', 'dup-field'] as const

const decodeGeneric = (bytes: Uint8Array): unknown => cborgDecode(bytes, { useMaps: false })

const donorMutantArb = (donor: readonly DonorState[]): fc.Arbitrary<{ tag: string, state: Uint8Array, label: string }> =>
  fc.tuple(fc.nat(donor.length - 1), fc.constantFrom(...MUTATIONS), fc.nat(), fc.option(tagArb, { freq: 8 })).map(([i, op, seed, retag]) => {
    const d = donor[i] as DonorState
    return { tag: retag ?? d.storeKey.charAt(0), state: mutate(d.state, op, seed), label: `donor ${d.storeKey.slice(0, 24)} ${op}${retag === null ? '' : ` as ${retag}/`}` }
  })

/** One [storeKey, state] entry of any kind. */
export function entryArb (donor: readonly DonorState[]): fc.Arbitrary<Entry> {
  const withKey = (arb: fc.Arbitrary<{ tag: string, state: Uint8Array, label: string }>): fc.Arbitrary<Entry> =>
    fc.tuple(arb, fc.string({ unit: 'grapheme', maxLength: 4 })).map(([x, name]) => ({ key: (u: string) => `${x.tag}/${u}-${name}`, state: x.state, label: x.label }))
  const tagged = (tag: string) => (x: { state: Uint8Array, label: string }) => ({ ...x, tag })
  return fc.oneof(
    { weight: 4, arbitrary: withKey(registerArb.map(r => ({ tag: 'r', state: encodeRegister(r), label: 'valid register' }))) },
    { weight: 2, arbitrary: withKey(counterArb.map(c => ({ tag: 'c', state: encodeCounter(c), label: 'valid counter' }))) },
    { weight: 2, arbitrary: withKey(setSpecArb.map(s => ({ tag: 's', state: buildSet(s), label: 'valid set' }))) },
    { weight: 6, arbitrary: withKey(registerEdgeArb.map(tagged('r'))) },
    { weight: 2, arbitrary: withKey(counterEdgeArb.map(tagged('c'))) },
    { weight: 2, arbitrary: withKey(setEdgeArb.map(tagged('s'))) },
    { weight: 1, arbitrary: withKey(manySetArb.map(tagged('s'))) },
    { weight: 4, arbitrary: withKey(rawStateArb) },
    { weight: 2, arbitrary: withKey(wrongSpaceArb) },
    { weight: 2, arbitrary: fc.tuple(badKeyArb, registerArb).map(([k, r]) => ({ key: k.key, state: encodeRegister(r), label: `valid register, ${k.label}` })) },
    { weight: 8, arbitrary: withKey(donorMutantArb(donor)) },
    { weight: 1, arbitrary: withKey(fc.tuple(tagArb, fc.uint8Array({ maxLength: 64 })).map(([tag, state]) => ({ tag, state, label: 'random bytes' }))) }
  )
}

// ---- gossip messages

export interface GossipCase {
  label: string
  /** The message bytes for a case whose keys start with `unique`. */
  build: (unique: string) => Uint8Array
}

const envelope = (entries: readonly Entry[], unique: string, version: unknown = 1): Uint8Array =>
  cbor([version, entries.map((e, i) => [e.key(`${unique}.${i}`), e.state])])

export function gossipCaseArb (donor: readonly DonorState[]): fc.Arbitrary<GossipCase> {
  const entries = fc.array(entryArb(donor), { minLength: 1, maxLength: 6 })
  const label = (es: readonly Entry[]): string => es.map(e => e.label).join('; ')
  return fc.oneof(
    { weight: 14, arbitrary: entries.map(es => ({ label: `envelope: ${label(es)}`, build: (u: string) => envelope(es, u) })) },
    {
      weight: 1,
      arbitrary: fc.tuple(entryArb(donor), entryArb(donor)).map(([x, y]) => ({
        label: `one key twice: ${x.label}; ${y.label}`,
        build: (u: string) => cbor([1, [[x.key(u), x.state], [x.key(u), y.state]]])
      }))
    },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map(bytes => ({ label: `random bytes (${bytes.length})`, build: () => bytes })) },
    {
      weight: 3,
      arbitrary: fc.tuple(entries, fc.nat()).map(([es, cut]) => ({
        label: `truncated envelope: ${label(es)}`,
        build: (u: string) => { const m = envelope(es, u); return m.subarray(0, cut % m.length) }
      }))
    },
    {
      weight: 2,
      arbitrary: fc.tuple(entries, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([es, tail]) => ({
        label: `envelope then garbage: ${label(es)}`,
        build: (u: string) => Buffer.concat([envelope(es, u), tail])
      }))
    },
    {
      weight: 3,
      arbitrary: fc.tuple(entries, fc.constantFrom<Array<[string, (es: readonly Entry[], u: string) => Uint8Array]>>(
        ['version 2', (es, u) => envelope(es, u, 2)],
        ['version 0', (es, u) => envelope(es, u, 0)],
        ['version "1"', (es, u) => envelope(es, u, '1')],
        ['version 1.5', (es, u) => envelope(es, u, 1.5)],
        ['version as bigint', (es, u) => envelope(es, u, 2n ** 64n - 1n)],
        ['version non-minimal', (es, u) => envelope(es, u, new Wide(1, 8))],
        ['no changes', () => cbor([1])],
        // A third field is a republish tag (a 32-bit unsigned integer); anything else there is not.
        ['tag past 32 bits', (es, u) => cbor([1, es.map((e, i) => [e.key(`${u}.${i}`), e.state]), 2 ** 32])],
        ['changes a map', () => cbor([1, { a: 1 }])],
        ['a map', () => cbor({ 1: [] })],
        ['entry of one', (es, u) => cbor([1, es.map((e, i) => [e.key(`${u}.${i}`)])])],
        ['entry of three', (es, u) => cbor([1, es.map((e, i) => [e.key(`${u}.${i}`), e.state, 0])])],
        ['key as bytes', (es, u) => cbor([1, es.map((e, i) => [utf8(`r/${u}.${i}`), e.state])])],
        ['state as text', (es, u) => cbor([1, es.map((e, i) => [e.key(`${u}.${i}`), 'state'])])],
        ['key a number', (es) => cbor([1, es.map(e => [7, e.state])])],
        ['empty changes', () => cbor([1, []])],
        ['indefinite envelope', (es, u) => cbor(new Indefinite([1, new Indefinite(es.map((e, i) => [e.key(`${u}.${i}`), e.state]))]))],
        ['tagged envelope', (es, u) => Buffer.concat([Uint8Array.of(0xd8, 0x2a), envelope(es, u)])],
        ['deep nesting', () => Buffer.concat([Buffer.alloc(20_000, 0x81), Uint8Array.of(0)])],
        ['huge declared array', () => Uint8Array.of(0x82, 0x01, 0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
        ['huge declared bytes', (es, u) => Buffer.concat([Uint8Array.of(0x82, 0x01, 0x81, 0x82), cbor(es[0]?.key(u) ?? 'r/x'), Uint8Array.of(0x5a, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3)])]
      )).map(([es, [name, fn]]) => ({ label: `bad envelope (${name})`, build: (u: string) => fn(es, u) }))
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 20, max: 200 }).map(n => ({
        label: `${n} small valid states`,
        build: (u: string) => cbor([1, Array.from({ length: n }, (_, i) => [`c/${u}-${i}`, encodeCounter({ FzMany: { p: i, n: 0, ops: 1 } })])])
      }))
    }
  )
}

/** Rare, large or slow cases every run includes once (the generator weights would rarely reach them). */
export function gossipCorners (): GossipCase[] {
  const big = (bytes: number): Uint8Array => Buffer.alloc(bytes, 0x61)
  const reg = (value: string): Uint8Array => encodeRegister(buildRegister(['FzBig'], [{ node: 0, counter: 1, wall: BASE_WALL, logical: 0, value }]))
  return [
    { label: 'value of exactly 1 MiB', build: u => cbor([1, [[`r/${u}`, reg(`"${'x'.repeat(1024 * 1024 - 2)}"`)]]]) },
    { label: 'value of 1 MiB + 1', build: u => cbor([1, [[`r/${u}`, reg(`"${'x'.repeat(1024 * 1024 - 1)}"`)]]]) },
    { label: 'value nested 200000 deep', build: u => cbor([1, [[`r/${u}`, reg(nest(200_000, '[', ']'))]]]) },
    { label: 'message of 2 MiB + 1 (too large)', build: u => cbor([1, [[`r/${u}`, big(2 * 1024 * 1024 - 12)]]]) },
    { label: 'message of 3 MiB (too large, under the gossipsub frame limit)', build: u => cbor([1, [[`r/${u}`, big(3 * 1024 * 1024)]]]) },
    {
      label: 'set of 100001 members',
      build: u => {
        const entries = new Map<string, Array<{ node: string, counter: number }>>()
        for (let i = 0; i <= 100_000; i++) entries.set(`${i}`, [{ node: 'FzS', counter: i + 1 }])
        return cbor([1, [[`s/${u}`, encodeOrSet({ vv: { FzS: 100_001 }, entries })]]])
      }
    }
  ]
}

// ---- digest announcements

export interface DigestIds { a: string, b: string, hostile: string }
export interface DigestCase { label: string, build: (ids: DigestIds, at: number) => Uint8Array }

export const digestCaseArb: fc.Arbitrary<DigestCase> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      sender: fc.constantFrom('b', 'hostile', 'a', 'stranger', 'long128', 'long129', 'number', 'empty', 'bytes'),
      root: fc.constantFrom('random', 'zeros', 'short', 'long', 'text', 'none'),
      keys: fc.constantFrom<unknown>(0, 1, 12_345, Number.MAX_SAFE_INTEGER, -1, 1.5, 2 ** 53, 'x', null),
      arity: fc.constantFrom(4, 4, 4, 3, 5),
      bytes: fc.uint8Array({ minLength: 17, maxLength: 17 })
    }).map(c => ({
      label: `digest sender=${c.sender} root=${c.root} keys=${String(c.keys)} arity=${c.arity}`,
      build: (ids: DigestIds, at: number) => {
        const sender = { b: ids.b, hostile: ids.hostile, a: ids.a, stranger: `12D3KooW${'x'.repeat(44)}`, long128: 'F'.repeat(128), long129: 'F'.repeat(129), number: 5, empty: '', bytes: Uint8Array.of(1) }[c.sender]
        const root = { random: c.bytes.subarray(0, 16), zeros: new Uint8Array(16), short: c.bytes.subarray(0, 15), long: c.bytes, text: 'root', none: null }[c.root]
        const fields: unknown[] = [root, c.keys, sender, at]
        return cbor(c.arity === 4 ? fields : c.arity === 3 ? fields.slice(0, 3) : [...fields, 0])
      }
    }))
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map(bytes => ({ label: 'digest: random bytes', build: (_ids: DigestIds, at: number) => Buffer.concat([bytes, Buffer.from(String(at))]) })) },
  { weight: 1, arbitrary: fc.constant({ label: 'digest: a map', build: (_ids: DigestIds, at: number) => cbor({ root: 1, at }) }) }
)

// ---- anti-entropy

/** The hostile side's role: it dials the node (initiator), or the node dials it (responder). */
export type AeRole = 'initiator' | 'responder'
/** What the node must make of the case: a violation (reset), a refusal, success, or anything (only the invariants hold). */
/** 'interrupted': the stream ends without proof of a lie (the peer closed mid-exchange): a reset, no penalty. */
export type AeExpect = 'violation' | 'interrupted' | 'refused' | 'busy' | 'ok' | 'any'

export interface ScriptCase { kind: 'script', role: AeRole, name: string, expect: AeExpect, seed: number }

export const SESSION_OPS = [
  'none', 'drop', 'duplicate', 'bitflip', 'truncate', 'append', 'retype', 'field', 'swap-fields', 'inject-before',
  'parts-lie', 'states-forged', 'states-reorder', 'states-repeat', 'states-invent', 'invent-entries', 'invent-want',
  'close', 'reset', 'delay'
] as const
export type SessionOp = typeof SESSION_OPS[number]

export const PART_LIES = ['honest', 'skip', 'overlap', 'total-grow', 'key-switch', 'interrupt', 'nonzero-start', 'over-max', 'big-total', 'garbage-state', 'wrong-key'] as const
export type PartLie = typeof PART_LIES[number]

export interface SessionCase {
  kind: 'session'
  role: AeRole
  expect: 'any'
  /** Outgoing frame (0-based) the mutation hits. */
  at: number
  op: SessionOp
  partLie: PartLie
  /** Frames sent a few bytes at a time. */
  trickle: boolean
  /** Flip hash bytes in frames the node sends, so the session lies consistently about its tree. */
  flipIn: boolean
  /** States only the hostile side holds this time (valid and forged); `nearNode`: in a bucket the node holds keys in. */
  extras: Array<{ entry: Entry, nearNode: boolean }>
  /** Smaller STATES frames, so that more frames (and parts) travel. */
  smallFrames: boolean
  seed: number
}

export type AeCase = ScriptCase | SessionCase

/** Scripts for the hostile initiator (the node responds), with what the node must make of them. */
export const INITIATOR_SCRIPTS: Record<string, AeExpect> = {
  garbage: 'violation',
  'unknown-type': 'violation',
  'bad-hello': 'violation',
  'first-frame': 'violation',
  'oversize-prefix': 'violation',
  'bad-varint': 'violation',
  'parts-first': 'violation',
  'empty-states-then-close': 'violation',
  'after-hello:level-skip': 'violation',
  'after-hello:not-ascending': 'violation',
  'after-hello:out-of-range': 'violation',
  'after-hello:hashes-short': 'violation',
  'after-hello:entries-early': 'violation',
  'after-hello:want-early': 'violation',
  'after-hello:hello-again': 'violation',
  'after-hello:busy': 'violation',
  'after-hello:refused': 'violation',
  'after-hello:done-bad-level': 'violation',
  'after-hello:done-out-of-range': 'violation',
  'after-hello:states-unasked': 'violation',
  'after-hello:part-unasked': 'violation',
  'after-hello:close': 'interrupted',
  'after-hello:done': 'ok'
}

/** Scripts for the hostile responder (the node initiates). */
export const RESPONDER_SCRIPTS: Record<string, AeExpect> = {
  garbage: 'violation',
  'unknown-type': 'violation',
  'oversize-prefix': 'violation',
  'first:entries': 'violation',
  'first:want': 'violation',
  'first:hello': 'violation',
  'first:states': 'violation',
  'first:part': 'violation',
  'first:nodes-level1': 'violation',
  'first:nodes-index1': 'violation',
  'first:nodes-short': 'violation',
  'first:done-bad-level': 'violation',
  'first:refused-0': 'violation',
  'first:refused-n': 'refused',
  'first:busy': 'busy',
  'first:done-in-sync': 'ok',
  'first:done-pull-all': 'ok',
  'first:done-pull-twice': 'violation',
  'first:close': 'interrupted',
  'nodes-then-garbage': 'violation'
}

export function aeCaseArb (role: AeRole, donor: readonly DonorState[]): fc.Arbitrary<AeCase> {
  const scripts = role === 'initiator' ? INITIATOR_SCRIPTS : RESPONDER_SCRIPTS
  const script: fc.Arbitrary<AeCase> = fc.tuple(fc.constantFrom(...Object.keys(scripts)), fc.nat())
    .map(([name, seed]) => ({ kind: 'script', role, name, expect: scripts[name] as AeExpect, seed }))
  const session: fc.Arbitrary<AeCase> = fc.record({
    at: fc.nat(9),
    op: fc.constantFrom(...SESSION_OPS),
    partLie: fc.constantFrom(...PART_LIES),
    trickle: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    flipIn: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    extras: fc.array(fc.record({ entry: entryArb(donor), nearNode: fc.boolean() }), { maxLength: 4 }),
    smallFrames: fc.boolean(),
    seed: fc.nat()
  }).map(s => ({ kind: 'session', role, expect: 'any', ...s }))
  return fc.oneof({ weight: 2, arbitrary: script }, { weight: 3, arbitrary: session })
}

