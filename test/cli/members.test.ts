/**
 * `chorus connect`, `chorus members [remove ID]` against real `chorus start` processes, and
 * `chorus start` on a data directory that last saw its cluster longer ago than the member TTL.
 */
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { createChorusNode } from '../../src/node/index.js'
import { BIN, READY, chorus, cleanEnv, spawnChorus, tempDir } from './helpers.js'

const NODE_FLAGS = ['--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn']
const DAY = 86_400_000

/** Runs `node ARGS` on a pseudo-terminal (util-linux `script`), typing `input`. */
async function onTerminal (args: string[], input: string): Promise<{ code: number | null, output: string }> {
  const command = [process.execPath, ...args].map(a => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const proc = spawn('script', ['-qec', command, '/dev/null'], { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout.on('data', (d: Buffer) => { output += d.toString() })
  proc.stderr.on('data', (d: Buffer) => { output += d.toString() })
  proc.stdin.end(input)
  const code = await new Promise<number | null>(resolve => proc.once('exit', resolve))
  return { code, output }
}

describe('chorus members / connect', () => {
  it('connect joins two nodes; members lists the peer (table and --json); members remove forgets it and says so', async () => {
    const a = spawnChorus(['start', '--data', await tempDir(), ...NODE_FLAGS])
    const b = spawnChorus(['start', '--data', await tempDir(), ...NODE_FLAGS])
    const [, urlA] = await a.waitLine(READY)
    const [, , peerB, listenB] = await b.waitLine(READY)
    const u = ['--url', urlA!]

    const c = await chorus(['connect', listenB!, ...u])
    expect(c.code, c.stderr).toBe(0)
    expect(c.stdout).toMatch(new RegExp(`^connected to ${peerB} \\(/ip4/127\\.0\\.0\\.1/tcp/\\d+`))
    expect((await chorus(['sync', '--peer', peerB!, ...u])).code).toBe(0)

    const table = await chorus(['members', ...u])
    expect(table.code, table.stderr).toBe(0)
    const [header, row] = table.stdout.trim().split('\n')
    expect(header).toMatch(/^PEER\s+CONNECTION\s+LAST SEEN\s+LAST SYNC\s+GC$/)
    expect(row).toMatch(new RegExp(`^${peerB}\\s+connected\\s+now\\s+(\\d+ ms|\\d+s) ago\\s+-$`))
    const list = JSON.parse((await chorus(['members', '--json', ...u])).stdout) as Array<Record<string, unknown>>
    expect(list).toEqual([expect.objectContaining({ peerId: peerB, connected: true, lastSeenMs: 0, holdsGc: false })])

    // On a terminal it asks first; anything but yes keeps the member.
    const no = await onTerminal([BIN, 'members', 'remove', peerB!, ...u], 'n\n')
    expect(no.code).toBe(1)
    expect(no.output).toMatch(/Remove \S+\? Tombstone collection will stop waiting for it.*\[y\/N\]/)
    expect(no.output).toMatch(/not removed/)
    expect((await chorus(['members', '--json', ...u])).stdout).toContain(peerB)

    // Without a terminal nothing is asked.
    // (Options before the subcommand count too.)
    const rm = await chorus(['members', ...u, 'remove', peerB!])
    expect(rm.code, rm.stderr).toBe(0)
    expect(rm.stdout).toMatch(new RegExp(`^removed ${peerB}: tombstone collection no longer waits for it; disconnected; refused from now on`))
    expect((await chorus(['members', ...u])).stdout).toMatch(/^\(no members/)
    const again = await chorus(['connect', listenB!, ...u])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/is refused by this node.*\(ERR_PEER_REFUSED, -32020\)/)
    const bad = await chorus(['connect', '/ip4/127.0.0.1/tcp/7071', ...u])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/params\.addr: must name the peer/)
  }, 60_000)

  it('--help shows examples', async () => {
    for (const cmd of [['members'], ['members', 'remove'], ['connect']]) {
      const r = await chorus([...cmd, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/Examples:\n {2}chorus (members|connect)/)
    }
  })

  it('start on a data directory that last saw its cluster longer ago than the member TTL fails with how to reset it', async () => {
    // Two nodes whose clocks both run 8 days behind: the members record they leave says the
    // cluster was last seen 8 days ago, past the default TTL of 7.
    const dir = await tempDir()
    const past = { now: () => Date.now() - 8 * DAY, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent' as const, clockSettleTimeoutMs: 0 }
    const x = await createChorusNode({ ...past, dataDir: dir })
    const y = await createChorusNode({ ...past, dataDir: await tempDir() })
    await x.connect(y.multiaddrs()[0] as string)
    await x.kvPut('k', 'v')
    await x.stop()
    await y.stop()

    const r = await chorus(['start', '--data', dir, ...NODE_FLAGS])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/this node last saw its cluster 8d 0h ago, longer than the member TTL \(7d 0h\)/)
    expect(r.stderr).toContain(`mv ${dir} ${dir}.stale`)
    expect(r.stderr).toMatch(/\(ERR_STALE_DATA\)/)

    const forced = spawnChorus(['start', '--data', dir, '--accept-stale-data', ...NODE_FLAGS])
    const [, url] = await forced.waitLine(READY)
    expect((await chorus(['get', 'k', '--url', url!])).stdout).toBe('"v"\n')
    expect(await forced.stop()).toBe(0)
  }, 60_000)
})
