import { cp, readFile, realpath, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { connectAll, startNode, tempDir, waitConverged, waitFor } from '../helpers/nodes.js'

/** A stopped node's data directory, with one write in it. */
async function stoppedNodeDir (): Promise<{ dir: string, peerId: string }> {
  const dir = await tempDir()
  const node = await startNode({ dataDir: dir })
  await node.kvPut('before-copy', 'v0')
  const peerId = node.peerId
  await node.stop()
  return { dir, peerId }
}

describe('a copied data directory', () => {
  it('takes a new identity, so concurrent writes on the original and the copy both survive', async () => {
    const { dir, peerId } = await stoppedNodeDir()
    const copyDir = join(await tempDir(), 'copy')
    await cp(dir, copyDir, { recursive: true })
    const original = await startNode({ dataDir: dir })
    const copy = await startNode({ dataDir: copyDir })
    const third = await startNode()
    expect(original.peerId).toBe(peerId)
    expect(copy.peerId).not.toBe(peerId)
    expect(await copy.kvGet('before-copy')).toMatchObject({ value: 'v0' })

    // The same key written on both from the same context: with one identity these two writes
    // would get the same dot and one would vanish everywhere.
    const { context } = await original.kvGet('before-copy')
    await original.kvPut('before-copy', 'from-original', context)
    await copy.kvPut('before-copy', 'from-copy', context)
    await original.counterIncr('hits', 2)
    await copy.counterIncr('hits', 3)
    await connectAll([original, copy, third])
    await waitConverged([original, copy, third])
    for (const node of [original, copy, third]) {
      expect((await node.kvGet('before-copy', { all: true })).values?.map(v => v.value).sort()).toEqual(['from-copy', 'from-original'])
      expect(await node.counterGet('hits')).toMatchObject({ value: 5 })
    }
  })

  it('a copy that cannot tell (same path, inode and host recorded) refuses writes once it sees the other\'s, and renews at restart', async () => {
    const { dir, peerId } = await stoppedNodeDir()
    const copyDir = join(await tempDir(), 'clone')
    await cp(dir, copyDir, { recursive: true })
    // Make the clone's record describe the clone's own place, as a VM image cloned whole would.
    const recordPath = join(copyDir, 'identity.json')
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as Record<string, unknown>
    const here = await realpath(copyDir)
    await writeFile(recordPath, JSON.stringify({ ...record, path: here, ino: (await stat(here)).ino }))

    const original = await startNode({ dataDir: dir })
    const clone = await startNode({ dataDir: copyDir })
    expect(clone.peerId).toBe(peerId)
    const third = await startNode()
    await connectAll([original, third])
    await connectAll([clone, third])
    // The original writes; the clone receives a write of "its own" that it never made.
    await original.kvPut('seen-by-clone', 'from-original')
    await waitFor(async () => (await third.kvGet('seen-by-clone')).found, { what: 'the third node receiving the original\'s write' })
    // Two processes under one peer id confuse libp2p's routing; anti-entropy from the clone's
    // own connection still brings the write over.
    await clone.sync(third.peerId)
    expect(await clone.kvGet('seen-by-clone')).toMatchObject({ value: 'from-original' })
    await expect(clone.kvPut('anything', 1)).rejects.toMatchObject({ code: 'ERR_IDENTITY_CONFLICT' })
    await expect(clone.counterIncr('c', 1)).rejects.toMatchObject({ code: 'ERR_IDENTITY_CONFLICT' })
    // Reads go on.
    expect(await clone.kvGet('seen-by-clone')).toMatchObject({ value: 'from-original' })

    await clone.stop()
    const renewed = await startNode({ dataDir: copyDir })
    expect(renewed.peerId).not.toBe(peerId)
    await renewed.kvPut('anything', 1)
    expect(await renewed.kvGet('seen-by-clone')).toMatchObject({ value: 'from-original' })
  })

  it('a node restarted in place keeps its identity', async () => {
    const { dir, peerId } = await stoppedNodeDir()
    const again = await startNode({ dataDir: dir })
    expect(again.peerId).toBe(peerId)
  })
})
