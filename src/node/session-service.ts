/**
 * Sessions on a running node: the session protocol (answering and asking vectors), the
 * catch-up rounds that run complete anti-entropy exchanges, and the two calls the RPC layer
 * makes around every data method (wait for the caller's token, give the result's token).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import type { AntiEntropy } from '../antientropy/index.js'
import { sessionProtocol, SESSION_QUERY_TIMEOUT_MS } from '../constants.js'
import { CatchUp, parseSessionToken, Sessions, VectorProtocol, type SessionPositions } from '../session/index.js'
import type { Store } from '../store/index.js'
import type { ChorusLibp2p } from './libp2p.js'
import { checkTimeout } from './validate-input.js'

export interface SessionServiceComponents {
  libp2p: ChorusLibp2p
  antiEntropy: AntiEntropy
  positions: SessionPositions
  store: Store
  logger: Logger
  clusterName: string
}

export class SessionService {
  private readonly protocol: VectorProtocol
  private readonly catchUp: CatchUp
  private readonly sessions: Sessions

  constructor (c: SessionServiceComponents) {
    this.protocol = new VectorProtocol(
      { libp2p: c.libp2p, advertised: () => c.positions.advertised(), logger: c.logger },
      { protocol: sessionProtocol(c.clusterName), timeoutMs: SESSION_QUERY_TIMEOUT_MS }
    )
    this.catchUp = new CatchUp({
      positions: c.positions,
      connectedPeers: () => c.libp2p.getConnections().filter(conn => conn.status === 'open').map(conn => conn.remotePeer.toString()),
      query: async peer => await this.protocol.query(peerIdFromString(peer)),
      exchange: async peer => {
        // An explicit sync leaves nothing out (docs/protocol.md "Fresh changes"); states we
        // refused as invalid (not as superseded) mean we do not hold all the peer holds.
        const report = await c.antiEntropy.syncDetailed(peer)
        return report.stats.keysWithheld === 0
      },
      persist: async () => { await c.store.commit([c.positions.persistWrite(c.store)]) },
      logger: c.logger
    })
    this.sessions = new Sessions(c.positions, this.catchUp)
  }

  get stats (): CatchUp['stats'] {
    return this.catchUp.stats
  }

  async start (): Promise<void> {
    await this.protocol.start()
  }

  async stop (): Promise<void> {
    this.catchUp.stop()
    await this.protocol.stop()
  }

  /** Checks `session` and `timeoutMs` (-32602 naming the field), then waits for the token. */
  async wait (session: unknown, timeoutMs: unknown): Promise<void> {
    const token = parseSessionToken(session)
    await this.sessions.wait(token, checkTimeout(timeoutMs))
  }

  token (): string {
    return this.sessions.token()
  }
}
