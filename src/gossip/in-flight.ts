/**
 * Bytes of gossip being merged, per sending peer and in all. gossipsub runs the validator of
 * every message it has read at once, and ours waits for the merge (and, past
 * MAX_QUEUED_REMOTE_BYTES, for room in the write queue), so without a bound a peer flooding
 * messages could make this node hold all of them. Past a bound the message is ignored: not
 * relayed, not held against the sender (an honest node under load sends fast too), and left to
 * anti-entropy.
 */
import { MAX_GOSSIP_MESSAGE_BYTES } from '../constants.js'

export class InFlightBudget {
  private readonly byPeer = new Map<string, number>()
  private total = 0

  constructor (readonly perPeerBytes: number, readonly totalBytes: number) {
    // A lone message of the largest size must always fit, or a peer could never be heard.
    if (perPeerBytes < MAX_GOSSIP_MESSAGE_BYTES || totalBytes < perPeerBytes) {
      throw new RangeError(`gossip in-flight bounds must satisfy ${MAX_GOSSIP_MESSAGE_BYTES} <= per peer (${perPeerBytes}) <= total (${totalBytes})`)
    }
  }

  /** Takes `bytes` for `peer`, or takes nothing and returns false when that would pass a bound. */
  tryTake (peer: string, bytes: number): boolean {
    const held = this.byPeer.get(peer) ?? 0
    if (held + bytes > this.perPeerBytes || this.total + bytes > this.totalBytes) return false
    this.byPeer.set(peer, held + bytes)
    this.total += bytes
    return true
  }

  release (peer: string, bytes: number): void {
    const held = (this.byPeer.get(peer) ?? 0) - bytes
    if (held < 0 || this.total < bytes) throw new Error(`gossip in-flight accounting broke: releasing ${bytes} bytes of ${peer} that were not taken`)
    if (held === 0) this.byPeer.delete(peer)
    else this.byPeer.set(peer, held)
    this.total -= bytes
  }

  get bytes (): number { return this.total }
  get peers (): number { return this.byPeer.size }
}
