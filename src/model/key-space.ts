/**
 * Four key spaces, one per replicated type, that never collide: a register `a`, a counter `a`,
 * a set `a` and a map `a` are four different things. Internally a key is addressed by its space and
 * name; on disk and in the Merkle tree by the "store key": a one-character tag, `/`, the name.
 */
import type { VersionVector } from '../causal/index.js'
import { EMPTY_REGISTER, mergeRegisters, type RegisterState } from '../causal/index.js'
import { decodeCounter, decodeOrSet, decodeRegister, encodeCounter, encodeOrSet, encodeRegister } from '../codec/index.js'
import { decodeOrMap, encodeOrMap } from '../codec/index.js'
import { counterContext, EMPTY_COUNTER, EMPTY_OR_SET, mergeCounters, mergeOrSets, type CounterState, type OrSetState } from '../crdt/index.js'
import { EMPTY_OR_MAP, mergeOrMaps, orMapContext, type OrMapState } from '../crdt/index.js'

export type KeySpace = 'kv' | 'counter' | 'set' | 'map'
export const KEY_SPACES: readonly KeySpace[] = ['kv', 'counter', 'set', 'map']

export interface StateBySpace {
  kv: RegisterState
  counter: CounterState
  set: OrSetState
  map: OrMapState
}

/** Everything generic code (replica, gossip, anti-entropy) needs to know about a type. */
export interface SpaceType<S> {
  readonly space: KeySpace
  /** One character; the store key prefix. */
  readonly tag: string
  readonly empty: S
  merge: (a: S, b: S) => S
  encode: (state: S) => Uint8Array
  /** Throws CorruptDataError. */
  decode: (bytes: Uint8Array) => S
  /** What the state has seen, for `after` waits. */
  context: (state: S) => VersionVector
}

export const SPACE_TYPES: { readonly [K in KeySpace]: SpaceType<StateBySpace[K]> } = {
  kv: {
    space: 'kv',
    tag: 'r',
    empty: EMPTY_REGISTER,
    merge: (a, b) => mergeRegisters(a, b),
    encode: encodeRegister,
    decode: decodeRegister,
    context: s => s.vv
  },
  counter: {
    space: 'counter',
    tag: 'c',
    empty: EMPTY_COUNTER,
    merge: mergeCounters,
    encode: encodeCounter,
    decode: decodeCounter,
    context: counterContext
  },
  set: {
    space: 'set',
    tag: 's',
    empty: EMPTY_OR_SET,
    merge: mergeOrSets,
    encode: encodeOrSet,
    decode: decodeOrSet,
    context: s => s.vv
  },
  map: {
    space: 'map',
    tag: 'm',
    empty: EMPTY_OR_MAP,
    merge: mergeOrMaps,
    encode: encodeOrMap,
    decode: decodeOrMap,
    context: orMapContext
  }
}

const SPACE_BY_TAG: Readonly<Record<string, KeySpace>> = { r: 'kv', c: 'counter', s: 'set', m: 'map' }

/** `r/name`, `c/name`, `s/name`. */
export function toStoreKey (space: KeySpace, key: string): string {
  return `${SPACE_TYPES[space].tag}/${key}`
}

export function fromStoreKey (storeKey: string): { space: KeySpace, key: string } | undefined {
  const space = SPACE_BY_TAG[storeKey.charAt(0)]
  if (space === undefined || storeKey.charAt(1) !== '/' || storeKey.length < 3) return undefined
  return { space, key: storeKey.slice(2) }
}
