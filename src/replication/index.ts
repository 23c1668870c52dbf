/**
 * Durable writes on k nodes (docs/consistency.md, "Durable writes"): the replicate stream
 * protocol, its serving side, and the validation of `replicas` / `timeoutMs`.
 */
export { Replicator } from './replicator.js'
export type { ReplicatorComponents, ReplicatorInit, ReplicatorLibp2p } from './replicator.js'
export { checkDurable, checkReplicas, checkReplicasTimeout, requiredNodes } from './target.js'
export type { DurableOptions, DurableTarget, Replicas } from './target.js'
export { decodeAck, decodePush, encodeAck, encodePush, packPushes, REPLICATE_VERSION } from './wire.js'
