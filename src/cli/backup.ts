/**
 * `chorus export [FILE]` and `chorus import FILE` (docs/backup.md): a consistent export of
 * every key space with its full causal state, as JSON Lines (export-file.ts), and its merge
 * into a node as if a peer had sent it.
 */
import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import { Command, Option } from 'commander'
import cliProgress from 'cli-progress'
import { MAX_EXPORT_PAGE_KEYS, MAX_IMPORT_KEYS } from '../constants.js'
import { BackupFileError } from '../errors.js'
import type { ExportItem, ImportResult } from '../node/api.js'
import { ChorusClient } from '../rpc/index.js'
import { clientCommand, clientOptions, connect, type ClientOptions } from './client-commands.js'
import { headerLine, itemLines, MAX_EXPORT_LINE_BYTES, parseHeader, parseLine, trailerLine, type ExportHeader } from './export-file.js'
import { readLines } from './lines.js'
import { intIn, resolveOptions, UsageError } from './options.js'

/** Keys per node.export page: the node also ends a page at 4 MiB of states. */
const EXPORT_PAGE_KEYS = MAX_EXPORT_PAGE_KEYS
/** Base64url state text per node.import request (well under the node's 8 MiB body limit). */
const IMPORT_REQUEST_CHARS = 4 * 1024 * 1024
/** node.import requests kept in flight on the one WebSocket (docs/backup.md, measured). */
export const DEFAULT_IMPORT_IN_FLIGHT = 4

