/**
 * Merkle-tree anti-entropy: two nodes find exactly the keys on which they differ by comparing
 * their trees top-down and exchange those keys' states in both directions, in one exchange
 * over one libp2p stream. docs/protocol.md specifies the wire protocol.
 *
 * @example
 * const ae = createAntiEntropy({ libp2p, replica, logger, pubsub, metrics }, { intervalMs: 3000 })
 * await ae.start()
 * const report = await ae.sync()   // one exchange with a random connected peer
 */
export { createAntiEntropy } from './service.js'
export type { AntiEntropy, AntiEntropyComponents, AntiEntropyLibp2p, DetailedSyncReport } from './service.js'
export type { AntiEntropyInit } from './config.js'
export { resolveConfig } from './config.js'
export type { DigestPubSub, PeerDigest } from './digests.js'
export type { ExchangeStats } from './stats.js'
