/**
 * Disk and wire encoding of map states (crdt/or-map.ts), canonical like state-codec.ts: equal
 * states are equal bytes, and decoding accepts only the one encoding we would write.
 *
 *   [vv, [[path, tag, payload], ...]]            leaves sorted by path (name by name), then tag
 *   tag "r": [[node, counter, wall, logical, json], ...]   siblings, sorted by dot
 *   tag "c": [[node, counter, p, n], ...]                  one share per node, sorted
 *   tag "s": [[member, [[node, counter], ...]], ...]       members sorted, dots sorted
 *
 * Nested maps are the paths' prefixes, so the encoding nests no deeper whatever the nesting
 * (the canonical reader allows 8 levels). Decoding also checks what a hostile peer could abuse:
 * path length and name bytes, the number of fields, dots covered by the version vector and
 * used once in the whole map.
 */
import { compareDots, vvGet, type Dot, type VersionVector } from '../causal/index.js'
import { MAX_MAP_DEPTH, MAX_MAP_FIELD_NAME_BYTES, MAX_MAP_STATE_FIELDS } from '../constants.js'
import { leafId, type CounterShare, type MapLeaf, type MapLeafType, type MapSibling, type OrMapState } from '../crdt/or-map.js'
import { CorruptDataError } from '../errors.js'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from './canonical-cbor.js'
import { decodeDot, decodeVv, encodeVv } from './state-codec.js'

const WHAT = 'map state'
const TAGS: Readonly<Record<MapLeafType, string>> = { register: 'r', counter: 'c', set: 's' }
const TYPES: Readonly<Record<string, MapLeafType>> = { r: 'register', c: 'counter', s: 'set' }

function fail (why: string): never {
  throw new CorruptDataError(`${WHAT}: ${why}`)
}

function isCount (n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/** Canonical leaf order: path name by name (a prefix first), then tag. */
export function compareLeaves (a: { path: readonly string[], tag: string }, b: { path: readonly string[], tag: string }): number {
  const n = Math.min(a.path.length, b.path.length)
  for (let i = 0; i < n; i++) {
    const x = a.path[i] as string
    const y = b.path[i] as string
    if (x !== y) return x < y ? -1 : 1
  }
  if (a.path.length !== b.path.length) return a.path.length - b.path.length
  return a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0
}

function payloadOf (leaf: MapLeaf): CanonicalValue[] {
  switch (leaf.type) {
    case 'register': return leaf.siblings.map(s => [s.node, s.counter, s.hlc.wall, s.hlc.logical, s.value])
    case 'counter': return leaf.shares.map(s => [s.node, s.counter, s.p, s.n])
    case 'set': return [...leaf.members.keys()].sort().map(m => [m, (leaf.members.get(m) ?? []).map(d => [d.node, d.counter])])
  }
}

export function encodeOrMap (state: OrMapState): Uint8Array {
  const leaves = [...state.leaves.values()]
    .map(leaf => ({ leaf, path: leaf.path, tag: TAGS[leaf.type] }))
    .sort(compareLeaves)
    .map(({ leaf, tag }) => [[...leaf.path], tag, payloadOf(leaf)])
  return encodeCanonical([encodeVv(state.vv), leaves])
}

/** Checks each dot: covered by the map's vector, never used twice in the map. */
class DotCheck {
  private readonly seen = new Set<string>()
  constructor (private readonly vv: VersionVector) {}

  take (raw: unknown): Dot {
    const dot = decodeDot(raw, WHAT)
    if (dot.counter > vvGet(this.vv, dot.node)) fail('dot not covered by its version vector')
    const id = `${dot.counter}@${dot.node}`
    if (this.seen.has(id)) fail('a dot used twice')
    this.seen.add(id)
    return dot
  }
}

function sortedByDot (dots: readonly Dot[]): void {
  for (let i = 1; i < dots.length; i++) if (compareDots(dots[i - 1] as Dot, dots[i] as Dot) >= 0) fail('dots not in canonical order')
}

function decodePath (raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_MAP_DEPTH) fail(`a path must hold 1 to ${MAX_MAP_DEPTH} names`)
  for (const name of raw) {
    if (typeof name !== 'string' || name.length === 0) fail('a field name must be a non-empty text')
    if (Buffer.byteLength(name, 'utf8') > MAX_MAP_FIELD_NAME_BYTES) fail(`a field name above ${MAX_MAP_FIELD_NAME_BYTES} bytes`)
  }
  return raw as string[]
}

