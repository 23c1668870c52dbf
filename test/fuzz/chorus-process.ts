/**
 * One real `bin/chorus start` process for the whole fuzz file (test/helpers/processes.ts ties a
 * process to a single test; the fuzz properties share one node across tests).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../helpers/nodes.js'
import { CHORUS_BIN } from '../helpers/processes.js'

export interface FuzzNode {
  url: string
  peerId: string
  child: ChildProcessWithoutNullStreams
  stderr: () => string
  alive: () => boolean
  /** SIGTERM, then SIGKILL if it has not exited by the deadline; removes the data directory. */
  stop: () => Promise<void>
}

const STOP_DEADLINE_MS = 20_000

export async function startFuzzNode (): Promise<FuzzNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'chorus-fuzz-'))
  const child = spawn(process.execPath, [CHORUS_BIN, 'start', '--data', dataDir, '--rpc', '127.0.0.1:0',
    '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  const alive = (): boolean => child.exitCode === null && child.signalCode === null

  const stop = async (): Promise<void> => {
    if (alive()) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => { if (alive()) child.kill('SIGKILL') }, STOP_DEADLINE_MS)
      await exited
      clearTimeout(timer)
    }
    await rm(dataDir, { recursive: true, force: true })
  }

  try {
    const line = await waitFor(() => {
      if (!alive()) throw new Error(`chorus exited early: ${err}`)
      return out.split('\n').find(l => l.includes('ready'))
    }, { timeoutMs: 90_000, what: 'the ready line' })
    const url = /(http:\/\/\S+)/.exec(line)?.[1]
    const peerId = /peer=(\S+)/.exec(line)?.[1]
    if (url === undefined || peerId === undefined) throw new Error(`unexpected ready line: ${line}`)
    return { url, peerId, child, stderr: () => err, alive, stop }
  } catch (e) {
    await stop()
    throw e
  }
}
