/** `chorus map …` against a real `chorus start` process. */
import { describe, expect, it } from 'vitest'
import { READY, chorus, spawnChorus, tempDir } from './helpers.js'

const NODE_FLAGS = ['--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn']

describe('chorus map', () => {
  it('sets, increments, adds and removes fields (nested by path), reads them back, deletes a field and the map', async () => {
    const node = spawnChorus(['start', '--data', await tempDir(), ...NODE_FLAGS])
    const [, url] = await node.waitLine(READY)
    const u = ['--url', url as string]
    const run = async (...args: string[]): Promise<string> => {
      const r = await chorus(['map', ...args, ...u])
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      return r.stdout.trim()
    }
    expect(await run('set', 'user/1', 'name', 'Ada')).toMatch(/^[A-Za-z0-9_-]+$/)
    await run('set', 'user/1', 'address.city', '"Oslo"')
    await run('incr', 'user/1', 'logins')
    await run('incr', 'user/1', 'logins', '-3')
    await run('add', 'user/1', 'roles', 'admin', 'dev')
    await run('remove', 'user/1', 'roles', 'dev')
    await run('update', 'user/1', '[{"op":"update","field":"address","ops":[{"op":"set","field":"zip","value":"0150"}]}]')
    expect(JSON.parse(await run('get', 'user/1'))).toEqual({ address: { city: 'Oslo', zip: '0150' }, logins: -2, name: 'Ada', roles: ['admin'] })
    expect((await run('get', 'user/1', '--all')).split('\n')).toEqual([
      expect.stringMatching(/^address\.city\tregister\t"Oslo"\t\w+\t\d+:\d+$/),
      expect.stringMatching(/^address\.zip\tregister\t"0150"\t/),
      'logins\tcounter\t-2',
      expect.stringMatching(/^name\tregister\t"Ada"\t/),
      'roles\tset\t["admin"]'
    ])
    const got = JSON.parse(await run('get', 'user/1', '--json')) as { found: boolean, context: string }
    expect(got.found).toBe(true)
    await run('del', 'user/1', 'address', '--type', 'map', '--context', got.context)
    expect(JSON.parse(await run('get', 'user/1'))).toEqual({ logins: -2, name: 'Ada', roles: ['admin'] })
    expect((await run('scan', '--prefix', 'user/')).split('\n')).toEqual(['user/1\t{"logins":-2,"name":"Ada","roles":["admin"]}'])
    // chorus export / chorus import carry maps: a fresh node that imports the file has the same digest.
    const file = `${await tempDir()}/backup.jsonl`
    const exported = await chorus(['export', file, ...u])
    expect(exported.stdout).toMatch(/^exported 1 keys \(0 registers, 0 counters, 0 sets, 1 maps\)/)
    const other = spawnChorus(['start', '--data', await tempDir(), ...NODE_FLAGS])
    const [, otherUrl] = await other.waitLine(READY)
    const imported = await chorus(['import', file, '--url', otherUrl as string, '--json'])
    expect(JSON.parse(imported.stdout)).toMatchObject({ keys: 1, added: 1, rejected: 0 })
    const digest = async (url: string): Promise<string> => (JSON.parse((await chorus(['status', '--json', '--url', url])).stdout) as { digest: string }).digest
    expect(await digest(otherUrl as string)).toBe(await digest(url as string))
    expect(await other.stop()).toBe(0)

    await run('del', 'user/1')
    const gone = await chorus(['map', 'get', 'user/1', ...u])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain('user/1: not found')

    // Bad input: usage errors exit 2; the node's -32602 names the path.
    expect((await chorus(['map', 'set', 'k', 'a..b', '1', ...u])).code).toBe(2)
    const bad = await chorus(['map', 'update', 'k', '[{"op":"update","field":"a","ops":[{"op":"incr","field":"n","by":0.5}]}]', ...u])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('params.ops[0].ops[0].by')
    const help = await chorus(['map', '--help'])
    expect(help.stdout).toContain('chorus map set user/1 address.city')
    expect(await node.stop()).toBe(0)
  })
})
