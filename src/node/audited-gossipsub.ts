/**
 * gossipsub with every inbound RPC's control messages audited before the router acts on them
 * (gossip/control-audit.ts). An RPC of a shape no honest router sends is dropped whole and
 * reported, so the sender can be banned; past the honest rate, the RPC's IHAVE and IWANT are
 * dropped and reported; everything else is gossipsub's own handling, unchanged.
 *
 * It also reports every subscription change a peer sends, and counts the RPCs and bytes it sends (the byte cost of gossip per write, which gossipsub
 * reports only to a libp2p metrics implementation), by wrapping each outbound stream's `push`.
 *
 * This overrides `handleReceivedRpc`, a public method of GossipSub that its stream reader
 * calls for each decoded RPC, and wraps the entries of its public `streamsOutbound` map;
 * gossipsub is pinned to 14.x (docs/dependencies.md).
 */
import { GossipSub, type GossipSubComponents, type GossipsubOpts } from '@chainsafe/libp2p-gossipsub'
import type { RPC } from '@chainsafe/libp2p-gossipsub/message'
import type { PeerId } from '@libp2p/interface'
import type { AuditFinding, GossipControlAudit } from '../gossip/index.js'

/** RPCs and their encoded bytes handed to outbound gossip streams: written by the router, read by /metrics. */
export interface GossipWireStats { rpcsSent: number, bytesSent: number }

export interface ControlAuditing {
  audit: GossipControlAudit
  /** Called with the sender of every RPC dropped, and why. */
  onFlood: (peer: string, finding: AuditFinding) => void
  /** Counted into, when given. */
  wire?: GossipWireStats
  /**
   * Every subscription change a peer sends, before gossipsub drops those to topics it does not
   * allow: how a node of another build, subscribed to another version of our topics, is seen
   * (node/peer-versions.ts).
   */
  onSubscriptions?: (peer: string, changes: Array<{ topic: string, subscribe: boolean }>) => void
}

/** gossipsub's OutboundStream: `push` length-prefixes an RPC, `pushPrefixed` takes one already prefixed (batched publishes, IDONTWANT). */
interface Pushable { push: (data: Uint8Array) => void, pushPrefixed?: (data: Uint8Array) => void }

/** A map whose values' pushes are counted into `wire` as they are added. */
class CountingStreams<S extends Pushable> extends Map<string, S> {
  constructor (private readonly wire: GossipWireStats) { super() }

  override set (id: string, stream: S): this {
    const push = stream.push.bind(stream)
    stream.push = (data: Uint8Array): void => {
      push(data)
      this.count(data.byteLength)
    }
    const pushPrefixed = stream.pushPrefixed?.bind(stream)
    if (pushPrefixed !== undefined) {
      stream.pushPrefixed = (data: Uint8Array): void => {
        pushPrefixed(data)
        this.count(data.byteLength) // the varint prefix is counted too: at most 3 bytes of 4 MiB
      }
    }
    return super.set(id, stream)
  }

  private count (bytes: number): void {
    this.wire.rpcsSent++
    this.wire.bytesSent += bytes
  }
}

class AuditedGossipSub extends GossipSub {
  constructor (components: GossipSubComponents, init: Partial<GossipsubOpts>, private readonly auditing: ControlAuditing) {
    super(components, init)
    if (auditing.wire !== undefined) {
      // Before start(): no stream exists yet, so every one goes through the counting map.
      (this as unknown as { streamsOutbound: Map<string, Pushable> }).streamsOutbound = new CountingStreams(auditing.wire)
    }
  }

  override async handleReceivedRpc (from: PeerId, rpc: RPC): Promise<void> {
    const peer = from.toString()
    if (this.auditing.onSubscriptions !== undefined && rpc.subscriptions.length > 0) {
      this.auditing.onSubscriptions(peer, rpc.subscriptions.map(s => ({ topic: s.topic ?? '', subscribe: s.subscribe === true })))
    }
    const finding = this.auditing.audit.check(peer, rpc.control)
    if (finding === undefined) {
      await super.handleReceivedRpc(from, rpc)
      return
    }
    this.auditing.onFlood(peer, finding)
    // Past the rate only the gossip (IHAVE, IWANT) goes: the messages and the mesh control
    // riding in the same RPC (gossipsub piggybacks IHAVE on GRAFT and PRUNE, and never sends a
    // GRAFT again) are an honest node's, which is what a stalled one catching up looks like.
    if (finding.kind === 'rate' && rpc.control !== undefined) {
      await super.handleReceivedRpc(from, { ...rpc, control: { ...rpc.control, ihave: [], iwant: [] } })
    }
  }
}

/** Like gossipsub(init), with the control audit in front of the router. */
export function auditedGossipsub (init: Partial<GossipsubOpts>, auditing: ControlAuditing): (components: GossipSubComponents) => GossipSub {
  return (components) => new AuditedGossipSub(components, init, auditing)
}
