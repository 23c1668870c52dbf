/**
 * `chorus verify`: recompute every key's Merkle leaf from its stored state and check the
 * persisted index the tree is built from; `--repair` rewrites what disagrees. The node must be
 * stopped (LevelDB's lock refuses a second opener).
 */
import { Command, Option } from 'commander'
import cliProgress from 'cli-progress'
import { verifyDataDir } from '../node/index.js'

export function verifyCommand (): Command {
  return new Command('verify')
    .description('rebuild the anti-entropy Merkle tree from the data of a STOPPED node and verify it against the persisted leaf index (exit 1 if anything disagrees)')
    .addOption(new Option('--data <dir>', 'the node\'s data directory').default('./chorus-data').env('CHORUS_DATA'))
    .addOption(new Option('--repair', 'rewrite index entries that disagree with the data').default(false))
    .addOption(new Option('--json', 'print the report as JSON').default(false))
    .action(async (opts: { data: string, repair: boolean, json: boolean }) => {
      const bar = process.stderr.isTTY && !opts.json
        ? new cliProgress.SingleBar({ format: 'verifying {bar} {value}/{total} keys', stream: process.stderr }, cliProgress.Presets.shades_classic)
        : undefined
      let started = false
      const report = await verifyDataDir(opts.data, {
        repair: opts.repair,
        onProgress: (done, total) => {
          if (bar === undefined) return
          if (!started) { bar.start(total, 0); started = true }
          bar.setTotal(total)
          bar.update(done)
        }
      })
      bar?.stop()
      if (opts.json) process.stdout.write(JSON.stringify(report) + '\n')
      else {
        process.stdout.write(`keys ${report.keys}, mismatched ${report.mismatched}, orphaned ${report.orphaned}, repaired ${report.repaired}\ndigest ${report.digest}\n`)
      }
      const damaged = report.mismatched + report.orphaned > report.repaired
      process.exitCode = damaged ? 1 : 0
    })
}
