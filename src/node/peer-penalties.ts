/**
 * Peer accountability: a tally of points per peer for things an honest Chorus node never
 * does (a gossip message whose every state is invalid, an anti-entropy protocol violation). Points decay with a half-life, so a rare glitch is
 * forgiven; a peer that reaches the threshold is disconnected and banned (node/peer-gate.ts).
 *
 * What is never penalised: slowness. A paused or overloaded honest node misses deadlines too,
 * and banning it would keep the cluster diverged long after the fault healed; deadlines (per
 * frame, per exchange) and per-peer slots bound what a slow peer costs instead.
 */
import type { Logger } from 'pino'
import {
  MAX_PENALISED_PEERS, PEER_BAN_MS, PEER_PENALTY_HALF_LIFE_MS, PEER_PENALTY_THRESHOLD
} from '../constants.js'
import type { PeerGate } from './peer-gate.js'

export type Offence = 'invalid-gossip' | 'ae-violation' | 'gossip-flood' | 'gossip-rate' | 'replicate-violation'

/** Points per offence; the threshold is PEER_PENALTY_THRESHOLD (100). */
export const OFFENCE_POINTS: Readonly<Record<Offence, number>> = {
  // A message is rejected only when every state in it is invalid: 4 within ~20 s ban.
  'invalid-gossip': 30,
  // A violation ends the exchange: 2 within ~35 s ban.
  'ae-violation': 60,
  // Gossip control of a shape no honest router sends (gossip/control-audit.ts): proof, one bans.
  'gossip-flood': 100,
  // Gossip control faster than an honest router, past the burst allowance: charged once per
  // burst window (30 s), so a stalled honest node catching up pays once and a flooder is banned
  // in its third window (50 + 50·2^-½ + 50·2^-1 > 100 at a 60 s half-life).
  'gossip-rate': 50,
  // A malformed replicate frame, or a push of nothing but invalid states: priced like an
  // anti-entropy violation (2 within ~35 s ban).
  'replicate-violation': 60
}

export interface PeerPenaltiesInit {
  gate: PeerGate
  /** Closes every connection to the peer. */
  hangUp: (peer: string) => Promise<void>
  logger: Logger
  now?: () => number
  threshold?: number
  halfLifeMs?: number
  banMs?: number
  /** Test-only: false counts offences but never bans. @default true */
  enabled?: boolean
}

interface Tally { points: number, atMs: number }

export class PeerPenalties {
  private readonly tallies = new Map<string, Tally>()
  private readonly now: () => number
  private readonly threshold: number
  private readonly halfLifeMs: number
  private readonly banMs: number
  readonly stats = { penalties: {} as Record<string, number>, bans: 0 }

  constructor (private readonly init: PeerPenaltiesInit) {
    this.now = init.now ?? Date.now
    this.threshold = init.threshold ?? PEER_PENALTY_THRESHOLD
    this.halfLifeMs = init.halfLifeMs ?? PEER_PENALTY_HALF_LIFE_MS
    this.banMs = init.banMs ?? PEER_BAN_MS
  }

  /** Current points of `peer`, decayed to now. */
  points (peer: string): number {
    const t = this.tallies.get(peer)
    return t === undefined ? 0 : this.decayed(t)
  }

  penalise (peer: string, offence: Offence, detail?: string): void {
    // What a banned peer had in flight when it was cut off adds nothing (and would flood the log).
    if (this.init.gate.isBanned(peer)) return
    const points = this.points(peer) + OFFENCE_POINTS[offence]
    this.stats.penalties[offence] = (this.stats.penalties[offence] ?? 0) + 1
    this.tallies.delete(peer)
    this.tallies.set(peer, { points, atMs: this.now() })
    if (this.tallies.size > MAX_PENALISED_PEERS) this.forgetLeastPenalised()
    this.init.logger.warn({ peer, offence, detail, points: Math.round(points) }, 'peer misbehaved')
    if (points >= this.threshold && this.init.enabled !== false) this.banAndHangUp(peer, offence)
  }

  private banAndHangUp (peer: string, offence: Offence): void {
    if (this.init.gate.isBanned(peer)) return
    this.init.gate.ban(peer, this.now() + this.banMs)
    this.tallies.delete(peer)
    this.stats.bans++
    this.init.logger.warn({ peer, offence, banMs: this.banMs }, 'peer banned: disconnected and refused until the ban ends')
    this.init.hangUp(peer).catch(() => {})
  }

  private decayed (t: Tally): number {
    const elapsed = Math.max(0, this.now() - t.atMs)
    return t.points * Math.pow(0.5, elapsed / this.halfLifeMs)
  }

  private forgetLeastPenalised (): void {
    let victim: string | undefined
    let least = Infinity
    for (const [peer, t] of this.tallies) {
      const p = this.decayed(t)
      if (p < least) { least = p; victim = peer }
    }
    if (victim !== undefined) this.tallies.delete(victim)
  }
}
