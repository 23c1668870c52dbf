/**
 * Read-your-writes across leaders: wait until this node's state for a key has seen a context
 * (a version vector returned by a write on any node), or time out.
 */
import { vvCoversContext, type CausalContext, type VersionVector } from '../causal/index.js'
import { AfterTimeoutError } from '../errors.js'
import { SPACE_TYPES, toStoreKey, type KeySpace } from '../model/index.js'
import type { Replica } from '../replica/index.js'

export async function waitUntilSeen (replica: Replica, space: KeySpace, key: string, context: CausalContext, timeoutMs: number): Promise<void> {
  const storeKey = toStoreKey(space, key)
  const type = SPACE_TYPES[space] as { context: (s: unknown) => VersionVector }
  let settle: (() => void) | undefined
  const seen = new Promise<void>(resolve => { settle = resolve })
  // Listen before reading, so a change landing between the read and the wait is not missed.
  const unsubscribe = replica.onChange((change, decoded) => {
    if (change.storeKey === storeKey && vvCoversContext(type.context(decoded), context)) settle?.()
  })
  let timer: NodeJS.Timeout | undefined
  try {
    const current = await replica.read(space, key)
    if (vvCoversContext(type.context(current), context)) return
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new AfterTimeoutError(`key ${JSON.stringify(key)} has not seen the given context within ${timeoutMs} ms`, { data: { timeoutMs } }))
      }, timeoutMs)
    })
    await Promise.race([seen, timeout])
  } finally {
    clearTimeout(timer)
    unsubscribe()
  }
}
