/**
 * The physical time a node stamps its writes with: its system clock, pulled back to the
 * cluster's time when it runs ahead (skew.ts), and watched for jumps.
 *
 * Why it watches: a version stamped far in the future wins every concurrent last-writer-wins
 * read until real time catches up. A system clock can be set forward at any moment (an operator,
 * a VM resumed from a snapshot, a broken NTP step), so the check runs on every read of the clock,
 * not on a timer: the system clock is compared with a monotonic one, and a step between two reads
 * larger than `jumpThresholdMs` is a jump. Every peer offset was measured against the clock as it
 * was before the jump, so each is shifted by the jump, which re-decides the correction before the
 * read returns — no write is stamped with the jumped time when peers say it is wrong.
 *
 * Pure: both clocks are injected. Peer offsets come from the time protocol (node/time-sync.ts).
 */
import { DEFAULT_MAX_DRIFT_MS } from './hlc.js'
import { skewCorrection } from './skew.js'

/** A step of the system clock against the monotonic clock between two reads beyond this is a jump. */
export const DEFAULT_JUMP_THRESHOLD_MS = 1_000

export interface ClusterTimeInit {
  /** The system clock. @default Date.now */
  wall?: () => number
  /** A clock that never jumps (CLOCK_MONOTONIC). @default performance.now */
  monotonic?: () => number
  /** @default DEFAULT_MAX_DRIFT_MS */
  maxDriftMs?: number
  /** @default DEFAULT_JUMP_THRESHOLD_MS */
  jumpThresholdMs?: number
  /** Told whenever the correction changes (for a log line). */
  onCorrection?: (correctionMs: number, previousMs: number) => void
  /** Told whenever the system clock jumps, by how much. */
  onJump?: (jumpMs: number) => void
}

export class ClusterTime {
  private readonly wall: () => number
  private readonly monotonic: () => number
  private readonly maxDriftMs: number
  private readonly jumpThresholdMs: number
  private readonly onCorrection: (correctionMs: number, previousMs: number) => void
  private readonly onJump: (jumpMs: number) => void
  /** Per peer: its system clock minus ours, as last measured. */
  private readonly offsets = new Map<string, number>()
  /** System clock minus monotonic clock at the last read: constant unless the system clock steps. */
  private base: number
  private correction = 0
  private jumpCount = 0

  constructor (init: ClusterTimeInit = {}) {
    this.wall = init.wall ?? Date.now
    this.monotonic = init.monotonic ?? (() => performance.now())
    this.maxDriftMs = init.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS
    this.jumpThresholdMs = init.jumpThresholdMs ?? DEFAULT_JUMP_THRESHOLD_MS
    this.onCorrection = init.onCorrection ?? (() => {})
    this.onJump = init.onJump ?? (() => {})
    this.base = this.wall() - this.monotonic()
  }

  /** The system clock, after checking it for a jump: what peers are told and offsets refer to. */
  raw (): number {
    const wall = this.wall()
    const base = wall - this.monotonic()
    const step = base - this.base
    this.base = base
    if (Math.abs(step) > this.jumpThresholdMs) this.jumped(step)
    return wall
  }

  /** The time to stamp writes with: the system clock plus the correction. */
  now (): number {
    const raw = this.raw()
    return raw + this.correction
  }

  /** How far (ms, ≤ 0) writes are pulled back from the system clock. */
  get correctionMs (): number {
    return this.correction
  }

  /** System clock jumps seen since start. */
  get jumps (): number {
    return this.jumpCount
  }

  /** Peers whose offsets are known. */
  get samples (): number {
    return this.offsets.size
  }

  /** A peer's clock minus ours, measured now (by the caller, against `raw()`). */
  addSample (peer: string, offsetMs: number): void {
    if (!Number.isFinite(offsetMs)) throw new RangeError(`offset of ${peer} is not a finite number: ${offsetMs}`)
    this.offsets.set(peer, offsetMs)
    this.decide()
  }

  /** A peer that is no longer connected no longer has a say. */
  dropPeer (peer: string): void {
    if (this.offsets.delete(peer)) this.decide()
  }

  private jumped (step: number): void {
    this.jumpCount++
    // Our clock moved by `step`; the peers' did not: each offset shrinks by it.
    for (const [peer, offset] of this.offsets) this.offsets.set(peer, offset - step)
    this.onJump(step)
    this.decide()
  }

  private decide (): void {
    const wanted = skewCorrection([...this.offsets.values()], this.maxDriftMs, this.correction !== 0)
    // Small changes of an existing correction are measurement jitter: keep the one we have, so
    // the stamped time does not wobble by the round-trip noise of each sample.
    if (wanted !== 0 && this.correction !== 0 && Math.abs(wanted - this.correction) <= this.maxDriftMs / 2) return
    if (wanted === this.correction) return
    const previous = this.correction
    this.correction = wanted
    this.onCorrection(wanted, previous)
  }
}
