/** What one exchange did, from one side's point of view. */
export interface ExchangeStats {
  /** Roots were equal at the first comparison. */
  inSync: boolean
  /** Keys whose state this side sent / received. */
  keysSent: number
  keysReceived: number
  /** Received keys whose local state changed by the merge. */
  keysRepaired: number
  /** Received states the replica refused (undecodable, invalid, superseded by a collected tombstone). */
  keysRejected: number
  /** Of those, the ones the peer holds and we now lack (all but states a collected tombstone superseded). */
  keysWithheld: number
  /** Tree metadata (every frame but STATES), length prefixes included. */
  metaBytesSent: number
  metaBytesReceived: number
  /** STATES frames. */
  stateBytesSent: number
  stateBytesReceived: number
  /** Control frames the initiator waited for (one per round trip); 0 on the responder. */
  roundTrips: number
  /** Differing buckets left out because their leaves alone exceed a frame (responder). */
  bucketsUnlistable: number
  /** Keys that differed but that this side left to gossip: their changes were fresh (docs/protocol.md). */
  keysLeftToGossip: number
  /**
   * Set when this side left fresh keys to gossip: the start of the fresh window. Only what this
   * side held before it is sure to have reached the peer (tombstone GC counts from here).
   */
  freshFromMs?: number
}

export function emptyStats (): ExchangeStats {
  return {
    inSync: false,
    keysSent: 0,
    keysReceived: 0,
    keysRepaired: 0,
    keysRejected: 0,
    keysWithheld: 0,
    metaBytesSent: 0,
    metaBytesReceived: 0,
    stateBytesSent: 0,
    stateBytesReceived: 0,
    roundTrips: 0,
    bucketsUnlistable: 0,
    keysLeftToGossip: 0
  }
}
