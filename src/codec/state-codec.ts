/**
 * Disk and wire encodings of the three replicated state types. States are encoded as CBOR
 * arrays (never maps keyed by user data, so no key can collide with an object's prototype)
 * in canonical order; decoding validates every field and throws CorruptDataError.
 *
 * Equal states must be equal bytes (leaf hashes, digests), so decoding accepts only the one
 * encoding we would write: the reader (canonical-cbor.ts) refuses non-minimal integers, floats,
 * indefinite lengths and invalid UTF-8 as it reads, and the checks below refuse unsorted or
 * duplicate entries. Together they make decode(bytes) re-encode to `bytes` exactly, which the
 * codec tests check on random and mutated states, so nothing is re-encoded to prove it.
 */
import type { Dot, RegisterState, Sibling, VersionVector } from '../causal/index.js'
import { vvGet } from '../causal/index.js'
import type { CounterEntry, CounterState, Lifetime, OrSetState } from '../crdt/index.js'
import { counterLife, isFirstLife, setLife, withCounterLife } from '../crdt/index.js'
import { MAX_HLC_WALL, MAX_TTL_MS } from '../constants.js'
import { CorruptDataError } from '../errors.js'
import { decodeCanonical, encodeCanonical, type CanonicalValue } from './canonical-cbor.js'

/** Node ids are libp2p peer ids (base58btc); tests may use short ids like `a`. */
const NODE_ID = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/

type VvPairs = Array<[string, number]>

export function encodeVv (vv: VersionVector): VvPairs {
  return Object.keys(vv).sort().map(node => [node, vv[node] as number])
}

