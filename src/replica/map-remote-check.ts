/**
 * What a peer's map state must satisfy besides decoding (codec/map-codec.ts) and the value
 * bounds (map-bounds.ts): every register field's value is JSON that reads back as written,
 * within the size and depth limits of a `kv` value — reads parse every sibling, so one bad
 * value would break them for everyone.
 */
import type { HybridLogicalClock } from '../clock/index.js'
import { MAX_VALUE_BYTES } from '../constants.js'
import type { OrMapState } from '../crdt/index.js'
import { jsonDepthProblem, nonFiniteTextProblem } from '../model/index.js'

export type MapRefusal = 'corrupt' | 'too-large' | 'out-of-range'

function jsonTextRefusal (json: string): MapRefusal | undefined {
  if (Buffer.byteLength(json, 'utf8') > MAX_VALUE_BYTES) return 'too-large'
  let parsed: unknown
  try { parsed = JSON.parse(json) } catch { return 'corrupt' }
  if (jsonDepthProblem(json) !== undefined) return 'out-of-range'
  if (nonFiniteTextProblem(json, parsed) !== undefined) return 'out-of-range'
  return undefined
}

/** Why the map's register values are refused, or undefined; observes their HLCs like kv's. */
export function mapValuesRefusal (state: OrMapState, clock: HybridLogicalClock): MapRefusal | undefined {
  for (const leaf of state.leaves.values()) {
    if (leaf.type !== 'register') continue
    for (const s of leaf.siblings) {
      const refusal = jsonTextRefusal(s.value)
      if (refusal !== undefined) return refusal
    }
  }
  // As for kv (remote-check.ts): a version from our future is taken but may not drag our clock.
  for (const leaf of state.leaves.values()) if (leaf.type === 'register') for (const s of leaf.siblings) clock.observe(s.hlc)
  return undefined
}
