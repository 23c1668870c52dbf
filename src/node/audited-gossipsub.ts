/**
 * gossipsub with every inbound RPC's control messages audited before the router acts on them
 * (gossip/control-audit.ts). An RPC that no honest router sends, or sends only this fast, is
 * dropped whole and reported, so the sender can be penalised; everything else is gossipsub's own
 * handling, unchanged.
 *
 * This overrides `handleReceivedRpc`, a public method of GossipSub that its stream reader
 * calls for each decoded RPC; gossipsub is pinned to 14.x (docs/dependencies.md).
 */
import { GossipSub, type GossipSubComponents, type GossipsubOpts } from '@chainsafe/libp2p-gossipsub'
import type { RPC } from '@chainsafe/libp2p-gossipsub/message'
import type { PeerId } from '@libp2p/interface'
import type { AuditFinding, GossipControlAudit } from '../gossip/index.js'

export interface ControlAuditing {
  audit: GossipControlAudit
  /** Called with the sender of every RPC dropped, and why. */
  onFlood: (peer: string, finding: AuditFinding) => void
}

class AuditedGossipSub extends GossipSub {
  constructor (components: GossipSubComponents, init: Partial<GossipsubOpts>, private readonly auditing: ControlAuditing) {
    super(components, init)
  }

  override async handleReceivedRpc (from: PeerId, rpc: RPC): Promise<void> {
    const peer = from.toString()
    const finding = this.auditing.audit.check(peer, rpc.control)
    if (finding !== undefined) {
      this.auditing.onFlood(peer, finding)
      return
    }
    await super.handleReceivedRpc(from, rpc)
  }
}

/** Like gossipsub(init), with the control audit in front of the router. */
export function auditedGossipsub (init: Partial<GossipsubOpts>, auditing: ControlAuditing): (components: GossipSubComponents) => GossipSub {
  return (components) => new AuditedGossipSub(components, init, auditing)
}
