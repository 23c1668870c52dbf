/**
 * The node's face for sessions: checks a caller's token, waits until this node covers it, and
 * gives the token a result carries. See docs/consistency.md "Sessions" for the guarantee.
 */
import { MAX_SESSION_ORIGINS, MAX_SESSION_TOKEN_CHARS } from '../constants.js'
import { InvalidParamsError } from '../errors.js'
import type { CatchUp } from './catch-up.js'
import { decodeToken, encodeToken } from './codec.js'
import type { SessionPositions } from './positions.js'
import type { SessionVector } from './vector.js'

/** A token checked against the documented limits; throws -32602 naming `field` otherwise. */
export function parseSessionToken (token: unknown, field = 'session'): SessionVector {
  if (typeof token !== 'string') throw new InvalidParamsError(`${field}: must be a string (a session token)`, { data: { field } })
  if (token.length > MAX_SESSION_TOKEN_CHARS) throw new InvalidParamsError(`${field}: is too long (at most ${MAX_SESSION_TOKEN_CHARS} characters)`, { data: { field } })
  const vector = decodeToken(token, MAX_SESSION_ORIGINS)
  if (typeof vector === 'string') throw new InvalidParamsError(`${field}: ${vector}`, { data: { field } })
  return vector
}

export class Sessions {
  constructor (private readonly positions: SessionPositions, private readonly catchUp: CatchUp) {}

  /** Waits (≤ timeoutMs) until this node holds everything `token` covers. */
  async wait (token: SessionVector, timeoutMs: number): Promise<void> {
    await this.catchUp.wait(token, timeoutMs)
  }

  /**
   * The token for a result served now: this node's position, which covers everything the call
   * showed or wrote — and, since the call first waited for it, everything the caller's token
   * covered. One entry, whatever the caller sent.
   */
  token (): string {
    return encodeToken(new Map([[this.positions.self, this.positions.shown()]]))
  }
}

/** What is wrong with a token, or undefined (for the RPC layer's schemas). */
export function sessionTokenProblem (token: unknown): string | undefined {
  try {
    parseSessionToken(token)
    return undefined
  } catch (err) {
    return (err as Error).message.replace(/^session: /, '')
  }
}
