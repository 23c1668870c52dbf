/**
 * deploy/chorus.service as systemd reads it: `systemd-analyze verify` (from Debian's `systemd`
 * package, which scripts/install-test-deps.sh installs) finds no error and no warning, and the
 * unit says what docs/operations.md promises. Without the tool this test fails: it never skips.
 *
 * `verify` checks that ExecStart's program exists and is executable, and the shipped unit names
 * /usr/bin/chorus, where a global install puts it, which a checkout does not have. So the test
 * verifies a copy, in a temp dir under the same file name, whose ExecStart names this checkout's
 * bin/chorus; every other line is the shipped unit's. The user `chorus` need not exist: verify
 * does not resolve User=.
 */
import { execFile } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/nodes.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
const UNIT = readFileSync(join(ROOT, 'deploy', 'chorus.service'), 'utf8')
const CONFIG = JSON.parse(readFileSync(join(ROOT, 'deploy', 'chorus.json'), 'utf8')) as { data: string }
const SHIPPED_EXEC = 'ExecStart=/usr/bin/chorus start --config /etc/chorus/chorus.json'

interface Verified { code: number | null, output: string }

async function findTool (): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/bin'])) {
    const path = join(dir, 'systemd-analyze')
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  throw new Error('systemd-analyze is missing: install Debian\'s `systemd` package (bash scripts/install-test-deps.sh does)')
}

/** Writes `text` as chorus.service in a temp dir and runs `systemd-analyze verify` on it. */
async function verify (text: string): Promise<Verified> {
  const tool = await findTool()
  const path = join(await tempDir('chorus-unit-'), 'chorus.service')
  await writeFile(path, text)
  return await new Promise(resolve => {
    execFile(tool, ['verify', '--man=no', path], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null
      resolve({ code, output: (stdout + stderr).trim() })
    })
  })
}

/** The shipped unit with ExecStart pointing at this checkout's bin/chorus. */
function localCopy (unit: string): string {
  expect(unit.split('\n')).toContain(SHIPPED_EXEC)
  return unit.replace(SHIPPED_EXEC, `ExecStart=${join(ROOT, 'bin', 'chorus')} start --config /etc/chorus/chorus.json`)
}

describe('deploy/chorus.service', () => {
  it('passes systemd-analyze verify without an error or a warning', async () => {
    const result = await verify(localCopy(UNIT))
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  })

  it('is checked for real: a misspelt key or a bad value shows (verify exits 0 on those, so the output is what counts)', async () => {
    const misspelt = await verify(localCopy(UNIT).replace('KillSignal=SIGTERM', 'KilSignal=SIGTERM'))
    expect(misspelt.output).toMatch(/Unknown key 'KilSignal'/)
    const badValue = await verify(localCopy(UNIT).replace('Restart=on-failure', 'Restart=sometimes'))
    expect(badValue.output).toMatch(/restart specifier/)
    const missing = await verify(UNIT) // /usr/bin/chorus does not exist here
    expect(missing.code).not.toBe(0)
    expect(missing.output).toMatch(/\/usr\/bin\/chorus is not executable/)
  })

  it('runs as its own user, restarts on failure, stops with SIGTERM and writes only its data directory', () => {
    const lines = new Set(UNIT.split('\n').map(l => l.trim()))
    for (const line of [
      'User=chorus', 'Group=chorus', 'Restart=on-failure', 'KillSignal=SIGTERM', 'NoNewPrivileges=yes',
      'ProtectSystem=strict', 'PrivateTmp=yes', 'StateDirectory=chorus', `ReadWritePaths=${CONFIG.data}`
    ]) expect(lines, line).toContain(line)
    expect(UNIT).toMatch(/^TimeoutStopSec=\d+$/m)
    // The node's data directory is the one the unit lets it write.
    expect(CONFIG.data).toBe('/var/lib/chorus')
  })
})
