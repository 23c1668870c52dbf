/**
 * What an operator meets first, as they meet it: one clear line (never a stack trace) for a
 * port in use or a key file that exists, a `--help` with examples on every command, `status`
 * naming who may connect, and Ctrl-C on `chorus cluster` stopping every node cleanly.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, expect, it, onTestFinished } from 'vitest'
import { BIN, chorus, cleanEnv, spawnChorus, tempDir, READY } from './helpers.js'
import { waitFor } from '../helpers/nodes.js'

const COMMANDS = ['start', 'cluster', 'get', 'put', 'del', 'scan', 'conflicts', 'incr', 'count', 'sadd', 'srem', 'smembers', 'status', 'peers', 'sync', 'watch', 'changes', 'members', 'connect', 'export', 'import', 'init', 'keygen', 'verify']

/** A TCP port that something else holds for the rest of the test. */
async function busyPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  onTestFinished(async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }) }) })
  return (server.address() as { port: number }).port
}

function oneLine (stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m)
  expect(stderr.trim().split('\n')).toHaveLength(1)
}

describe('operator errors and help', () => {
  it('a libp2p port in use: one line naming the address, exit 2', async () => {
    const port = await busyPort()
    const r = await chorus(['start', '--data', await tempDir(), '--rpc', '127.0.0.1:0', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`libp2p listen address /ip4/127.0.0.1/tcp/${port}: address already in use`)
    oneLine(r.stderr.split('\n').filter(l => !l.startsWith('{')).join('\n'))
  })

  it('keygen --out onto an existing file: refused in one line, the file untouched, exit 2', async () => {
    const file = join(await tempDir(), 'cluster.key')
    await writeFile(file, 'the old key\n')
    const r = await chorus(['keygen', '--out', file])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/the file exists; a cluster key is never overwritten/)
    oneLine(r.stderr)
    const { readFile } = await import('node:fs/promises')
    expect(await readFile(file, 'utf8')).toBe('the old key\n')
  })

  it('every command\'s --help ends with examples; client commands\' --config names client keys', async () => {
    const helps = await Promise.all(COMMANDS.map(async c => ({ c, r: await chorus([c, '--help']) })))
    for (const { c, r } of helps) {
      expect(r.code, c).toBe(0)
      expect(r.stdout, c).toContain('Examples:')
      expect(r.stdout, c).toContain(`chorus ${c}`)
    }
    const get = helps.find(h => h.c === 'get')!.r.stdout.replace(/\s+/g, ' ')
    expect(get).toContain('"url"')
    expect(get).not.toContain('aeInterval')
  })

  it('status names who may connect, and lists the peers with their digests', async () => {
    const a = spawnChorus(['start', '--data', await tempDir(), '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn'])
    const [, url, , listen] = await a.waitLine(READY, 90_000)
    const b = spawnChorus(['start', '--data', await tempDir(), '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn', '--bootstrap', listen as string])
    const [, , bPeer] = await b.waitLine(READY, 90_000)
    let out = ''
    await waitFor(async () => {
      out = (await chorus(['status', '--url', url as string])).stdout
      return out.includes(bPeer as string) && /✔ in sync/.test(out)
    }, { what: 'status to list b in sync', timeoutMs: 60_000 })
    expect(out).toMatch(/^network\s+this host only \(no cluster key/m)
    const digest = /^digest\s+([0-9a-f]{32})$/m.exec(out)?.[1]
    expect(digest).toBeDefined()
    // b's row carries b's digest, equal to a's once in sync.
    expect(out.split('\n').find(l => l.startsWith(bPeer as string))).toContain(digest)
  })

  it('a reader that stops early (chorus watch | head -1) ends the command quietly, exit 0, no stack trace', async () => {
    const node = spawnChorus(['start', '--data', await tempDir(), '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn'])
    const [, url] = await node.waitLine(READY, 90_000)
    const watch = spawn(process.execPath, [BIN, 'watch', '--url', url as string], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    watch.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>(resolve => { watch.once('exit', code => { resolve(code) }) })
    onTestFinished(() => { if (watch.exitCode === null) watch.kill('SIGKILL') })
    let first = ''
    watch.stdout.on('data', (d: Buffer) => { first += d.toString() })
    await waitFor(async () => {
      await chorus(['put', 'piped', String(Date.now()), '--url', url as string])
      return first.includes('piped')
    }, { what: 'the first change on watch\'s stdout', timeoutMs: 60_000 })
    // What `head -1` does once it has its line: close the pipe.
    watch.stdout.destroy()
    await waitFor(async () => {
      await chorus(['put', 'piped', String(Date.now()), '--url', url as string])
      return watch.exitCode !== null
    }, { what: 'watch to end once its reader is gone', timeoutMs: 60_000 })
    expect(await exited).toBe(0)
    expect(stderr).not.toMatch(/EPIPE|^\s+at /m)
  })

  it('Ctrl-C on chorus cluster (SIGINT to the whole process group, as a terminal sends it) stops every node cleanly, exit 0', async () => {
    // detached: a process group of its own, to signal as a terminal would.
    const proc = spawn(process.execPath, [BIN, 'cluster', '--nodes', '2'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stderr = ''
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const lines: string[] = []
    createInterface({ input: proc.stdout }).on('line', l => { lines.push(l) })
    const exited = new Promise<number | null>(resolve => { proc.once('exit', code => { resolve(code) }) })
    onTestFinished(() => { if (proc.exitCode === null) process.kill(-(proc.pid as number), 'SIGKILL') })
    await waitFor(() => lines.some(l => l.startsWith('ready ')), { what: 'the cluster to be ready', timeoutMs: 120_000 })
    const urls = lines.filter(l => /^node-\d+ /.test(l)).map(l => /(http:\/\/\S+)/.exec(l)?.[1] as string)
    expect(urls).toHaveLength(2)

    process.kill(-(proc.pid as number), 'SIGINT')

    expect(await exited).toBe(0)
    expect(stderr).not.toContain('second signal')
    // Every node is gone: nothing answers on their RPC ports.
    for (const url of urls) await expect(fetch(`${url}/health`)).rejects.toThrow()
  })
})
