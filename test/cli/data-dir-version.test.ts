/**
 * A data directory of another storage format, met by a real `chorus start`: one clear line on
 * stderr that says what was found, what this build reads and what to do; no stack trace; a
 * non-zero exit; and the directory left as it was.
 */
import { join } from 'node:path'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { STORAGE_VERSION } from '../../src/constants.js'
import { chorus, spawnChorus, tempDir } from './helpers.js'

const NODE_FLAGS = ['--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn']

/** Sets the storage version as the store keeps it: the `meta` sublevel, key storageVersion, UTF-8 text. */
async function setStorageVersion (data: string, version: string): Promise<void> {
  const db = new Level<string, string>(join(data, 'db'), { valueEncoding: 'utf8' })
  await db.sublevel<string, string>('meta', { valueEncoding: 'utf8' }).put('storageVersion', version)
  await db.close()
}

async function storageVersion (data: string): Promise<string | undefined> {
  const db = new Level<string, string>(join(data, 'db'), { valueEncoding: 'utf8' })
  try {
    return await db.sublevel<string, string>('meta', { valueEncoding: 'utf8' }).get('storageVersion')
  } finally {
    await db.close()
  }
}

describe('a data directory of another storage version', () => {
  it('chorus start refuses it in one line that says what to do, and exits 1', async () => {
    const data = await tempDir()
    // A real data directory first (identity, database), stopped cleanly.
    const first = spawnChorus(['start', '--data', data, ...NODE_FLAGS])
    await first.waitLine(/^ready /)
    expect(await first.stop()).toBe(0)
    expect(await storageVersion(data)).toBe(String(STORAGE_VERSION))

    await setStorageVersion(data, '99')
    const run = await chorus(['start', '--data', data, ...NODE_FLAGS])
    expect(run.code).toBe(1)
    expect(run.stdout).not.toMatch(/ready/)
    const lines = run.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    const line = lines[0] as string
    expect(line).toMatch(/^error: /)
    expect(line).toContain(join(data, 'db'))
    expect(line).toContain('storage version "99", written by a newer Chorus')
    expect(line).toContain(`reads storage version ${STORAGE_VERSION} only`)
    expect(line).toContain('chorus export')
    expect(line).toMatch(/\(ERR_DATA_DIR\)$/)
    expect(line).not.toMatch(/\n\s+at /)
    // Nothing was rewritten: the release that wrote it can still open it.
    expect(await storageVersion(data)).toBe('99')
  })
})
