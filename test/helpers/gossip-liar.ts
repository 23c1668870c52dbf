/**
 * A plain gossipsub host (no Chorus behind it) subscribed to the cluster's changes topic and
 * connected to `node`: the hostile member of the gossip tests. Its gossipsub is exposed with the
 * internals those tests drive (sendRpc crafts control messages an honest router never sends).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { changesTopic } from '../../src/constants.js'
import type { ChorusNode } from '../../src/node/index.js'
import { createHost } from '../antientropy/helpers/peers.js'
import { waitFor } from './nodes.js'

export interface LiarPubSub {
  subscribe: (t: string) => void
  publish: (t: string, d: Uint8Array) => Promise<unknown>
  getSubscribers: (t: string) => Array<{ toString: () => string }>
  sendRpc: (peer: string, rpc: unknown) => boolean
}

export async function connectGossipLiar (node: ChorusNode, cluster = 'default'): Promise<{ liar: Awaited<ReturnType<typeof createHost>>, pubsub: LiarPubSub, topic: string }> {
  const liar = await createHost({ pubsub: true })
  const pubsub = liar.services.pubsub as unknown as LiarPubSub
  const topic = changesTopic(cluster)
  pubsub.subscribe(topic)
  await liar.dial(multiaddr(node.multiaddrs()[0] as string))
  await waitFor(() => pubsub.getSubscribers(topic).some(p => p.toString() === node.peerId), { what: 'the liar to see the node on the topic' })
  return { liar, pubsub, topic }
}