function progressBar (label: string): cliProgress.SingleBar | undefined {
  if (process.stderr.isTTY !== true) return undefined
  return new cliProgress.SingleBar({ format: `${label} {bar} {value}/{total} keys`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
}

/** Where an export goes: stdout, or a temp file beside FILE renamed onto it once complete. */
interface Sink {
  write: (text: string) => Promise<void>
  commit: () => Promise<void>
  abort: () => Promise<void>
}

function stdoutSink (): Sink {
  return {
    write: async (text) => { if (!process.stdout.write(text)) await once(process.stdout, 'drain') },
    commit: async () => { await new Promise<void>((resolve, reject) => { process.stdout.write('', err => { if (err == null) resolve(); else reject(err) }) }) },
    abort: async () => {}
  }
}

async function fileSink (file: string): Promise<Sink> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  // 0600: an export holds every value of the node.
  const handle = await open(temp, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot write ${file}: ${err.code ?? err.message}`)
  })
  let closed = false
  const close = async (): Promise<void> => { if (!closed) { closed = true; await handle.close() } }
  return {
    write: async (text) => { await handle.write(text) },
    commit: async () => {
      await handle.sync() // the backup is on disk before it takes FILE's name
      await close()
      await rename(temp, file)
    },
    abort: async () => {
      await close().catch(() => {})
      await unlink(temp).catch(() => {})
    }
  }
}

interface ExportSummary { keys: number, kv: number, counter: number, set: number, map: number, bytes: number, ms: number, digest: string, file: string }

async function runExport (client: ChorusClient, sink: Sink): Promise<Omit<ExportSummary, 'file' | 'ms'>> {
  const counts = { kv: 0, counter: 0, set: 0, map: 0 }
  let bytes = 0
  const write = async (text: string): Promise<void> => {
    bytes += Buffer.byteLength(text)
    await sink.write(text)
  }
  let page = await client.nodeExport({ limit: EXPORT_PAGE_KEYS })
  const bar = progressBar('exporting')
  bar?.start(page.snapshot.keys, 0)
  await write(headerLine(page.snapshot))
  let keys = 0
  try {
    while (true) {
      // The next page is asked for while this one is written.
      const next = page.cursor === undefined ? undefined : client.nodeExport({ cursor: page.cursor, limit: EXPORT_PAGE_KEYS })
      next?.catch(() => {})
      for (const item of page.items) counts[item.space]++
      keys += page.items.length
      await write(itemLines(page.items))
      bar?.update(keys)
      if (next === undefined) break
      page = await next
    }
  } finally {
    bar?.stop()
  }
  await write(trailerLine(keys))
  return { keys, ...counts, bytes, digest: page.snapshot.digest }
}

export function exportCommand (): Command {
  return clientCommand('export', 'write a consistent export of every key space (full causal state, JSON Lines) to FILE, or to stdout for "-" or none')
    .argument('[file]', 'the export file; "-" or none: stdout')
    .addHelpText('after', `
The export is one snapshot of the node: every key of every space (registers, counters, sets,
maps) as it was at one moment, whatever is written meanwhile. A FILE is written beside itself and renamed when complete, so it
is never half-written. A progress bar shows on a terminal.

Examples:
  chorus export backup.jsonl --url http://127.0.0.1:7070
  chorus export > backup.jsonl
  chorus export - | gzip > backup.jsonl.gz
  chorus export - --url http://10.0.0.5:7070 --token "$TOKEN" | chorus import - --url http://10.0.0.6:7070`)
    .action(async (file: string | undefined, _o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const toStdout = file === undefined || file === '-'
      const sink = toStdout ? stdoutSink() : await fileSink(file)
      const started = performance.now()
      let summary: ExportSummary
      try {
        const r = await runExport(client, sink)
        await sink.commit()
        summary = { ...r, ms: Math.round(performance.now() - started), file: toStdout ? '-' : file }
      } catch (err) {
        await sink.abort()
        throw err
      }
      const say = (line: string): void => { (toStdout ? process.stderr : process.stdout).write(line + '\n') }
      if (opts.json === true) say(JSON.stringify(summary))
      else say(`exported ${summary.keys} keys (${summary.kv} registers, ${summary.counter} counters, ${summary.set} sets${summary.map > 0 ? `, ${summary.map} maps` : ''}) to ${toStdout ? 'stdout' : summary.file}: ${formatBytes(summary.bytes)} in ${(summary.ms / 1000).toFixed(1)} s; digest ${summary.digest}`)
    })
}

interface ImportSummary extends ImportResult { keys: number, ms: number, digest: string, exportDigest: string, complete: boolean }

/** Merges the file's keys in requests of at most MAX_IMPORT_KEYS keys, `inFlight` at once. */
async function runImport (client: ChorusClient, input: Readable, name: string, inFlight: number): Promise<Omit<ImportSummary, 'ms' | 'digest'>> {
  const totals: ImportResult = { added: 0, updated: 0, unchanged: 0, rejected: 0, superseded: 0 }
  const lines = readLines(input, MAX_EXPORT_LINE_BYTES, name)
  const first = await lines.next()
  if (first.done === true) throw new BackupFileError(`${name}: empty: not a Chorus export`)
  const header: ExportHeader = parseHeader(first.value.text, `${name}:1`)
  const bar = progressBar('importing')
  bar?.start(header.keys, 0)
  let done = 0
  let read = 0
  const pending = new Set<Promise<void>>()
  let failure: unknown
  const send = async (items: ExportItem[]): Promise<void> => {
    while (pending.size >= inFlight) await Promise.race(pending)
    if (failure !== undefined) throw failure
    const p: Promise<void> = client.nodeImport(items).then(r => {
      for (const k of Object.keys(totals) as Array<keyof ImportResult>) totals[k] += r[k]
      done += items.length
      bar?.update(done)
    }, (err: unknown) => { failure ??= err }).finally(() => { pending.delete(p) })
    pending.add(p)
  }
  let batch: ExportItem[] = []
  let chars = 0
  let trailer: { keys: number, line: number } | undefined
  try {
    for await (const line of lines) {
      const where = `${name}:${line.number}`
      if (trailer !== undefined) throw new BackupFileError(`${where}: a line after the export's last line (line ${trailer.line})`)
      const parsed = parseLine(line.text, where)
      if ('end' in parsed) {
        trailer = { keys: parsed.keys, line: line.number }
        continue
      }
      read++
      if (batch.length > 0 && (batch.length >= MAX_IMPORT_KEYS || chars + parsed.state.length > IMPORT_REQUEST_CHARS)) {
        await send(batch)
        batch = []
        chars = 0
      }
      batch.push(parsed)
      chars += parsed.state.length
    }
    if (batch.length > 0) await send(batch)
  } finally {
    // What was sent is merged either way (harmless: a merge); wait for it before reporting.
    await Promise.all(pending)
    bar?.stop()
  }
  if (failure !== undefined) throw failure
  if (trailer !== undefined && trailer.keys !== read) throw new BackupFileError(`${name}:${trailer.line}: the export says it holds ${trailer.keys} keys but ${read} came before its last line`)
  return { ...totals, keys: read, exportDigest: header.digest, complete: trailer !== undefined }
}

export function importCommand (): Command {
  return clientCommand('import', 'merge an export (chorus export) into the node, as if a peer had sent it: idempotent, safe into a live node, never replaces a newer version')
    .argument('<file>', 'the export file; "-": stdin')
    .addOption(new Option('--in-flight <n>', 'node.import requests in flight at once').env('CHORUS_IMPORT_IN_FLIGHT').default(DEFAULT_IMPORT_IN_FLIGHT).argParser(intIn(1, 64)))
    .addHelpText('after', `
Every key's state is merged with what the node holds, exactly as anti-entropy merges a peer's:
a newer version on the node stays, concurrent versions become siblings, and importing the same
file twice changes nothing the second time. Prints what changed (added, updated, unchanged,
rejected, superseded by a collected tombstone). Exit code 1 when the file is not an export, a
line is malformed (its number is named), the file ends before its last line, or the node
rejected a state. Lines before a bad one are already merged.

Examples:
  chorus import backup.jsonl --url http://127.0.0.1:7070
  gunzip -c backup.jsonl.gz | chorus import -
  chorus import backup.jsonl --json | jq .added`)
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const opts = resolveOptions<ClientOptions & { inFlight: number }>(cmd)
      // One WebSocket carries several requests at once (docs/backup.md, "Measured").
      const client = new ChorusClient(opts.url, { ...clientOptions(opts), transport: 'ws' })
      const fromStdin = file === '-'
      const name = fromStdin ? 'stdin' : file
      const started = performance.now()
      let summary: ImportSummary
      try {
        const input = fromStdin ? process.stdin : await openInput(file)
        const r = await runImport(client, input, name, opts.inFlight)
        const info = await client.info()
        summary = { ...r, ms: Math.round(performance.now() - started), digest: info.digest }
      } finally {
        await client.close()
      }
      if (opts.json === true) process.stdout.write(JSON.stringify(summary) + '\n')
      else {
        process.stdout.write(`imported ${summary.keys} keys from ${name} in ${(summary.ms / 1000).toFixed(1)} s: added ${summary.added}, updated ${summary.updated}, unchanged ${summary.unchanged}, rejected ${summary.rejected}, superseded ${summary.superseded}\n`)
        process.stdout.write(`digest ${summary.digest} (the export's: ${summary.exportDigest}${summary.digest === summary.exportDigest ? ', equal' : ''})\n`)
      }
      if (!summary.complete) throw new BackupFileError(`${name} ends before the export's last line (cut off?): the ${summary.keys} keys it holds were merged`)
      if (summary.rejected > 0) {
        process.stderr.write(`import: the node rejected ${summary.rejected} state(s) as invalid (its log says why, at debug level)\n`)
        process.exitCode = 1
      }
    })
}

/** The file as a stream, or a one-line usage error when it cannot be read. */
async function openInput (file: string): Promise<Readable> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`)
  })
  return handle.createReadStream({ highWaterMark: 1024 * 1024 })
}

function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}
