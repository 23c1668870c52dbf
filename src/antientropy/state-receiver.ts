/**
 * Checks every state a peer sends before any of it is merged. A state is accepted only where
 * this side asked for it: in a subtree where this side was empty (streamed), or — in a bucket
 * that both sides found different — as a state whose leaf this side wanted, or as the peer's
 * merge of a state this side had just sent it. Anything else is a lie: the whole frame is
 * refused and the stream reset.
 */
import { bucketOf, leafHash } from '../merkle/index.js'
import type { BucketSet } from './tree-view.js'
import { windowOf } from './tree-view.js'
import { LEAF_BYTES, violation, type StateEntry } from './wire.js'

export interface Entitlements {
  /** Buckets in which this side was empty and may receive streamed states. */
  streamed: BucketSet
  /** Buckets both sides found different (known once ENTRIES went either way). */
  diff: BucketSet | undefined
  /** When this side sent WANT: the leaf windows it asked for (hex). */
  wanted: Set<string> | undefined
  /** When this side sent WANT: keys whose state it sent in the differing buckets. */
  sentFinal: Set<string>
  window: number
}

export class StateReceiver {
  /** Streamed states arrive in bucket order; this is how a replay is caught without remembering every key. */
  private lastBucket = -1
  private readonly keysInBucket = new Set<string>()
  /**
   * Leaf hashes of the states received in differing buckets, by key: the ENTRIES side sends back
   * its merge of each unless it came out equal. Hashes, not the states: a peer may send many
   * (a large repair, or invented keys) before its WANT, and this is held until then.
   */
  readonly final = new Map<string, Uint8Array>()

  constructor (private readonly rights: Entitlements) {}

  /** A new turn: the peer streams its ranges afresh in bucket order. */
  newTurn (): void {
    this.lastBucket = -1
    this.keysInBucket.clear()
  }

  /**
   * Throws ProtocolError unless a state of this key could be accepted now: checked on the first
   * part of a state sent in parts, before any of it is buffered (the full check follows once
   * the state is whole), so a peer cannot make us hold up to MAX_AE_STATE_BYTES it had no
   * right to send — before HELLO, say.
   */
  expectKey (storeKey: string): void {
    const bucket = bucketOf(storeKey)
    if (this.rights.diff?.has(bucket) === true) return
    if (!this.rights.streamed.has(bucket)) throw violation(`state for bucket ${bucket}, which was not asked for`)
  }

  /** Throws ProtocolError on the first state the peer had no right to send. */
  check (states: readonly StateEntry[]): void {
    for (const { storeKey, state } of states) {
      const bucket = bucketOf(storeKey)
      // Differing buckets first: a liar cannot dodge the leaf check by naming a bucket we were empty in.
      if (this.rights.diff?.has(bucket) === true) {
        if (this.final.has(storeKey)) throw violation('state repeated')
        // A copy: kept until WANT, it must not pin the 32-byte digest it was cut from.
        const leaf = Uint8Array.from(leafHash(storeKey, state))
        const wanted = this.rights.wanted
        if (wanted !== undefined && !this.rights.sentFinal.has(storeKey)) {
          if (!wanted.has(Buffer.from(windowOf(leaf, this.rights.window, LEAF_BYTES)).toString('hex'))) throw violation('state does not hash to a wanted leaf')
        }
        this.final.set(storeKey, leaf)
        continue
      }
      if (!this.rights.streamed.has(bucket)) throw violation(`state for bucket ${bucket}, which was not asked for`)
      if (bucket < this.lastBucket) throw violation('streamed states out of bucket order')
      if (bucket > this.lastBucket) { this.lastBucket = bucket; this.keysInBucket.clear() }
      if (this.keysInBucket.has(storeKey)) throw violation('streamed state repeated')
      this.keysInBucket.add(storeKey)
    }
  }
}
