/**
 * The hostile-peer kit's own statement of what a node may store (docs/security.md, "Limits"),
 * written apart from src/replica/state-bounds.ts and remote-check.ts so that a bound dropped
 * there is caught here. It decodes with the codec (strict, canonical) and then checks every
 * number, string and nesting against the constants itself.
 *
 * `judge` predicts the reason a node gives for refusing a remote state (the label of
 * chorus_remote_rejected_total), in the order the node checks: key, decoding, value bounds,
 * then each sibling's value (size, JSON, depth).
 */
import type { RegisterState } from '../../src/causal/index.js'
import { decodeCounter, decodeOrSet, decodeRegister } from '../../src/codec/index.js'
import {
  MAX_COUNTER_TOTAL, MAX_EVENT_COUNTER, MAX_HLC_LOGICAL, MAX_HLC_WALL, MAX_KEY_BYTES, MAX_MEMBER_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH
} from '../../src/constants.js'
import type { CounterState, OrSetState } from '../../src/crdt/index.js'

export type Verdict = 'ok' | 'bad-key' | 'corrupt' | 'too-large' | 'out-of-range'
export type Space = 'kv' | 'counter' | 'set'

const SPACES: Record<string, Space> = { r: 'kv', c: 'counter', s: 'set' }

export function spaceOf (storeKey: string): { space: Space, key: string } | undefined {
  const space = SPACES[storeKey.charAt(0)]
  if (space === undefined || storeKey.charAt(1) !== '/' || storeKey.length < 3) return undefined
  return { space, key: storeKey.slice(2) }
}

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8')

function keyOk (key: string): boolean {
  return key.length > 0 && key.isWellFormed() && utf8(key) <= MAX_KEY_BYTES
}

function decode (space: Space, bytes: Uint8Array): unknown {
  switch (space) {
    case 'kv': return decodeRegister(bytes)
    case 'counter': return decodeCounter(bytes)
    case 'set': return decodeOrSet(bytes)
  }
}

const eventOk = (n: number): boolean => Number.isSafeInteger(n) && n >= 1 && n <= MAX_EVENT_COUNTER

function vvOk (vv: Record<string, number>): boolean {
  return Object.values(vv).every(eventOk)
}

/** Deepest nesting of arrays and objects in a parsed JSON value, iteratively (no stack to overflow). */
export function jsonDepth (value: unknown): number {
  let deepest = 0
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number]
    if (v === null || typeof v !== 'object') continue
    const depth = d + 1
    if (depth > deepest) deepest = depth
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth])
  }
  return deepest
}

/** Why a node must refuse this remote state, or 'ok' when it must take it. */
export function judge (storeKey: string, bytes: Uint8Array): Verdict {
  const addr = spaceOf(storeKey)
  if (addr === undefined || !keyOk(addr.key)) return 'bad-key'
  let state: unknown
  try {
    state = decode(addr.space, bytes)
  } catch {
    return 'corrupt'
  }
  switch (addr.space) {
    case 'kv': {
      const s = state as RegisterState
      for (const sib of s.siblings) {
        const { wall, logical } = sib.hlc
        if (!(Number.isSafeInteger(wall) && wall >= 0 && wall <= MAX_HLC_WALL)) return 'out-of-range'
        if (!(Number.isSafeInteger(logical) && logical >= 0 && logical <= MAX_HLC_LOGICAL)) return 'out-of-range'
        if (!eventOk(sib.counter)) return 'out-of-range'
      }
      if (!vvOk(s.vv)) return 'out-of-range'
      for (const sib of s.siblings) {
        if (sib.value === undefined) continue
        if (utf8(sib.value) > MAX_VALUE_BYTES) return 'too-large'
        let parsed: unknown
        try { parsed = JSON.parse(sib.value) } catch { return 'corrupt' }
        if (jsonDepth(parsed) > MAX_VALUE_DEPTH) return 'out-of-range'
      }
      return 'ok'
    }
    case 'counter': {
      for (const e of Object.values(state as CounterState)) {
        if (e.p > MAX_COUNTER_TOTAL || e.n > MAX_COUNTER_TOTAL || e.ops > MAX_EVENT_COUNTER) return 'out-of-range'
      }
      return 'ok'
    }
    case 'set': {
      const s = state as OrSetState
      for (const [member, dots] of s.entries) {
        if (!member.isWellFormed() || utf8(member) > MAX_MEMBER_BYTES) return 'out-of-range'
        if (!dots.every(d => eventOk(d.counter))) return 'out-of-range'
      }
      if (!vvOk(s.vv)) return 'out-of-range'
      return 'ok'
    }
  }
}

/** Whether a node that took this (valid) state stores the key: a new register with no sibling is not written. */
export function storesKey (storeKey: string, bytes: Uint8Array): boolean {
  const addr = spaceOf(storeKey)
  if (addr?.space !== 'kv') return true
  return decodeRegister(bytes).siblings.length > 0
}
