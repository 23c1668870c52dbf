/**
 * Per-process clock skew with libfaketime (Debian's `faketime` package). Every node always
 * runs under libfaketime with its own timestamp file, which holds `+0` while its clock is
 * right: a skewed restart or a live jump is then only a rewrite of that file
 * (FAKETIME_NO_CACHE=1 makes libfaketime re-read it on every clock call). The monotonic clock
 * is never faked (FAKETIME_DONT_FAKE_MONOTONIC=1), so timers keep working.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'

/** Debian's path on x86_64; the same package on other architectures installs under its own triplet. */
const CANDIDATES = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1']
export const LIBFAKETIME = CANDIDATES.find(p => existsSync(p)) ?? (CANDIDATES[0] as string)

export function faketimeAvailable (): boolean { return existsSync(LIBFAKETIME) }

export function faketimeEnv (timestampFile: string): Record<string, string> {
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: timestampFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1'
  }
}

/** libfaketime's relative format: `+300s`, `-300s`, `+0`. */
export async function setClockOffset (timestampFile: string, offsetSec: number): Promise<void> {
  const text = offsetSec === 0 ? '+0' : `${offsetSec > 0 ? '+' : ''}${offsetSec}s`
  await writeFile(timestampFile, text + '\n')
}

/**
 * What a process under this env sees as its clock offset, in ms: a tiny node script started
 * with the same environment (and, with `ns`, in the same namespace). Used to prove that a skew
 * really applies rather than trusting it.
 */
export async function probeOffsetMs (timestampFile: string, ns?: string): Promise<number> {
  const before = Date.now()
  const cmd = ns === undefined ? process.execPath : 'ip'
  const args = ['-e', 'process.stdout.write(String(Date.now()))']
  const full = ns === undefined ? args : ['netns', 'exec', ns, process.execPath, ...args]
  const out = await new Promise<string>((resolve, reject) => {
    execFile(cmd, full, { env: { ...process.env, ...faketimeEnv(timestampFile) }, timeout: 10_000 }, (err, stdout) => {
      if (err !== null) reject(err)
      else resolve(stdout)
    })
  })
  const after = Date.now()
  return Number(out) - (before + after) / 2
}
