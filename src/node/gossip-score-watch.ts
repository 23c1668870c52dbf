/**
 * gossipsub scores peers (node/libp2p.ts) but only stops listening to one below the graylist;
 * this watch turns that verdict into a disconnect and a ban (node/peer-penalties.ts).
 */
import type { Offence } from './peer-penalties.js'

export interface ScoredPubSub {
  getPeers: () => Array<{ toString: () => string }>
}

export interface GossipScoreWatchInit {
  pubsub: ScoredPubSub
  penalties: { penalise: (peer: string, offence: Offence, detail?: string) => void }
  graylistThreshold: number
  intervalMs: number
}

export class GossipScoreWatch {
  private timer?: NodeJS.Timeout

  constructor (private readonly init: GossipScoreWatchInit) {}

  start (): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => { this.check() }, this.init.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  check (): void {
    // getScore is gossipsub's, not part of libp2p's PubSub interface.
    const pubsub = this.init.pubsub as ScoredPubSub & { getScore?: (peer: string) => number }
    if (pubsub.getScore === undefined) return
    for (const peer of pubsub.getPeers()) {
      const id = peer.toString()
      const score = pubsub.getScore(id)
      if (score < this.init.graylistThreshold) this.init.penalties.penalise(id, 'gossip-score', `gossipsub score ${score.toFixed(1)}`)
    }
  }
}
