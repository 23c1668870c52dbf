/**
 * A data directory on a small tmpfs that fills up (needs root to mount, as CI runs). Real
 * LevelDB, a real full disk.
 */
import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startNode, tempDir } from '../helpers/nodes.js'

const run = promisify(execFile)

async function smallDisk (megabytes: number): Promise<string> {
  const dir = await tempDir('chorus-disk-')
  await run('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir])
  onTestFinished(async () => { await run('umount', ['-l', dir]) })
  return dir
}

describe('a full disk', () => {
  it('refuses writes with ERR_STORAGE, keeps serving reads, resumes once there is room, and loses nothing acknowledged', async () => {
    const disk = await smallDisk(32)
    const dataDir = join(disk, 'data')
    await mkdir(dataDir)
    const node = await startNode({ dataDir })
    await node.kvPut('before', 'kept')
    const ballast = join(disk, 'ballast')
    await writeFile(ballast, Buffer.alloc(32 * 1024 * 1024)).catch((err: NodeJS.ErrnoException) => { expect(err.code).toBe('ENOSPC') })

    const acknowledged: string[] = []
    let refused: unknown
    for (let i = 0; i < 500 && refused === undefined; i++) {
      await node.kvPut(`k${i}`, 'x'.repeat(2000)).then(() => acknowledged.push(`k${i}`), (err: unknown) => { refused = err })
    }
    expect(refused).toMatchObject({ code: 'ERR_STORAGE' })
    expect(String((refused as Error).message)).toMatch(/No space left on device/)
    // Still refused, with a message that says why and when it resumes.
    await expect(node.kvPut('while-full', 1)).rejects.toMatchObject({ code: 'ERR_STORAGE', message: expect.stringMatching(/bytes free; they resume once/) })
    await expect(node.counterIncr('c', 1)).rejects.toMatchObject({ code: 'ERR_STORAGE' })
    expect(await node.kvGet('before')).toMatchObject({ value: 'kept' })

    await rm(ballast)
    // The first write after the failure: acknowledged now, it must survive the restart too
    // (LevelDB would have dropped it behind the torn end of its log).
    await node.kvPut('after', 'room-again')
    // Reads from disk work after the database was reopened (a scan does not use the cache).
    expect((await node.kvScan({ limit: 10_000 })).items.map(i => i.key)).toEqual(expect.arrayContaining(['before', 'after', ...acknowledged]))
    await node.kvPut('after-2', 'also')
    await node.stop()
    const again = await startNode({ dataDir })
    expect(await again.kvGet('before')).toMatchObject({ value: 'kept' })
    expect(await again.kvGet('after')).toMatchObject({ value: 'room-again' })
    expect(await again.kvGet('while-full')).toMatchObject({ found: false })
    for (const key of acknowledged) expect((await again.kvGet(key)).found, key).toBe(true)
  })
})
