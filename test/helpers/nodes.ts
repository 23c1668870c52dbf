/**
 * Multi-node harness: real libp2p nodes over TCP on 127.0.0.1 with real LevelDB in temp dirs,
 * torn down automatically when the test finishes. Wait helpers poll a condition against a
 * deadline — tests never sleep and hope.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import type { NodeInit } from '../../src/config.js'
import { createChorusNode, type ChorusNode } from '../../src/node/index.js'

export async function tempDir (prefix = 'chorus-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** One node on loopback, mDNS off, silent logs; stopped when the test ends. */
export async function startNode (init: NodeInit = {}): Promise<ChorusNode> {
  const node = await createChorusNode({
    dataDir: init.dataDir ?? await tempDir(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    logLevel: 'silent',
    aeIntervalMs: 60_000,
    ...init
  })
  onTestFinished(async () => { await node.stop() })
  return node
}

export async function startNodes (n: number, init: NodeInit = {}): Promise<ChorusNode[]> {
  return await Promise.all(Array.from({ length: n }, async () => await startNode(init)))
}

/** Dial every pair and wait until each node's gossip subscription is known to the others. */
export async function connectAll (nodes: ChorusNode[]): Promise<void> {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      await (nodes[i] as ChorusNode).dial((nodes[j] as ChorusNode).multiaddrs()[0] as string)
    }
  }
  await waitFor(async () => {
    for (const node of nodes) {
      const peers = await node.peers()
      if (peers.filter(p => p.connected).length < nodes.length - 1) return false
    }
    return true
  }, { what: 'all nodes connected' })
}

export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  what?: string
}

/** Poll `condition` until it returns true (or a truthy value, which is returned), or fail at the deadline. */
export async function waitFor<T> (condition: () => Promise<T | false | undefined> | T | false | undefined, options: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let lastError: unknown
  while (true) {
    try {
      const result = await condition()
      if (result !== false && result !== undefined) return result as T
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${lastError === undefined ? '' : `: ${String(lastError)}`}`)
    }
    await new Promise(resolve => setTimeout(resolve, options.intervalMs ?? 25))
  }
}

/** Wait until every node reports the same digest. */
export async function waitConverged (nodes: ChorusNode[], options: WaitOptions = {}): Promise<string> {
  return await waitFor(async () => {
    const digests = await Promise.all(nodes.map(async n => (await n.info()).digest))
    return digests.every(d => d === digests[0]) ? digests[0] : false
  }, { what: 'digests to converge', ...options })
}
