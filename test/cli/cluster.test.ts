/**
 * The real `bin/chorus cluster --nodes 3`: three processes that replicate to each other; the
 * client commands against different nodes; SIGTERM stops all and removes the temp dirs.
 */
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { chorus, spawnChorus, waitFor } from './helpers.js'

describe('chorus cluster', () => {
  it('runs 3 nodes that replicate; SIGTERM stops them all with exit 0 and removes the temp dirs', async () => {
    const cluster = spawnChorus(['cluster', '--nodes', '3', '--ae-interval', '1000'])
    const [, root] = await cluster.waitLine(/^data (\S+)/)
    await cluster.waitLine(/^ready /, 90_000)
    const urls = cluster.lines.map(l => /^node-\d+ (http:\/\/\S+) peer=(\S+)/.exec(l)).filter(m => m !== null).map(m => m[1]!)
    expect(urls).toHaveLength(3)
    expect(new Set(urls).size).toBe(3)
    expect(existsSync(root!)).toBe(true)

    // every node reaches the other two
    for (const url of urls) {
      await waitFor(`${url} to connect to 2 peers`, async () => {
        const r = await chorus(['peers', '--json', '--url', url])
        return r.code === 0 && (JSON.parse(r.stdout) as Array<{ connected: boolean }>).filter(p => p.connected).length === 2
      }, 60_000)
    }

    const put = await chorus(['put', 'shared', '{"from":"node-1"}', '--url', urls[0]!])
    expect(put.code, put.stderr).toBe(0)
    const context = put.stdout.trim()
    // read-your-writes on another leader, through the CLI
    const after = await chorus(['get', 'shared', '--after', context, '--url', urls[2]!])
    expect(after.code, after.stderr).toBe(0)
    expect(after.stdout).toBe('{"from":"node-1"}\n')
    await waitFor('node-2 to have the value', async () => (await chorus(['get', 'shared', '--url', urls[1]!])).stdout === '{"from":"node-1"}\n', 30_000)

    // a write on node-3 reaches node-1, and the digests converge
    expect((await chorus(['incr', 'visits', '3', '--url', urls[2]!])).code).toBe(0)
    await waitFor('node-1 to count 3 visits', async () => (await chorus(['count', 'visits', '--url', urls[0]!])).stdout === '3\n', 30_000)
    await waitFor('equal digests', async () => {
      const digests = await Promise.all(urls.map(async u => (JSON.parse((await chorus(['status', '--json', '--url', u])).stdout) as { digest: string }).digest))
      return new Set(digests).size === 1
    }, 30_000)
    // the human-readable peer list
    const peers = await chorus(['peers', '--url', urls[0]!])
    expect(peers.stdout.split('\n')[0]).toMatch(/^PEER\s+CONNECTION\s+DATA/)
    expect(peers.stdout.match(/ connected /g)).toHaveLength(2)
    expect((await chorus(['status', '--url', urls[0]!])).stdout).toMatch(/peers\s+2 known, 2 connected/)

    expect(await cluster.stop(60_000)).toBe(0)
    expect(existsSync(root!)).toBe(false)
    for (const url of urls) expect((await chorus(['status', '--url', url])).code).toBe(1)
  }, 240_000)
})
