/**
 * Sessions at the RPC edge: every data method accepts `session` (and `timeoutMs`, which bounds
 * the wait) and every result of one carries `session`. The node waits for the caller's token
 * before the method runs and gives the result's token after it (node/session-service.ts).
 */
import type { ChorusApi } from '../node/api.js'

/** The methods that take and give a session token: every read and write of data. */
export const SESSION_DATA_METHODS: ReadonlySet<string> = new Set([
  'kv.put', 'kv.get', 'kv.delete', 'kv.batch', 'kv.scan', 'kv.conflicts',
  'counter.incr', 'counter.get', 'counter.scan',
  'set.add', 'set.remove', 'set.get', 'set.scan',
  'map.update', 'map.get', 'map.delete', 'map.scan',
  'kv.changes'
])

/**
 * Runs a data method inside the session rules. `params.session` is taken out before the method
 * sees its params; `timeoutMs` bounds the session wait and the method's own wait together.
 */
export async function withSession (api: ChorusApi, params: Record<string, unknown>, run: (params: Record<string, unknown>) => Promise<unknown> | unknown): Promise<unknown> {
  if (api.sessionToken === undefined) return await run(params)
  const { session, ...rest } = params
  if (session !== undefined) {
    const started = performance.now()
    await api.sessionWait?.(session, params.timeoutMs)
    // One deadline for the call: what the session wait spent is gone for the method's own wait
    // (kv.get's `after`, a write's `replicas`), so a client's deadline past timeoutMs suffices.
    if (typeof rest.timeoutMs === 'number') rest.timeoutMs = Math.max(0, Math.floor(rest.timeoutMs - (performance.now() - started)))
  }
  const result = await run(rest)
  return { ...(result as Record<string, unknown>), session: api.sessionToken() }
}
