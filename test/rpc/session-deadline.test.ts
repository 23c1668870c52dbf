/**
 * One `timeoutMs` per call: what the session wait spent is gone for the method's own wait
 * (kv.get's `after`, a write's `replicas`), so a client whose deadline is past timeoutMs always
 * gets the node's answer. Pure: a stand-in API whose session wait takes a known time.
 */
import { describe, expect, it } from 'vitest'
import type { ChorusApi } from '../../src/node/api.js'
import { withSession } from '../../src/rpc/session-methods.js'

function apiWaiting (ms: number): ChorusApi {
  return {
    sessionWait: async () => { await new Promise(resolve => setTimeout(resolve, ms)) },
    sessionToken: () => 'token'
  } as unknown as ChorusApi
}

describe('withSession and timeoutMs', () => {
  it('gives the method only what the session wait left of timeoutMs', async () => {
    let seen: unknown
    const result = await withSession(apiWaiting(300), { key: 'k', session: 't', timeoutMs: 1000 }, p => { seen = p.timeoutMs; return {} })
    expect(seen).toBeLessThanOrEqual(700)
    expect(seen).toBeGreaterThanOrEqual(0)
    expect(result).toEqual({ session: 'token' })
  })

  it('never below zero, and untouched without a session or a timeoutMs', async () => {
    const seen: unknown[] = []
    await withSession(apiWaiting(100), { session: 't', timeoutMs: 10 }, p => { seen.push(p.timeoutMs); return {} })
    await withSession(apiWaiting(100), { timeoutMs: 1000 }, p => { seen.push(p.timeoutMs); return {} })
    await withSession(apiWaiting(100), { session: 't' }, p => { seen.push(p.timeoutMs); return {} })
    expect(seen).toEqual([0, 1000, undefined])
  })
})
