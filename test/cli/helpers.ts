/**
 * Run the real bin/chorus (built dist/) as child processes; wait for lines with deadlines;
 * everything is killed and removed when the test finishes.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { onTestFinished } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { waitFor as waitUntil } from '../helpers/nodes.js'

export const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'chorus')

if (!existsSync(resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js'))) {
  throw new Error('dist/ is missing: run `npm run build` before the CLI tests')
}

/** The environment for children: no CHORUS_* from the outside world. */
export function cleanEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CHORUS_')) env[k] = v
  return { ...env, ...extra }
}

export interface RunResult { code: number | null, stdout: string, stderr: string }

/** Runs a short-lived chorus command to completion. */
export async function chorus (args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<RunResult> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: cleanEnv(env), timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null
      resolve({ code, stdout, stderr })
    })
  })
}

export async function tempDir (prefix = 'chorus-cli-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export interface Running {
  proc: ChildProcess
  lines: string[]
  stderr: () => string
  /** Resolves with the exit code. */
  exited: Promise<number | null>
  /** Waits until a stdout line matches. */
  waitLine: (pattern: RegExp, ms?: number) => Promise<RegExpExecArray>
  /** SIGTERM, then the exit code (SIGKILL after the deadline, which fails the wait). */
  stop: (ms?: number) => Promise<number | null>
}

/** Starts a long-running chorus command; it is killed when the test ends if still running. */
export function spawnChorus (args: string[], env: Record<string, string> = {}): Running {
  const proc = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let err = ''
  const waiters = new Set<() => void>()
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line)
    for (const w of waiters) w()
  })
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>(resolve => { proc.once('exit', (code) => { for (const w of waiters) w(); resolve(code) }) })
  let exitCode: number | null | undefined
  void exited.then(c => { exitCode = c })
  onTestFinished(async () => {
    if (exitCode === undefined && proc.exitCode === null && proc.signalCode === null) {
      // Gracefully first, so that `cluster` stops its children and removes its temp dirs.
      proc.kill('SIGTERM')
      const timer = setTimeout(() => { proc.kill('SIGKILL') }, 20_000)
      await exited
      clearTimeout(timer)
    }
  })
  const waitLine = async (pattern: RegExp, ms = 45_000): Promise<RegExpExecArray> => await new Promise((resolve, reject) => {
    const check = (): void => {
      for (const l of lines) {
        const m = pattern.exec(l)
        if (m !== null) { done(); resolve(m); return }
      }
      if (exitCode !== undefined || proc.exitCode !== null) {
        done()
        reject(new Error(`chorus exited (${String(proc.exitCode)}) before printing ${pattern}; stdout:\n${lines.join('\n')}\nstderr:\n${err.slice(-3000)}`))
      }
    }
    const timer = setTimeout(() => { done(); reject(new Error(`no line matching ${pattern} within ${ms} ms; stdout:\n${lines.join('\n')}\nstderr:\n${err.slice(-3000)}`)) }, ms)
    const done = (): void => { clearTimeout(timer); waiters.delete(check) }
    waiters.add(check)
    check()
  })
  const stop = async (ms = 30_000): Promise<number | null> => {
    proc.kill('SIGTERM')
    const timer = setTimeout(() => { proc.kill('SIGKILL') }, ms)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  return { proc, lines, stderr: () => err, exited, waitLine, stop }
}

export const READY = /^ready (http:\/\/\S+) peer=(\S+) listen=(\S+)$/

/** Polls `check` until it returns true, or fails after `ms` (the shared harness in test/helpers/nodes.ts). */
export async function waitFor (what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  await waitUntil(check, { what, timeoutMs: ms })
}
