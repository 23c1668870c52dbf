/**
 * Building two replicas that differ in known ways, so tests can assert exact transfer counts.
 */
import type { LocalOp, Replica } from '../../../src/replica/index.js'

export async function writeMany (replica: Replica, ops: LocalOp[]): Promise<void> {
  for (let i = 0; i < ops.length; i += 1000) await replica.applyLocal(ops.slice(i, i + 1000))
}

export function puts (prefix: string, from: number, to: number, value = 'v'): LocalOp[] {
  return Array.from({ length: to - from }, (_, i) => ({ kind: 'kv.put' as const, key: `${prefix}${from + i}`, json: JSON.stringify(`${value}${from + i}`) }))
}

/** Copy every key of `from` into `to` (through the real merge path). */
export async function copyAll (from: Replica, to: Replica): Promise<void> {
  let batch: Array<{ storeKey: string, state: Uint8Array }> = []
  for await (const change of from.statesInBuckets(0, 65_536)) {
    batch.push(change)
    if (batch.length >= 1000) { await to.applyRemote(batch, 'copy'); batch = [] }
  }
  if (batch.length > 0) await to.applyRemote(batch, 'copy')
}

export async function allStates (replica: Replica): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const { storeKey, state } of replica.statesInBuckets(0, 65_536)) out.set(storeKey, Buffer.from(state).toString('hex'))
  return out
}

/** Keys whose state differs between the two, and which side lacks them. */
export async function diffOf (a: Replica, b: Replica): Promise<{ onlyA: number, onlyB: number, both: number }> {
  const sa = await allStates(a)
  const sb = await allStates(b)
  let onlyA = 0
  let onlyB = 0
  let both = 0
  for (const [k, v] of sa) {
    const w = sb.get(k)
    if (w === undefined) onlyA++
    else if (w !== v) both++
  }
  for (const k of sb.keys()) if (!sa.has(k)) onlyB++
  return { onlyA, onlyB, both }
}
