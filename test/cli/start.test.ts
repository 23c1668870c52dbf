/**
 * The real `bin/chorus start` process with the client commands against it.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BIN, READY, chorus, cleanEnv, spawnChorus, tempDir } from './helpers.js'

const NODE_FLAGS = ['--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn']

describe('chorus start', () => {
  it('prints the ready line, serves the client commands, keeps data intact after bad input, and exits 0 on SIGTERM', async () => {
    const data = await tempDir()
    const node = spawnChorus(['start', '--data', data, ...NODE_FLAGS])
    const [, url, peer, listen] = await node.waitLine(READY)
    expect(readFileSync(join(data, 'rpc.url'), 'utf8').trim()).toBe(url)
    expect(listen).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    expect(node.stderr()).toMatch(/no cluster key: this node talks to processes on this host only/)
    const u = ['--url', url!]

    const put = await chorus(['put', 'greeting', 'hello world', ...u])
    expect(put.code, put.stderr).toBe(0)
    expect(put.stdout.trim()).toMatch(/^\S+$/) // the context
    expect((await chorus(['put', 'doc', '{"a":[1,2],"b":null}', ...u])).code).toBe(0)
    expect((await chorus(['put', 'num', '42', ...u])).code).toBe(0)

    expect((await chorus(['get', 'greeting', ...u])).stdout).toBe('"hello world"\n')
    const doc = await chorus(['get', 'doc', '--json', ...u])
    expect(JSON.parse(doc.stdout)).toMatchObject({ found: true, value: { a: [1, 2], b: null }, conflict: false })
    expect((await chorus(['get', 'num', ...u])).stdout).toBe('42\n')
    const all = await chorus(['get', 'doc', '--all', ...u])
    expect(all.stdout).toContain(peer)

    const scan = await chorus(['scan', ...u])
    expect(scan.stdout.trim().split('\n').map(l => l.split('\t')[0])).toEqual(['doc', 'greeting', 'num'])
    const limited = await chorus(['scan', '--limit', '2', '--json', ...u])
    expect((JSON.parse(limited.stdout) as unknown[]).length).toBe(2)

    expect((await chorus(['incr', 'hits', '-5', ...u])).stdout).toBe('-5\n')
    expect((await chorus(['incr', 'hits', ...u])).stdout).toBe('-4\n')
    expect((await chorus(['sadd', 'tags', 'b', 'a', ...u])).stdout).toBe('a\nb\n')
    expect((await chorus(['smembers', 'tags', ...u])).stdout).toBe('a\nb\n')

    // bad input: a clear error and exit 1, nothing stored changes
    const bad = await chorus(['put', '', 'x', ...u])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/params\.key: must not be empty/)
    const before = JSON.parse((await chorus(['status', '--json', ...u])).stdout) as { digest: string, peerId: string }
    expect(before.peerId).toBe(peer)
    const raw = await fetch(`${url!}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"kv.put","params":{"key":"doc","value":1,"context":"%%%"}}' })
    expect(((await raw.json()) as { error: { code: number } }).error.code).toBe(-32602)
    expect((await chorus(['get', 'greeting', ...u])).stdout).toBe('"hello world"\n')
    expect((JSON.parse((await chorus(['status', '--json', ...u])).stdout) as { digest: string }).digest).toBe(before.digest)

    const del = await chorus(['del', 'greeting', ...u])
    expect(del.code).toBe(0)
    const gone = await chorus(['get', 'greeting', ...u])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/not found/)

    const status = await chorus(['status', ...u])
    expect(status.stdout).toContain(peer)
    expect(status.stdout).toMatch(/peers\s+0 known/)
    expect(JSON.parse((await chorus(['peers', '--json', ...u])).stdout)).toEqual([])

    expect(await node.stop()).toBe(0)

    // the peer id and the data survive a restart
    const again = spawnChorus(['start', '--data', data, ...NODE_FLAGS])
    const [, url2, peer2] = await again.waitLine(READY)
    expect(peer2).toBe(peer)
    expect((await chorus(['get', 'num', '--url', url2!])).stdout).toBe('42\n')
    expect(await again.stop()).toBe(0)
  }, 180_000)

  it('--rpc-token from the environment: clients without it get 401 (exit 1), with it they work', async () => {
    const data = await tempDir()
    const node = spawnChorus(['start', '--data', data, ...NODE_FLAGS], { CHORUS_RPC_TOKEN: 'tok-123' })
    const [, url] = await node.waitLine(READY)
    const denied = await chorus(['get', 'k', '--url', url!])
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(/ERR_UNAUTHORIZED/)
    const ok = await chorus(['put', 'k', 'v', '--url', url!], { CHORUS_RPC_TOKEN: 'tok-123' })
    expect(ok.code, ok.stderr).toBe(0)
    expect((await chorus(['get', 'k', '--url', url!, '--token', 'tok-123'])).stdout).toBe('"v"\n')
    expect((await fetch(`${url!}/health`)).status).toBe(200)
    expect(await node.stop()).toBe(0)
  })

  it('chorus watch prints changes as they happen and exits 0 on SIGTERM', async () => {
    const data = await tempDir()
    const node = spawnChorus(['start', '--data', data, ...NODE_FLAGS])
    const [, url] = await node.waitLine(READY)
    const watch = spawnChorus(['watch', '--prefix', 'w/', '--json', '--url', url!])
    // the subscription is live once a write under the prefix shows up; keep writing until it does
    let i = 0
    const seen = watch.waitLine(/"key":"w\/\d+"/, 30_000)
    const writer = setInterval(() => { void chorus(['put', `w/${i++}`, String(i), '--url', url!]) }, 300)
    try {
      const m = await seen
      expect(JSON.parse(m.input)).toMatchObject({ space: 'kv', found: true, origin: 'local' })
    } finally {
      clearInterval(writer)
    }
    expect(await watch.stop()).toBe(0)
    expect(await node.stop()).toBe(0)
  })

  it('config precedence is flag > env > config file > default (--print-config)', async () => {
    const dir = await tempDir()
    const cfg = join(dir, 'chorus.json')
    writeFileSync(cfg, JSON.stringify({ rpc: '127.0.0.1:7999', aeInterval: 1111, logLevel: 'debug', listen: ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'], mdns: false, data: 'rel-data' }))
    const r = await chorus(['start', '--config', cfg, '--log-level', 'error', '--print-config'], { CHORUS_AE_INTERVAL: '2222', CHORUS_FSYNC: 'true' })
    expect(r.code, r.stderr).toBe(0)
    const c = JSON.parse(r.stdout) as Record<string, unknown>
    expect(c).toMatchObject({
      rpc: '127.0.0.1:7999', // config
      aeInterval: 2222, // env over config
      logLevel: 'error', // flag over config
      listen: ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'],
      mdns: false,
      fsync: true,
      data: join(dir, 'rel-data'), // relative to the config file
      bootstrap: [], // default
      clusterName: 'default'
    })
    const env = await chorus(['start', '--print-config'], { CHORUS_LISTEN: '/ip4/127.0.0.1/tcp/5,/ip4/127.0.0.1/tcp/6', CHORUS_MDNS: 'false', CHORUS_FSYNC: '0' })
    expect(JSON.parse(env.stdout)).toMatchObject({ listen: ['/ip4/127.0.0.1/tcp/5', '/ip4/127.0.0.1/tcp/6'], mdns: false, fsync: false, rpc: '127.0.0.1:7070', aeInterval: 3000 })
    const flags = await chorus(['start', '--print-config', '--listen', '/ip4/127.0.0.1/tcp/7', '--listen', '/ip4/127.0.0.1/tcp/8', '--bootstrap', '/ip4/127.0.0.1/tcp/9/p2p/x'], { CHORUS_LISTEN: '/ip4/127.0.0.1/tcp/5' })
    expect(JSON.parse(flags.stdout)).toMatchObject({ listen: ['/ip4/127.0.0.1/tcp/7', '/ip4/127.0.0.1/tcp/8'], bootstrap: ['/ip4/127.0.0.1/tcp/9/p2p/x'] })
  })

  it('invalid values fail fast with one line on stderr and exit code 2', async () => {
    const dir = await tempDir()
    const badCfg = join(dir, 'bad.json')
    writeFileSync(badCfg, JSON.stringify({ rcp: '127.0.0.1:1' }))
    const garbageKey = join(dir, 'garbage.key')
    writeFileSync(garbageKey, 'not a key')
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['start', '--rpc', 'localhost'], {}, /--rpc/],
      [['start', '--rpc', '127.0.0.1:70000'], {}, /port/],
      [['start', '--ae-interval', 'soon'], {}, /--ae-interval/],
      [['start', '--log-level', 'loud'], {}, /--log-level/],
      [['start', '--listen', 'tcp:7071'], {}, /multiaddr/],
      [['start'], { CHORUS_AE_INTERVAL: '-1' }, /CHORUS_AE_INTERVAL/],
      [['start'], { CHORUS_MDNS: 'maybe' }, /CHORUS_MDNS/],
      [['start', '--config', badCfg], {}, /unknown key "rcp"/],
      [['start', '--config', join(dir, 'missing.json')], {}, /cannot read config file/],
      [['start', '--data', join(dir, 'd'), '--rpc', '0.0.0.0:0'], {}, /--rpc-token/],
      [['start', '--data', join(dir, 'd'), '--cluster-key', garbageKey, '--rpc', '127.0.0.1:0'], {}, /not a libp2p pre-shared key/],
      [['get'], {}, /missing required argument/],
      [['cluster', '--nodes', '0'], {}, /--nodes/],
      [['nonsense'], {}, /unknown command/]
    ]
    for (const [args, env, message] of cases) {
      const r = await chorus(args, env)
      expect(r.code, `${args.join(' ')} → ${r.stderr}`).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(message)
    }
  }, 120_000)

  it('keygen prints a pre-shared key that start accepts', async () => {
    const k = await chorus(['keygen'])
    expect(k.code).toBe(0)
    expect(k.stdout).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    expect((await chorus(['keygen'])).stdout).not.toBe(k.stdout)
    const dir = await tempDir()
    const keyFile = join(dir, 'cluster.key')
    writeFileSync(keyFile, k.stdout)
    const r = await chorus(['start', '--cluster-key', keyFile, '--print-config'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ clusterKey: keyFile })
  })

  it('--help explains every flag with its env var and default', async () => {
    const started = await chorus(['start', '--help'])
    expect(started.code).toBe(0)
    // help wraps lines: compare with whitespace collapsed
    const start = { stdout: started.stdout.replace(/\s+/g, ' ') }
    for (const env of ['CHORUS_DATA', 'CHORUS_RPC', 'CHORUS_LISTEN', 'CHORUS_BOOTSTRAP', 'CHORUS_MDNS', 'CHORUS_CLUSTER_KEY', 'CHORUS_CLUSTER_NAME', 'CHORUS_RPC_TOKEN', 'CHORUS_AE_INTERVAL', 'CHORUS_FSYNC', 'CHORUS_LOG_LEVEL', 'CHORUS_CONFIG']) {
      expect(start.stdout).toContain(`env: ${env}`)
    }
    for (const flag of ['--data', '--rpc', '--listen', '--bootstrap', '--mdns', '--no-mdns', '--cluster-key', '--rpc-token', '--ae-interval', '--fsync', '--log-level', '--cluster-name', '--config']) {
      expect(start.stdout).toContain(flag)
    }
    expect(start.stdout).toContain('default: "127.0.0.1:7070"')
    expect(start.stdout).toContain('default: "./chorus-data"')
    const got = await chorus(['get', '--help'])
    const get = { stdout: got.stdout.replace(/\s+/g, ' ') }
    expect(get.stdout).toContain('env: CHORUS_URL')
    expect(get.stdout).toContain('env: CHORUS_RPC_TOKEN')
    expect(get.stdout).toContain('default: "http://127.0.0.1:7070"')
  })

  it('bin/chorus without dist/ says how to build it and exits 1', async () => {
    const dir = await tempDir()
    mkdirSync(join(dir, 'bin'))
    copyFileSync(BIN, join(dir, 'bin', 'chorus'))
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
    const r = await new Promise<{ code: number | null, stderr: string }>((resolve) => {
      execFile(process.execPath, [join(dir, 'bin', 'chorus'), '--help'], { env: cleanEnv() }, (err, _out, stderr) => {
        resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stderr })
      })
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('run `npm install` first (it builds dist/)')
  })
})
