export { Replica } from './replica.js'
export type { ReplicaInit, ReplicaStats, ChangeListener } from './replica.js'
export type { LocalOp } from './local-op.js'
export type { AntiEntropyReplica, ApplyReport, AppliedChange, BucketEntry, EncodedChange } from './types.js'
