/**
 * Entry point of bin/chorus. Exit codes: 0 success, 1 runtime failure, 2 usage/configuration.
 */
import '../util/polyfills.js'
import { CommanderError } from 'commander'
import { ChorusError } from '../errors.js'
import { ChorusRpcError } from '../rpc/index.js'
import { buildProgram } from './program.js'
import { UsageError } from './options.js'

/**
 * A reader that stops early (`chorus scan | head`) closes our stdout: that is the reader's
 * choice, not a failure, so the command ends quietly, as Unix tools do.
 */
function exitQuietlyOnClosedStdout (): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
    throw err
  })
}

export async function main (argv: string[] = process.argv): Promise<void> {
  exitQuietlyOnClosedStdout()
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its one-line message (or the help).
      process.exit(err.exitCode === 0 ? 0 : 2)
    }
    if (err instanceof UsageError || (err instanceof ChorusError && err.code === 'ERR_CONFIG')) {
      process.stderr.write(`error: ${err.message}\n`)
      process.exit(2)
    }
    if (err instanceof ChorusError) {
      process.stderr.write(`error: ${err.message} (${err.code})\n`)
      process.exit(1)
    }
    if (err instanceof ChorusRpcError) {
      process.stderr.write(`error: ${err.message} (${err.data.code}${err.code !== 0 ? `, ${err.code}` : ''})\n`)
      process.exit(1)
    }
    // Anything else is a failure we did not foresee: one line, and the stack only on request.
    const code = (err as { code?: unknown }).code
    const line = err instanceof Error ? err.message.split('\n')[0] : String(err)
    process.stderr.write(`error: ${line}${typeof code === 'string' ? ` (${code})` : ''}\n`)
    if (process.env.CHORUS_DEBUG !== undefined && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`)
    else process.stderr.write('(set CHORUS_DEBUG=1 for the stack trace)\n')
    process.exit(1)
  }
}

await main()
