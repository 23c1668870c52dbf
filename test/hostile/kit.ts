/**
 * The hostile-peer kit: real libp2p hosts on 127.0.0.1 that speak gossip and anti-entropy
 * frames to a real Chorus node — correctly, wrongly, or slowly — and the checks that the node
 * came through: it answers, every key it holds reads back, nothing out of bounds was stored,
 * honest writes still arrive.
 *
 * - `HostilePeer`: a gossipsub host that publishes on the cluster's topics, dials the node's
 *   anti-entropy protocol (initiator) and serves it with queued scripts (responder). It re-dials
 *   before every case and takes a fresh identity when the node will not have it back (a peer
 *   penalty or ban), so cases never depend on staying connected.
 * - `Wire`: one anti-entropy stream at the byte level (length prefixes included, so prefixes
 *   can lie), or driven by the real session code through `MutatingFs`, which applies one
 *   mutation to an otherwise honest exchange.
 * - `Auditor`: a plain host that pulls every state a node holds over anti-entropy (an empty
 *   initiator), which is how the kit lists every key of all three spaces.
 */
import type { Libp2p, PubSub, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decode as cborgDecode, encode as cborgEncode } from 'cborg'
import * as lp from 'it-length-prefixed'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import pino from 'pino'
import type { Uint8ArrayList } from 'uint8arraylist'
import { runSession } from '../../src/antientropy/session.js'
import { decodeFrame, encodeFrame, FrameType, LEAF_BYTES, PROTOCOL_VERSION, type Frame } from '../../src/antientropy/wire.js'
import { encodeRegister } from '../../src/codec/index.js'
import {
  AE_FRESH_MS, AE_LEAVES_PER_ENTRIES, antiEntropyProtocol, changesTopic, digestTopic, MAX_AE_FRAME_BYTES, MAX_AE_STATE_BYTES, MAX_EVENT_COUNTER, MAX_GOSSIP_MESSAGE_BYTES
} from '../../src/constants.js'
import { bucketOf, leafHash, nextBucketHash } from '../../src/merkle/index.js'
import { createChorusNode, type ChorusNode } from '../../src/node/index.js'
import type { EncodedChange } from '../../src/replica/types.js'
import { MemoryReplica, type ReplicaSnapshot } from '../antientropy/helpers/memory-replica.js'
import { createHost } from '../antientropy/helpers/peers.js'
import { waitFor } from '../helpers/nodes.js'
import { cbor, RawText } from './cbor-raw.js'
import { BASE_WALL, buildRegister, Rng, type AeCase, type Entry, type ScriptCase, type SessionCase } from './gen.js'
import { judge, spaceOf, type Verdict } from './oracle.js'

export const CLUSTER = 'default'
export const AE_PROTOCOL = antiEntropyProtocol(CLUSTER)
export const CHANGES = changesTopic(CLUSTER)
export const DIGESTS = digestTopic(CLUSTER)

type Host = Libp2p<{ pubsub?: PubSub }>

