/**
 * The RPC over TLS: a real node's server given a certificate from a throwaway CA (real openssl),
 * and the typed client over https:// and wss:// with and without that CA.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { ChorusClient, ChorusRpcError, startRpcServer } from '../../src/rpc/index.js'
import { ConfigError } from '../../src/errors.js'
import { readFile } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { makeCertificates } from '../helpers/tls.js'
import { startRealNode, waitFor } from './helpers.js'
import { createFakeApi } from './fake-api.js'
import { requestText } from '../../src/rpc/http-request.js'
import type { ChangeEvent } from '../../src/node/api.js'

function client (url: string, options: ConstructorParameters<typeof ChorusClient>[1] = {}): ChorusClient {
  const c = new ChorusClient(url, { timeoutMs: 10_000, ...options })
  onTestFinished(async () => { await c.close() })
  return c
}

async function failure (p: Promise<unknown>): Promise<ChorusRpcError> {
  return await p.then(() => { throw new Error('expected a rejection') }, (err: unknown) => {
    expect(err).toBeInstanceOf(ChorusRpcError)
    return err as ChorusRpcError
  })
}

describe('RPC over TLS', () => {
  it('serves https:// and wss://: the typed client with the CA over both transports, health, metrics, the console, watch', async () => {
    const certs = await makeCertificates()
    const { server } = await startRealNode({ tls: { cert: certs.cert, key: certs.key }, token: 's3cret' })
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)

    const https = client(server.url, { ca: certs.ca, token: 's3cret' })
    const wss = client(server.url.replace(/^https/, 'wss'), { ca: certs.ca.toString('utf8'), token: 's3cret' })
    const { context } = await https.kvPut('greeting', { hello: 'tls' })
    expect(context).toEqual(expect.any(String))
    expect((await wss.kvGet('greeting')).value).toEqual({ hello: 'tls' })
    await wss.kvPut('over/wss', 1)
    expect((await https.kvGet('over/wss')).value).toBe(1)
    expect(await https.health()).toBe(true)
    expect(await https.metrics()).toMatch(/^# HELP /m)

    // The console's page, and the certificate's other name.
    const page = await requestText(`${server.url}/`, { method: 'GET', headers: {}, timeoutMs: 10_000, ca: certs.ca })
    expect(page.status).toBe(200)
    expect(page.text).toMatch(/<html/i)
    const localhost = client(server.url.replace('127.0.0.1', 'localhost'), { ca: certs.ca })
    expect(await localhost.health()).toBe(true)

    const events: ChangeEvent[] = []
    const watch = await https.watch('w/', { onEvent: (e) => { events.push(e) } })
    onTestFinished(async () => { await watch.close() })
    await https.kvPut('w/1', 'a')
    await waitFor('the watch event over wss', () => events.some(e => e.key === 'w/1'))
    await watch.close()
  })

  it('without the CA, every path fails with ERR_CONNECTION saying the certificate is not trusted and how to pass --ca', async () => {
    const certs = await makeCertificates()
    const { server } = await startRealNode({ tls: { cert: certs.cert, key: certs.key } })
    for (const c of [client(server.url), client(server.url, { transport: 'ws' }), client(server.url, { ca: await readFile(certs.otherCaFile) })]) {
      const err = await failure(c.kvGet('k'))
      expect(err.data?.code).toBe('ERR_CONNECTION')
      expect(err.message).toMatch(/certificate is not trusted.*--ca FILE/)
    }
    const untrusted = client(server.url)
    expect((await failure(untrusted.health())).message).toMatch(/not trusted/)
    expect((await failure(untrusted.watch('', { onEvent: () => {} }))).message).toMatch(/not trusted/)
  })

  it('plain http:// to the TLS port, and https:// to a plain port, fail at once with ERR_CONNECTION and a hint', async () => {
    const certs = await makeCertificates()
    const { server } = await startRealNode({ tls: { cert: certs.cert, key: certs.key } })
    const plain = client(server.url.replace(/^https/, 'http'), { timeoutMs: 20_000 })
    const started = performance.now()
    const err = await failure(plain.kvGet('k'))
    expect(err.data?.code).toBe('ERR_CONNECTION')
    expect(err.message).toMatch(/use an https:\/\/ URL/)
    expect(performance.now() - started).toBeLessThan(10_000)
    expect((await failure(client(server.url.replace(/^https/, 'ws')).kvGet('k'))).data?.code).toBe('ERR_CONNECTION')

    const { server: open } = await startRealNode()
    const wrong = await failure(client(open.url.replace(/^http/, 'https'), { ca: certs.ca }).kvGet('k'))
    expect(wrong.data?.code).toBe('ERR_CONNECTION')
    expect(wrong.message).toMatch(/plain http:\/\//)
  })

  it('a TLS node that does not answer in time fails the call with ERR_TIMEOUT, on both transports', async () => {
    const certs = await makeCertificates()
    const silent = createHttpsServer({ cert: certs.cert, key: certs.key }, () => {})
    silent.on('upgrade', () => {})
    await new Promise<void>(resolve => { silent.listen(0, '127.0.0.1', resolve) })
    onTestFinished(async () => { silent.closeAllConnections(); await new Promise(resolve => { silent.close(resolve) }) })
    const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`
    for (const transport of ['http', 'ws'] as const) {
      const err = await failure(client(url, { ca: certs.ca, timeoutMs: 300, transport }).kvGet('k'))
      expect(err.data?.code).toBe('ERR_TIMEOUT')
    }
  })

  it('refuses a key that is not the certificate\'s with a ConfigError', async () => {
    const certs = await makeCertificates()
    const err = await startRpcServer({ api: createFakeApi(), host: '127.0.0.1', port: 0, tls: { cert: certs.cert, key: await readFile(certs.otherKeyFile) } })
      .then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).message).toMatch(/certificate and key cannot be used/)
  })
})
