import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const fixture = fileURLToPath(new URL('../fixtures/mdns-pair.ts', import.meta.url))
const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * mDNS must never multicast on this machine's real network, so the two nodes run inside a
 * network namespace made for this test: only a loopback interface, with a multicast route on it.
 * Needs root (CI runs as root) plus `unshare` and `ip` (scripts/install-test-deps.sh).
 */
describe('mDNS discovery (in a private network namespace)', () => {
  it('two nodes with no bootstrap find each other on the LAN and replicate', async () => {
    const script = [
      'set -e',
      'ip link set lo up',
      'ip route add 224.0.0.0/4 dev lo',
      `exec node --import tsx ${JSON.stringify(fixture)}`
    ].join('\n')
    const { stdout } = await run('unshare', ['--net', 'bash', '-c', script], { cwd: root, timeout: 50_000 })
    const result = JSON.parse(stdout.trim().split('\n').pop() as string) as { ok: boolean, discoveredMs: number, replicated: boolean }
    expect(result).toMatchObject({ ok: true, replicated: true })
    expect(result.discoveredMs).toBeGreaterThan(0)
  })
})
