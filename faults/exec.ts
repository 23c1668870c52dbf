/**
 * Running system commands (ip, nft, mount). Async during the fault phase so the workload's
 * timing is not held up; sync in cleanup paths, which must also work from signal and exit
 * handlers where nothing asynchronous runs to completion.
 */
import { execFile, execFileSync } from 'node:child_process'

export class CommandError extends Error {}

export async function run (cmd: string, args: string[], input?: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new CommandError(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`))
      else resolve(stdout)
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** Never throws: cleanup must go on past a command that fails (e.g. already removed). */
export function runSyncQuiet (cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 }).toString()
  } catch {
    return ''
  }
}