const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function within<T> (work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: no answer within ${ms} ms`)) }, ms) })
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}

// ---- nodes

export interface Started { node: ChorusNode, dir: string }

/** A Chorus node on loopback, mDNS off, silent; its data directory is removed by `stopNode`. */
export async function startChorus (aeIntervalMs: number): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-hostile-'))
  // Penalties off: the kit sends thousands of bad frames from one peer to test validation;
  // scoring and bans have their own test (test/integration/peer-bans.test.ts).
  const node = await createChorusNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent', aeIntervalMs, peerPenalties: false })
  return { node, dir }
}

export async function stopNode (s: Started | undefined): Promise<void> {
  if (s === undefined) return
  await s.node.stop().catch(() => {})
  await rm(s.dir, { recursive: true, force: true })
}

// ---- metrics

export type Metrics = Map<string, number>

export async function readMetrics (node: ChorusNode): Promise<Metrics> {
  const out: Metrics = new Map()
  for (const line of (await node.metricsText()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

export const m = (metrics: Metrics, name: string): number => metrics.get(name) ?? 0
export const aeOutcome = (role: 'initiator' | 'responder', outcome: string): string => `chorus_ae_exchanges_total{role="${role}",outcome="${outcome}"}`
export const rejected = (reason: string): string => `chorus_remote_rejected_total{reason="${reason}"}`
export const REASONS = ['bad-key', 'corrupt', 'too-large', 'out-of-range'] as const

/** Every inbound exchange the node finished, whatever its outcome. */
export function responderTotal (metrics: Metrics): number {
  let n = 0
  for (const [k, v] of metrics) if (k.startsWith('chorus_ae_exchanges_total{role="responder"')) n += v
  return n
}

// ---- heap

let gcFn: (() => void) | undefined
/** A full collection, so that heap readings compare live data rather than garbage. */
export function collectGarbage (): void {
  if (gcFn === undefined) {
    v8.setFlagsFromString('--expose-gc')
    gcFn = vm.runInNewContext('gc') as () => void
  }
  gcFn()
  gcFn()
}

export function heapUsed (): number {
  collectGarbage()
  return process.memoryUsage().heapUsed
}

// ---- one anti-entropy stream at the byte level

export type Ending = 'reset' | 'closed' | 'timeout'

export class Wire {
  framesIn = 0
  sawBusy = false
  private readonly queue: Uint8Array[] = []
  private wake: (() => void) | undefined
  private ended = false
  private readonly reader: AsyncIterator<Uint8ArrayList>

  constructor (readonly stream: Stream) {
    this.reader = lp.decode(stream.source, { maxDataLength: 256 * 1024 * 1024 })[Symbol.asyncIterator]()
    void stream.sink(this.outgoing()).catch(() => {})
  }

  private async * outgoing (): AsyncGenerator<Uint8Array> {
    while (true) {
      const next = this.queue.shift()
      if (next !== undefined) { yield next; continue }
      if (this.ended) return
      await new Promise<void>(resolve => { this.wake = resolve })
      this.wake = undefined
    }
  }

  get closed (): boolean { return this.ended }

  /** Bytes as they are, no length prefix. */
  sendRaw (bytes: Uint8Array): void {
    if (this.ended) throw new HaltError('write after end')
    this.queue.push(bytes)
    this.wake?.()
  }

  sendFrame (payload: Uint8Array): void { this.sendRaw(lp.encode.single(payload).subarray()) }
  send (frame: Frame): void { this.sendFrame(encodeFrame(frame)) }

  /** The frame bytes, a few at a time with short pauses (a slow peer; the node's read deadline is 10 s). */
  async trickle (payload: Uint8Array, rng: Rng): Promise<void> {
    const framed = lp.encode.single(payload).subarray()
    const chunk = Math.max(1 + rng.int(7), Math.ceil(framed.length / 40))
    for (let at = 0; at < framed.length; at += chunk) {
      this.sendRaw(framed.subarray(at, at + chunk))
      await pause(1 + rng.int(4))
    }
  }

  async read (timeoutMs = 20_000): Promise<Uint8Array | undefined> {
    const result = await within(this.reader.next(), timeoutMs, 'read')
    if (result.done === true) return undefined
    const bytes = result.value.subarray()
    this.framesIn++
    if (bytes.length === 2 && bytes[0] === 0x81 && bytes[1] === FrameType.Busy) this.sawBusy = true
    return bytes
  }

  async readFrame (timeoutMs?: number): Promise<Frame | undefined> {
    const bytes = await this.read(timeoutMs)
    return bytes === undefined ? undefined : decodeFrame(bytes)
  }

  /** The node's next control frame, its STATES skipped. */
  async control (timeoutMs?: number): Promise<Frame | undefined> {
    while (true) {
      const f = await this.readFrame(timeoutMs)
      if (f === undefined || (f.type !== FrameType.States && f.type !== FrameType.StatePart)) return f
    }
  }

  /** End our side once what is queued has gone. */
  close (): void {
    this.ended = true
    this.wake?.()
  }

  abort (): void {
    this.ended = true
    this.stream.abort(new Error('hostile peer resets'))
    this.wake?.()
  }

  /** Read until the node ends the stream: 'closed' (gracefully), 'reset', or 'timeout'. */
  async drain (timeoutMs = 30_000): Promise<Ending> {
    const deadline = Date.now() + timeoutMs
    try {
      while (true) {
        const left = deadline - Date.now()
        if (left <= 0) { this.abort(); return 'timeout' }
        if (await this.read(left) === undefined) break
      }
    } catch (err) {
      if (/no answer within/.test((err as Error).message)) { this.abort(); return 'timeout' }
      return 'reset'
    }
    // Our side ends too (the muxer flushes it; waiting for that would only wait on the muxer).
    this.close()
    return 'closed'
  }
}

/** Thrown inside a driven session to stop it after a mutation ended the conversation. */
export class HaltError extends Error {}

// ---- hosts

async function newHost (pubsub: boolean): Promise<Host> {
  return await createHost({ pubsub, manualStop: true })
}

function isOpen (host: Host, peer: string): boolean {
  return host.getConnections(peerIdFromString(peer)).some(c => c.status === 'open')
}

interface Job {
  run: (wire: Wire) => Promise<void>
  consumed: boolean
  done: Promise<Ending>
  resolve: (e: Ending) => void
}

/**
 * The hostile member. Its anti-entropy handler runs the next queued job on each inbound stream
 * (the node initiating), and answers BUSY when none is queued, so the node's own scheduled
 * exchanges with it never run a case twice.
 */
export class HostilePeer {
  host!: Host
  /** Every identity it has had (a fresh one when the node would not take it back). */
  readonly ids: string[] = []
  rotations = 0
  /** Inbound anti-entropy streams served. */
  served = 0
  private readonly jobs: Job[] = []

  constructor (private readonly opts: { gossip: boolean }) {}

  get id (): string { return this.host.peerId.toString() }
  get pubsub (): PubSub { return this.host.services.pubsub as PubSub }

  async start (): Promise<void> {
    this.host = await newHost(this.opts.gossip)
    this.ids.push(this.id)
    await this.host.handle(AE_PROTOCOL, ({ stream }) => { void this.serve(stream) }, { maxInboundStreams: 64 })
    if (this.opts.gossip) {
      this.pubsub.subscribe(CHANGES)
      this.pubsub.subscribe(DIGESTS)
    }
  }

  async stop (): Promise<void> { await Promise.resolve(this.host?.stop()).catch(() => {}) }

  /** A new identity: the node may have banned the old one. */
  async rotate (): Promise<void> {
    await this.stop()
    this.rotations++
    await this.start()
  }

  private async serve (stream: Stream): Promise<void> {
    this.served++
    const wire = new Wire(stream)
    const job = this.jobs.shift()
    if (job === undefined) {
      wire.send({ type: FrameType.Busy })
      wire.close()
      await wire.drain(10_000)
      return
    }
    job.consumed = true
    try {
      await job.run(wire)
    } catch {
      // The node reset the stream, or the script stopped itself: either way the stream ends below.
    }
    if (!wire.closed) wire.close()
    job.resolve(await wire.drain())
  }

  enqueue (run: (wire: Wire) => Promise<void>): Job {
    let resolve!: (e: Ending) => void
    const done = new Promise<Ending>(r => { resolve = r })
    const job: Job = { run, consumed: false, done, resolve }
    this.jobs.push(job)
    return job
  }

  dequeue (job: Job): void {
    const at = this.jobs.indexOf(job)
    if (at >= 0) this.jobs.splice(at, 1)
  }

  /** Connected to the node (and, for gossip, seeing its subscription), re-dialling or taking a new identity as needed. */
  async ensureConnected (node: ChorusNode): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (!isOpen(this.host, node.peerId)) await this.host.dial(multiaddr(node.multiaddrs()[0] as string), { signal: AbortSignal.timeout(5_000) })
        if (this.opts.gossip) {
          await waitFor(() => this.pubsub.getSubscribers(CHANGES).some(p => p.toString() === node.peerId), { what: 'the node\'s subscription', timeoutMs: 5_000 })
        }
        return
      } catch (err) {
        if (attempt >= 3) throw err
        await this.rotate()
      }
    }
  }

  /** Disconnect and dial again: the node identifies us anew and schedules an exchange with us. */
  async reconnect (node: ChorusNode): Promise<void> {
    await this.host.hangUp(peerIdFromString(node.peerId)).catch(() => {})
    await waitFor(() => !isOpen(this.host, node.peerId), { what: 'the hang-up', timeoutMs: 5_000 })
    await this.ensureConnected(node)
  }

  async dialAe (node: ChorusNode): Promise<Wire> {
    const stream = await this.host.dialProtocol(peerIdFromString(node.peerId), AE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    return new Wire(stream)
  }
}

// ---- reading everything a node holds

/** Every state the node holds, pulled over anti-entropy as an empty initiator (the node streams its whole tree). */
export async function pullAll (host: Host, node: ChorusNode): Promise<Map<string, Uint8Array>> {
  return await waitFor(async () => {
    if (!isOpen(host, node.peerId)) await host.dial(multiaddr(node.multiaddrs()[0] as string))
    const wire = new Wire(await host.dialProtocol(peerIdFromString(node.peerId), AE_PROTOCOL))
    wire.send({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: new Uint8Array(16), keys: 0, window: 0, fresh: 0 })
    const states = new Map<string, Uint8Array>()
    let parts: { storeKey: string, chunks: Uint8Array[] } | undefined
    while (true) {
      const f = await wire.readFrame(30_000)
      if (f === undefined) throw new Error('stream ended before DONE')
      if (f.type === FrameType.Busy) { wire.close(); return undefined }
      if (f.type === FrameType.States) for (const s of f.states) states.set(s.storeKey, s.state)
      else if (f.type === FrameType.StatePart) {
        parts ??= { storeKey: f.storeKey, chunks: [] }
        parts.chunks.push(f.bytes)
        if (f.offset + f.bytes.length === f.total) { states.set(parts.storeKey, Buffer.concat(parts.chunks)); parts = undefined }
      } else if (f.type === FrameType.Done) break
      else throw new Error(`unexpected frame ${f.type} while pulling`)
    }
    wire.close()
    await wire.drain(10_000)
    return states
  }, { what: 'a full pull of the node', timeoutMs: 60_000, intervalMs: 50 })
}

export interface Audit { states: Map<string, Uint8Array>, problems: string[] }

/**
 * What the node must still be after any input: every stored state within the bounds (the
 * kit's own oracle), no forged key stored, every key of every space readable through the API
 * (and its result serialisable, as the RPC layer needs), the register scan complete.
 */
export async function audit (host: Host, node: ChorusNode, forged: ForgedKeys): Promise<Audit> {
  const states = await pullAll(host, node)
  const problems: string[] = []
  for (const [k, bytes] of states) {
    const v = judge(k, bytes)
    if (v !== 'ok') problems.push(`stored state of ${short(k)} is outside the bounds (${v})`)
  }
  for (const k of forged.only()) if (states.has(k)) problems.push(`forged key ${short(k)} was stored`)
  for (const k of states.keys()) {
    const addr = spaceOf(k)
    if (addr === undefined) { problems.push(`stored key ${short(k)} names no key space`); continue }
    try {
      const result = addr.space === 'kv' ? await node.kvGet(addr.key, { all: true }) : addr.space === 'counter' ? await node.counterGet(addr.key) : await node.setGet(addr.key)
      JSON.stringify(result)
    } catch (err) {
      problems.push(`${short(k)} does not read back: ${(err as Error).message}`)
    }
  }
  let cursor: string | undefined
  let pages = 0
  do {
    try {
      const page = await node.kvScan({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) })
      JSON.stringify(page)
      for (const item of page.items) if (!states.has(`r/${item.key}`)) problems.push(`scan lists ${short(item.key)}, which the tree lacks`)
      cursor = page.cursor
    } catch (err) {
      problems.push(`kv.scan fails: ${(err as Error).message}`)
      break
    }
  } while (cursor !== undefined && ++pages < 10_000)
  return { states, problems }
}

export const short = (k: string): string => JSON.stringify(k.length > 60 ? `${k.slice(0, 60)}…(${k.length})` : k)

/** Keys that only ever carried states the node must refuse: none may ever be stored. */
export class ForgedKeys {
  private readonly forged = new Set<string>()
  private readonly valid = new Set<string>()
  note (storeKey: string, verdict: Verdict): void {
    if (verdict === 'ok') { this.valid.add(storeKey); this.forged.delete(storeKey) } else if (!this.valid.has(storeKey)) this.forged.add(storeKey)
  }

  /** A key sent where the node had not asked for it (a valid state, but it must never be merged). */
  never (storeKey: string): void { this.forged.add(storeKey) }

  only (): string[] { return [...this.forged] }
  get size (): number { return this.forged.size }
}

// ---- gossip

export interface GossipModel {
  wellFormed: boolean
  entries: Array<{ storeKey: string, state: Uint8Array, verdict: Verdict }>
}

/**
 * What the node's gossip validator makes of a message (decode as gossip/message.ts documents it:
 * canonical CBOR only, which here means the bytes cborg writes back for what it read; each
 * state by the oracle).
 */
export function modelGossip (bytes: Uint8Array): GossipModel {
  const bad: GossipModel = { wellFormed: false, entries: [] }
  if (bytes.byteLength > MAX_GOSSIP_MESSAGE_BYTES) return bad
  let raw: unknown
  try { raw = cborgDecode(bytes, { useMaps: false, rejectDuplicateMapKeys: true, allowUndefined: false }) } catch { return bad }
  try { if (!Buffer.from(cborgEncode(raw)).equals(Buffer.from(bytes))) return bad } catch { return bad }
  if (!Array.isArray(raw) || raw.length !== 2 || raw[0] !== 1 || !Array.isArray(raw[1])) return bad
  const entries: GossipModel['entries'] = []
  for (const e of raw[1] as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !(e[1] instanceof Uint8Array)) return bad
    entries.push({ storeKey: e[0], state: e[1], verdict: judge(e[0], e[1]) })
  }
  return { wellFormed: true, entries }
}

export interface GossipExpectation {
  received: number
  invalid: number
  applied: number
  rejected: Record<string, number>
}

export function expectationOf (model: GossipModel): GossipExpectation {
  const rejectedBy: Record<string, number> = {}
  let applied = 0
  for (const e of model.entries) {
    if (e.verdict === 'ok') applied++
    else rejectedBy[e.verdict] = (rejectedBy[e.verdict] ?? 0) + 1
  }
  const allRefused = model.entries.length > 0 && applied === 0
  return { received: model.wellFormed ? 1 : 0, invalid: !model.wellFormed || allRefused ? 1 : 0, applied, rejected: rejectedBy }
}

export function addExpectations (xs: GossipExpectation[]): GossipExpectation {
  const sum: GossipExpectation = { received: 0, invalid: 0, applied: 0, rejected: {} }
  for (const x of xs) {
    sum.received += x.received
    sum.invalid += x.invalid
    sum.applied += x.applied
    for (const [r, n] of Object.entries(x.rejected)) sum.rejected[r] = (sum.rejected[r] ?? 0) + n
  }
  return sum
}

/** The node's gossip counters as a GossipExpectation, to diff against one. */
export function gossipCounters (metrics: Metrics): GossipExpectation {
  return {
    received: m(metrics, 'chorus_gossip_received_total'),
    invalid: m(metrics, 'chorus_gossip_invalid_total'),
    applied: m(metrics, 'chorus_remote_applied_total'),
    rejected: Object.fromEntries(REASONS.map(r => [r, m(metrics, rejected(r))]))
  }
}

export function diffCounters (after: GossipExpectation, before: GossipExpectation): GossipExpectation {
  return {
    received: after.received - before.received,
    invalid: after.invalid - before.invalid,
    applied: after.applied - before.applied,
    rejected: Object.fromEntries(REASONS.map(r => [r, (after.rejected[r] ?? 0) - (before.rejected[r] ?? 0)]))
  }
}

/** Whether the observed deltas reached the expected ones (applied only from below: honest exchanges add to it). */
export function reached (seen: GossipExpectation, want: GossipExpectation): boolean {
  return seen.received >= want.received && seen.invalid >= want.invalid && seen.applied >= want.applied &&
    REASONS.every(r => (seen.rejected[r] ?? 0) >= (want.rejected[r] ?? 0))
}

export function sameCounts (seen: GossipExpectation, want: GossipExpectation): boolean {
  return seen.received === want.received && seen.invalid === want.invalid && seen.applied >= want.applied &&
    REASONS.every(r => (seen.rejected[r] ?? 0) === (want.rejected[r] ?? 0))
}

// ---- the hostile side's replica (for driven sessions)

/** A snapshot of what the node held, as the base every driven session starts from. */
export type Base = ReplicaSnapshot

export function baseOf (states: ReadonlyMap<string, Uint8Array>): Base {
  const leaves = new Map<string, Uint8Array>()
  const buckets = new Map<number, string[]>()
  const hashes = new Map<number, Uint8Array>()
  for (const [k, s] of states) {
    const leaf = leafHash(k, s)
    leaves.set(k, Uint8Array.from(leaf))
    const b = bucketOf(k)
    buckets.set(b, [...buckets.get(b) ?? [], k])
    hashes.set(b, nextBucketHash(hashes.get(b) ?? new Uint8Array(16), undefined, leaf))
  }
  return { states, leaves, buckets, hashes }
}


// ---- anti-entropy cases

export interface AeContext {
  /** The node's keys and the buckets they fall in, as of the phase's last snapshot. */
  nodeKeys: string[]
  nodeBuckets: Set<number>
  base: Base
  forged: ForgedKeys
  /** Unique prefix of this case's keys. */
  unique: string
}

const asKey = (k: string | RawText): string => typeof k === 'string' ? k : new TextDecoder().decode(k.bytes)

/** This case's own states, keyed so that the ones meant to be near the node's keys fall in buckets it holds. */
function extrasOf (c: SessionCase, ctx: AeContext): EncodedChange[] {
  return c.extras.map(({ entry, nearNode }, i) => {
    let storeKey = asKey(entry.key(`${ctx.unique}.${i}`))
    if (nearNode && Buffer.byteLength(storeKey) < 900) {
      for (let j = 0; j < 20_000; j++) {
        const k = `${storeKey}~${j}`
        if (ctx.nodeBuckets.has(bucketOf(k))) { storeKey = k; break }
      }
    }
    ctx.forged.note(storeKey, judge(storeKey, entry.state))
    return { storeKey, state: entry.state }
  })
}

const validState = (rng: Rng): Uint8Array =>
  encodeRegister(buildRegister([`Fzh${rng.int(1000)}`], [{ node: 0, counter: 1 + rng.int(100), wall: BASE_WALL + rng.int(1e6), logical: 0, value: String(rng.int(1e6)) }]))
const forgedState = (rng: Rng): Uint8Array =>
  encodeRegister(buildRegister([`Fzf${rng.int(1000)}`], [{ node: 0, counter: MAX_EVENT_COUNTER + 1 + rng.int(1000), wall: BASE_WALL, logical: 0, value: '"forged"' }]))

function randomRoot (rng: Rng): Uint8Array {
  const root = rng.bytes(16)
  root[0] = (root[0] as number) | 1
  return root
}

/**
 * A fresh key in a bucket the node holds keys in (so it never asked us to stream there), noted
 * as one that must never be stored: whatever state we send for it, the node has no right to take.
 */
function unaskedKey (ctx: AeContext): string {
  let key = `r/${ctx.unique}-unasked`
  for (let j = 0; j < 50_000 && ctx.nodeBuckets.size > 0; j++) {
    if (ctx.nodeBuckets.has(bucketOf(`${key}~${j}`))) { key = `${key}~${j}`; break }
  }
  ctx.forged.never(key)
  return key
}

/** A state for an unasked key, whole in one STATE_PART (so that only the check of the first part stops it). */
const wholePart = (storeKey: string, rng: Rng): Frame => { const state = validState(rng); return { type: FrameType.StatePart, storeKey, total: state.length, offset: 0, bytes: state } }

function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80) }
  out.push(n)
  return Uint8Array.from(out)
}

const UNKNOWN_TYPES: unknown[] = [9, 10, 42, 255, 65_536, 2 ** 32, -1, 'x', 1.5, null, Uint8Array.of(0), [0]]

/** Scripts for the hostile initiator; the node is the responder. */
async function initiatorScript (c: ScriptCase, w: Wire, ctx: AeContext): Promise<void> {
  const rng = new Rng(c.seed)
  const hello = (): Frame => ({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomRoot(rng), keys: rng.int(5000), window: rng.int(11), fresh: 0 })
  const [name, action] = c.name.split(':') as [string, string | undefined]
  switch (name) {
    case 'garbage': {
      const payload = rng.bytes(1 + rng.int(200))
      if (payload[0] === 0x85) payload[0] = 0x84
      w.sendFrame(payload)
      break
    }
    case 'unknown-type': w.sendFrame(cbor([rng.pick(UNKNOWN_TYPES), ...Array.from({ length: rng.int(5) }, () => 0)])); break
    case 'bad-hello': {
      const fields: unknown[] = [0, 1, randomRoot(rng), 3, 0]
      const variants: Array<() => void> = [
        () => { fields[1] = rng.pick<unknown>([0, 2, 99, Number.MAX_SAFE_INTEGER, -1, 2n ** 64n - 1n, '1', null]) },
        () => { fields[2] = rng.pick<unknown>([rng.bytes(15), rng.bytes(17), new Uint8Array(0), 'root', 0]) },
        () => { fields[4] = rng.pick<unknown>([11, 16, 255, -1, 1.5, 'w']) },
        () => { fields[3] = rng.pick<unknown>([-1, 1.5, 'k', 2n ** 64n - 1n]) },
        () => { fields.push(0) },
        () => { fields.pop() }
      ]
      rng.pick(variants)()
      w.sendFrame(cbor(fields))
      break
    }
    case 'first-frame': {
      const key = unaskedKey(ctx)
      w.send(rng.pick<Frame>([
        { type: FrameType.Nodes, level: 0, indices: [0], hashes: rng.bytes(64), pull: [] },
        { type: FrameType.Entries, buckets: [], counts: [], leaves: new Uint8Array(0), pull: [] },
        { type: FrameType.Want, leaves: rng.bytes(LEAF_BYTES) },
        { type: FrameType.States, states: [{ storeKey: key, state: validState(rng) }] },
        { type: FrameType.Done, level: 0, pull: [] },
        { type: FrameType.Done, level: 0, pull: [0] },
        { type: FrameType.Busy },
        { type: FrameType.Refused, count: 1 },
        wholePart(key, rng)
      ]))
      break
    }
    case 'oversize-prefix':
      w.sendRaw(varint(rng.pick([MAX_AE_FRAME_BYTES + 1, 8 * 1024 * 1024, 2 ** 31, 2 ** 40])))
      w.sendRaw(rng.bytes(1 + rng.int(2048)))
      break
    case 'bad-varint': w.sendRaw(new Uint8Array(10 + rng.int(5)).fill(0xff)); break
    case 'parts-first':
      w.send(rng.int(2) === 0 ? wholePart(unaskedKey(ctx), rng) : { type: FrameType.StatePart, storeKey: unaskedKey(ctx), total: rng.pick([100, 1000, MAX_AE_STATE_BYTES]), offset: 0, bytes: rng.bytes(10 + rng.int(90)) })
      break
    case 'empty-states-then-close': {
      // The first empty STATES frame is a violation (no honest sender sends one): the node resets
      // at once, which the drain after the script sees.
      for (let i = rng.int(5); i >= 0; i--) w.send({ type: FrameType.States, states: [] })
      w.send(hello())
      break
    }
    case 'after-hello': {
      w.send(hello())
      const reply = await w.control()
      if (reply?.type !== FrameType.Nodes) break
      const key = unaskedKey(ctx)
      const frames: Record<string, Frame | undefined> = {
        'level-skip': { type: FrameType.Nodes, level: rng.pick([2, 3, 4, 7]), indices: [0], hashes: rng.bytes(64), pull: [] },
        'not-ascending': { type: FrameType.Nodes, level: 1, indices: [3, 1], hashes: rng.bytes(128), pull: [] },
        'out-of-range': { type: FrameType.Nodes, level: 1, indices: [16], hashes: rng.bytes(64), pull: [] },
        'hashes-short': { type: FrameType.Nodes, level: 1, indices: [0], hashes: rng.bytes(63), pull: [] },
        'entries-early': { type: FrameType.Entries, buckets: [0], counts: [0], leaves: new Uint8Array(0), pull: [] },
        'want-early': { type: FrameType.Want, leaves: rng.bytes(LEAF_BYTES) },
        'hello-again': hello(),
        busy: { type: FrameType.Busy },
        refused: { type: FrameType.Refused, count: 2 },
        'done-bad-level': { type: FrameType.Done, level: 3, pull: [0] },
        'done-out-of-range': { type: FrameType.Done, level: 1, pull: [16] },
        'states-unasked': { type: FrameType.States, states: [{ storeKey: key, state: validState(rng) }] },
        'part-unasked': wholePart(key, rng),
        close: undefined,
        done: { type: FrameType.Done, level: 1, pull: [] }
      }
      const frame = frames[action ?? 'close']
      if (frame !== undefined) w.send(frame)
      if (action === 'done') await w.control()
      break
    }
  }
  w.close()
}

/** Scripts for the hostile responder; the node is the initiator and has sent HELLO. */
async function responderScript (c: ScriptCase, w: Wire, ctx: AeContext): Promise<void> {
  const rng = new Rng(c.seed)
  const hello = await w.readFrame()
  if (hello?.type !== FrameType.Hello) { w.close(); return }
  const key = unaskedKey(ctx)
  switch (c.name) {
    case 'garbage': { const p = rng.bytes(1 + rng.int(200)); if (p[0] === 0x85 || p[0] === 0x83) p[0] = 0x84; w.sendFrame(p); break }
    case 'unknown-type': w.sendFrame(cbor([rng.pick(UNKNOWN_TYPES), 0])); break
    case 'oversize-prefix': w.sendRaw(varint(rng.pick([MAX_AE_FRAME_BYTES + 1, 2 ** 31]))); w.sendRaw(rng.bytes(100)); break
    case 'first:entries': w.send({ type: FrameType.Entries, buckets: [bucketOf(key)], counts: [0], leaves: new Uint8Array(0), pull: [] }); break
    case 'first:want': w.send({ type: FrameType.Want, leaves: rng.bytes(LEAF_BYTES) }); break
    case 'first:hello': w.send({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomRoot(rng), keys: 1, window: 0, fresh: 0 }); break
    case 'first:states': w.send({ type: FrameType.States, states: [{ storeKey: key, state: validState(rng) }] }); break
    case 'first:part': w.send(wholePart(key, rng)); break
    case 'first:nodes-level1': w.send({ type: FrameType.Nodes, level: 1, indices: [0], hashes: rng.bytes(64), pull: [] }); break
    case 'first:nodes-index1': w.send({ type: FrameType.Nodes, level: 0, indices: [1], hashes: rng.bytes(64), pull: [] }); break
    case 'first:nodes-short': w.send({ type: FrameType.Nodes, level: 0, indices: [0], hashes: rng.bytes(60), pull: [] }); break
    case 'first:done-bad-level': w.send({ type: FrameType.Done, level: 2, pull: [0] }); break
    case 'first:refused-0': w.sendFrame(cbor([FrameType.Refused, 0])); break
    case 'first:refused-n': w.send({ type: FrameType.Refused, count: 1 + (c.seed % 100) }); break
    case 'first:busy': w.send({ type: FrameType.Busy }); break
    case 'first:done-in-sync': w.send({ type: FrameType.Done, level: 0, pull: [] }); break
    case 'first:done-pull-all':
    case 'first:done-pull-twice':
      w.send({ type: FrameType.Done, level: 0, pull: [0] })
      if ((await w.control())?.type === FrameType.Done) w.send({ type: FrameType.Done, level: 0, pull: c.name === 'first:done-pull-all' ? [] : [0] })
      break
    case 'first:close': break
    case 'nodes-then-garbage': {
      const hashes = rng.bytes(64)
      for (let i = 0; i < 64; i += 4) hashes[i] = (hashes[i] as number) | 1
      w.send({ type: FrameType.Nodes, level: 0, indices: [0], hashes, pull: [] })
      await w.control()
      w.sendFrame(rng.bytes(1 + rng.int(50)))
      break
    }
  }
  w.close()
}

const FIELD_NOISE: unknown[] = [0, 1, -1, 4, 15, 16, 65_535, 65_536, 2 ** 32, Number.MAX_SAFE_INTEGER, 1.5, 'x', new Uint8Array(0), new Uint8Array(3), [], [0], null, true]

/**
 * The FramedStream the honest session code talks through, applying the case's one mutation
 * to what the session sends (and, with `flipIn`, to the hashes it receives).
 */
class MutatingFs {
  bytesIn = 0
  bytesOut = 0
  private out = 0
  private done = false
  private trickled = 0
  private halted = false
  /** invent-entries: windows we invented (hex → a key of ours in that bucket), and those the node then asked for. */
  private readonly invented = new Map<string, string>()
  private requested: string[] = []

  constructor (private readonly w: Wire, private readonly c: SessionCase, private readonly replica: MemoryReplica, private readonly rng: Rng) {}

  async read (): Promise<Uint8Array | undefined> {
    // Once we have lied, the node may wait for what we dropped while we wait for its answer:
    // give up after a short silence and close our side, rather than sit out its 10 s deadline
    // (the slow-peer cases test that deadline).
    let bytes: Uint8Array | undefined
    try {
      bytes = await this.w.read(this.done ? 1_500 : 20_000)
    } catch (err) {
      if (/no answer within/.test((err as Error).message)) { this.halted = true; this.w.close(); throw new HaltError('silence after our lie') }
      throw err
    }
    if (bytes === undefined) return undefined
    this.bytesIn += bytes.length + 1
    let frame: Frame
    try { frame = decodeFrame(bytes) } catch { return bytes }
    if (this.c.flipIn && frame.type === FrameType.Nodes && frame.hashes.length > 0) {
      const hashes = Uint8Array.from(frame.hashes)
      const at = this.rng.int(hashes.length)
      hashes[at] = (hashes[at] as number) ^ (1 + this.rng.int(255))
      return encodeFrame({ ...frame, hashes })
    }
    if (frame.type === FrameType.Want && this.invented.size > 0) {
      // Keep the session from seeing what we invented; we answer those leaves ourselves.
      const keep: Uint8Array[] = []
      for (let at = 0; at < frame.leaves.length; at += LEAF_BYTES) {
        const leaf = frame.leaves.subarray(at, at + LEAF_BYTES)
        const hex = Buffer.from(leaf).toString('hex')
        if (this.invented.has(hex)) this.requested.push(hex)
        else keep.push(leaf)
      }
      return encodeFrame({ type: FrameType.Want, leaves: Buffer.concat(keep) })
    }
    return bytes
  }

  private async emit (bytes: Uint8Array): Promise<void> {
    if (this.halted) throw new HaltError('halted')
    this.bytesOut += bytes.length + 1
    // Trickled: the first frames only, a few bytes at a time (every frame of a long stream would take seconds).
    if (this.c.trickle && this.trickled++ < 3) await this.w.trickle(bytes, this.rng)
    else this.w.sendFrame(bytes)
  }

  /** Which of the session's frames the structured ops apply to. */
  private targets (frame: Frame): boolean {
    switch (this.c.op) {
      case 'parts-lie': case 'states-forged': case 'states-reorder': case 'states-repeat': case 'states-invent':
        return frame.type === FrameType.States && frame.states.length > 0
      case 'invent-entries': return frame.type === FrameType.Entries && frame.buckets.length > 0
      case 'invent-want': return frame.type === FrameType.Want
      default: return true
    }
  }

  async write (bytes: Uint8Array): Promise<void> {
    const index = this.out++
    const frame = decodeFrame(bytes)
    if (this.requested.length > 0) {
      // The node asked for leaves we invented: answer with states that cannot hash to them.
      const states = this.requested.map(hex => ({ storeKey: this.invented.get(hex) as string, state: validState(this.rng) }))
      this.requested = []
      await this.emit(encodeFrame({ type: FrameType.States, states }))
    }
    if (this.done || index < this.c.at || !this.targets(frame)) return await this.emit(bytes)
    this.done = true
    const rng = this.rng
    switch (this.c.op) {
      case 'none': return await this.emit(bytes)
      case 'drop': return
      case 'duplicate': await this.emit(bytes); return await this.emit(bytes)
      case 'bitflip': {
        const b = Uint8Array.from(bytes)
        for (let i = 1 + rng.int(3); i > 0; i--) { const at = rng.int(b.length); b[at] = (b[at] as number) ^ (1 << rng.int(8)) }
        return await this.emit(b)
      }
      case 'truncate': return await this.emit(bytes.subarray(0, rng.int(bytes.length)))
      case 'append': return await this.emit(Buffer.concat([bytes, rng.bytes(1 + rng.int(16))]))
      case 'retype':
      case 'field':
      case 'swap-fields': {
        const arr = cborgDecode(bytes, { useMaps: false }) as unknown[]
        if (this.c.op === 'retype') arr[0] = ((arr[0] as number) + 1 + rng.int(9)) % 10
        else if (arr.length > 1) {
          const i = 1 + rng.int(arr.length - 1)
          if (this.c.op === 'field') arr[i] = rng.pick(FIELD_NOISE)
          else { const j = 1 + rng.int(arr.length - 1); [arr[i], arr[j]] = [arr[j], arr[i]] }
        }
        return await this.emit(cbor(arr))
      }
      case 'inject-before': {
        const extra = rng.pick<Frame>([
          { type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomRoot(rng), keys: 1, window: 0, fresh: 0 },
          { type: FrameType.Nodes, level: rng.int(5), indices: [0], hashes: rng.bytes(64), pull: [] },
          { type: FrameType.Done, level: rng.int(5), pull: [0] },
          { type: FrameType.Done, level: rng.int(5), pull: [] },
          { type: FrameType.Busy },
          { type: FrameType.Refused, count: 1 },
          { type: FrameType.Want, leaves: rng.bytes(LEAF_BYTES) },
          { type: FrameType.States, states: [] },
          { type: FrameType.StatePart, storeKey: `r/${rng.int(1e9)}`, total: 100, offset: 0, bytes: rng.bytes(10) }
        ])
        await this.emit(encodeFrame(extra))
        return await this.emit(bytes)
      }
      case 'close': await this.emit(bytes); this.halted = true; this.w.close(); throw new HaltError('closed')
      case 'reset': this.halted = true; this.w.abort(); throw new HaltError('reset')
      case 'delay': await pause(200 + rng.int(1000)); return await this.emit(bytes)
      case 'invent-want': {
        const f = frame as Extract<Frame, { type: FrameType.Want }>
        return await this.emit(encodeFrame({ type: FrameType.Want, leaves: Buffer.concat([f.leaves, rng.bytes(LEAF_BYTES * (1 + rng.int(3)))]) }))
      }
      case 'invent-entries': {
        const f = frame as Extract<Frame, { type: FrameType.Entries }>
        const counts = [...f.counts]
        const lists: Uint8Array[][] = []
        let at = 0
        for (const n of f.counts) { lists.push(Array.from({ length: n }, (_, j) => f.leaves.subarray(at + j * LEAF_BYTES, at + (j + 1) * LEAF_BYTES))); at += n * LEAF_BYTES }
        for (let k = 1 + rng.int(3); k > 0; k--) {
          const i = rng.int(f.buckets.length)
          const bucket = f.buckets[i] as number
          const leaf = rng.bytes(LEAF_BYTES)
          const owner = this.replica.keysIn(bucket)[0]
          if (owner === undefined) continue
          this.invented.set(Buffer.from(leaf).toString('hex'), owner)
          ;(lists[i] as Uint8Array[]).push(leaf)
          counts[i] = (counts[i] as number) + 1
        }
        return await this.emit(encodeFrame({ ...f, counts, leaves: Buffer.concat(lists.flat()) }))
      }
      default: break
    }
    const f = frame as Extract<Frame, { type: FrameType.States }>
    const states = [...f.states]
    switch (this.c.op) {
      case 'states-forged': { const i = rng.int(states.length); states[i] = { storeKey: (states[i] as EncodedChange).storeKey, state: forgedState(rng) }; break }
      case 'states-reorder': states.reverse(); break
      case 'states-repeat': states.push(states[0] as EncodedChange); break
      case 'states-invent': states.push({ storeKey: `r/inv-${rng.int(1e9)}`, state: validState(rng) }); break
      case 'parts-lie': return await this.partsLie(states)
    }
    return await this.emit(encodeFrame({ type: FrameType.States, states }))
  }

  /** The first state goes in STATE_PART frames that lie (or, for 'honest', do not). */
  private async partsLie (states: EncodedChange[]): Promise<void> {
    const rng = this.rng
    const [first, ...rest] = states as [EncodedChange, ...EncodedChange[]]
    let { storeKey, state } = first
    const lie = this.c.partLie
    if (lie === 'garbage-state') state = rng.bytes(16 + rng.int(2000))
    if (lie === 'wrong-key') storeKey = `r/wrong-${rng.int(1e9)}`
    const part = (offset: number, bytes: Uint8Array, total = state.length, key = storeKey): Promise<void> =>
      this.emit(encodeFrame({ type: FrameType.StatePart, storeKey: key, total, offset, bytes }))
    const size = Math.max(1, Math.ceil(state.length / 3))
    const honest = async (): Promise<void> => { for (let at = 0; at < state.length; at += size) await part(at, state.subarray(at, at + size)) }
    switch (lie) {
      case 'honest': case 'garbage-state': case 'wrong-key': await honest(); break
      case 'skip': await part(0, state.subarray(0, size)); await part(2 * size, state.subarray(2 * size, 3 * size)); break
      case 'overlap': await part(0, state.subarray(0, size)); await part(0, state.subarray(0, size)); break
      case 'total-grow': await part(0, state.subarray(0, size), state.length + 1); await part(size, state.subarray(size), state.length + 2); break
      case 'key-switch': await part(0, state.subarray(0, size)); await part(size, state.subarray(size), state.length, `${storeKey}x`); break
      case 'interrupt': await part(0, state.subarray(0, size), state.length + 1); break
      case 'nonzero-start': await part(1, state.subarray(1, 1 + size), state.length + 1); break
      case 'over-max': await part(0, state.subarray(0, size), MAX_AE_STATE_BYTES + 1); break
      case 'big-total': for (let i = 0; i < 3; i++) await part(i * 1024 * 1024, rng.bytes(1024 * 1024), MAX_AE_STATE_BYTES); break
    }
    if (rest.length > 0) await this.emit(encodeFrame({ type: FrameType.States, states: rest }))
  }

  async close (): Promise<void> { this.w.close() }
  abort (): void { this.w.abort() }
}

/** Runs the honest session code over a mutating stream, for either role, from the base plus this case's states. */
async function sessionCase (c: SessionCase, w: Wire, ctx: AeContext, role: 'initiator' | 'responder'): Promise<void> {
  // The hostile side's replica: the base plus this case's own states; it merges what it receives.
  const replica = new MemoryReplica(ctx.base)
  for (const e of extrasOf(c, ctx)) replica.set(e.storeKey, e.state)
  const rng = new Rng(c.seed)
  const fs = new MutatingFs(w, c, replica, rng)
  try {
    await runSession(fs as never, {
      replica,
      peer: 'node',
      statesFrameBytes: c.smallFrames ? 1024 : 512 * 1024,
      maxFrameBytes: c.smallFrames ? 4096 : MAX_AE_FRAME_BYTES,
      leavesPerEntries: c.smallFrames ? 8 : AE_LEAVES_PER_ENTRIES,
      // Half the cases offer a fresh window, so the node's handling of it is exercised too.
      freshMs: (c.seed & 1) * AE_FRESH_MS,
      now: Date.now,
      log: pino({ level: 'silent' })
    }, role)
    if (!w.closed) w.close()
  } catch (err) {
    // Our own session gave up (the node's answers made no sense to it after our lie, or we halted).
    if (!(err instanceof HaltError) && !w.closed) w.abort()
  }
}

export interface AeResult {
  ending: Ending
  /** How the node's sync() ended (node as initiator). */
  sync?: { ok: true } | { ok: false, code: string, causeCode?: string, busy?: boolean, refused?: number }
  /** Only this case's stream reached the hostile handler while sync() ran, so `sync` is this case's outcome. */
  attributable?: boolean
  attempts: number
}

/** The hostile side dials the node and runs the case (retrying while the node answers BUSY: its previous exchange with us is still winding down). */
export async function runAsInitiator (hostile: HostilePeer, node: ChorusNode, c: AeCase, ctx: AeContext): Promise<AeResult> {
  let attempts = 0
  return await waitFor(async () => {
    attempts++
    await hostile.ensureConnected(node)
    const w = await hostile.dialAe(node)
    try {
      if (c.kind === 'script') await initiatorScript(c, w, ctx)
      else await sessionCase(c, w, ctx, 'initiator')
    } catch {
      // The node reset the stream under the script: expected of most cases.
    }
    if (!w.closed) w.close()
    const ending = await w.drain()
    if (w.sawBusy && w.framesIn === 1) return undefined
    return { ending, attempts }
  }, { what: 'the node to take the exchange (not BUSY)', timeoutMs: 30_000, intervalMs: 20 })
}

/**
 * Returns once the node has finished (and counted) every earlier exchange with us: it serves one
 * exchange per peer at a time and answers BUSY to another, and it records an outcome before it
 * frees the slot. The probe is an in-sync exchange (our HELLO carries its own root).
 */
export async function settled (hostile: HostilePeer, node: ChorusNode): Promise<void> {
  await waitFor(async () => {
    await hostile.ensureConnected(node)
    const w = await hostile.dialAe(node)
    w.send({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: Buffer.from((await node.info()).digest, 'hex'), keys: 0, window: 0, fresh: 0 })
    const reply = await w.control(10_000)
    // The root moved in between: a terminal DONE ends the exchange just as well.
    if (reply?.type === FrameType.Nodes) { w.send({ type: FrameType.Done, level: 1, pull: [] }); await w.control(10_000) }
    w.close()
    await w.drain(10_000)
    return reply !== undefined && reply.type !== FrameType.Busy
  }, { what: 'the node to finish our earlier exchanges', timeoutMs: 30_000, intervalMs: 10 })
}

const codeOf = (err: unknown): string => String((err as { code?: unknown }).code ?? (err as Error).name)

/** The node dials the hostile side: through sync() (the RPC cluster.sync), or through its scheduler after a reconnect. */
export async function runAsResponder (hostile: HostilePeer, node: ChorusNode, c: AeCase, ctx: AeContext, trigger: 'sync' | 'scheduler'): Promise<AeResult> {
  const run = async (w: Wire): Promise<void> => {
    if (c.kind === 'script') await responderScript(c, w, ctx)
    else await sessionCase(c, w, ctx, 'responder')
  }
  for (let attempts = 1; ; attempts++) {
    await hostile.ensureConnected(node)
    const job = hostile.enqueue(run)
    const servedBefore = hostile.served
    if (trigger === 'scheduler') {
      await hostile.reconnect(node)
      await waitFor(() => job.consumed, { what: 'the node\'s scheduler to dial us', timeoutMs: 30_000 })
      return { ending: await within(job.done, 40_000, 'the scheduled exchange'), attempts }
    }
    let sync: AeResult['sync']
    try {
      await within(node.sync(hostile.id), 40_000, 'sync()')
      sync = { ok: true }
    } catch (err) {
      const e = err as { code?: string, cause?: unknown, data?: { busy?: boolean, refused?: number } }
      sync = { ok: false, code: codeOf(err), ...(e.cause === undefined ? {} : { causeCode: codeOf(e.cause) }), busy: e.data?.busy === true, ...(e.data?.refused === undefined ? {} : { refused: e.data.refused }) }
    }
    if (!job.consumed) {
      // sync() never reached us (not connected any more: a penalty?); try again.
      hostile.dequeue(job)
      if (attempts >= 5) throw new Error(`sync() did not reach the hostile peer: ${JSON.stringify(sync)}`)
      continue
    }
    const ending = await within(job.done, 40_000, 'the exchange to end')
    return { ending, sync, attributable: hostile.served - servedBefore === 1, attempts }
  }
}

// ---- slow peers (the node's read deadline is 10 s)

/** The node as responder facing a peer that goes silent (after HELLO, or halfway through a frame) or trickles empty frames. */
export async function stallAgainstResponder (host: Host, node: ChorusNode, how: 'silent' | 'half-frame' | 'trickle'): Promise<{ ending: Ending, ms: number }> {
  if (!isOpen(host, node.peerId)) await host.dial(multiaddr(node.multiaddrs()[0] as string))
  const started = Date.now()
  const w = new Wire(await host.dialProtocol(peerIdFromString(node.peerId), AE_PROTOCOL))
  const rng = new Rng(7)
  if (how === 'half-frame') {
    w.sendRaw(varint(1000))
    w.sendRaw(rng.bytes(10))
  } else {
    w.send({ type: FrameType.Hello, version: PROTOCOL_VERSION, root: randomRoot(rng), keys: 1, window: 0, fresh: 0 })
    if (how === 'trickle') {
      // Frames the session accepts and ignores, each well within the read deadline: the slot stays taken.
      for (let i = 0; i < 3; i++) { await pause(2_000); w.send({ type: FrameType.States, states: [] }) }
    }
  }
  // Our side stays open and silent: only the node's deadline ends this.
  const ending = await (async (): Promise<Ending> => {
    try {
      while (await w.read(60_000) !== undefined) {}
      return 'closed'
    } catch (err) {
      return /no answer within/.test((err as Error).message) ? 'timeout' : 'reset'
    }
  })()
  return { ending, ms: Date.now() - started }
}

/** The node as initiator facing a responder that reads HELLO and then says nothing, or sends its reply a byte every 500 ms. */
export async function stallAgainstInitiator (host: Host, node: ChorusNode, how: 'silent' | 'trickle'): Promise<{ sync: string, ms: number }> {
  await host.unhandle(AE_PROTOCOL).catch(() => {})
  await host.handle(AE_PROTOCOL, ({ stream }) => {
    void (async () => {
      const w = new Wire(stream)
      await w.read().catch(() => undefined)
      if (how === 'trickle') {
        const framed = lp.encode.single(encodeFrame({ type: FrameType.Nodes, level: 0, indices: [0], hashes: new Uint8Array(64).fill(1), pull: [] })).subarray()
        for (const byte of framed) { await pause(500); try { w.sendRaw(Uint8Array.of(byte)) } catch { return } }
      }
      await w.drain(60_000)
    })()
  }, { maxInboundStreams: 8 })
  if (!isOpen(host, node.peerId)) await host.dial(multiaddr(node.multiaddrs()[0] as string))
  await waitFor(async () => (await node.peers()).some(p => p.peerId === host.peerId.toString() && p.connected), { what: 'the staller to be connected' })
  const started = Date.now()
  const sync = await node.sync(host.peerId.toString()).then(() => 'ok', (err: unknown) => `${codeOf(err)}/${codeOf((err as Error).cause)}`)
  return { sync, ms: Date.now() - started }
}

export { newHost, isOpen, pause, within }
export type { Host, Entry }
