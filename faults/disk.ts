/**
 * Data directories on small tmpfs mounts, so `disk-full` can fill a node's disk without
 * touching the host's: each node's data lives on its own 64 MiB tmpfs under a directory the
 * harness owns (/tmp/chorus-faults-mnt/<prefix>/nI). A ballast file fills the free space
 * until ENOSPC; removing it heals. Mounts are always unmounted at the end, and mounts left
 * by a crashed run (recognised by the prefix in the path) are unmounted at the next start.
 */
import { open, mkdir, rm, statfs } from 'node:fs/promises'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { run, runSyncQuiet } from './exec.js'
import { harnessAlive } from './netns.js'

export const MOUNT_BASE = '/tmp/chorus-faults-mnt'
export const TMPFS_SIZE = '64m'
const BALLAST = 'ballast'

export async function mountTmpfs (dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  await run('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', dir])
}

function mountsUnder (base: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map(l => l.split(' ')[1] ?? '')
    .filter(p => p.startsWith(base + '/'))
    .sort((a, b) => b.length - a.length) // deepest first
}

/** Sync: used from exit and signal handlers. Lazy unmount if something still holds it. */
export function unmountAll (base: string): void {
  for (const p of mountsUnder(base)) {
    if (runSyncQuiet('umount', [p]) === '' && mountsUnder(base).includes(p)) runSyncQuiet('umount', ['-l', p])
  }
  rmSync(base, { recursive: true, force: true })
}

export function removeStaleMounts (): string[] {
  const stale = new Set<string>()
  for (const p of mountsUnder(MOUNT_BASE)) {
    const m = /^\/tmp\/chorus-faults-mnt\/(chf(\d+)(?:j\d+)?)\//.exec(p)
    if (m !== null && !harnessAlive(Number(m[2]))) stale.add(`${MOUNT_BASE}/${m[1] as string}`)
  }
  for (const base of stale) unmountAll(base)
  return [...stale]
}

/** Writes zeros until the filesystem is full; returns the bytes written. */
export async function fillDisk (dir: string): Promise<number> {
  const fh = await open(join(dir, BALLAST), 'w')
  const chunk = Buffer.alloc(1 << 20)
  let written = 0
  try {
    for (;;) {
      const s = await statfs(dir)
      const free = s.bavail * s.bsize
      if (free <= 0) break
      const { bytesWritten } = await fh.write(chunk, 0, Math.min(chunk.length, free))
      written += bytesWritten
      if (bytesWritten === 0) break
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally {
    await fh.close()
  }
  return written
}

export async function drainDisk (dir: string): Promise<void> {
  await rm(join(dir, BALLAST), { force: true })
}
