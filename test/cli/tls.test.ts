/**
 * The CLI over TLS, with real processes: `chorus start --rpc-tls-cert/--rpc-tls-key` and the
 * client commands with `--ca` (and CHORUS_CA), against a certificate from a throwaway CA made
 * by the real openssl. Wrong TLS files are one-line errors with exit code 2.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ChorusClient } from '../../src/rpc/index.js'
import { makeCertificates, type TestCertificates } from '../helpers/tls.js'
import { chorus, spawnChorus, tempDir, waitFor } from './helpers.js'

const TLS_READY = /^ready (https:\/\/127\.0\.0\.1:\d+) peer=\S+ listen=\S+$/

function startArgs (data: string, ...more: string[]): string[] {
  return ['start', '--data', data, '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn', ...more]
}

/** A one-line error on stderr, no stack trace. */
function oneLine (stderr: string): string {
  const lines = stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(stderr).not.toMatch(/^\s+at /m)
  return lines[0] as string
}

async function tlsNode (certs: TestCertificates): Promise<{ url: string, data: string }> {
  const data = await tempDir()
  const node = spawnChorus(startArgs(data, '--rpc-tls-cert', certs.certFile, '--rpc-tls-key', certs.keyFile))
  const [, url] = await node.waitLine(TLS_READY) as unknown as [string, string]
  return { url, data }
}

describe('chorus over TLS', () => {
  it('start prints an https ready line; get, put, status, export, import and watch work with --ca (or CHORUS_CA)', async () => {
    const certs = await makeCertificates()
    const { url, data } = await tlsNode(certs)
    expect(readFileSync(join(data, 'rpc.url'), 'utf8').trim()).toBe(url)

    const put = await chorus(['put', 'greeting', '{"hello":"tls"}', '--url', url, '--ca', certs.caFile])
    expect(put.stderr).toBe('')
    expect(put.code).toBe(0)
    const get = await chorus(['get', 'greeting', '--url', url], { CHORUS_CA: certs.caFile })
    expect(get.code).toBe(0)
    expect(JSON.parse(get.stdout)).toEqual({ hello: 'tls' })
    const status = await chorus(['status', '--json', '--url', url, '--ca', certs.caFile])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ rpcUrl: url })

    // export over https, import over wss (the import's WebSocket transport).
    const file = join(await tempDir(), 'backup.jsonl')
    expect((await chorus(['export', file, '--url', url, '--ca', certs.caFile])).code).toBe(0)
    const imported = await chorus(['import', file, '--json', '--url', url, '--ca', certs.caFile])
    expect(imported.stderr).toBe('')
    expect(JSON.parse(imported.stdout)).toMatchObject({ keys: 1, unchanged: 1 })

    // watch over wss: write until the watcher has shown one of the writes.
    const watch = spawnChorus(['watch', '--prefix', 'w/', '--url', url, '--ca', certs.caFile])
    const client = new ChorusClient(url, { ca: certs.ca })
    let n = 0
    await waitFor('the watch line over wss', async () => {
      await client.kvPut(`w/${n++}`, 'x')
      return watch.lines.some(l => /\tkv\tw\/\d+\t/.test(l))
    })
    expect(await watch.stop()).toBe(0)
  })

  it('without --ca the certificate is not trusted: exit 1, one line saying how to pass --ca; plain http:// to the TLS port fails with a hint', async () => {
    const certs = await makeCertificates()
    const { url } = await tlsNode(certs)
    const untrusted = await chorus(['get', 'k', '--url', url])
    expect(untrusted.code).toBe(1)
    expect(oneLine(untrusted.stderr)).toMatch(/^error: cannot reach https:\/\/127\.0\.0\.1:\d+: .*certificate is not trusted; pass the certificate of the CA that signed it with --ca FILE .*\(ERR_CONNECTION\)$/)
    const wrongCa = await chorus(['put', 'k', 'v', '--url', url, '--ca', certs.otherCaFile])
    expect(wrongCa.code).toBe(1)
    expect(oneLine(wrongCa.stderr)).toMatch(/not trusted/)

    const plain = await chorus(['get', 'k', '--url', url.replace(/^https/, 'http'), '--timeout', '20000'])
    expect(plain.code).toBe(1)
    expect(oneLine(plain.stderr)).toMatch(/ERR_CONNECTION/)
    expect(plain.stderr).toMatch(/use an https:\/\/ URL/)

    const noFile = await chorus(['get', 'k', '--url', url, '--ca', join(certs.dir, 'missing.pem')])
    expect(noFile.code).toBe(2)
    expect(oneLine(noFile.stderr)).toMatch(/^error: --ca: cannot read .*missing\.pem: ENOENT$/)
    const notPem = await chorus(['get', 'k', '--url', url, '--ca', certs.keyFile])
    expect(notPem.code).toBe(2)
    expect(oneLine(notPem.stderr)).toMatch(/holds no PEM certificate/)
  })

  it('start refuses one flag without the other, a missing file, and a key that is not the certificate\'s: one line, exit 2', async () => {
    const certs = await makeCertificates()
    const data = await tempDir()
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--rpc-tls-cert', certs.certFile], {}, /^error: --rpc-tls-cert needs --rpc-tls-key too/],
      [[], { CHORUS_RPC_TLS_KEY: certs.keyFile }, /^error: --rpc-tls-key needs --rpc-tls-cert too/],
      [['--rpc-tls-cert', join(certs.dir, 'nope.pem'), '--rpc-tls-key', certs.keyFile], {}, /^error: --rpc-tls-cert: cannot read .*nope\.pem: ENOENT$/],
      [['--rpc-tls-cert', certs.certFile, '--rpc-tls-key', certs.otherKeyFile], {}, /^error: --rpc-tls-key: .*other\.key is not the private key of the certificate in .*server\.pem$/],
      [['--rpc-tls-cert', certs.keyFile, '--rpc-tls-key', certs.keyFile], {}, /^error: --rpc-tls-cert: .*server\.key is not a PEM certificate/]
    ]
    for (const [flags, env, message] of cases) {
      const r = await chorus(startArgs(data, ...flags), env)
      expect(r.code, r.stderr).toBe(2)
      expect(oneLine(r.stderr)).toMatch(message)
    }
  })

  it('reads rpcTlsCert and rpcTlsKey from a config file, relative to the file', async () => {
    const certs = await makeCertificates()
    const config = join(certs.dir, 'chorus.json')
    writeFileSync(config, JSON.stringify({ rpcTlsCert: 'server.pem', rpcTlsKey: 'server.key' }))
    const shown = await chorus(['start', '--config', config, '--print-config'])
    expect(shown.code).toBe(0)
    expect(JSON.parse(shown.stdout)).toMatchObject({ rpcTlsCert: certs.certFile, rpcTlsKey: certs.keyFile })
    const data = await tempDir()
    const node = spawnChorus(startArgs(data, '--config', config))
    await node.waitLine(TLS_READY)
  })
})
