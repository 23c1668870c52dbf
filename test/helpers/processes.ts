/**
 * Real `bin/chorus start` processes for end-to-end tests (dist/ is built by `pretest`).
 * Each process gets a temp data dir, a free RPC port and a free libp2p port on 127.0.0.1,
 * mDNS off; it is killed when the test finishes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { tempDir, waitFor } from './nodes.js'

export const CHORUS_BIN = fileURLToPath(new URL('../../bin/chorus', import.meta.url))

export interface ChorusProcess {
  child: ChildProcessWithoutNullStreams
  dataDir: string
  url: string
  peerId: string
  listen: string
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>
}

export async function startProcess (args: string[] = [], dataDir?: string): Promise<ChorusProcess> {
  const dir = dataDir ?? await tempDir()
  const child = spawn(process.execPath, [CHORUS_BIN, 'start', '--data', dir, '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn', ...args], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = new Promise<number | string>(resolve => { child.on('exit', (code, signal) => { resolve(code ?? signal ?? -1) }) })
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const line = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`chorus exited with ${child.exitCode}: ${err}`)
    return out.split('\n').find(l => l.includes('ready'))
  }, { timeoutMs: 90_000, what: 'the ready line' })
  const url = /(https?:\/\/\S+)/.exec(line)?.[1]
  const peerId = /peer=(\S+)/.exec(line)?.[1]
  const listen = /listen=(\S+)/.exec(line)?.[1]
  if (url === undefined || peerId === undefined || listen === undefined) throw new Error(`unexpected ready line: ${line}`)
  return { child, dataDir: dir, url, peerId, listen, stdout: () => out, stderr: () => err, exited }
}

/** One raw JSON-RPC call, exactly as an outside client would make it. */
export async function rpc<T = any> (url: string, method: string, params: unknown = {}): Promise<T> {
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  })
  const body = await res.json() as { result?: T, error?: { code: number, message: string } }
  if (body.error !== undefined) throw Object.assign(new Error(body.error.message), { rpcCode: body.error.code })
  return body.result as T
}
