/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost, made
 * with the real `openssl` (scripts/install-test-deps.sh installs it), in a temp dir removed
 * when the test ends. Also a second, unrelated key (a key that does not match the certificate)
 * and a second CA that signed nothing the server holds.
 */
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { tempDir } from './nodes.js'

const run = promisify(execFile)

export interface TestCertificates {
  dir: string
  /** The CA's certificate (PEM file): what a client passes as --ca. */
  caFile: string
  /** The server's certificate, signed by the CA, for IP 127.0.0.1 and DNS localhost. */
  certFile: string
  /** The server certificate's private key. */
  keyFile: string
  /** A private key that belongs to no certificate here. */
  otherKeyFile: string
  /** Another CA's certificate: it signed nothing the server holds. */
  otherCaFile: string
  ca: Buffer
  cert: Buffer
  key: Buffer
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

async function openssl (dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 30_000 })
}

export async function makeCertificates (): Promise<TestCertificates> {
  const dir = await tempDir()
  await openssl(dir, ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=chorus test CA'])
  await openssl(dir, ['req', '-x509', ...EC, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=chorus other CA'])
  await openssl(dir, ['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'])
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf'])
  await openssl(dir, ['genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'other.key'])
  const file = (name: string): string => join(dir, name)
  return {
    dir,
    caFile: file('ca.pem'),
    certFile: file('server.pem'),
    keyFile: file('server.key'),
    otherKeyFile: file('other.key'),
    otherCaFile: file('other-ca.pem'),
    ca: await readFile(file('ca.pem')),
    cert: await readFile(file('server.pem')),
    key: await readFile(file('server.key'))
  }
}
