/**
 * Packing encoded changes into frames of a bounded size: gossip messages and replicate PUSH
 * frames carry the same [storeKey, state] pairs under the same kind of bound. Pure.
 */
import type { EncodedChange } from './types.js'

/** Bytes of framing per frame and per change, bounded generously. */
const OVERHEAD = 16

/** Split changes into groups of at most `maxBytes` each (a single larger change gets its own). */
export function packChanges (changes: EncodedChange[], maxBytes: number): EncodedChange[][] {
  const groups: EncodedChange[][] = []
  let current: EncodedChange[] = []
  let size = OVERHEAD
  for (const change of changes) {
    const bytes = change.state.byteLength + Buffer.byteLength(change.storeKey) + OVERHEAD
    if (current.length > 0 && size + bytes > maxBytes) {
      groups.push(current)
      current = []
      size = OVERHEAD
    }
    current.push(change)
    size += bytes
  }
  if (current.length > 0) groups.push(current)
  return groups
}
