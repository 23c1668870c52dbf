/**
 * Crash durability without a peer to mask it (issue 9, part 4). A node is killed with SIGKILL
 * while writes are in flight and restarted on the same data dir with NO peer, so anti-entropy
 * cannot repair a local loss before the check; only then is a second node connected.
 *
 * Every operation is recorded with its outcome: ok (the response arrived), error (the node
 * answered with an error) or unknown (sent, never answered: in flight at the kill). The checks:
 * an acknowledged write is there with its exact value, an acknowledged delete stays deleted, an
 * unknown write is wholly there or wholly absent, counters lie in [acknowledged, acknowledged +
 * unknown], and nothing appears that nobody wrote.
 */
import { execFile } from 'node:child_process'
import { cp } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { tempDir, waitFor } from '../helpers/nodes.js'
import { CHORUS_BIN, rpc, startProcess, type ChorusProcess } from '../helpers/processes.js'

const run = promisify(execFile)

// ---------------------------------------------------------------------------------------------
// A client connection: one keep-alive socket, one HTTP request at a time, each request a
// JSON-RPC array (the node runs the requests of an array concurrently, so they join the same
// group commits). Every request sent is on the wire: nothing waits in a client-side queue.

/** gone: unknown at the kill, found absent after a restart (so it must stay absent). */
type Outcome = 'pending' | 'ok' | 'error' | 'unknown' | 'gone'

interface Op {
  method: string
  params: Record<string, unknown>
  outcome: Outcome
  error?: string
}

