/** `--ttl` on put, incr and sadd, as an operator runs them: a real `chorus start`, the real bin/chorus. */
import { describe, expect, it } from 'vitest'
import { MAX_TTL_MS } from '../../src/constants.js'
import { startProcess } from '../helpers/processes.js'
import { chorus, waitFor } from './helpers.js'

describe('chorus put/incr/sadd --ttl', () => {
  it('writes keys that read as absent once expired; a bad --ttl is a usage error that writes nothing', async () => {
    const node = await startProcess()
    const url = ['--url', node.url]
    // Each command is a process start: the short-lived keys may be gone before the next one runs.
    expect((await chorus(['put', 'long', '"v"', '--ttl', '3600000', ...url])).code).toBe(0)
    expect(JSON.parse((await chorus(['get', 'long', '--json', ...url])).stdout)).toMatchObject({ found: true, value: 'v', expiresAt: expect.any(Number) })
    expect((await chorus(['put', 'k', '"v"', '--ttl', '500', ...url])).code).toBe(0)
    expect((await chorus(['incr', 'hits', '4', '--ttl', '500', '--json', ...url])).stdout).toMatch(/"value":4/)
    expect((await chorus(['sadd', 'tags', 'a', 'b', '--ttl', '500', '--json', ...url])).stdout).toMatch(/"members":\["a","b"\]/)
    await waitFor('the keys to expire', async () => {
      const [get, count, members] = await Promise.all([chorus(['get', 'k', ...url]), chorus(['count', 'hits', ...url]), chorus(['smembers', 'tags', ...url])])
      return get.code === 1 && count.stdout.trim() === '0' && members.stdout.trim() === ''
    })
    // A later write without --ttl starts the key afresh.
    expect((await chorus(['incr', 'hits', ...url])).stdout.trim()).toBe('1')

    for (const bad of ['0', '-5', '1.5', 'soon', String(MAX_TTL_MS + 1)]) {
      const r = await chorus(['put', 'other', '1', '--ttl', bad, ...url])
      expect(r.code, bad).not.toBe(0)
      expect(r.stderr).toMatch(/--ttl/)
    }
    expect((await chorus(['get', 'other', ...url])).code).toBe(1)
  })

  it('--help of put, incr and sadd explains --ttl; srem has none', async () => {
    for (const cmd of ['put', 'incr', 'sadd']) expect((await chorus([cmd, '--help'])).stdout).toMatch(/--ttl <ms>\s+the key reads as absent on every node/)
    expect((await chorus(['srem', '--help'])).stdout).not.toMatch(/--ttl/)
  })
})