function isCount (n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

function fail (what: string, why: string): never {
  throw new CorruptDataError(`${what}: ${why}`)
}

export function decodeVv (raw: unknown, what: string): VersionVector {
  if (!Array.isArray(raw)) fail(what, 'version vector is not an array')
  const vv: Record<string, number> = Object.create(null)
  let previous = ''
  for (const pair of raw) {
    if (!Array.isArray(pair) || pair.length !== 2) fail(what, 'bad version vector entry')
    const [node, n] = pair as [unknown, unknown]
    if (typeof node !== 'string' || !NODE_ID.test(node)) fail(what, 'bad node id')
    if (!isCount(n) || n < 1) fail(what, 'bad counter')
    if (node <= previous) fail(what, 'version vector not in canonical order')
    previous = node
    vv[node] = n
  }
  return { ...vv }
}

export function decodeDot (raw: unknown, what: string): Dot {
  if (!Array.isArray(raw) || raw.length !== 2) fail(what, 'bad dot')
  const [node, counter] = raw as [unknown, unknown]
  if (typeof node !== 'string' || !NODE_ID.test(node)) fail(what, 'bad node id')
  if (!isCount(counter) || counter < 1) fail(what, 'bad counter')
  return { node, counter }
}

// ---- registers: [vv, [[node, counter, wall, logical, value?, expiresAt?], ...]]
// A sibling without an expiry has no sixth element, so states written before expiry existed
// (and every state without one) keep exactly their bytes, their leaf hashes and their digests.

function encodeSibling (s: Sibling): CanonicalValue[] {
  if (s.value === undefined) return [s.node, s.counter, s.hlc.wall, s.hlc.logical]
  if (s.expiresAt === undefined) return [s.node, s.counter, s.hlc.wall, s.hlc.logical, s.value]
  return [s.node, s.counter, s.hlc.wall, s.hlc.logical, s.value, s.expiresAt]
}

export function encodeRegister (state: RegisterState): Uint8Array {
  return encodeCanonical([encodeVv(state.vv), state.siblings.map(encodeSibling)])
}

export function decodeRegister (bytes: Uint8Array): RegisterState {
  const what = 'register state'
  const raw = decodeCanonical(bytes, what)
  if (!Array.isArray(raw) || raw.length !== 2 || !Array.isArray(raw[1])) fail(what, 'not [vv, siblings]')
  const vv = decodeVv(raw[0], what)
  const siblings: Sibling[] = []
  for (const s of raw[1] as unknown[]) {
    if (!Array.isArray(s) || s.length < 4 || s.length > 6) fail(what, 'bad sibling')
    const [node, counter, wall, logical, value, expiresAt] = s as unknown[]
    const dot = decodeDot([node, counter], what)
    if (!isCount(wall) || !isCount(logical)) fail(what, 'bad timestamp')
    if (value !== undefined && typeof value !== 'string') fail(what, 'bad value')
    if (dot.counter > vvGet(vv, dot.node)) fail(what, 'sibling not covered by its version vector')
    if (expiresAt !== undefined) {
      // Only as a write makes it: a value, 1 to MAX_TTL_MS after its own timestamp.
      if (typeof value !== 'string' || !isCount(expiresAt) || expiresAt <= wall || expiresAt - wall > MAX_TTL_MS) fail(what, 'bad expiry')
      siblings.push({ ...dot, hlc: { wall, logical }, value, expiresAt })
      continue
    }
    siblings.push(value === undefined
      ? { ...dot, hlc: { wall, logical } }
      : { ...dot, hlc: { wall, logical }, value })
  }
  for (let i = 1; i < siblings.length; i++) {
    const a = siblings[i - 1] as Sibling
    const b = siblings[i] as Sibling
    if (a.node > b.node || (a.node === b.node && a.counter >= b.counter)) fail(what, 'siblings not in canonical order')
  }
  return { vv, siblings }
}

// ---- key lifetimes (expiring counters and sets, crdt/lifetime.ts): gen, then expiresAt if any.
// Absent for the first life without an end, so those states keep exactly their bytes.

function encodeLife (life: Lifetime): number[] {
  return life.expiresAt === undefined ? [life.gen] : [life.gen, life.expiresAt]
}

/** Only as writes make them: gen ≥ 1 without an end, an end after gen, both within the bounds. */
function decodeLife (raw: unknown[], what: string): Lifetime {
  const [gen, expiresAt] = raw
  // A generation is a past instant (the end of the life before), so it is a valid HLC wall time;
  // bounding it there keeps the next end (gen + 1 at least) encodable.
  if (!isCount(gen) || gen > MAX_HLC_WALL) fail(what, 'bad generation')
  if (expiresAt === undefined) {
    if (gen === 0) fail(what, 'lifetime not in canonical form')
    return { gen }
  }
  if (!isCount(expiresAt) || expiresAt <= gen || expiresAt > MAX_LIFE_INSTANT) fail(what, 'bad expiry')
  return { gen, expiresAt }
}

/** The latest instant a write can put in a lifetime: the latest HLC time plus the longest ttl. */
const MAX_LIFE_INSTANT = MAX_HLC_WALL + MAX_TTL_MS

// ---- counters: [[node, p, n, ops], ...], or with a lifetime [[[node, p, n, ops], ...], gen, expiresAt?]

export function encodeCounter (state: CounterState): Uint8Array {
  const rows = Object.keys(state).sort().map(node => {
    const e = state[node] as CounterEntry
    return [node, e.p, e.n, e.ops]
  })
  const life = counterLife(state)
  return encodeCanonical(isFirstLife(life) ? rows : [rows, ...encodeLife(life)])
}

export function decodeCounter (bytes: Uint8Array): CounterState {
  const what = 'counter state'
  const decoded = decodeCanonical(bytes, what)
  if (!Array.isArray(decoded)) fail(what, 'not an array')
  // With a lifetime the second element is a number; without, every element is a row (an array).
  const hasLife = typeof decoded[1] === 'number'
  if (hasLife && (decoded.length > 3 || !Array.isArray(decoded[0]))) fail(what, 'bad lifetime')
  const raw = hasLife ? decoded[0] as unknown[] : decoded
  const out: Record<string, CounterEntry> = Object.create(null)
  let previous = ''
  for (const row of raw) {
    if (!Array.isArray(row) || row.length !== 4) fail(what, 'bad entry')
    const [node, p, n, ops] = row as unknown[]
    if (typeof node !== 'string' || !NODE_ID.test(node)) fail(what, 'bad node id')
    if (node <= previous) fail(what, 'entries not in canonical order')
    previous = node
    if (!isCount(p) || !isCount(n) || !isCount(ops)) fail(what, 'bad totals')
    out[node] = { p, n, ops }
  }
  return hasLife ? withCounterLife(out, decodeLife(decoded.slice(1), what)) : { ...out }
}

// ---- sets: [vv, [[member, [[node, counter], ...]], ...]], with a lifetime: then gen, expiresAt?

export function encodeOrSet (state: OrSetState): Uint8Array {
  const members = [...state.entries.keys()].sort()
  const life = setLife(state)
  return encodeCanonical([
    encodeVv(state.vv),
    members.map(m => [m, (state.entries.get(m) ?? []).map(d => [d.node, d.counter])]),
    ...(isFirstLife(life) ? [] : encodeLife(life))
  ])
}

export function decodeOrSet (bytes: Uint8Array): OrSetState {
  const what = 'set state'
  const raw = decodeCanonical(bytes, what)
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 4 || !Array.isArray(raw[1])) fail(what, 'not [vv, entries]')
  const vv = decodeVv(raw[0], what)
  const entries = new Map<string, readonly Dot[]>()
  let previous: string | undefined
  for (const row of raw[1] as unknown[]) {
    if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string' || !Array.isArray(row[1])) fail(what, 'bad entry')
    const member = row[0] as string
    if (previous !== undefined && member <= previous) fail(what, 'members not in canonical order')
    previous = member
    const dots = (row[1] as unknown[]).map(d => decodeDot(d, what))
    if (dots.length === 0) fail(what, 'member without dots')
    for (const d of dots) if (d.counter > vvGet(vv, d.node)) fail(what, 'dot not covered by its version vector')
    for (let i = 1; i < dots.length; i++) {
      const a = dots[i - 1] as Dot
      const b = dots[i] as Dot
      if (a.node > b.node || (a.node === b.node && a.counter >= b.counter)) fail(what, 'dots not in canonical order')
    }
    entries.set(member, dots)
  }
  return raw.length === 2 ? { vv, entries } : { vv, entries, life: decodeLife(raw.slice(2), what) }
}

// ---- bare version vectors (collected-key records on disk)

export function encodeVersionVector (vv: VersionVector): Uint8Array {
  return encodeCanonical(encodeVv(vv))
}

export function decodeVersionVector (bytes: Uint8Array, what: string): VersionVector {
  return decodeVv(decodeCanonical(bytes, what), what)
}