class Connection {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })
  constructor (private readonly url: string) {}

  /** Sends the ops as one JSON-RPC array; settles each op's outcome from its response. Throws on a transport failure. */
  async send (ops: Op[]): Promise<void> {
    const body = JSON.stringify(ops.map((op, id) => ({ jsonrpc: '2.0', id, method: op.method, params: op.params })))
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${this.url}/rpc`, { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => { resolve(Buffer.concat(chunks).toString()) })
        res.on('error', reject)
        res.on('aborted', () => { reject(new Error('response aborted')) })
      })
      req.on('error', reject)
      req.end(body)
    })
    const answers = JSON.parse(text) as Array<{ id: number, result?: unknown, error?: { message: string } }>
    for (const answer of answers) {
      const op = ops[answer.id] as Op
      if (answer.error !== undefined) {
        op.outcome = 'error'
        op.error = answer.error.message
      } else op.outcome = 'ok'
    }
  }

  close (): void { this.agent.destroy() }
}

/** Runs `connections` writers, each sending arrays built by `next`, until the node dies or `stop()` is called. */
class Workload {
  readonly ops: Op[] = []
  readonly transportErrors: string[] = []
  private stopped = false
  private readonly done: Promise<void>

  constructor (url: string, connections: number, next: (conn: number, round: number, w: Workload) => Op[]) {
    this.done = Promise.all(Array.from({ length: connections }, async (_, c) => {
      const conn = new Connection(url)
      try {
        for (let round = 0; !this.stopped; round++) {
          const batch = next(c, round, this)
          if (batch.length === 0) return // nothing more to write
          for (const op of batch) this.ops.push(op)
          try {
            await conn.send(batch)
          } catch (err) {
            this.transportErrors.push(String(err))
            return
          }
        }
      } finally {
        conn.close()
      }
    })).then(() => {})
  }

  count (outcome: Outcome): number { return this.ops.filter(op => op.outcome === outcome).length }
  acked (): number { return this.count('ok') }
  inFlight (): number { return this.count('pending') }

  /** After the kill: wait for every writer to notice, then mark what never got an answer as unknown. */
  async settle (): Promise<void> {
    this.stopped = true
    await this.done
    for (const op of this.ops) if (op.outcome === 'pending') op.outcome = 'unknown'
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a node in full.

/** Every register with its value, via kv.scan pages. */
async function scanAll (url: string): Promise<Map<string, unknown>> {
  const all = new Map<string, unknown>()
  let cursor: string | undefined
  do {
    const page = await rpc<{ items: Array<{ key: string, value: unknown }>, cursor?: string }>(url, 'kv.scan', { limit: 1000, ...(cursor !== undefined ? { cursor } : {}) })
    for (const item of page.items) all.set(item.key, item.value)
    cursor = page.cursor
  } while (cursor !== undefined)
  return all
}

/** kv.get of every key (in JSON-RPC arrays); throws if any read fails (ERR_CORRUPT_DATA among others). */
async function getAll (url: string, keys: string[]): Promise<Map<string, { found: boolean, value: unknown }>> {
  const out = new Map<string, { found: boolean, value: unknown }>()
  for (let i = 0; i < keys.length; i += 200) {
    const chunk = keys.slice(i, i + 200)
    const res = await fetch(`${url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chunk.map((key, id) => ({ jsonrpc: '2.0', id, method: 'kv.get', params: { key } })))
    })
    const answers = await res.json() as Array<{ id: number, result?: { found: boolean, value: unknown }, error?: { message: string, data?: { code?: string } } }>
    for (const a of answers) {
      const key = chunk[a.id] as string
      if (a.error !== undefined) throw new Error(`kv.get ${key} failed after the restart: ${a.error.data?.code ?? ''} ${a.error.message}`)
      out.set(key, a.result as { found: boolean, value: unknown })
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// LevelDB's write-ahead log: 32 KiB blocks of physical records, header crc32c(4) length(2, LE)
// type(1): FULL=1, FIRST=2, MIDDLE=3, LAST=4. A log that ends inside a record (after a FIRST or
// MIDDLE fragment, or in the middle of a fragment) is a batch being appended right now.

/**
 * The log reader, as source for a worker thread: a watcher in the test's own event loop would
 * starve the client connections (their request bodies would stop flowing). `torn()` reads the
 * newest log of `dbDir` incrementally and says whether it ends inside a record now.
 */
const LOG_READER = `
const fs = require('node:fs')
const path = require('node:path')
function logReader (dbDir) {
  let file = '', fd = -1, pos = 0, inRecord = false, listedAt = 0
  const header = Buffer.alloc(7)
  return {
    torn () {
      const now = Date.now()
      if (fd < 0 || now - listedAt > 5) {
        listedAt = now
        const newest = fs.readdirSync(dbDir).filter(f => f.endsWith('.log')).sort().at(-1)
        if (newest === undefined) return false
        if (newest !== file) {
          if (fd >= 0) fs.closeSync(fd)
          file = newest; fd = fs.openSync(path.join(dbDir, newest), 'r'); pos = 0; inRecord = false
        }
      }
      const size = fs.fstatSync(fd).size
      while (pos < size) {
        const left = 32768 - (pos % 32768)
        if (left < 7) { pos += left; continue }
        if (pos + 7 > size) return true
        fs.readSync(fd, header, 0, 7, pos)
        const length = header.readUInt16LE(4)
        const type = header[6]
        if (pos + 7 + length > size) return true
        if (type === 1 || type === 4) inRecord = false
        else if (type === 2 || type === 3) inRecord = true
        pos += 7 + length
      }
      return inRecord
    },
    close () { if (fd >= 0) fs.closeSync(fd) }
  }
}
`

/** In a worker: spin on the log; SIGKILL the node the moment it is caught appending a batch (or at the deadline). */
const KILLER = LOG_READER + `
const { parentPort, workerData } = require('node:worker_threads')
const reader = logReader(workerData.dbDir)
const until = Date.now() + workerData.deadlineMs
let caught = false
while (Date.now() < until) if (reader.torn()) { caught = true; break }
process.kill(workerData.pid, 'SIGKILL')
reader.close()
parentPort.postMessage({ caught })
`

/** After the kill: does the newest log end inside a record (the SIGKILL landed mid-append)? */
function logTorn (dataDir: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('require', LOG_READER + 'return logReader') as (req: NodeJS.Require) => (dbDir: string) => { torn: () => boolean, close: () => void }
  const reader = make(createRequire(import.meta.url))(join(dataDir, 'db'))
  try { return reader.torn() } finally { reader.close() }
}

interface KillReport { ackedAtKill: number, inFlightAtKill: number, caughtAppending?: boolean, tornAfterKill: boolean, waitedMs: number }

/**
 * Kill -9 once the node has acknowledged `acked` ops while at least `inFlight` more are sent
 * and unanswered; with `midAppendMs`, a worker thread then watches the node's LevelDB log and
 * kills the node the moment it is caught appending a batch (within that many ms): the crash
 * lands in the middle of a group commit's write, not between two commits.
 */
async function killMidWrite (node: ChorusProcess, w: Workload, opts: { acked: number, inFlight: number, midAppendMs?: number }): Promise<KillReport> {
  const t0 = Date.now()
  await waitFor(() => w.acked() >= opts.acked && w.inFlight() >= opts.inFlight, { what: `${opts.acked} acknowledged ops with ${opts.inFlight} in flight`, timeoutMs: 30_000, intervalMs: 1 })
  let ackedAtKill = w.acked()
  let inFlightAtKill = w.inFlight()
  let caughtAppending: boolean | undefined
  if (opts.midAppendMs === undefined) node.child.kill('SIGKILL')
  else {
    const worker = new Worker(KILLER, { eval: true, workerData: { dbDir: join(node.dataDir, 'db'), pid: node.child.pid, deadlineMs: opts.midAppendMs } })
    // The counts when the kill lands (the first moment this event loop sees it).
    const counted = node.exited.then(() => { ackedAtKill = w.acked(); inFlightAtKill = w.inFlight() })
    caughtAppending = await new Promise<boolean>((resolve, reject) => {
      worker.once('message', (m: { caught: boolean }) => { resolve(m.caught) })
      worker.once('error', reject)
    })
    await worker.terminate()
    await counted
  }
  expect(await node.exited).toBe('SIGKILL')
  const tornAfterKill = logTorn(node.dataDir)
  await w.settle()
  return { ackedAtKill, inFlightAtKill, caughtAppending, tornAfterKill, waitedMs: Date.now() - t0 }
}

/** `chorus verify --json` on a copy of the crashed data dir (LevelDB's recovery would otherwise run here first). */
async function verifyCopy (dataDir: string): Promise<{ keys: number, mismatched: number, orphaned: number, repaired: number, exit: number }> {
  const copy = await tempDir('chorus-crash-copy-')
  await cp(dataDir, copy, { recursive: true })
  try {
    const { stdout } = await run(process.execPath, [CHORUS_BIN, 'verify', '--data', copy, '--json'])
    return { ...JSON.parse(stdout), exit: 0 }
  } catch (err) {
    // Exit 1: something disagrees; the report on stdout says what.
    const { stdout, code } = err as { stdout?: string, code?: number }
    if (code !== 1 || stdout === undefined || stdout === '') throw err
    return { ...JSON.parse(stdout), exit: code }
  }
}

/** Bootstrap a fresh node B from A and wait for equal digests. */
async function joinAndConverge (a: ChorusProcess): Promise<ChorusProcess> {
  const b = await startProcess(['--bootstrap', a.listen, '--ae-interval', '500'])
  await waitFor(async () => {
    const [da, db] = await Promise.all([rpc(a.url, 'node.info'), rpc(b.url, 'node.info')])
    return da.digest === db.digest
  }, { what: 'A and B to converge', timeoutMs: 30_000 })
  return b
}

const log = (what: string, data: Record<string, unknown>): void => { console.log(`[crash-durability] ${what} ${JSON.stringify(data)}`) }

// ---------------------------------------------------------------------------------------------
// Test 1 and 4: a mixed workload (puts, deletes of acknowledged keys, kv.batch, counters, sets).

function putValue (key: string): unknown { return { key, pad: key.repeat(4) } }

function mixedWorkload (url: string, connections: number, perRequest: number): { w: Workload, model: MixedModel } {
  const model: MixedModel = { puts: new Map(), deletes: new Map(), batches: [], incrs: [], adds: [] }
  const ackedPuts: string[][] = Array.from({ length: connections }, () => [])
  const w = new Workload(url, connections, (c, round) => {
    // Keys this connection put and saw acknowledged, not yet deleted: candidates for a delete.
    for (const op of model.puts.values()) {
      if (op.outcome === 'ok' && (op.params as { key: string }).key.startsWith(`u/${c}/`) && !(op as { queued?: boolean }).queued) {
        (op as { queued?: boolean }).queued = true
        ackedPuts[c]?.push((op.params as { key: string }).key)
      }
    }
    const ops: Op[] = []
    for (let i = 0; i < perRequest; i++) {
      const n = round * perRequest + i
      const pick = n % 10
      if (pick < 5) {
        const key = `u/${c}/${n}`
        const op: Op = { method: 'kv.put', params: { key, value: putValue(key) }, outcome: 'pending' }
        model.puts.set(key, op)
        ops.push(op)
      } else if (pick === 5 && (ackedPuts[c]?.length ?? 0) > 0) {
        const key = ackedPuts[c]?.shift() as string
        const op: Op = { method: 'kv.delete', params: { key }, outcome: 'pending' }
        model.deletes.set(key, op)
        ops.push(op)
      } else if (pick === 6 && i === 0 && round % 4 === 0) {
        const keys = Array.from({ length: 20 }, (_, j) => `b/${c}/${round}/${j}`)
        const op: Op = { method: 'kv.batch', params: { ops: keys.map(key => ({ op: 'put', key, value: putValue(key) })) }, outcome: 'pending' }
        model.batches.push({ keys, op })
        ops.push(op)
      } else if (pick < 8) {
        const key = `c/${n % 3}`
        const by = 1 + (n % 5)
        const op: Op = { method: 'counter.incr', params: { key, by }, outcome: 'pending' }
        model.incrs.push({ key, by, op })
        ops.push(op)
      } else {
        const key = `s/${c % 2}`
        const member = `m/${c}/${n}`
        const op: Op = { method: 'set.add', params: { key, members: [member] }, outcome: 'pending' }
        model.adds.push({ key, member, op })
        ops.push(op)
      }
    }
    return ops
  })
  return { w, model }
}

interface MixedModel {
  puts: Map<string, Op>
  deletes: Map<string, Op>
  batches: Array<{ keys: string[], op: Op }>
  incrs: Array<{ key: string, by: number, op: Op }>
  adds: Array<{ key: string, member: string, op: Op }>
}

/** Checks a node's full contents against the model; returns how many unknown writes turned out committed. */
async function checkMixed (url: string, model: MixedModel): Promise<{ unknownApplied: number, unknownNotApplied: number }> {
  const data = await scanAll(url)
  let unknownApplied = 0
  let unknownNotApplied = 0
  const expected = new Set<string>()
  for (const [key, put] of model.puts) {
    const del = model.deletes.get(key)
    const has = data.has(key)
    if (has) expect(data.get(key), key).toEqual(putValue(key))
    expected.add(key)
    if (put.outcome === 'ok') {
      if (del === undefined || del.outcome === 'error') expect(has, `acknowledged put ${key}`).toBe(true)
      else if (del.outcome === 'ok') expect(has, `acknowledged delete ${key}`).toBe(false)
      else if (has) unknownNotApplied++; else unknownApplied++ // an unknown delete: either way
    } else {
      expect(put.outcome, `${key}: ${put.error ?? ''}`).toBe('unknown')
      if (has) unknownApplied++; else unknownNotApplied++
    }
  }
  for (const { keys, op } of model.batches) {
    const present = keys.filter(k => data.has(k))
    for (const k of present) expect(data.get(k), k).toEqual(putValue(k))
    for (const k of keys) expected.add(k)
    if (op.outcome === 'ok') expect(present, `acknowledged batch ${keys[0] ?? ''}`).toHaveLength(keys.length)
    else {
      expect(op.outcome, op.error).toBe('unknown')
      expect([0, keys.length], `batch ${keys[0] ?? ''} is whole or absent`).toContain(present.length)
      if (present.length > 0) unknownApplied++; else unknownNotApplied++
    }
  }
  const phantoms = [...data.keys()].filter(k => !expected.has(k))
  expect(phantoms, 'keys nobody wrote').toEqual([])

  for (const key of new Set(model.incrs.map(i => i.key))) {
    const incrs = model.incrs.filter(i => i.key === key)
    for (const i of incrs) expect(i.op.outcome, i.op.error).not.toBe('error')
    const acked = incrs.filter(i => i.op.outcome === 'ok').reduce((s, i) => s + i.by, 0)
    const unknown = incrs.filter(i => i.op.outcome === 'unknown').reduce((s, i) => s + i.by, 0)
    const { value } = await rpc<{ value: number }>(url, 'counter.get', { key })
    expect(value, `counter ${key}`).toBeGreaterThanOrEqual(acked)
    expect(value, `counter ${key}`).toBeLessThanOrEqual(acked + unknown)
  }
  for (const key of new Set(model.adds.map(a => a.key))) {
    const adds = model.adds.filter(a => a.key === key)
    const { members } = await rpc<{ members: string[] }>(url, 'set.get', { key })
    const got = new Set(members)
    for (const a of adds) {
      expect(a.op.outcome, a.op.error).not.toBe('error')
      if (a.op.outcome === 'ok') expect(got.has(a.member), `acknowledged set.add ${key} ${a.member}`).toBe(true)
    }
    const added = new Set(adds.map(a => a.member))
    expect(members.filter(m => !added.has(m)), `members nobody added to ${key}`).toEqual([])
  }
  return { unknownApplied, unknownNotApplied }
}

async function isolatedRestartTest (extra: string[], scale: { connections: number, perRequest: number, acked: number, inFlight: number }): Promise<void> {
  const t0 = Date.now()
  // No --bootstrap, mDNS off (startProcess): A never has a peer until the check is done.
  const a = await startProcess(extra)
  const { w, model } = mixedWorkload(a.url, scale.connections, scale.perRequest)
  const kill = await killMidWrite(a, w, { acked: scale.acked, inFlight: scale.inFlight })
  const unknown = w.count('unknown')
  expect(w.ops.filter(op => op.outcome === 'error').map(op => op.error)).toEqual([])
  expect(unknown, 'ops in flight at the kill').toBeGreaterThan(0)
  expect(await verifyCopy(a.dataDir)).toMatchObject({ mismatched: 0, orphaned: 0, repaired: 0, exit: 0 })

  const again = await startProcess(extra, a.dataDir)
  expect(again.peerId).toBe(a.peerId)
  expect(await rpc<unknown[]>(again.url, 'cluster.peers')).toEqual([])
  const outcome = await checkMixed(again.url, model)
  expect(await rpc<unknown[]>(again.url, 'cluster.peers'), 'still isolated during the check').toEqual([])

  // Only now a peer: B converges to exactly A's data.
  const b = await joinAndConverge(again)
  expect(await scanAll(b.url)).toEqual(await scanAll(again.url))
  await checkMixed(b.url, model)
  for (const key of ['c/0', 'c/1', 'c/2']) expect(await rpc(b.url, 'counter.get', { key })).toMatchObject({ value: (await rpc(again.url, 'counter.get', { key })).value })
  for (const key of ['s/0', 's/1']) expect((await rpc(b.url, 'set.get', { key })).members).toEqual((await rpc(again.url, 'set.get', { key })).members)
  log(`isolated restart ${extra.join(' ')}`, { ops: w.ops.length, ...kill, unknown, ...outcome, ms: Date.now() - t0 })
}

// ---------------------------------------------------------------------------------------------

describe('crash durability: kill -9, restart with no peer, check, then reconnect', () => {
  it('mixed concurrent writes: everything acknowledged survives an isolated restart; a new peer then converges to it', async () => {
    await isolatedRestartTest([], { connections: 6, perRequest: 20, acked: 2000, inFlight: 60 })
  })

  // The kill is aimed at LevelDB appending a group commit (see killMidWrite). On a loaded machine
  // the append can finish between the moment the watcher sees it and the SIGKILL: then the crash
  // landed just after a commit, which is checked the same way, and the node is crashed again (at
  // most ROUNDS times) until one kill lands mid-append. Each round checks everything written in
  // all rounds: an unacknowledged write seen after one restart must stay, one not seen must not
  // come back.
  const ROUNDS = 3

  it('kill -9 in the middle of a large group commit (hundreds of writes, values up to 100 KB): nothing acknowledged lost, nothing torn', async () => {
    const t0 = Date.now()
    let node = await startProcess()
    const big = (key: string): string => (key + '|').repeat(Math.ceil(100_000 / (key.length + 1))).slice(0, 100_000)
    const valueOf = (key: string, n: number): unknown => n % 8 === 0 ? { key, big: big(key) } : { key, n }
    const puts = new Map<string, { op: Op, value: unknown }>()
    const rounds: unknown[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const w = new Workload(node.url, 16, (c, r) => Array.from({ length: 25 }, (_, i) => {
        const n = r * 25 + i
        const key = `g/${round}/${c}/${n}`
        const value = valueOf(key, n)
        const op: Op = { method: 'kv.put', params: { key, value }, outcome: 'pending' }
        puts.set(key, { op, value })
        return op
      }))
      const kill = await killMidWrite(node, w, { acked: 1500, inFlight: 300, midAppendMs: 10_000 })
      const unknown = w.count('unknown')
      expect(w.ops.filter(op => op.outcome === 'error').map(op => op.error)).toEqual([])
      expect(unknown, 'writes in flight at the kill').toBeGreaterThanOrEqual(100)

      // The crashed data dir is consistent: every leaf of the Merkle index matches its state.
      const verified = await verifyCopy(node.dataDir)
      expect(verified).toMatchObject({ mismatched: 0, orphaned: 0, repaired: 0, exit: 0 })

      node = await startProcess([], node.dataDir)
      expect(await rpc<unknown[]>(node.url, 'cluster.peers')).toEqual([])
      // kv.get of every key ever written: none fails (no ERR_CORRUPT_DATA), each is whole or absent.
      const read = await getAll(node.url, [...puts.keys()])
      let unknownPresent = 0
      for (const [key, { op, value }] of puts) {
        const got = read.get(key) as { found: boolean, value: unknown }
        if (op.outcome === 'ok') expect(got, `acknowledged ${key}`).toEqual({ found: true, value, conflict: false, context: expect.any(String), session: expect.any(String) })
        else if (op.outcome === 'gone') expect(got.found, `${key}, absent after an earlier restart, came back`).toBe(false)
        else if (got.found) {
          unknownPresent++
          expect(got.value, `unacknowledged ${key} is whole`).toEqual(value)
          op.outcome = 'ok'
        } else op.outcome = 'gone'
      }
      const data = await scanAll(node.url)
      expect([...data.keys()].filter(k => !puts.has(k)), 'keys nobody wrote').toEqual([])
      expect(verified.keys).toBe(data.size)
      expect((await rpc(node.url, 'node.info')).keys).toBe(data.size)
      rounds.push({ ops: w.ops.length, ...kill, unknown, unknownPresent, keysAfter: data.size })
      if (kill.tornAfterKill) break
    }
    log('large group commit', { rounds, ms: Date.now() - t0 })
    // The SIGKILL landed while LevelDB was appending a group commit: the log ended inside a record.
    expect(rounds.some(r => (r as KillReport).tornAfterKill), `a kill that landed mid-append in ${ROUNDS} rounds`).toBe(true)
  })

  it('kill -9 in the middle of kv.batch (250 ops each, several in flight): every batch is whole or absent after an isolated restart', async () => {
    const t0 = Date.now()
    let node = await startProcess()
    const OPS = 250
    // One key per batch to come, put (and acknowledged) first: batch n deletes pre/n, so a torn
    // batch would also show as a delete without its puts or the other way round.
    const BATCHES = 200
    const valueOf = (n: number, j: number): unknown => ({ batch: n, j, pad: `${n}/${j}/`.repeat(300) })
    const batches: Array<{ n: number, op: Op }> = []
    const rounds: unknown[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const first = round * BATCHES
      await rpc(node.url, 'kv.batch', { ops: Array.from({ length: BATCHES }, (_, j) => ({ op: 'put', key: `pre/${first + j}`, value: first + j })) })
      let next = first
      const w = new Workload(node.url, 6, () => {
        if (next >= first + BATCHES) return []
        const n = next++
        const ops = [
          ...Array.from({ length: OPS }, (_, j) => ({ op: 'put', key: `batch/${n}/${j}`, value: valueOf(n, j) })),
          { op: 'delete', key: `pre/${n}` }
        ]
        const op: Op = { method: 'kv.batch', params: { ops }, outcome: 'pending' }
        batches.push({ n, op })
        return [op]
      })
      const kill = await killMidWrite(node, w, { acked: 20, inFlight: 4, midAppendMs: 10_000 })
      const unknown = w.count('unknown')
      expect(w.ops.filter(op => op.outcome === 'error').map(op => op.error)).toEqual([])
      expect(unknown, 'batches in flight at the kill').toBeGreaterThanOrEqual(1)
      const verified = await verifyCopy(node.dataDir)
      expect(verified).toMatchObject({ mismatched: 0, orphaned: 0, repaired: 0, exit: 0 })

      node = await startProcess([], node.dataDir)
      expect(await rpc<unknown[]>(node.url, 'cluster.peers')).toEqual([])
      const data = await scanAll(node.url)
      let unknownPresent = 0
      for (const { n, op } of batches) {
        const present = Array.from({ length: OPS }, (_, j) => `batch/${n}/${j}`).filter(k => data.has(k))
        for (const k of present) expect(data.get(k), k).toEqual(valueOf(n, Number(k.split('/')[2])))
        const whole = present.length === OPS && !data.has(`pre/${n}`)
        const absent = present.length === 0 && data.get(`pre/${n}`) === n
        const what = `batch ${n} (${op.outcome}): ${present.length}/${OPS} puts present, pre/${n} ${data.has(`pre/${n}`) ? 'present' : 'deleted'}`
        expect(whole || absent, what).toBe(true)
        if (op.outcome === 'ok') expect(whole, `acknowledged ${what}`).toBe(true)
        else if (op.outcome === 'gone') expect(absent, `absent after an earlier restart: ${what}`).toBe(true)
        else {
          expect(op.outcome).toBe('unknown')
          if (whole) unknownPresent++
          op.outcome = whole ? 'ok' : 'gone'
        }
      }
      for (let n = next; n < first + BATCHES; n++) expect(data.get(`pre/${n}`), `pre/${n}`).toBe(n)
      expect([...data.keys()].filter(k => !(k.startsWith('batch/') || k.startsWith('pre/'))), 'keys nobody wrote').toEqual([])
      expect(data.size).toBeLessThanOrEqual(batches.length * OPS + (round + 1) * BATCHES)
      rounds.push({ batches: next - first, ...kill, unknown, unknownPresent })
      if (kill.tornAfterKill) break
    }
    log('kv.batch', { rounds, ms: Date.now() - t0 })
    expect(rounds.some(r => (r as KillReport).tornAfterKill), `a kill that landed mid-append in ${ROUNDS} rounds`).toBe(true)
  })

  it('with --fsync: mixed concurrent writes survive an isolated restart; a new peer then converges to it', async () => {
    await isolatedRestartTest(['--fsync'], { connections: 4, perRequest: 10, acked: 600, inFlight: 20 })
  })
})
