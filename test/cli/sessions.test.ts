/**
 * `--session` on the client commands, against real nodes (in-process, gossip off) through the
 * real bin/chorus: the token --json prints, handed to a command on another node, makes that
 * node catch up first.
 */
import { describe, expect, it } from 'vitest'
import { startSessionNodes } from '../session/helpers.js'
import { chorus } from './helpers.js'

describe('chorus --session', () => {
  it('a put on one node and a get on another with the put\'s token reads the write', async () => {
    const [a, b] = await startSessionNodes(2, { gossip: false })
    const put = await chorus(['put', 'k', '{"n":1}', '--url', a!.url, '--json'])
    expect(put.code, put.stderr).toBe(0)
    const { session } = JSON.parse(put.stdout) as { session: string }
    expect(session).toMatch(/^[A-Za-z0-9_-]+$/)
    // Without the token b does not have it yet; with it, b catches up first.
    expect((await chorus(['get', 'k', '--url', b!.url])).code).toBe(1)
    const get = await chorus(['get', 'k', '--url', b!.url, '--json', '--session', session])
    expect(get.code, get.stderr).toBe(0)
    expect(JSON.parse(get.stdout)).toMatchObject({ found: true, value: { n: 1 }, session: expect.any(String) })
    // The environment variable works too, and counters carry it as well.
    const incr = await chorus(['incr', 'c', '--url', b!.url, '--json'], { CHORUS_SESSION: session })
    expect(incr.code, incr.stderr).toBe(0)
    expect(JSON.parse(incr.stdout).session).toEqual(expect.any(String))
  })

  it('a malformed token is refused: exit 1 and the -32602 error naming session', async () => {
    const [a] = await startSessionNodes(1)
    const r = await chorus(['get', 'k', '--url', a!.url, '--session', 'not a token'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/params\.session/)
    expect(r.stderr).toMatch(/-32602/)
  })

  it('write commands take --session too: a put on another node waits until that node holds what the token covers', async () => {
    const [a, b] = await startSessionNodes(2, { gossip: false })
    const first = await chorus(['put', 'seen', '1', '--url', a!.url, '--json'])
    const { session } = JSON.parse(first.stdout) as { session: string }
    const put = await chorus(['put', 'after', '2', '--url', b!.url, '--session', session])
    expect(put.code, put.stderr).toBe(0)
    // b caught up with a before it wrote: it holds what the token covered (writes follow reads).
    expect((await chorus(['get', 'seen', '--url', b!.url])).code).toBe(0)
    // The same on the path with --replicas, and a malformed token is refused there as well.
    const bad = await chorus(['incr', 'n', '--url', b!.url, '--replicas', '1', '--session', 'not a token'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/params\.session/)
  })
})