function decodeSiblings (rows: unknown[], dots: DotCheck): MapSibling[] {
  const out = rows.map(row => {
    if (!Array.isArray(row) || row.length !== 5) fail('bad sibling')
    const [node, counter, wall, logical, value] = row as unknown[]
    const dot = dots.take([node, counter])
    if (!isCount(wall) || !isCount(logical)) fail('bad timestamp')
    if (typeof value !== 'string') fail('bad value')
    return { ...dot, hlc: { wall, logical }, value }
  })
  sortedByDot(out)
  return out
}

function decodeShares (rows: unknown[], dots: DotCheck): CounterShare[] {
  const out = rows.map(row => {
    if (!Array.isArray(row) || row.length !== 4) fail('bad counter share')
    const [node, counter, p, n] = row as unknown[]
    const dot = dots.take([node, counter])
    if (!isCount(p) || !isCount(n)) fail('bad totals')
    return { ...dot, p, n }
  })
  for (let i = 1; i < out.length; i++) if ((out[i - 1] as CounterShare).node >= (out[i] as CounterShare).node) fail('counter shares not one per node in order')
  return out
}

function decodeMembers (rows: unknown[], dots: DotCheck): Map<string, readonly Dot[]> {
  const out = new Map<string, readonly Dot[]>()
  let previous: string | undefined
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string' || !Array.isArray(row[1]) || row[1].length === 0) fail('bad member')
    const member = row[0] as string
    if (previous !== undefined && member <= previous) fail('members not in canonical order')
    previous = member
    const memberDots = (row[1] as unknown[]).map(d => dots.take(d))
    sortedByDot(memberDots)
    out.set(member, memberDots)
  }
  return out
}

function decodeLeaf (raw: unknown, dots: DotCheck): MapLeaf {
  if (!Array.isArray(raw) || raw.length !== 3) fail('a field must be [path, tag, payload]')
  const [pathRaw, tag, payload] = raw as unknown[]
  const path = decodePath(pathRaw)
  const type = typeof tag === 'string' && Object.hasOwn(TYPES, tag) ? TYPES[tag] : undefined
  if (type === undefined) fail('unknown field type')
  if (!Array.isArray(payload) || payload.length === 0) fail('an empty field')
  switch (type) {
    case 'register': return { type, path, siblings: decodeSiblings(payload, dots) }
    case 'counter': return { type, path, shares: decodeShares(payload, dots) }
    case 'set': return { type, path, members: decodeMembers(payload, dots) }
  }
}

/** Throws CorruptDataError for anything but the canonical encoding of a valid, bounded map. */
export function decodeOrMap (bytes: Uint8Array): OrMapState {
  const raw = decodeCanonical(bytes, WHAT)
  if (!Array.isArray(raw) || raw.length !== 2 || !Array.isArray(raw[1])) fail('not [vv, fields]')
  const vv = decodeVv(raw[0], WHAT)
  const rows = raw[1] as unknown[]
  if (rows.length > MAX_MAP_STATE_FIELDS) fail(`more than ${MAX_MAP_STATE_FIELDS} fields`)
  const dots = new DotCheck(vv)
  const leaves = new Map<string, MapLeaf>()
  let previous: { path: readonly string[], tag: string } | undefined
  for (const row of rows) {
    const leaf = decodeLeaf(row, dots)
    const key = { path: leaf.path, tag: TAGS[leaf.type] }
    if (previous !== undefined && compareLeaves(previous, key) >= 0) fail('fields not in canonical order')
    previous = key
    leaves.set(leafId(leaf.path, leaf.type), leaf)
  }
  return { vv, leaves }
}
