import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const fixture = fileURLToPath(new URL('../fixtures/off-host.ts', import.meta.url))
const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * "Another host" without touching this machine's network: a namespace made for this test whose
 * loopback interface also carries 10.99.0.1, so a connection to that address arrives from an
 * address off 127.0.0.0/8. Needs root and `unshare`/`ip` (scripts/install-test-deps.sh).
 */
describe('secure default (in a private network namespace)', () => {
  it('a node without a cluster key refuses other hosts; a keyed node admits only holders of the key', async () => {
    const script = [
      'set -e',
      'ip link set lo up',
      'ip addr add 10.99.0.1/32 dev lo',
      `exec node --import tsx ${JSON.stringify(fixture)}`
    ].join('\n')
    const { stdout } = await run('unshare', ['--net', 'bash', '-c', script], { cwd: root, timeout: 60_000 })
    const result = JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, unknown>
    expect(result.error).toBeUndefined()
    expect(result.closedFromOffHost).toMatch(/^refused|^closed/)
    expect(result.closedFromLoopback).toBe('connected')
    expect(result.keyedWithoutKey).toMatch(/^refused|^closed/)
    expect(result.keyedWithKey).toBe('connected')
    expect(result.keyedPeerReplicated).toBe(true)
  })
})
