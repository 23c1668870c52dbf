/**
 * What a session client keeps between calls: the latest token, merged with every result's.
 * A result's token covers the token its call sent (the node waited for it), so when nothing
 * else arrived meanwhile it simply replaces the kept one and the token stays one entry long;
 * results of calls that ran side by side are merged (per node, the later position).
 */
import { MAX_SESSION_ORIGINS } from '../constants.js'
import { decodeToken, encodeToken, mergeVectors } from '../session/index.js'

export class SessionCarrier {
  private current: string | undefined
  /** Results absorbed so far: a call that sees the same count at its end ran alone. */
  private absorbed = 0

  constructor (token?: string) {
    this.current = token
  }

  get token (): string | undefined {
    return this.current
  }

  /** What to send, and the mark to give back to absorb(). */
  begin (): { token: string | undefined, mark: number } {
    return { token: this.current, mark: this.absorbed }
  }

  absorb (mark: number, result: unknown): void {
    const token = (result as { session?: unknown } | null)?.session
    if (typeof token !== 'string') return
    if (mark === this.absorbed || this.current === undefined) {
      this.current = token
    } else {
      const a = decodeToken(this.current, MAX_SESSION_ORIGINS)
      const b = decodeToken(token, MAX_SESSION_ORIGINS)
      this.current = typeof a === 'string' || typeof b === 'string' ? token : encodeToken(mergeVectors(a, b))
    }
    this.absorbed++
  }
}
