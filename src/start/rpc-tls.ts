/**
 * The RPC server's TLS material (`--rpc-tls-cert` / `--rpc-tls-key`, createNode's `rpcTlsCert` /
 * `rpcTlsKey`): read, parsed and matched before the node starts, so that a wrong file is a
 * one-line ConfigError naming the option instead of a failure deep inside node:tls.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../errors.js'
import type { OptionNaming, StartOptions } from './options.js'

export interface RpcTlsMaterial {
  /** PEM certificate chain: the server's certificate first, then any intermediates. */
  cert: Buffer
  /** PEM private key of the first certificate. */
  key: Buffer
}

type TlsOption = 'rpcTlsCert' | 'rpcTlsKey'

/** A path is read; bytes (library only) are the PEM text itself. */
function pemOf (value: string | Uint8Array, option: TlsOption, name: OptionNaming): Buffer {
  if (typeof value !== 'string') return Buffer.from(value)
  try {
    return readFileSync(value)
  } catch (err) {
    throw new ConfigError(`${name(option)}: cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err, data: { option } })
  }
}

function where (value: string | Uint8Array): string {
  return typeof value === 'string' ? value : 'the bytes given'
}

/**
 * The TLS material of `o`, or undefined when neither option is set. Both or neither; each must
 * parse (PEM), and the key must be the certificate's.
 */
export function rpcTlsMaterial (o: Pick<StartOptions, 'rpc' | 'rpcTlsCert' | 'rpcTlsKey'>, name: OptionNaming): RpcTlsMaterial | undefined {
  const { rpcTlsCert, rpcTlsKey } = o
  if (rpcTlsCert === undefined && rpcTlsKey === undefined) return undefined
  if (rpcTlsCert === undefined || rpcTlsKey === undefined) {
    const [given, missing]: [TlsOption, TlsOption] = rpcTlsCert === undefined ? ['rpcTlsKey', 'rpcTlsCert'] : ['rpcTlsCert', 'rpcTlsKey']
    throw new ConfigError(`${name(given)} needs ${name(missing)} too (TLS takes a certificate and its private key)`, { data: { option: missing } })
  }
  if (o.rpc === false) {
    throw new ConfigError(`${name('rpcTlsCert')}: there is no RPC server to serve over TLS (${name('rpc')} is false)`, { data: { option: 'rpcTlsCert' } })
  }
  const cert = pemOf(rpcTlsCert, 'rpcTlsCert', name)
  const key = pemOf(rpcTlsKey, 'rpcTlsKey', name)
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch (err) {
    throw new ConfigError(`${name('rpcTlsCert')}: ${where(rpcTlsCert)} is not a PEM certificate (${(err as Error).message})`, { cause: err, data: { option: 'rpcTlsCert' } })
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(key)
  } catch (err) {
    throw new ConfigError(`${name('rpcTlsKey')}: ${where(rpcTlsKey)} is not an unencrypted PEM private key (${(err as Error).message})`, { cause: err, data: { option: 'rpcTlsKey' } })
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError(`${name('rpcTlsKey')}: ${where(rpcTlsKey)} is not the private key of the certificate in ${where(rpcTlsCert)}`, { data: { option: 'rpcTlsKey' } })
  }
  return { cert, key }
}
