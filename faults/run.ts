/**
 * The fault harness's command line: `npm run faults -- --help`.
 * Needs root (network namespaces, nftables, tmpfs mounts), iproute2, nftables and faketime
 * (scripts/install-test-deps.sh), and a built dist/ (npm run build).
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { faketimeAvailable, probeOffsetMs, setClockOffset } from './clock.js'
import { removeStaleMounts } from './disk.js'
import { removeStaleNamespaces, runPrefix } from './netns.js'
import { seedLine, summaryText, violationsOf, writeReport } from './report.js'
import { FAULT_KINDS, parseKinds } from './schedule.js'
import { runTrial, teardownNow, type TrialResult } from './trial.js'
import { CHORUS_BIN } from './cluster.js'

/** What `chorus start --log-level` accepts. */
const NODE_LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']

const HELP = `npm run faults -- [options]

Runs real bin/chorus nodes in network namespaces, a mixed workload on every node, and a
seeded schedule of faults; after the heal, checks every node against the history.

Options:
  --seed S          run seed S (with --seeds N: seeds S..S+N-1)
  --seeds N         run N seeds (from 1, or from --seed)
  --duration SEC    length of the fault phase (default 60)
  --faults LIST     comma list of fault kinds (default all):
                    ${FAULT_KINDS.join(', ')}
  --nodes N         cluster size (default 5)
  --jobs N          run N seeds at once, each in its own namespaces (default 1; every job
                    is a whole cluster, so the nodes share the CPU: see docs/reliability.md)
  --fsync           run the nodes with --fsync
  --keep            keep each seed's data dirs (copied into its out dir)
  --node-log-level L  the nodes' --log-level (default warn; debug shows every exchange)
  --out DIR         where histories, schedules and node logs go (default: a temp dir;
                    a failing seed's directory is always kept and printed)
  --converge SEC    how long to wait for equal digests after the last heal (default 60; the goal is 30)
  --report FILE     write a markdown table (FILE) and an SVG chart (FILE-convergence.svg)
  --help            this text

Examples:
  npm run faults -- --seed 7                      one seed, 60 s of faults
  npm run faults -- --seeds 5 --duration 30       what CI runs
  npm run faults -- --seed 7 --faults kill,pause  replay seed 7 with only two kinds
  npm run faults -- --seeds 200 --report docs/reliability-table.md
  npm run faults -- --seeds 200 --jobs 2 --report docs/reliability-table.md
Exit code: 0 when every seed passed, 1 when any seed had a violation, 2 on bad usage.`

/** "lost on node 1: 1118; undone on node 3: 2" — which node lacks what, at a glance. */
function whereLine (r: TrialResult): string {
  const per = new Map<string, number>()
  for (const v of r.check.violations) {
    if (v.kind !== 'lost' && v.kind !== 'undone') continue
    for (const n of v.nodes ?? []) per.set(`${v.kind} on node ${n}`, (per.get(`${v.kind} on node ${n}`) ?? 0) + 1)
  }
  return [...per].map(([k, n]) => `${k}: ${n}`).join('; ') || '(no lost or undone)'
}

function fail (msg: string): never {
  process.stderr.write(`faults: ${msg}\n`)
  process.exit(2)
}

