/**
 * The `chorus` command line: every command, with commander.
 */
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { exportCommand, importCommand } from './backup.js'
import { clientCommands } from './client-commands.js'
import { clusterCommand } from './cluster.js'
import { EXAMPLES } from './examples.js'
import { changesCommand } from './feed-commands.js'
import { initCommand } from './init.js'
import { keygenCommand } from './keygen.js'
import { connectCommand, membersCommand } from './member-commands.js'
import { mapCommand } from './map-commands.js'
import { startCommand } from './start.js'
import { verifyCommand } from './verify.js'

function version (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export function buildProgram (): Command {
  const program = new Command('chorus')
    .description('Chorus: a peer-to-peer, multi-leader replicated key-value store.\nEvery flag also reads an environment variable (shown in each command\'s --help) and may come from --config FILE.\nExit codes: 0 success, 1 failure (or key not found), 2 invalid usage or configuration.')
    .version(version())
    .showSuggestionAfterError(true)
  // Throw instead of exiting so that main() picks the exit code (2 for usage errors).
  program.exitOverride()
  // Lets a command with subcommands (`members remove`) keep options after the subcommand for
  // the subcommand; the program itself has no options but --version and --help.
  program.enablePositionalOptions()
  program.configureHelp({ sortSubcommands: false, showGlobalOptions: false })
  const commands = [startCommand(), clusterCommand(), ...clientCommands(), changesCommand(), mapCommand(), membersCommand(), connectCommand(), exportCommand(), importCommand(), initCommand(), keygenCommand(), verifyCommand()]
  for (const cmd of commands) {
    const examples = EXAMPLES[cmd.name()]
    if (examples !== undefined) cmd.addHelpText('after', examples)
    cmd.exitOverride()
    cmd.showSuggestionAfterError(true)
    program.addCommand(cmd)
  }
  return program
}
