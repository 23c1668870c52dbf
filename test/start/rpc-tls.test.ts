/**
 * createNode()'s rpcTlsCert / rpcTlsKey: files or PEM bytes, both or neither, checked before the
 * node starts (real libp2p over loopback, real LevelDB, real TLS from a throwaway CA).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ChorusClient, ConfigError, createNode } from '../../src/index.js'
import { tempDir } from '../helpers/nodes.js'
import { makeCertificates } from '../helpers/tls.js'
import type { CreateNodeOptions } from '../../src/index.js'

const LOOPBACK = { rpc: '127.0.0.1:0', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent' } as const

async function configError (options: CreateNodeOptions): Promise<ConfigError> {
  const data = await tempDir()
  const err = await createNode({ data, ...LOOPBACK, ...options }).then(async (n) => { await n.stop(); return undefined }, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConfigError)
  // Refused before the node started: nothing was written to the data directory.
  expect(existsSync(join(data, 'rpc.url'))).toBe(false)
  return err as ConfigError
}

describe('createNode with TLS', () => {
  it('serves https:// from files or from PEM bytes; rpc.url holds the https URL', async () => {
    const certs = await makeCertificates()
    for (const tls of [{ rpcTlsCert: certs.certFile, rpcTlsKey: certs.keyFile }, { rpcTlsCert: new Uint8Array(certs.cert), rpcTlsKey: new Uint8Array(certs.key) }]) {
      const node = await createNode({ data: await tempDir(), ...LOOPBACK, ...tls })
      onTestFinished(async () => { await node.stop() })
      expect(node.rpcUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      expect(readFileSync(join(node.dataDir, 'rpc.url'), 'utf8').trim()).toBe(node.rpcUrl)
      const client = new ChorusClient(node.rpcUrl, { ca: certs.ca })
      await client.kvPut('k', 'v')
      expect((await client.kvGet('k')).value).toBe('v')
      expect((await node.api.info()).rpcUrl).toBe(node.rpcUrl)
      await node.stop()
    }
  })

  it('needs both options, readable files, PEM and a key that is the certificate\'s: ConfigError naming the option', async () => {
    const certs = await makeCertificates()
    const cases: Array<[CreateNodeOptions, string, RegExp]> = [
      [{ rpcTlsCert: certs.certFile }, 'rpcTlsKey', /rpcTlsCert needs rpcTlsKey too/],
      [{ rpcTlsKey: certs.keyFile }, 'rpcTlsCert', /rpcTlsKey needs rpcTlsCert too/],
      [{ rpcTlsCert: join(certs.dir, 'missing.pem'), rpcTlsKey: certs.keyFile }, 'rpcTlsCert', /rpcTlsCert: cannot read .*missing\.pem: ENOENT/],
      [{ rpcTlsCert: certs.certFile, rpcTlsKey: join(certs.dir, 'missing.key') }, 'rpcTlsKey', /rpcTlsKey: cannot read .*ENOENT/],
      [{ rpcTlsCert: certs.keyFile, rpcTlsKey: certs.keyFile }, 'rpcTlsCert', /is not a PEM certificate/],
      [{ rpcTlsCert: certs.certFile, rpcTlsKey: certs.certFile }, 'rpcTlsKey', /is not an unencrypted PEM private key/],
      [{ rpcTlsCert: certs.certFile, rpcTlsKey: certs.otherKeyFile }, 'rpcTlsKey', /other\.key is not the private key of the certificate/],
      [{ rpcTlsCert: '', rpcTlsKey: certs.keyFile }, 'rpcTlsCert', /expected a file's path or its bytes/],
      [{ rpcTlsCert: 42 as unknown as string, rpcTlsKey: certs.keyFile }, 'rpcTlsCert', /expected a file's path or its bytes/]
    ]
    for (const [options, option, message] of cases) {
      const err = await configError(options)
      expect(err.data).toEqual({ option })
      expect(err.message).toMatch(message)
    }
    const local = await createNode({ data: await tempDir(), ...LOOPBACK, rpc: false, rpcTlsCert: certs.certFile, rpcTlsKey: certs.keyFile })
      .then(async (n) => { await n.stop(); return undefined }, (e: unknown) => e)
    expect(local).toBeInstanceOf(ConfigError)
    expect((local as ConfigError).message).toMatch(/no RPC server/)
  })

  it('still needs a token on a non-loopback address', async () => {
    const certs = await makeCertificates()
    const err = await configError({ rpc: '0.0.0.0:0', rpcTlsCert: certs.certFile, rpcTlsKey: certs.keyFile })
    expect(err.data).toEqual({ option: 'rpcToken' })
  })
})
