/**
 * The documented bounds on map states (state-bounds.ts explains the two kinds). Value bounds —
 * event counters, HLCs, counter totals, member strings, field names and path lengths — are
 * checked on every state; size bounds — fields, siblings and members per field, nodes, bytes —
 * bind local writes that grow them. A peer's state is bounded by its decoder (codec/map-codec.ts:
 * MAX_MAP_STATE_FIELDS) and by remote-check.ts (MAX_MAP_STATE_BYTES). Pure.
 */
import { isValidHlc } from '../clock/index.js'
import {
  MAX_COUNTER_TOTAL, MAX_EVENT_COUNTER, MAX_MAP_BYTES, MAX_MAP_DEPTH, MAX_MAP_FIELDS, MAX_MAP_STATE_FIELDS, MAX_SET_MEMBERS, MAX_STATE_SIBLINGS, MAX_VV_ENTRIES
} from '../constants.js'
import type { MapLeaf, OrMapState } from '../crdt/index.js'
import { fieldNameProblem, memberProblem } from '../model/index.js'
import type { Size } from './state-bounds.js'

function leafValueProblem (leaf: MapLeaf): string | undefined {
  if (leaf.path.length > MAX_MAP_DEPTH) return `a field nested more than ${MAX_MAP_DEPTH} deep`
  for (const name of leaf.path) {
    const problem = fieldNameProblem(name)
    if (problem !== undefined) return `field name ${problem}`
  }
  switch (leaf.type) {
    case 'register':
      return leaf.siblings.every(s => isValidHlc(s.hlc)) ? undefined : 'timestamp outside the HLC bounds'
    case 'counter':
      return leaf.shares.some(s => s.p > MAX_COUNTER_TOTAL || s.n > MAX_COUNTER_TOTAL) ? `counter total above ${MAX_COUNTER_TOTAL}` : undefined
    case 'set':
      for (const member of leaf.members.keys()) {
        const problem = memberProblem(member)
        if (problem !== undefined) return `member ${problem}`
      }
      return undefined
  }
}

/** Why the map's values lie outside the bounds, or undefined. */
export function mapValueProblem (state: OrMapState): string | undefined {
  // The decoder's bound: two maps in bounds can merge into one past it, which could not be read back.
  if (state.leaves.size > MAX_MAP_STATE_FIELDS) return `more than ${MAX_MAP_STATE_FIELDS} fields`
  for (const n of Object.values(state.vv)) if (n > MAX_EVENT_COUNTER) return `event counter above ${MAX_EVENT_COUNTER}`
  for (const leaf of state.leaves.values()) {
    const problem = leafValueProblem(leaf)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** Bytes a version costs in the encoding besides its strings (its node id's): counter, timestamp or totals, framing. */
const VERSION_BYTES = 20
/** A set member's dot besides its node id, and a field's framing besides its names. */
const DOT_BYTES = 6
const FIELD_BYTES = 6

/**
 * The map's size, for the local bounds. Bytes are counted without encoding the map (a local
 * write would pay for it twice): the UTF-16 lengths of names, values, members and node ids,
 * plus the framing constants above — within about 10 % of the encoding for ASCII text
 * (bench/map-cost.ts prints both).
 */
export function mapSizes (state: OrMapState): Size[] {
  let siblings = 0
  let members = 0
  let bytes = 0
  for (const leaf of state.leaves.values()) {
    bytes += FIELD_BYTES
    for (const name of leaf.path) bytes += name.length + 2
    if (leaf.type === 'register') {
      siblings = Math.max(siblings, leaf.siblings.length)
      for (const s of leaf.siblings) bytes += s.value.length + s.node.length + VERSION_BYTES
    } else if (leaf.type === 'counter') {
      for (const s of leaf.shares) bytes += s.node.length + VERSION_BYTES
    } else {
      members = Math.max(members, leaf.members.size)
      for (const [m, dots] of leaf.members) {
        bytes += m.length + 3
        for (const d of dots) bytes += d.node.length + DOT_BYTES
      }
    }
  }
  return [
    { what: 'fields in the map', limit: MAX_MAP_FIELDS, size: state.leaves.size },
    { what: 'siblings of one register field', limit: MAX_STATE_SIBLINGS, size: siblings },
    { what: 'members of one set field', limit: MAX_SET_MEMBERS, size: members },
    { what: 'nodes in the version vector', limit: MAX_VV_ENTRIES, size: Object.keys(state.vv).length },
    { what: 'bytes in the map', limit: MAX_MAP_BYTES, size: bytes }
  ]
}
