export { Gossip } from './gossip.js'
export type { GossipComponents, GossipInit, GossipStats, GossipReplica } from './gossip.js'
export { encodeGossip, decodeGossip, packGossip, GOSSIP_VERSION, MAX_REPUBLISH_TAG, MAX_REPUBLISH_TAG_BYTES } from './message.js'
