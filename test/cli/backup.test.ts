/**
 * `chorus export` / `chorus import` as an operator runs them: real `chorus start` processes, the
 * real bin/chorus, files in temp dirs, stdin and stdout through pipes.
 */
import { spawn } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MAX_IMPORT_STATE_CHARS } from '../../src/constants.js'
import { rpc, startProcess, type ChorusProcess } from '../helpers/processes.js'
import { BIN, chorus, cleanEnv, tempDir, waitFor } from './helpers.js'

const digestOf = async (p: ChorusProcess): Promise<string> => (await rpc<{ digest: string }>(p.url, 'node.info')).digest

/** `chorus export - --url from | chorus import - --url to --json`, through a real pipe. */
async function pipeExportImport (from: string, to: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const exporter = spawn(process.execPath, [BIN, 'export', '-', '--url', from], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  const importer = spawn(process.execPath, [BIN, 'import', '-', '--url', to, '--json'], { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  exporter.stdout.pipe(importer.stdin)
  let stdout = ''
  let stderr = ''
  importer.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  importer.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  exporter.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const [exportCode, code] = await Promise.all([
    new Promise(resolve => exporter.once('exit', resolve)),
    new Promise<number | null>(resolve => importer.once('exit', resolve))
  ])
  expect(exportCode).toBe(0)
  return { code, stdout, stderr }
}

describe('chorus export / import', () => {
  it('round-trips siblings, tombstones, counters and sets into an empty node: equal digests; a second import changes nothing', async () => {
    const a = await startProcess(['--ae-interval', '300'])
    let b = await startProcess(['--ae-interval', '300'])
    // Written while a and b do not know each other: concurrent versions of `doc`.
    await rpc(a.url, 'kv.put', { key: 'doc', value: 'written on a' })
    await rpc(b.url, 'kv.put', { key: 'doc', value: { on: 'b' } })
    await rpc(a.url, 'kv.put', { key: 'gone', value: 1 })
    await rpc(a.url, 'kv.delete', { key: 'gone' })
    await rpc(a.url, 'counter.incr', { key: 'hits', by: 5 })
    await rpc(b.url, 'counter.incr', { key: 'hits', by: -2 })
    await rpc(a.url, 'set.add', { key: 'tags', members: ['red', 'blue'] })
    await rpc(b.url, 'set.add', { key: 'tags', members: ['green'] })
    await rpc(b.url, 'set.remove', { key: 'tags', members: ['green'] })
    await rpc(b.url, 'set.add', { key: 'tags', members: ['green'] })
    // b restarts knowing a: anti-entropy merges both sides.
    b.child.kill('SIGTERM')
    await b.exited
    b = await startProcess(['--ae-interval', '300', '--bootstrap', a.listen], b.dataDir)
    await waitFor('a and b to converge', async () => await digestOf(a) === await digestOf(b))
    const source = await rpc(a.url, 'kv.get', { key: 'doc', all: true })
    expect(source.conflict).toBe(true)

    const dir = await tempDir()
    const file = join(dir, 'backup.jsonl')
    const exported = await chorus(['export', file, '--url', a.url])
    expect(exported.code).toBe(0)
    expect(exported.stdout).toMatch(/^exported 4 keys \(2 registers, 1 counters, 1 sets\) to .*backup\.jsonl/)
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n')
    expect(JSON.parse(lines[0] as string)).toMatchObject({ format: 'chorus-export', version: 1, node: a.peerId, keys: 4, digest: await digestOf(a) })
    expect(JSON.parse(lines.at(-1) as string)).toEqual({ end: true, keys: 4 })
    expect(await readdir(dir)).toEqual(['backup.jsonl']) // no temp file left

    const c = await startProcess()
    const first = await chorus(['import', file, '--url', c.url, '--json'])
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({ keys: 4, added: 4, updated: 0, unchanged: 0, rejected: 0, superseded: 0, complete: true })
    expect(await digestOf(c)).toBe(await digestOf(a))
    // The same read on another node: equal but for the session token, which names the node it came from.
    expect({ ...await rpc(c.url, 'kv.get', { key: 'doc', all: true }), session: undefined }).toEqual({ ...source, session: undefined })
    expect((await rpc(c.url, 'kv.get', { key: 'gone', all: true })).values).toMatchObject([{ deleted: true }])
    expect((await rpc(c.url, 'counter.get', { key: 'hits' })).value).toBe(3)
    expect((await rpc(c.url, 'set.get', { key: 'tags' })).members).toEqual(['blue', 'green', 'red'])

    const second = await chorus(['import', file, '--url', c.url])
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/added 0, updated 0, unchanged 4, rejected 0, superseded 0/)
    expect(second.stdout).toMatch(/, equal\)/)

    const listed = await chorus(['scan', '--space', 'counter', '--url', c.url])
    expect(listed.stdout).toBe('hits\t3\n')
    expect((await chorus(['scan', '--space', 'set', '--url', c.url])).stdout).toBe('tags\t["blue","green","red"]\n')

    // A file cut off before its last line: what it holds is merged, and the command says so.
    const cut = join(dir, 'cut.jsonl')
    await writeFile(cut, lines.slice(0, 3).join('\n') + '\n')
    const partial = await chorus(['import', cut, '--url', c.url])
    expect(partial.code).toBe(1)
    expect(partial.stderr).toMatch(/ends before the export's last line .*ERR_BACKUP_FILE/)
  }, 120_000)

  it('streams through stdout and stdin with "-"', async () => {
    const a = await startProcess()
    for (let i = 0; i < 30; i++) await rpc(a.url, 'kv.put', { key: `k${i}`, value: i })
    await rpc(a.url, 'counter.incr', { key: 'n' })
    const b = await startProcess()
    const r = await pipeExportImport(a.url, b.url)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ keys: 31, added: 31, complete: true })
    expect(r.stderr).toMatch(/exported 31 keys .* to stdout/) // the export's summary goes to stderr
    expect(await digestOf(b)).toBe(await digestOf(a))
  }, 60_000)

  it('refuses what is not an export, naming the line, with exit code 1', async () => {
    const dir = await tempDir()
    const header = JSON.stringify({ format: 'chorus-export', version: 1, exportedAt: '', node: '', keys: 1, digest: '' })
    const item = JSON.stringify({ space: 'kv', key: 'k', state: 'AAAA' })
    const cases: Array<[string, string, RegExp]> = [
      ['empty.jsonl', '', /empty: not a Chorus export/],
      ['csv.jsonl', 'key,value\n', /csv\.jsonl:1: not a Chorus export/],
      ['other.jsonl', '{"format":"something-else","version":1}\n', /other\.jsonl:1: not a Chorus export \(the header's format is "something-else"/],
      ['v2.jsonl', '{"format":"chorus-export","version":2,"keys":0}\n', /v2\.jsonl:1: export format version 2 is not one this Chorus reads/],
      ['badline.jsonl', `${header}\n${item}\n{"space":"kv",\n`, /badline\.jsonl:3: not valid JSON/],
      ['badspace.jsonl', `${header}\n{"space":"list","key":"k","state":"AA"}\n`, /badspace\.jsonl:2: space must be/],
      ['afterend.jsonl', `${header}\n{"end":true,"keys":0}\n${item}\n`, /afterend\.jsonl:3: a line after the export's last line/],
      ['big.jsonl', `${header}\n${JSON.stringify({ space: 'kv', key: 'k', state: 'A'.repeat(MAX_IMPORT_STATE_CHARS + 4) })}\n`, /big\.jsonl:2: the state of kv "k" is larger than node\.import takes/],
      ['huge.jsonl', `${header}\n${'x'.repeat(MAX_IMPORT_STATE_CHARS + 10_000)}\n`, /huge\.jsonl:2: the line is longer than/]
    ]
    for (const [name, text, message] of cases) {
      const file = join(dir, name)
      await writeFile(file, text)
      // No node is reached: the file is refused before any state is sent.
      const r = await chorus(['import', file, '--url', 'http://127.0.0.1:9'])
      expect(r.code, name).toBe(1)
      expect(r.stderr, name).toMatch(message)
      expect(r.stderr, name).toMatch(/ERR_BACKUP_FILE/)
    }
    const missing = await chorus(['import', join(dir, 'missing.jsonl')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/cannot read .*missing\.jsonl: ENOENT/)
  }, 60_000)

  it('leaves no file behind when the export fails, and a node refusing a state gives exit code 1', async () => {
    const dir = await tempDir()
    const failed = await chorus(['export', join(dir, 'out.jsonl'), '--url', 'http://127.0.0.1:9'])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toMatch(/ERR_CONNECTION/)
    expect(await readdir(dir)).toEqual([])
    expect((await chorus(['export', join(dir, 'no', 'such', 'dir.jsonl')])).code).toBe(2)

    const a = await startProcess()
    const file = join(dir, 'rejected.jsonl')
    const header = JSON.stringify({ format: 'chorus-export', version: 1, exportedAt: '', node: '', keys: 1, digest: '' })
    await writeFile(file, `${header}\n${JSON.stringify({ space: 'counter', key: 'c', state: 'AAAA' })}\n{"end":true,"keys":1}\n`)
    const r = await chorus(['import', file, '--url', a.url, '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ rejected: 1, added: 0 })
    expect(r.stderr).toMatch(/rejected 1 state/)
  }, 60_000)
})
