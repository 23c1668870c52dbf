/**
 * The HTTP/WebSocket transport's admission rules and status codes (415, 413, 401, 403, 404,
 * 405, health, metrics, status page), over a fake ChorusApi.
 */
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ChorusClient, ChorusRpcError, startRpcServer } from '../../src/rpc/index.js'
import { createFakeApi } from './fake-api.js'
import type { RpcServer } from '../../src/rpc/index.js'

const servers: RpcServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(async s => await s.close()))
})

async function start (opts: { token?: string, maxBodyBytes?: number } = {}): Promise<{ server: RpcServer, api: ReturnType<typeof createFakeApi> }> {
  const api = createFakeApi()
  const server = await startRpcServer({ api, host: '127.0.0.1', port: 0, ...opts })
  servers.push(server)
  return { server, api }
}

interface Raw { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** node:http, so that the Host header can be anything. */
async function raw (url: string, opts: { method?: string, path?: string, headers?: Record<string, string>, body?: string | Buffer } = {}): Promise<Raw> {
  const u = new URL(url)
  return await new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

const rpcBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node.info', params: {} })

describe('rpc http transport', () => {
  it('serves POST /rpc with application/json (charset allowed) and keeps connections alive', async () => {
    const { server } = await start()
    const r = await raw(server.url, { method: 'POST', path: '/rpc', headers: { 'content-type': 'application/json; charset=utf-8' }, body: rpcBody })
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { version: '0.1.0' } })
    expect(r.headers.connection).toBe('keep-alive')
  })

  it('415 with a JSON-RPC error body for other content types', async () => {
    const { server } = await start()
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await raw(server.url, { method: 'POST', path: '/rpc', headers: { 'content-type': type }, body: rpcBody })
      expect(r.status).toBe(415)
      expect(JSON.parse(r.body)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, data: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE' } } })
    }
  })

  it('413 for bodies over the limit, declared or streamed; the server keeps serving', async () => {
    const { server, api } = await start({ maxBodyBytes: 1024 })
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.put', params: { key: 'k', value: 'x'.repeat(4096) } })
    const res = await fetch(`${server.url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: { code: -32600, data: { code: 'ERR_BODY_TOO_LARGE' } } })
    // chunked (no content-length): counted while reading
    const chunked = await new Promise<number>((resolve, reject) => {
      const u = new URL(server.url)
      const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/rpc', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (r) => { r.resume(); resolve(r.statusCode ?? 0) })
      req.on('error', reject)
      for (let i = 0; i < 8; i++) req.write('x'.repeat(512))
      req.end()
    })
    expect(chunked).toBe(413)
    expect(api.calls).toEqual([])
    const client = new ChorusClient(server.url)
    expect(await client.kvPut('small', 1)).toEqual({ context: expect.any(String), conflict: false })
  })

  it('with a token: 401 without or with a wrong bearer token (health stays open); the client sends it', async () => {
    const { server } = await start({ token: 's3cret' })
    const none = await raw(server.url, { method: 'POST', path: '/rpc', headers: { 'content-type': 'application/json' }, body: rpcBody })
    expect(none.status).toBe(401)
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/)
    expect(JSON.parse(none.body)).toMatchObject({ error: { code: -32007, data: { code: 'ERR_UNAUTHORIZED' } } })
    const wrong = await raw(server.url, { method: 'POST', path: '/rpc', headers: { 'content-type': 'application/json', authorization: 'Bearer s3cres' }, body: rpcBody })
    expect(wrong.status).toBe(401)
    expect((await raw(server.url, { path: '/metrics' })).status).toBe(401)
    expect((await raw(server.url, { path: '/health' })).status).toBe(200)
    // The console's shell and files hold no data: open, and the shell shows none of the node's.
    const shell = await raw(server.url, { path: '/' })
    expect(shell.status).toBe(200)
    expect(shell.body).not.toContain('12D3KooWFake')
    expect(shell.body).not.toContain('12D3KooWPeer')
    expect((await raw(server.url, { path: '/console.js' })).status).toBe(200)
    const withToken = await raw(server.url, { path: '/', headers: { authorization: 'Bearer s3cret' } })
    expect(withToken.body).toContain('12D3KooWFake')

    const err = await new ChorusClient(server.url, { token: 'nope' }).info().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChorusRpcError)
    expect(err).toMatchObject({ code: -32007, data: { code: 'ERR_UNAUTHORIZED' } })
    const ok = new ChorusClient(server.url, { token: 's3cret' })
    expect((await ok.info()).version).toBe('0.1.0')
    expect(await ok.metrics()).toContain('chorus_test 1')
  })

  it('403 for a Host header that is not loopback or the bound host (DNS rebinding)', async () => {
    const { server } = await start()
    const port = new URL(server.url).port
    for (const host of ['evil.example', `evil.example:${port}`, '10.1.2.3']) {
      const r = await raw(server.url, { method: 'POST', path: '/rpc', headers: { host, 'content-type': 'application/json' }, body: rpcBody })
      expect(r.status, host).toBe(403)
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: -32007, data: { code: 'ERR_FORBIDDEN_HOST' } } })
    }
    for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, '[::1]:1234']) {
      const r = await raw(server.url, { method: 'POST', path: '/rpc', headers: { host, 'content-type': 'application/json' }, body: rpcBody })
      expect(r.status, host).toBe(200)
    }
  })

  it('health, metrics, status page, 404 and 405', async () => {
    const { server, api } = await start()
    const h = await fetch(`${server.url}/health`)
    expect(h.status).toBe(200)
    expect(await h.json()).toEqual({ status: 'ok' })
    api.ready = false
    expect((await fetch(`${server.url}/health`)).status).toBe(503)
    const m = await fetch(`${server.url}/metrics`)
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await m.text()).toContain('# TYPE chorus_test counter')
    const page = await fetch(`${server.url}/`)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    expect(html).toContain('12D3KooWFake&lt;script&gt;')
    // One script, this node's own; a policy that allows no other.
    expect(html.match(/<script/g)).toHaveLength(1)
    expect(html).toContain('<script src="/console.js" defer></script>')
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/)
    const js = await fetch(`${server.url}/console.js`)
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(await js.text()).toContain('kv.conflicts')
    expect(html).toContain('12D3KooWPeer')
    expect(html).toContain('in sync')
    expect(html).not.toMatch(/(src|href)="?https?:/)
    expect((await fetch(`${server.url}/nope`)).status).toBe(404)
    const get = await fetch(`${server.url}/rpc`)
    expect(get.status).toBe(405)
  })

  it('refuses a non-loopback host without a token; close() is idempotent', async () => {
    await expect(startRpcServer({ api: createFakeApi(), host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'ERR_CONFIG' })
    const s = await startRpcServer({ api: createFakeApi(), host: '0.0.0.0', port: 0, token: 't' })
    expect(s.port).toBeGreaterThan(0)
    await Promise.all([s.close(), s.close()])
    await s.close()
    await expect(fetch(`http://127.0.0.1:${s.port}/health`)).rejects.toThrow()
  })

  it('WebSocket upgrades: token, Host and Origin checks; kv.watch notifications', async () => {
    const { server, api } = await start({ token: 'tok' })
    const ws = server.url.replace('http', 'ws') + '/rpc'
    const refused = async (headers: Record<string, string>): Promise<number> => await new Promise((resolve, reject) => {
      const s = new WebSocket(ws, { headers })
      s.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); s.terminate() })
      s.on('open', () => { s.close(); reject(new Error('upgrade was accepted')) })
      s.on('error', () => {})
    })
    expect(await refused({})).toBe(401)
    expect(await refused({ authorization: 'Bearer tok', host: 'evil.example' })).toBe(403)
    expect(await refused({ authorization: 'Bearer tok', origin: 'https://evil.example' })).toBe(403)

    const client = new ChorusClient(server.url, { token: 'tok' })
    const events: unknown[] = []
    const handle = await client.watch('app/', { onEvent: e => events.push(e) })
    expect(handle.subscription).toMatch(/.+/)
    api.emit({ space: 'kv', key: 'other', found: true, value: 0, conflict: false, origin: 'local' })
    api.emit({ space: 'kv', key: 'app/x', found: true, value: 1, conflict: false, origin: 'remote' })
    const deadline = Date.now() + 5000
    while (events.length === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    expect(events).toEqual([{ space: 'kv', key: 'app/x', found: true, value: 1, conflict: false, origin: 'remote' }])
    await handle.close()
  })
})