function intArg (v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer`)
  return n
}

/** libfaketime really moves a process's clock, both through a live timestamp-file rewrite. */
async function preflight (dir: string): Promise<void> {
  if (process.getuid?.() !== 0) fail('needs root (network namespaces, nftables, tmpfs)')
  if (!existsSync(join(CHORUS_BIN, '..', '..', 'dist', 'cli', 'main.js')) && !existsSync(join(CHORUS_BIN, '..', '..', 'dist'))) fail('dist/ is missing: run npm run build')
  if (!faketimeAvailable()) fail('libfaketime is missing: bash scripts/install-test-deps.sh')
  const file = join(dir, 'clock-probe')
  await setClockOffset(file, 300)
  const ahead = await probeOffsetMs(file)
  await setClockOffset(file, -300)
  const behind = await probeOffsetMs(file)
  if (Math.abs(ahead - 300_000) > 5000 || Math.abs(behind + 300_000) > 5000) fail(`libfaketime does not apply: measured ${ahead} ms and ${behind} ms for +300 s / -300 s`)
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' }, seeds: { type: 'string' }, duration: { type: 'string' }, faults: { type: 'string' },
      nodes: { type: 'string' }, jobs: { type: 'string' }, fsync: { type: 'boolean' }, keep: { type: 'boolean' }, out: { type: 'string' }, 'node-log-level': { type: 'string' },
      converge: { type: 'string' }, report: { type: 'string' }, help: { type: 'boolean' }
    },
    strict: true
  })
  if (values.help === true) { process.stdout.write(HELP + '\n'); return }
  const first = intArg(values.seed, 'seed', 1)
  const count = intArg(values.seeds, 'seeds', 1)
  const durationSec = intArg(values.duration, 'duration', 60)
  const nodes = intArg(values.nodes, 'nodes', 5)
  if (nodes < 3 || nodes > 20) fail('--nodes must be 3..20')
  if (durationSec < 5) fail('--duration must be at least 5')
  const jobs = intArg(values.jobs, 'jobs', 1)
  const nodeLogLevel = values['node-log-level'] ?? 'warn'
  if (!NODE_LOG_LEVELS.includes(nodeLogLevel)) fail(`--node-log-level must be one of ${NODE_LOG_LEVELS.join(', ')}`)
  if (jobs < 1 || jobs > 8) fail('--jobs must be 1..8')
  let kinds
  try { kinds = parseKinds(values.faults) } catch (err) { fail((err as Error).message) }

  const outGiven = values.out !== undefined
  const out = values.out ?? await mkdtemp(join(tmpdir(), 'chorus-faults-'))
  await mkdir(out, { recursive: true })
  const stale = [...removeStaleNamespaces(), ...removeStaleMounts()]
  if (stale.length > 0) process.stdout.write(`removed leftovers of an earlier run: ${stale.join(' ')}\n`)
  await preflight(out)
  process.stdout.write(`faults: seeds ${first}..${first + count - 1}, ${durationSec} s, ${nodes} nodes, kinds ${kinds.join(',')}${values.fsync === true ? ', fsync' : ''}${jobs > 1 ? `, ${jobs} at once` : ''}; out ${out}\n`)

  const results: TrialResult[] = []
  const convergeDeadlineMs = intArg(values.converge, 'converge', 60) * 1000
  let next = first
  const runJob = async (job: number): Promise<void> => {
    const prefix = runPrefix(jobs > 1 ? job : 0)
    while (next < first + count) {
      const seed = next++
      const dir = join(out, `seed-${seed}`)
      const r = await runTrial({ seed, durationSec, kinds, nodes, fsync: values.fsync === true, keep: values.keep === true, nodeLogLevel, dir, prefix, convergeDeadlineMs })
      results.push(r)
      await reportSeed(r, dir, outGiven)
    }
  }
  await Promise.all(Array.from({ length: jobs }, async (_, i) => await runJob(i + 1)))
  results.sort((a, b) => a.seed - b.seed)
  process.stdout.write('\n' + summaryText(results) + '\n')
  if (values.report !== undefined) {
    await writeReport(values.report, results, `npm run faults -- ${process.argv.slice(2).join(' ')}`)
    process.stdout.write(`report written to ${values.report}\n`)
  }
  const failing = results.filter(r => violationsOf(r) > 0)
  if (!outGiven && failing.length === 0) await rm(out, { recursive: true, force: true })
  process.exitCode = failing.length > 0 ? 1 : 0
}

/** The seed's line as it finishes; a failing seed's directory is kept and its first violations shown. */
async function reportSeed (r: TrialResult, dir: string, outGiven: boolean): Promise<void> {
  process.stdout.write(seedLine(r) + '\n')
  if (violationsOf(r) > 0) {
    process.stdout.write(`  history, schedule, violations and node logs kept in ${dir}\n`)
    process.stdout.write(`  where: ${whereLine(r)}\n`)
    for (const v of r.check.violations.slice(0, 5)) process.stdout.write(`  ${v.kind} ${v.key ?? ''}: ${v.detail}\n`)
  } else if (!outGiven) {
    await rm(dir, { recursive: true, force: true })
  }
}

// Whatever ends the process, the namespaces, mounts and node processes go with it.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`faults: ${sig}, cleaning up\n`)
    teardownNow()
    process.exit(130)
  })
}
process.on('exit', teardownNow)

main().catch(err => {
  process.stderr.write(`faults: ${String((err as Error).stack ?? err)}\n`)
  teardownNow()
  process.exit(1)
})
