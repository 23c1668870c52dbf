/**
 * A child process holding several in-process Chorus nodes (createChorusNode: real libp2p over
 * loopback TCP, real LevelDB in temp dirs), driven by its parent over IPC. The many suite spreads
 * a large cluster over a few of these, since one event loop saturates at about 25 nodes.
 *
 * Requests are `{ id, op, ... }`, answered `{ id, result }` or `{ id, error }`; change events of a
 * watch are sent unasked as `{ event: { node, key, at } }`, `at` in epoch milliseconds with
 * sub-millisecond resolution (performance.timeOrigin + performance.now(), comparable across the
 * processes of one machine).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { createChorusNode, type ChorusNode } from '../../src/node/index.js'

interface Request { id: number, op: string, [k: string]: unknown }

const nodes: ChorusNode[] = []
const dirs: string[] = []
const unwatch: Array<() => void> = []
const epochNow = (): number => performance.timeOrigin + performance.now()

async function sumCounter (name: string, labels: string): Promise<number> {
  let sum = 0
  for (const node of nodes) {
    for (const line of (await node.metricsText()).split('\n')) {
      if (!line.startsWith(name) || line.startsWith('#')) continue
      const rest = line.slice(name.length)
      if (rest[0] !== ' ' && rest[0] !== '{') continue
      if (labels !== '' && !rest.includes(labels)) continue
      sum += Number(line.slice(line.lastIndexOf(' ') + 1))
    }
  }
  return sum
}

const handlers: Record<string, (r: Request) => Promise<unknown>> = {
  async start (r) {
    const out: Array<{ addr: string, peerId: string }> = []
    for (let i = 0; i < (r.count as number); i++) {
      const dir = await mkdtemp(join(tmpdir(), 'chorus-many-'))
      dirs.push(dir)
      const node = await createChorusNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent' })
      nodes.push(node)
      out.push({ addr: node.multiaddrs()[0] as string, peerId: node.peerId.toString() })
    }
    return out
  },
  async dial (r) {
    await (nodes[r.node as number] as ChorusNode).dial(r.addr as string).catch(() => {})
    return null
  },
  async put (r) {
    await (nodes[r.node as number] as ChorusNode).kvPut(r.key as string, r.value)
    return null
  },
  async watch (r) {
    for (const [i, node] of nodes.entries()) {
      unwatch.push(node.watch(r.prefix as string, (event) => { process.send?.({ event: { node: i, key: event.key, at: epochNow() } }) }))
    }
    return null
  },
  async unwatch () {
    for (const u of unwatch.splice(0)) u()
    return null
  },
  /**
   * Cuts this process's nodes off from `peers` for `ms`: both ways, as a partition would, by the
   * node's own connection gate (internal: a benchmark reaches in where no API should exist).
   */
  async partition (r) {
    const until = Date.now() + (r.ms as number)
    await Promise.all(nodes.map(async node => {
      const internals = node as unknown as { gate: { ban: (peer: string, untilMs: number) => void }, libp2p: { hangUp: (peer: PeerId) => Promise<void> } }
      for (const peer of r.peers as string[]) {
        internals.gate.ban(peer, until)
        await internals.libp2p.hangUp(peerIdFromString(peer)).catch(() => {})
      }
    }))
    return null
  },
  async digests () {
    return await Promise.all(nodes.map(async n => (await n.info()).digest))
  },
  async counter (r) {
    return await sumCounter(r.name as string, (r.labels as string | undefined) ?? '')
  },
  async stop () {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await Promise.allSettled(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
    return null
  }
}

process.on('message', (message: Request) => {
  const handler = handlers[message.op]
  if (handler === undefined) { process.send?.({ id: message.id, error: `unknown op ${message.op}` }); return }
  handler(message).then(
    result => { process.send?.({ id: message.id, result }) },
    (err: unknown) => { process.send?.({ id: message.id, error: err instanceof Error ? err.message : String(err) }) }
  )
})
process.on('disconnect', () => { void handlers.stop?.({ id: 0, op: 'stop' }).finally(() => process.exit(0)) })
process.send?.({ ready: true })
