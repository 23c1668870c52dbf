/**
 * deploy/chorus.json, the example config of docs/operations.md, read by the real `chorus start
 * --config`: every key is one chorus start knows and every value passes its checks; and a node
 * started from it (with the paths and addresses a test may use given as flags, which win over
 * the file) becomes ready. /etc and /var/lib are never touched.
 */
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { chorus, spawnChorus, tempDir } from '../cli/helpers.js'

const EXAMPLE = resolve(import.meta.dirname, '..', '..', 'deploy', 'chorus.json')

describe('deploy/chorus.json', () => {
  it('chorus start --print-config accepts it and resolves what it says', async () => {
    const dir = await tempDir()
    const run = await chorus(['start', '--config', EXAMPLE, '--data', join(dir, 'data'), '--print-config'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const resolved = JSON.parse(run.stdout) as Record<string, unknown>
    const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>
    // Every key of the file came through as written, except the one the flag overrode.
    for (const [key, value] of Object.entries(example)) {
      if (key === 'data') continue
      expect(resolved[key], key).toEqual(value)
    }
    expect(resolved.data).toBe(join(dir, 'data'))
    // And it shows every option chorus start has (the token belongs in the environment).
    const missing = Object.keys(resolved).filter(key => !(key in example) && key !== 'rpcToken')
    expect(missing).toEqual([])
  })

  it('starts a node that becomes ready (paths and addresses overridden by flags)', async () => {
    const dir = await tempDir()
    const key = join(dir, 'cluster.key')
    const keygen = await chorus(['keygen'])
    expect(keygen.code).toBe(0)
    await writeFile(key, keygen.stdout, { mode: 0o600 })
    const node = spawnChorus([
      'start', '--config', EXAMPLE, '--data', join(dir, 'data'), '--cluster-key', key,
      '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn'
    ], { CHORUS_RPC_TOKEN: 'example-token' })
    const ready = await node.waitLine(/^ready (http:\/\/127\.0\.0\.1:\d+) peer=/)
    const info = await fetch(`${ready[1] as string}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer example-token' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node.info', params: {} })
    })
    expect(((await info.json()) as { result: { open: boolean } }).result.open).toBe(false)
    expect(await node.stop()).toBe(0)
  })
})
