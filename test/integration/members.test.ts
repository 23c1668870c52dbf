/**
 * Managing members on real nodes: cluster.members after a sync, cluster.forget letting GC
 * collect what a dead member held back and refusing that member when it returns, a node that
 * returns after the member TTL refusing to start (and being refused by its peers), and
 * cluster.connect joining nodes started without bootstrap.
 */
import { Writable } from 'node:stream'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import type { NodeInit } from '../../src/config.js'
import { ChorusError } from '../../src/errors.js'
import type { ChorusNode } from '../../src/node/index.js'
import { connectAll, startNode, startNodes, tempDir, waitConverged, waitFor } from '../helpers/nodes.js'

/** Short periods so that collection happens within a test; the rules are the production ones. */
const GC: NodeInit = { tombstoneGraceMs: 300, maxDriftMs: 50, gcIntervalMs: 60_000, aeIntervalMs: 200 }

/** A node's log lines (warn and above), parsed. */
function captureLogs (): { init: Pick<NodeInit, 'logLevel' | 'logDestination'>, lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>)
      done()
    }
  })
  return { init: { logLevel: 'warn', logDestination: stream }, lines: () => lines }
}

async function startError (p: Promise<unknown>): Promise<ChorusError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ChorusError)
  return err as ChorusError
}

async function collectEverywhere (nodes: ChorusNode[]): Promise<number[]> {
  for (const n of nodes) await n.collectGarbage()
  return await Promise.all(nodes.map(async n => (await n.info()).keys))
}

