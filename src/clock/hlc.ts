/**
 * Hybrid logical clock (Kulkarni et al., 2014): physical milliseconds plus a logical counter,
 * so timestamps follow causality even when physical clocks disagree a little, and stay close
 * to real time. Pure: the physical clock is injected.
 */
import { MAX_HLC_LOGICAL, MAX_HLC_WALL } from '../constants.js'

export interface Hlc {
  /** Physical component, milliseconds since the Unix epoch. */
  readonly wall: number
  /** Logical component: orders events within the same millisecond. */
  readonly logical: number
}

export const ZERO_HLC: Hlc = Object.freeze({ wall: 0, logical: 0 })

export function compareHlc (a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1
  return 0
}

/** `wall:logical`, the form shown to users (e.g. `1795875390123:0`). */
export function formatHlc (hlc: Hlc): string {
  return `${hlc.wall}:${hlc.logical}`
}

/** Within the documented bounds (constants.ts): the only timestamps a node stores or accepts. */
export function isValidHlc (hlc: Hlc): boolean {
  return Number.isSafeInteger(hlc.wall) && hlc.wall >= 0 && hlc.wall <= MAX_HLC_WALL &&
    Number.isSafeInteger(hlc.logical) && hlc.logical >= 0 && hlc.logical <= MAX_HLC_LOGICAL
}

export interface HybridLogicalClockInit {
  /**
   * The physical clock.
   * @default Date.now
   */
  now?: () => number
  /**
   * How far (ms) a remote timestamp may be ahead of our physical clock before we refuse to let
   * it move our clock. Without this one node with a bad clock drags every clock forward.
   * @default 60_000
   */
  maxDriftMs?: number
}

export const DEFAULT_MAX_DRIFT_MS = 60_000

export class HybridLogicalClock {
  private readonly physical: () => number
  readonly maxDriftMs: number
  private last: Hlc = ZERO_HLC

  constructor (init: HybridLogicalClockInit = {}) {
    this.physical = init.now ?? Date.now
    this.maxDriftMs = init.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS
  }

  /** Physical time as the clock sees it (for drift checks by callers). */
  physicalNow (): number {
    return this.physical()
  }

  /**
   * A timestamp for a local event, strictly greater than every timestamp issued or observed —
   * unless the last one lies further than `maxDriftMs` ahead of the physical clock. That happens
   * only when the physical clock stepped back (a correction by clock/cluster-time.ts, or a jump):
   * continuing from the bad future time would stamp every write with it for as long as the error
   * was, so the clock restarts from the physical time. Causality does not depend on the HLC —
   * dots and version vectors order writes; the HLC only picks among concurrent ones.
   * A logical counter at its bound carries into the next millisecond, so no timestamp this
   * clock issues is ever outside isValidHlc.
   */
  tick (): Hlc {
    const pt = this.physical()
    const last = this.last
    if (pt > last.wall || last.wall > pt + this.maxDriftMs) this.last = { wall: pt, logical: 0 }
    else if (last.logical >= MAX_HLC_LOGICAL) this.last = { wall: last.wall + 1, logical: 0 }
    else this.last = { wall: last.wall, logical: last.logical + 1 }
    return this.last
  }

  /**
   * The wall time the next tick() would start from, without issuing a timestamp: what reads
   * compare expiry instants with (causal/expiry.ts), so a node never reads a version as expired
   * before its own next write's time, nor lives behind a clock it has already observed.
   */
  wallNow (): number {
    const pt = this.physical()
    const last = this.last.wall
    return last > pt + this.maxDriftMs ? pt : Math.max(pt, last)
  }

  /**
   * Whether a remote timestamp is within the allowed drift of our physical clock: only those
   * move our clock (see observe).
   */
  isPlausible (remote: Hlc): boolean {
    return isValidHlc(remote) && remote.wall <= this.physical() + this.maxDriftMs
  }

  /**
   * Fold a remote timestamp into the clock so later local events order after it.
   * Timestamps beyond the allowed drift, or outside the bounds, are ignored for this purpose:
   * they never drag the clock.
   */
  observe (remote: Hlc): void {
    if (!this.isPlausible(remote)) return
    if (compareHlc(remote, this.last) > 0) this.last = remote
  }
}
