/**
 * Reading one node in full after the run: every register by kv.scan (following cursors),
 * every sibling of the hot keys by kv.get {all: true}, every counter and set.
 */
import type { AgentClient } from './agent-client.js'
import { COUNTERS, HOT_KEYS, SETS } from './workload.js'

export interface Sibling { value: unknown, node: string, hlc: string, deleted?: boolean }

export interface Snapshot {
  node: number
  digest: string
  kv: Map<string, unknown>
  hot: Map<string, Sibling[]>
  counters: Map<string, number>
  sets: Map<string, string[]>
}

export async function readNode (node: number, agent: AgentClient): Promise<Snapshot> {
  const kv = new Map<string, unknown>()
  let cursor: string | undefined
  do {
    const page = await agent.must('kv.scan', { limit: 10000, ...(cursor !== undefined ? { cursor } : {}) }, 30_000) as { items: Array<{ key: string, value: unknown }>, cursor?: string }
    for (const item of page.items) kv.set(item.key, item.value)
    cursor = page.cursor
  } while (cursor !== undefined)
  const hot = new Map<string, Sibling[]>()
  for (let i = 0; i < HOT_KEYS; i++) {
    const r = await agent.must('kv.get', { key: `h/${i}`, all: true }) as { values?: Sibling[] }
    hot.set(`h/${i}`, r.values ?? [])
  }
  const counters = new Map<string, number>()
  for (let i = 0; i < COUNTERS; i++) counters.set(`c/${i}`, (await agent.must('counter.get', { key: `c/${i}` }) as { value: number }).value)
  const sets = new Map<string, string[]>()
  for (let i = 0; i < SETS; i++) sets.set(`s/${i}`, (await agent.must('set.get', { key: `s/${i}` }) as { members: string[] }).members)
  const info = await agent.must('node.info') as { digest: string }
  return { node, digest: info.digest, kv, hot, counters, sets }
}