describe('cluster members', () => {
  it('cluster.members lists a peer after a sync: connected, synced just now, not holding GC back', async () => {
    const [a, b] = await startNodes(2, GC)
    if (a === undefined || b === undefined) throw new Error('nodes')
    expect(await a.members()).toEqual([])
    await connectAll([a, b])
    await a.kvPut('k', 1)
    await a.sync(b.peerId)
    const [m] = await a.members()
    expect(m).toMatchObject({ peerId: b.peerId, connected: true, lastSeenMs: 0, holdsGc: false, expiresInMs: null })
    expect(m?.lastSyncMs).toBeGreaterThanOrEqual(0)
    expect(m?.lastSyncMs).toBeLessThan(10_000)
  })

  it('forgetting a dead member lets GC collect what it held back; when it returns it is refused and none of its data arrives', async () => {
    const deadDir = await tempDir()
    const logsA = captureLogs()
    const aDir = await tempDir()
    const a = await startNode({ ...GC, ...logsA.init, dataDir: aDir })
    const b = await startNode(GC)
    let dead = await startNode({ ...GC, dataDir: deadDir })
    await connectAll([a, b, dead])
    await a.kvPut('gone', 'old value')
    await waitConverged([a, b, dead])
    await dead.stop()
    await a.kvDelete('gone')
    await waitConverged([a, b])
    // Once the tombstone is past the grace period and both live nodes have synced since, only
    // the dead member (last synced before the delete) holds it back.
    await waitFor(async () => {
      await a.sync(b.peerId)
      await b.sync(a.peerId)
      expect(await collectEverywhere([a, b])).toEqual([1, 1])
      const members = await a.members()
      return members.find(m => m.peerId === dead.peerId)?.holdsGc === true && members.find(m => m.peerId === b.peerId)?.holdsGc === false
    }, { what: 'the dead member alone to hold collection back' })
    expect((await a.members()).find(m => m.peerId === dead.peerId)).toMatchObject({ connected: false, lastSyncMs: expect.any(Number) })
    expect(await a.metricsText()).toMatch(/chorus_members 2\n[\s\S]*chorus_members_holding_gc 1\n[\s\S]*chorus_peers_refused 0\n/)

    for (const n of [a, b]) expect(await n.forget(dead.peerId)).toEqual({ peerId: dead.peerId, wasMember: true, disconnected: false })
    expect((await a.members()).map(m => m.peerId)).toEqual([b.peerId])
    expect(await a.metricsText()).toMatch(/chorus_members 1\n[\s\S]*chorus_peers_refused 1\n/)
    await waitFor(async () => (await collectEverywhere([a, b])).every(k => k === 0), { what: 'collection once the dead member is forgotten', timeoutMs: 20_000 })

    // It comes back with its old copy of the key and a write of its own: nothing flows from it.
    const logsDead = captureLogs()
    dead = await startNode({ ...GC, ...logsDead.init, dataDir: deadDir, bootstrap: [a.multiaddrs()[0] as string, b.multiaddrs()[0] as string] })
    expect((await dead.kvGet('gone')).found).toBe(true)
    await dead.kvPut('from-dead', 1)
    // It learns why from the refusal it can detect: the connection closes before identify.
    await expect(dead.connect(a.multiaddrs()[0] as string)).rejects.toMatchObject({ code: 'ERR_DIAL_FAILED', data: { refusedByPeer: true } })
    await waitFor(() => logsA.lines().some(l => l.peer === dead.peerId && l.reason === 'removed' && /refused peer: it was removed from this cluster/.test(String(l.msg))), { what: 'the refusal in a\'s log' })
    expect((await a.peers()).find(p => p.peerId === dead.peerId)?.connected ?? false).toBe(false)
    // Its own log says so, once per peer, as its bootstrap redials are refused.
    await waitFor(() => logsDead.lines().filter(l => /closed the connection right after the handshake: it refuses this node/.test(String(l.msg))).length === 2, { what: 'the refusals in the returning node\'s log' })
    await expect(dead.sync(a.peerId)).rejects.toMatchObject({ code: 'ERR_NO_PEER' })
    for (const n of [a, b]) {
      expect((await n.kvGet('gone')).found).toBe(false)
      expect((await n.kvGet('from-dead')).found).toBe(false)
    }
    // The refusal survives a restart of the refusing node.
    await a.stop()
    const a2 = await startNode({ ...GC, dataDir: aDir })
    await expect(dead.connect(a2.multiaddrs()[0] as string)).rejects.toMatchObject({ code: 'ERR_DIAL_FAILED', data: { refusedByPeer: true } })
    expect((await a2.members()).map(m => m.peerId)).toEqual([b.peerId])
  })

  it('a node returning after the member TTL refuses to start with a clear error, and its peers refuse it', async () => {
    let advance = 0
    const short: NodeInit = { ...GC, memberTtlMs: 1_000, now: () => Date.now() + advance }
    const oldDir = await tempDir()
    const logsA = captureLogs()
    const a = await startNode({ ...short, ...logsA.init })
    const b = await startNode(short)
    let old: ChorusNode | undefined = await startNode({ ...short, dataDir: oldDir })
    await connectAll([a, b, old])
    await a.kvPut('zombie', 'alive')
    await waitConverged([a, b, old])
    const oldId = old.peerId
    await old.stop()
    await b.kvDelete('zombie')
    await waitConverged([a, b])
    advance += 5_000 // past the member TTL
    await waitFor(async () => (await collectEverywhere([a, b])).every(k => k === 0), { what: 'collection once the old member expired', timeoutMs: 20_000 })
    expect((await a.members()).map(m => m.peerId)).toEqual([b.peerId])
    expect(logsA.lines().some(l => l.peer === oldId && /member expired/.test(String(l.msg)))).toBe(true)

    // Its own side: it holds data and last saw the cluster longer ago than the TTL.
    const err = await startError(startNode({ ...short, dataDir: oldDir }))
    expect(err.code).toBe('ERR_STALE_DATA')
    expect(err.message).toMatch(/longer than the member TTL/)
    expect(err.message).toContain(`mv ${oldDir} ${oldDir}.stale`)
    // A failed start changes nothing: the next one fails the same way.
    expect((await startError(startNode({ ...short, dataDir: oldDir, bootstrap: [a.multiaddrs()[0] as string] }))).code).toBe('ERR_STALE_DATA')
    expect((await startError(startNode({ ...short, dataDir: oldDir }))).code).toBe('ERR_STALE_DATA')

    // Forced to start anyway, it is still refused by the peers that expired it.
    old = await startNode({ ...short, dataDir: oldDir, acceptStaleData: true })
    expect((await old.kvGet('zombie')).found).toBe(true)
    await expect(old.connect(a.multiaddrs()[0] as string)).rejects.toMatchObject({ code: 'ERR_DIAL_FAILED', data: { refusedByPeer: true } })
    await waitFor(() => logsA.lines().some(l => l.peer === oldId && l.reason === 'expired' && /away longer than the member TTL/.test(String(l.msg))), { what: 'the refusal in a\'s log' })
    for (const n of [a, b]) expect((await n.kvGet('zombie')).found).toBe(false)
    await old.stop()

    // Reset (an empty data directory): a new identity, welcome again.
    const fresh = await startNode({ ...short, dataDir: await tempDir() })
    const r = await fresh.connect(a.multiaddrs()[0] as string)
    expect(r).toMatchObject({ peerId: a.peerId, connected: true })
    await waitConverged([a, b, fresh])
    expect((await fresh.kvGet('zombie')).found).toBe(false)
  })

  it('a node away past the TTL with no data joins afresh instead of refusing', async () => {
    let advance = 0
    const short: NodeInit = { ...GC, memberTtlMs: 1_000, now: () => Date.now() + advance }
    const dir = await tempDir()
    const a = await startNode(short)
    let empty = await startNode({ ...short, dataDir: dir })
    await connectAll([a, empty])
    await empty.stop()
    advance += 5_000
    empty = await startNode({ ...short, dataDir: dir })
    expect(await empty.members()).toEqual([])
  })

  it('cluster.connect joins two nodes started without bootstrap, and refuses what it may not dial', async () => {
    const [a, b] = await startNodes(2, GC)
    if (a === undefined || b === undefined) throw new Error('nodes')
    const addr = b.multiaddrs()[0] as string
    expect(addr).toContain(`/p2p/${b.peerId}`)
    expect(await a.connect(addr)).toMatchObject({ peerId: b.peerId, connected: true })
    await a.kvPut('hello', 'world')
    await waitConverged([a, b])
    expect((await b.kvGet('hello')).value).toBe('world')
    await waitFor(async () => (await b.members()).some(m => m.peerId === a.peerId), { what: 'a as b\'s member' })

    await expect(a.connect(a.multiaddrs()[0] as string)).rejects.toMatchObject({ code: 'ERR_PEER_REFUSED' })
    // No cluster key: this host only.
    await expect(a.connect(`/ip4/10.1.2.3/tcp/7071/p2p/${b.peerId}`)).rejects.toMatchObject({ code: 'ERR_PEER_REFUSED' })
    // Nothing listening there.
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    await expect(a.connect(`/ip4/127.0.0.1/tcp/1/p2p/${nobody}`)).rejects.toMatchObject({ code: 'ERR_DIAL_FAILED' })
    await a.forget(b.peerId)
    await expect(a.connect(addr)).rejects.toMatchObject({ code: 'ERR_PEER_REFUSED' })
  })
})
