/**
 * createNode(), the library's way to run a node in-process, through the package's face
 * (src/index.ts): real libp2p over loopback, real LevelDB in temp dirs, real HTTP.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { onTestFinished, describe, expect, it } from 'vitest'
import { ChorusClient, ChorusRpcError, ConfigError, DataDirError, NotReadyError, createNode } from '../../src/index.js'
import { newClusterKey } from '../../src/cli/index.js'
import { tempDir, waitFor } from '../helpers/nodes.js'
import type { CreateNodeOptions, EmbeddedNode, LocalNode } from '../../src/index.js'

/** Loopback only, mDNS off, quiet; stopped when the test ends (stop is idempotent). */
const LOOPBACK = { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent' } as const

async function embedded (options: CreateNodeOptions & { rpc?: string } = {}): Promise<EmbeddedNode> {
  const node = await createNode({ data: await tempDir(), rpc: '127.0.0.1:0', ...LOOPBACK, ...options })
  onTestFinished(async () => { await node.stop() })
  return node
}

async function local (options: CreateNodeOptions = {}): Promise<LocalNode> {
  const node = await createNode({ data: await tempDir(), ...LOOPBACK, ...options, rpc: false })
  onTestFinished(async () => { await node.stop() })
  return node
}

async function failure (p: Promise<unknown>): Promise<unknown> {
  return await p.then(() => { throw new Error('expected a rejection') }, (err: unknown) => err)
}

describe('createNode', () => {
  it('resolves when the node serves: put/get through ChorusClient and the in-process api; stop is idempotent', async () => {
    const node = await embedded()
    expect(node.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(readFileSync(join(node.dataDir, 'rpc.url'), 'utf8').trim()).toBe(node.rpcUrl)
    expect(node.addrs).toEqual([expect.stringMatching(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${node.peerId}$`))])

    const client = new ChorusClient(node.rpcUrl)
    expect(await client.health()).toBe(true)
    await client.put('greeting', 'hello')
    expect((await client.get('greeting')).value).toBe('hello')
    // The same node in-process: what HTTP wrote, the api reads, and the other way round.
    expect(await node.api.kvGet('greeting')).toMatchObject({ found: true, value: 'hello', conflict: false })
    await node.api.kvPut('from-api', { n: 1 })
    expect(await client.get('from-api')).toMatchObject({ found: true, value: { n: 1 } })
    expect(await node.api.info()).toMatchObject({ peerId: node.peerId, rpcUrl: node.rpcUrl })

    const stopping = node.stop()
    expect(node.stop()).toBe(stopping)
    await stopping
    expect(node.stop()).toBe(stopping)
    await node.stop()
    const afterStop = await failure(client.get('greeting'))
    expect(afterStop).toBeInstanceOf(ChorusRpcError)
    expect((afterStop as ChorusRpcError).data.code).toBe('ERR_CONNECTION')
    expect(await failure(node.api.kvGet('greeting'))).toBeInstanceOf(NotReadyError)

    // Stopped means released: the same data directory starts again, with the data and identity kept.
    const again = await embedded({ data: node.dataDir })
    expect(again.peerId).toBe(node.peerId)
    expect((await new ChorusClient(again.rpcUrl).get('greeting')).value).toBe('hello')
  })

  it('two embedded nodes replicate to each other over loopback (one with RPC, one in-process only)', async () => {
    const a = await embedded()
    const b = await local({ bootstrap: a.addrs })
    expect(b.rpcUrl).toBeUndefined()
    expect(existsSync(join(b.dataDir, 'rpc.url'))).toBe(false)
    const client = new ChorusClient(a.rpcUrl)

    await client.put('from-a', 'over http on a')
    await waitFor(async () => (await b.api.kvGet('from-a')).value === 'over http on a', { what: 'a → b' })
    await b.api.kvPut('from-b', 'in-process on b')
    await b.api.counterIncr('hits', 5)
    await waitFor(async () => (await client.get('from-b')).value === 'in-process on b', { what: 'b → a' })
    await waitFor(async () => (await client.counterGet('hits')).value === 5, { what: 'counter b → a' })
    await waitFor(async () => (await a.api.info()).digest === (await b.api.info()).digest, { what: 'equal digests' })
  })

  it('takes the cluster key as a file path (like --cluster-key) or as the key\'s bytes', async () => {
    const dir = await tempDir()
    const keyFile = join(dir, 'cluster.key')
    writeFileSync(keyFile, await newClusterKey())
    const byFile = await local({ clusterKey: keyFile })
    const byBytes = await local({ clusterKey: readFileSync(keyFile), bootstrap: byFile.addrs })
    expect((await byFile.api.info()).open).toBe(false)
    await byBytes.api.kvPut('k', 'same key')
    await waitFor(async () => (await byFile.api.kvGet('k')).value === 'same key', { what: 'nodes with the same key to replicate' })
  })

  it('refuses invalid options with ConfigError (ERR_CONFIG) naming the option, before starting anything', async () => {
    const dir = await tempDir()
    const data = join(dir, 'never-created')
    const garbage = join(dir, 'garbage.key')
    writeFileSync(garbage, 'not a key\n')
    const cases: Array<[unknown, string, RegExp]> = [
      [{ data, rcp: '127.0.0.1:0' }, 'rcp', /unknown option/],
      [{ data, 'cluster-key': garbage }, 'cluster-key', /did you mean clusterKey\?/],
      [{ data, rpc: 'localhost' }, 'rpc', /HOST:PORT/],
      [{ data, rpc: '127.0.0.1:70000' }, 'rpc', /port/],
      [{ data, rpc: 7070 }, 'rpc', /"HOST:PORT" or false/],
      [{ data, rpc: true }, 'rpc', /"HOST:PORT" or false/],
      [{ data: '' }, 'data', /non-empty string/],
      [{ data, listen: 'tcp:7071' }, 'listen', /multiaddr/],
      [{ data, bootstrap: ['/ip4/127.0.0.1/tcp/1', 5] }, 'bootstrap[1]', /multiaddr/],
      [{ data, mdns: 'no' }, 'mdns', /true or false/],
      [{ data, aeInterval: 10 }, 'aeInterval', /between 50 and/],
      [{ data, aeInterval: 1.5 }, 'aeInterval', /integer/],
      [{ data, logLevel: 'loud' }, 'logLevel', /one of/],
      [{ data, clusterName: 'a b' }, 'clusterName', /letters/],
      [{ data, clusterKey: garbage }, 'clusterKey', /not a libp2p pre-shared key/],
      [{ data, clusterKey: join(dir, 'missing.key') }, 'clusterKey', /cannot read/],
      [{ data, clusterKey: new TextEncoder().encode('nope') }, 'clusterKey', /not a libp2p pre-shared key/],
      [{ data, rpc: '0.0.0.0:0' }, 'rpcToken', /not a loopback address: set rpcToken/],
      ['127.0.0.1:0', '', /options object/]
    ]
    for (const [options, option, message] of cases) {
      const err = await failure(createNode(options as CreateNodeOptions))
      expect(err, JSON.stringify(options)).toBeInstanceOf(ConfigError)
      expect((err as ConfigError).code).toBe('ERR_CONFIG')
      expect((err as ConfigError).data?.option, JSON.stringify(options)).toBe(option)
      expect((err as ConfigError).message).toMatch(message)
    }
    expect(existsSync(data)).toBe(false)
  })

  it('a busy RPC port is ERR_CONFIG and the node it started is stopped again; a data directory in use is ERR_DATA_DIR', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => { blocker.listen(0, '127.0.0.1', resolve) })
    onTestFinished(() => { blocker.close() })
    const port = (blocker.address() as { port: number }).port
    const data = await tempDir()
    const busy = await failure(createNode({ data, ...LOOPBACK, rpc: `127.0.0.1:${port}` }))
    expect(busy).toBeInstanceOf(ConfigError)
    expect((busy as ConfigError).data?.option).toBe('rpc')
    expect((busy as ConfigError).message).toMatch(/address already in use/)

    // The failed start let go of the directory: it opens now, and a second node on it is refused.
    const node = await embedded({ data })
    const inUse = await failure(createNode({ data, ...LOOPBACK, rpc: false }))
    expect(inUse).toBeInstanceOf(DataDirError)
    expect((inUse as DataDirError).code).toBe('ERR_DATA_DIR')
    expect(await new ChorusClient(node.rpcUrl).health()).toBe(true)
  })
})
