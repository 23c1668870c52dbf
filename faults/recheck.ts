/**
 * Re-runs the checker on a seed's out dir (history.jsonl, snapshots.json, events.jsonl)
 * without running anything: `node --import tsx faults/recheck.ts /tmp/chorus-faults-…/seed-7`.
 * For working on the checker's rules against a recorded failure.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { check } from './checker.js'
import { annotate } from './explain.js'
import { History } from './history.js'
import { wipesOf } from './trial.js'
import type { Snapshot } from './snapshot.js'

export function loadSnapshots (file: string): Snapshot[] {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as any[]
  return raw.map(s => ({
    node: s.node,
    digest: s.digest,
    kv: new Map(Object.entries(s.kv)),
    hot: new Map(Object.entries(s.hot)),
    counters: new Map(Object.entries(s.counters)),
    sets: new Map(Object.entries(s.sets))
  })) as Snapshot[]
}

export function loadCrashes (file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(l => l !== '').map(l => JSON.parse(l))
    .filter(e => e.what === 'unexpected-exit').map(e => `node ${e.node as number} exited by itself: ${JSON.stringify(e.detail)}`)
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const dir = process.argv[2]
  if (dir === undefined) { process.stderr.write('usage: recheck.ts SEED_DIR\n'); process.exit(2) }
  const ops = History.load(join(dir, 'history.jsonl'))
  const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(l => l !== '').map(l => JSON.parse(l))
  const r = check(ops, loadSnapshots(join(dir, 'snapshots.json')), loadCrashes(join(dir, 'events.jsonl')), wipesOf(events))
  annotate(r, ops, JSON.parse(readFileSync(join(dir, 'schedule.json'), 'utf8')), events)
  process.stdout.write(JSON.stringify({ stats: r.stats, counts: r.counts, digestsEqual: r.digestsEqual }, null, 2) + '\n')
  for (const v of r.violations.slice(0, 50)) process.stdout.write(`${v.kind} ${v.key ?? ''}: ${v.detail}\n`)
}
