/**
 * One anti-entropy exchange over one stream, for either role (docs/protocol.md).
 *
 * Turns alternate. In each turn a side first streams the states it owes (subtrees the peer
 * asked for because it is empty there, subtrees it just found empty on the peer's side, or
 * the differing keys of the final phase) as STATES frames, then ends the turn with one
 * control frame. The side that compares descends one level per turn, so a full descent takes
 * four round trips and the conversation is bounded by the tree's fixed depth.
 */
import type { Logger } from 'pino'
import { MAX_AE_STATE_BYTES } from '../constants.js'
import { BUCKETS, bucketOf, DEPTH, FANOUT, leafHash, type MerkleTree } from '../merkle/index.js'
import type { AntiEntropyReplica, EncodedChange } from '../replica/types.js'
import type { FramedStream } from './framed-stream.js'
import { emptyStats, type ExchangeStats } from './stats.js'
import { StateReceiver, type Entitlements } from './state-receiver.js'
import { BucketSet, bucketRange, childWindows, coalesce, isZero, levelSize, parentOf, sameBytes, windowOf } from './tree-view.js'
import { mapLimit } from './map-limit.js'
import {
  decodeFrame, encodeFrame, FrameType, interrupted, LEAF_BYTES, MAX_WINDOW, NODE_BYTES, PROTOCOL_VERSION, STATE_ENTRY_OVERHEAD, violation,
  type DoneFrame, type EntriesFrame, type Frame, type HelloFrame, type NodesFrame, type StateEntry, type StatePartFrame, type WantFrame
} from './wire.js'

export type Role = 'initiator' | 'responder'

export interface SessionContext {
  replica: AntiEntropyReplica
  /** The remote peer id, passed to applyRemote. */
  peer: string
  statesFrameBytes: number
  maxFrameBytes: number
  /** Leaves listed per ENTRIES frame: the differing buckets go in parts of about this many (memory per part, not per exchange). */
  leavesPerEntries: number
  /**
   * Initiator: the fresh window to offer in HELLO (docs/protocol.md, "Fresh changes"); 0 sends
   * everything. Responder: the most it accepts, 0 when its own view of the peer says gossip may
   * not have reached it (a young connection).
   */
  freshMs: number
  /** The clock of the replica's freshSince. */
  now: () => number
  log: Logger
}

type Control = Exclude<Frame, { type: FrameType.States | FrameType.StatePart }>

/** A state arriving in STATE_PART frames, until its last part. */
interface Assembly { storeKey: string, total: number, parts: Uint8Array[], received: number }

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** A differing bucket's leaves, as storage listed them. */
interface Listing { bucket: number, entries: Array<{ storeKey: string, leaf: Uint8Array }> }

/** What one ENTRIES frame lists, and what this side then advertised (leaf window, hex → keys). */
interface Part { buckets: number[], counts: number[], windows: Uint8Array[], advertised: Map<string, string[]> }

/** Bucket listings read from storage concurrently (LevelDB serves them from its thread pool). */
const ENTRY_READS_IN_FLIGHT = 16
/** States read from storage at once when answering ENTRIES or WANT. */
const STATE_READS_PER_BATCH = 256
/** An ENTRIES frame's own bytes besides its leaves: CBOR headers, with room to spare. */
const ENTRIES_FRAME_OVERHEAD = 64
/** What one more bucket adds to ENTRIES besides its leaves: a u16 index and a CBOR count (≤ 5 bytes). */
const ENTRIES_BYTES_PER_BUCKET = 7

/** What it-length-prefixed throws for a length prefix the peer got wrong (framed-stream.ts reads through it). */
const FRAMING_ERRORS = new Set(['ERR_MSG_DATA_TOO_LONG', 'ERR_MSG_LENGTH_TOO_LONG', 'ERR_INVALID_MSG_LENGTH'])
/**
 * A frame cut short by the end of the stream: a peer killed or cut off mid-frame ends it that
 * way too, so it is an interruption, never a penalty.
 */
const TRUNCATED_FRAME = 'ERR_UNEXPECTED_EOF'

/** A responder at capacity answers BUSY instead of HELLO's reply. */
export const BUSY_FRAME = encodeFrame({ type: FrameType.Busy })

export class BusyError extends Error {}

/**
 * The responder refused some of our states (invalid, or superseded by a tombstone it collected): they stay with us and are
 * offered again next time, but the exchange did not leave the peer holding everything we hold.
 */
export class StatesRefusedError extends Error {
  constructor (readonly count: number) {
    super(`the peer refused ${count} of our states (invalid, or superseded by a tombstone it collected); they stay here and are offered again at the next exchange`)
  }
}

export async function runSession (fs: FramedStream, ctx: SessionContext, role: Role): Promise<ExchangeStats> {
  return await new Session(fs, ctx, role).run()
}

class Session {
  private readonly stats = emptyStats()
  private readonly tree: MerkleTree
  private readonly rights: Entitlements = { streamed: new BucketSet(), diff: undefined, wanted: undefined, sentFinal: new Set(), window: 0 }
  private readonly receiver = new StateReceiver(this.rights)
  /** Buckets already streamed to the peer, so overlapping requests never send a key twice. */
  private readonly streamedOut = new BucketSet()
  /** Nodes (of `level`) whose children's windows we last sent: what the peer may descend into. */
  private lastSent: { level: number, indices: Set<number> } = { level: -1, indices: new Set([0]) }
  /** Buckets the peer asked us to stream next turn. */
  private owed: Array<[number, number]> = []
  private expected = new Set<FrameType>([FrameType.Hello])
  /** When we sent ENTRIES: leaf window (hex) → our keys with that window. */
  private advertised: Map<string, string[]> | undefined
  /** Responder: the differing buckets, listed in ENTRIES frames from `unlistedAt` on, one part per round trip. */
  private differing: number[] = []
  private unlistedAt = 0
  /** Buckets read from storage but not listed yet: they open the next part. */
  private readAhead: Listing[] = []
  /**
   * Responder: the initiator's keys per bucket, from its HELLO (keys are spread evenly by their
   * hash). A part counts each bucket as at least this many leaves, so a denser initiator answers
   * a part with about `leavesPerEntries` states too, not all its keys in the buckets listed.
   */
  private peerLeavesPerBucket = 0
  /** Initiator: the last bucket the peer's ENTRIES listed; each part must list later buckets only. */
  private listedUpTo = -1
  /** After our DONE only a plain DONE may follow: a peer cannot keep the conversation going by pulling. */
  private sentDone = false
  /** Keys whose run of changes began since this time are left to gossip; undefined: send everything. */
  private freshFrom: number | undefined

  constructor (private readonly fs: FramedStream, private readonly ctx: SessionContext, private readonly role: Role) {
    this.tree = ctx.replica.tree
  }

  async run (): Promise<ExchangeStats> {
    if (this.role === 'initiator') await this.sendHello()
    while (true) {
      const frame = await this.readTurn()
      if (this.role === 'initiator') {
        this.stats.roundTrips++
        // Equal roots are the only way the first reply is a bare DONE: anything else streams or pulls.
        if (this.stats.roundTrips === 1 && frame.type === FrameType.Done && frame.pull.length === 0 && this.stats.stateBytesReceived === 0) this.stats.inSync = true
      }
      // REFUSED stands in for the responder's final DONE.
      if (frame.type === FrameType.Refused && this.role === 'initiator' && this.expected.has(FrameType.Done)) throw new StatesRefusedError(frame.count)
      if (!this.expected.has(frame.type)) throw violation(`unexpected frame type ${frame.type}`)
      const finished = await this.handle(frame)
      if (finished) return this.stats
    }
  }

  // ---- turns

  private async handle (frame: Control): Promise<boolean> {
    switch (frame.type) {
      case FrameType.Hello: return await this.onHello(frame)
      case FrameType.Nodes: return await this.onNodes(frame)
      case FrameType.Entries: return await this.onEntries(frame)
      case FrameType.Want: return await this.onWant(frame)
      case FrameType.Done: return await this.onDone(frame)
      case FrameType.Busy: throw new BusyError('peer is busy')
      case FrameType.Refused: throw violation('REFUSED from the initiator')
    }
  }

  private async sendHello (): Promise<void> {
    const window = Math.floor(Math.random() * (MAX_WINDOW + 1))
    this.rights.window = window
    const root = Uint8Array.from(this.tree.root())
    if (isZero(root)) this.rights.streamed.addRange(bucketRange(0, 0))
    this.leaveFreshToGossip(this.ctx.freshMs)
    await this.send({ type: FrameType.Hello, version: PROTOCOL_VERSION, root, keys: this.ctx.replica.keyCount(), window, fresh: this.ctx.freshMs })
    this.expected = new Set([FrameType.Nodes, FrameType.Done, FrameType.Busy])
  }

  private async onHello (frame: HelloFrame): Promise<boolean> {
    if (frame.version !== PROTOCOL_VERSION) throw violation(`unsupported version ${frame.version}`)
    this.rights.window = frame.window
    this.peerLeavesPerBucket = Math.ceil(frame.keys / BUCKETS)
    this.leaveFreshToGossip(Math.min(frame.fresh, this.ctx.freshMs))
    const mine = this.tree.root()
    if (sameBytes(mine, frame.root)) {
      this.stats.inSync = true
      return await this.sendDone(0, [])
    }
    return await this.afterCompare(0, [[0, frame.root, mine]])
  }

  private async onNodes (frame: NodesFrame): Promise<boolean> {
    const { level, indices, hashes } = frame
    if (level !== this.lastSent.level + 1 || level >= DEPTH) throw violation(`NODES at level ${level}`)
    this.checkChildren(level, indices, 'NODES')
    this.checkChildren(level, frame.pull, 'NODES pull')
    if (hashes.length !== indices.length * FANOUT * NODE_BYTES) throw violation('NODES hashes of the wrong length')
    this.owe(level, frame.pull)
    const pairs: Array<[number, Uint8Array, Uint8Array]> = []
    indices.forEach((index, i) => {
      for (let k = 0; k < FANOUT; k++) {
        const child = index * FANOUT + k
        const at = (i * FANOUT + k) * NODE_BYTES
        pairs.push([child, hashes.subarray(at, at + NODE_BYTES), windowOf(this.tree.node(level + 1, child), this.rights.window, NODE_BYTES)])
      }
    })
    return await this.afterCompare(level + 1, pairs)
  }

  /** Having compared nodes of `level` (index, theirs, mine): stream, then descend, list leaves or finish. */
  private async afterCompare (level: number, pairs: Array<[number, Uint8Array, Uint8Array]>): Promise<boolean> {
    const diff: number[] = []
    const push: number[] = []
    const pull: number[] = []
    for (const [index, theirs, mine] of pairs) {
      if (sameBytes(theirs, mine)) continue
      if (isZero(mine)) pull.push(index)
      else if (isZero(theirs)) push.push(index)
      else diff.push(index)
    }
    for (const p of pull) this.rights.streamed.addRange(bucketRange(level, p))
    await this.streamOwed(push.map(p => bucketRange(level, p)))
    if (diff.length === 0) return await this.sendDone(level, pull)
    if (level < DEPTH) {
      const hashes = childWindows(this.tree, level, diff, this.rights.window)
      for (const index of diff) {
        for (let k = 0; k < FANOUT; k++) {
          const child = index * FANOUT + k
          if (isZero(this.tree.node(level + 1, child))) this.rights.streamed.addRange(bucketRange(level + 1, child))
        }
      }
      this.lastSent = { level, indices: new Set(diff) }
      await this.send({ type: FrameType.Nodes, level, indices: diff, hashes, pull })
      this.expected = new Set([FrameType.Nodes, FrameType.Done, ...(level === DEPTH - 1 ? [FrameType.Entries] : [])])
      return false
    }
    return await this.sendEntries(diff, pull)
  }

  /** The differing buckets are listed in parts: the first now (with the pulls), the others after each WANT. */
  private async sendEntries (buckets: number[], pull: number[]): Promise<boolean> {
    this.differing = buckets
    this.unlistedAt = 0
    return await this.sendNextEntries(pull)
  }

  /**
   * Lists the next differing buckets, about `leavesPerEntries` leaves of them, in one ENTRIES
   * frame; this side then holds what it advertised for that part only.
   */
  private async sendNextEntries (pull: number[]): Promise<boolean> {
    const part = await this.takePart(this.ctx.maxFrameBytes - ENTRIES_FRAME_OVERHEAD - pull.length * 2)
    if (part.buckets.length === 0) return await this.sendDone(DEPTH, pull)
    this.advertised = part.advertised
    this.rights.diff = setOf(part.buckets)
    await this.send({ type: FrameType.Entries, buckets: part.buckets, counts: part.counts, leaves: concat(part.windows, LEAF_BYTES), pull })
    this.expected = new Set([FrameType.Want])
    return false
  }

  /** Differing buckets not listed yet, read ahead included. */
  private hasUnlisted (): boolean {
    return this.readAhead.length > 0 || this.unlistedAt < this.differing.length
  }

  /** The next differing bucket's leaves, read from storage a few buckets at a time. */
  private async nextListing (): Promise<Listing | undefined> {
    if (this.readAhead.length === 0) {
      const batch = this.differing.slice(this.unlistedAt, this.unlistedAt + ENTRY_READS_IN_FLIGHT)
      if (batch.length === 0) return undefined
      this.unlistedAt += batch.length
      const lists = await mapLimit(batch, ENTRY_READS_IN_FLIGHT, async b => await this.ctx.replica.bucketEntries(b))
      this.readAhead = batch.map((bucket, i) => ({ bucket, entries: lists[i] ?? [] }))
    }
    return this.readAhead.shift()
  }

  /** Buckets for one part: until about `leavesPerEntries` leaves (either side's), or the frame is full. */
  private async takePart (room: number): Promise<Part> {
    const part: Part = { buckets: [], counts: [], windows: [], advertised: new Map() }
    let leaves = 0
    while (leaves < this.ctx.leavesPerEntries) {
      const next = await this.nextListing()
      if (next === undefined) break
      const bytes = ENTRIES_BYTES_PER_BUCKET + next.entries.length * LEAF_BYTES
      if (bytes > room) {
        if (part.buckets.length === 0) { this.skipUnlistable(next, room); continue }
        this.readAhead.unshift(next) // the next part's first bucket
        break
      }
      room -= bytes
      leaves += Math.max(next.entries.length, this.peerLeavesPerBucket)
      part.buckets.push(next.bucket)
      part.counts.push(next.entries.length)
      for (const e of next.entries) {
        const w = windowOf(e.leaf, this.rights.window, LEAF_BYTES)
        part.windows.push(w)
        const key = hex(w)
        const same = part.advertised.get(key)
        if (same === undefined) part.advertised.set(key, [e.storeKey])
        else same.push(e.storeKey)
      }
    }
    return part
  }

  /**
   * A bucket whose leaves alone exceed a frame (about 500,000 keys at the default 4 MiB: keys
   * ground to one hash prefix, never an even spread) cannot be listed. It is left out, loudly, so
   * the buckets after it still converge instead of every exchange failing on it.
   */
  private skipUnlistable (listing: Listing, room: number): void {
    this.stats.bucketsUnlistable++
    this.ctx.log.warn({ bucket: listing.bucket, keys: listing.entries.length, frameBytes: room }, 'anti-entropy: a bucket holds more keys than one ENTRIES frame can list; it is left out of this exchange (docs/protocol.md, limits)')
  }

  private async onEntries (frame: EntriesFrame): Promise<boolean> {
    if (this.lastSent.level !== DEPTH - 1) throw violation('ENTRIES before the last level')
    this.checkChildren(DEPTH, frame.buckets, 'ENTRIES')
    this.checkChildren(DEPTH, frame.pull, 'ENTRIES pull')
    if (frame.buckets.length === 0) throw violation('ENTRIES lists no bucket')
    if ((frame.buckets[0] as number) <= this.listedUpTo) throw violation('ENTRIES lists a bucket again')
    if (this.listedUpTo >= 0 && frame.pull.length > 0) throw violation('ENTRIES pull after the first part')
    if (frame.counts.length !== frame.buckets.length) throw violation('ENTRIES counts do not match buckets')
    const total = frame.counts.reduce((a, b) => a + b, 0)
    if (total * LEAF_BYTES !== frame.leaves.length) throw violation('ENTRIES leaves do not match counts')
    this.listedUpTo = frame.buckets[frame.buckets.length - 1] as number
    this.owe(DEPTH, frame.pull)
    // A new part: the rights of the last one end with it.
    this.rights.diff = setOf(frame.buckets)
    this.rights.sentFinal.clear()
    this.receiver.final.clear()
    const wanted: Uint8Array[] = []
    await this.streamOwed([], this.statesPeerLacks(frame, wanted))
    this.rights.wanted = new Set(wanted.map(hex))
    await this.send({ type: FrameType.Want, leaves: concat(wanted, LEAF_BYTES) })
    this.expected = new Set([FrameType.Done, FrameType.Entries])
    return false
  }

  /**
   * Our states in the buckets the peer listed whose leaf it does not have, read a few buckets
   * at a time; the leaves it has and we lack are collected into `wanted` on the way.
   */
  private async * statesPeerLacks (frame: EntriesFrame, wanted: Uint8Array[]): AsyncGenerator<EncodedChange> {
    let at = 0
    for (let first = 0; first < frame.buckets.length; first += ENTRY_READS_IN_FLIGHT) {
      const batch = frame.buckets.slice(first, first + ENTRY_READS_IN_FLIGHT)
      const lists = await mapLimit(batch, ENTRY_READS_IN_FLIGHT, async b => await this.ctx.replica.bucketEntries(b))
      const toSend: string[] = []
      for (const [i, mine] of lists.entries()) {
        const count = frame.counts[first + i] as number
        const theirs = new Map<string, Uint8Array>()
        for (let j = 0; j < count; j++, at += LEAF_BYTES) {
          const w = frame.leaves.subarray(at, at + LEAF_BYTES)
          theirs.set(hex(w), w)
        }
        for (const e of mine) {
          const key = hex(windowOf(e.leaf, this.rights.window, LEAF_BYTES))
          if (theirs.has(key)) theirs.delete(key)
          else if (!this.leftToGossip(e.storeKey)) toSend.push(e.storeKey)
        }
        for (const w of theirs.values()) wanted.push(w)
      }
      for await (const change of this.readStates(toSend)) {
        this.rights.sentFinal.add(change.storeKey)
        yield change
      }
    }
  }

  /** The current states of `storeKeys` (absent ones skipped), read a batch at a time. */
  private async * readStates (storeKeys: readonly string[]): AsyncGenerator<EncodedChange> {
    for (let first = 0; first < storeKeys.length; first += STATE_READS_PER_BATCH) {
      const batch = storeKeys.slice(first, first + STATE_READS_PER_BATCH)
      const states = await this.ctx.replica.readStates(batch)
      for (const [i, state] of states.entries()) {
        if (state !== undefined) yield { storeKey: batch[i] as string, state }
      }
    }
  }

  private async onWant (frame: WantFrame): Promise<boolean> {
    const advertised = this.advertised
    if (advertised === undefined) throw violation('WANT without ENTRIES')
    const keys = new Set<string>()
    const wantedWindow = new Map<string, string>()
    for (let at = 0; at < frame.leaves.length; at += LEAF_BYTES) {
      const w = hex(frame.leaves.subarray(at, at + LEAF_BYTES))
      const owners = advertised.get(w)
      if (owners === undefined) throw violation('WANT for a leaf never offered')
      for (const k of owners) {
        if (this.leftToGossip(k)) continue
        keys.add(k)
        wantedWindow.set(k, w)
      }
    }
    // Merged states the peer lacks: what it sent us, unless our merge came out equal to it.
    for (const k of this.receiver.final.keys()) keys.add(k)
    await this.streamOwed([], this.statesPeerWants([...keys], wantedWindow))
    this.advertised = undefined
    this.receiver.final.clear()
    if (this.hasUnlisted()) return await this.sendNextEntries([])
    return await this.sendDone(DEPTH, [])
  }

  /** Of `storeKeys`, the states to send back after WANT: wanted ones still as advertised, and merges that differ from what the peer sent. */
  private async * statesPeerWants (storeKeys: readonly string[], wantedWindow: ReadonlyMap<string, string>): AsyncGenerator<EncodedChange> {
    for await (const change of this.readStates(storeKeys)) {
      const { storeKey, state } = change
      const theirs = this.receiver.final.get(storeKey)
      if (theirs !== undefined) {
        if (sameBytes(theirs, leafHash(storeKey, state))) continue
      } else if (hex(windowOf(leafHash(storeKey, state), this.rights.window, LEAF_BYTES)) !== wantedWindow.get(storeKey)) {
        // Written since we listed it: the peer would rightly refuse it; gossip or the next exchange carries it.
        continue
      }
      yield change
    }
  }

  private async onDone (frame: DoneFrame): Promise<boolean> {
    if (frame.pull.length === 0) {
      if (this.role === 'initiator') return true
      return await this.sendDone(frame.level, [])
    }
    if (this.sentDone) throw violation('DONE with pull after our DONE')
    if (frame.level !== this.lastSent.level + 1) throw violation(`DONE pull at level ${frame.level}`)
    this.checkChildren(frame.level, frame.pull, 'DONE pull')
    this.owe(frame.level, frame.pull)
    await this.streamOwed([])
    return await this.sendDone(frame.level, [])
  }

  /** A DONE with no pull ends the conversation for the responder; the initiator waits for its ack. */
  private async sendDone (level: number, pull: number[]): Promise<boolean> {
    await this.streamOwed([])
    if (pull.length === 0 && this.role === 'responder' && this.stats.keysWithheld > 0) {
      // Our last word: the initiator must not count this exchange as having given us all it holds.
      await this.send({ type: FrameType.Refused, count: this.stats.keysWithheld })
      this.sentDone = true
      return true
    }
    for (const p of pull) this.rights.streamed.addRange(bucketRange(level, p))
    await this.send({ type: FrameType.Done, level, pull })
    this.sentDone = true
    this.expected = new Set([FrameType.Done])
    return pull.length === 0 && this.role === 'responder'
  }

  // ---- fresh changes

  private leaveFreshToGossip (freshMs: number): void {
    if (freshMs <= 0) return
    this.freshFrom = this.ctx.now() - freshMs
    this.stats.freshFromMs = this.freshFrom
  }

  /**
   * Whether to leave this key to gossip: its run of changes began within the fresh window (or
   * during the exchange). A start in the future (the clock went back) is no evidence of freshness.
   */
  private leftToGossip (storeKey: string): boolean {
    if (this.freshFrom === undefined) return false
    const began = this.ctx.replica.freshSince(storeKey)
    if (began === undefined || began < this.freshFrom || began > this.ctx.now()) return false
    this.stats.keysLeftToGossip++
    return true
  }

  // ---- validation

  /** Nodes the peer names at `level` must be children of nodes we sent, ascending, without repeats. */
  private checkChildren (level: number, indices: readonly number[], what: string): void {
    if (level !== this.lastSent.level + 1) throw violation(`${what} at level ${level}`)
    let previous = -1
    for (const index of indices) {
      if (index <= previous || index >= levelSize(level)) throw violation(`${what} indices not ascending or out of range`)
      previous = index
      const parent = level === 0 ? 0 : parentOf(index)
      if (!this.lastSent.indices.has(parent)) throw violation(`${what} names a node outside the differing subtrees`)
    }
  }

  private owe (level: number, nodes: readonly number[]): void {
    for (const n of nodes) this.owed.push(bucketRange(level, n))
  }

  // ---- frames

  private async send (frame: Frame): Promise<void> {
    const bytes = encodeFrame(frame)
    const before = this.fs.bytesOut
    await this.fs.write(bytes)
    const n = this.fs.bytesOut - before
    if (frame.type === FrameType.States || frame.type === FrameType.StatePart) this.stats.stateBytesSent += n
    else this.stats.metaBytesSent += n
  }

  /** Reads and merges STATES frames (and states in parts) until the turn's control frame. */
  private async readTurn (): Promise<Control> {
    this.receiver.newTurn()
    let assembly: Assembly | undefined
    while (true) {
      const before = this.fs.bytesIn
      const bytes = await this.readFrame()
      if (bytes === undefined) throw interrupted('peer closed the stream mid-exchange')
      const frame = decodeFrame(bytes)
      const n = this.fs.bytesIn - before
      if (frame.type === FrameType.StatePart) {
        this.stats.stateBytesReceived += n
        if (assembly === undefined) this.receiver.expectKey(frame.storeKey)
        assembly = continueAssembly(assembly, frame)
        if (assembly.received < assembly.total) continue
        const state = Buffer.concat(assembly.parts, assembly.total)
        await this.merge([{ storeKey: assembly.storeKey, state: new Uint8Array(state.buffer, state.byteOffset, state.byteLength) }])
        assembly = undefined
        continue
      }
      if (assembly !== undefined) throw violation('a state in parts was interrupted')
      if (frame.type !== FrameType.States) {
        this.stats.metaBytesReceived += n
        return frame
      }
      this.stats.stateBytesReceived += n
      // An honest sender never sends an empty STATES frame (sendStates flushes only a batch);
      // a stream of them would keep the exchange, and its slot, alive for nothing.
      if (frame.states.length === 0) throw violation('empty STATES frame')
      await this.merge(frame.states)
    }
  }

  /**
   * The next frame's bytes. A length prefix past the frame limit, or one that is not a varint,
   * is the peer's fault like any bad frame: a violation (ProtocolError), not a failure of ours.
   */
  private async readFrame (): Promise<Uint8Array | undefined> {
    try {
      return await this.fs.read()
    } catch (err) {
      const code = String((err as { code?: unknown }).code)
      if (FRAMING_ERRORS.has(code)) throw violation(`bad frame length: ${(err as Error).message}`, err)
      if (code === TRUNCATED_FRAME) throw interrupted(`frame cut short: ${(err as Error).message}`, err)
      throw err
    }
  }

  /** Checks the peer's right to send these states, then merges them through the replica. */
  private async merge (states: StateEntry[]): Promise<void> {
    this.receiver.check(states)
    if (states.length === 0) return
    const report = await this.ctx.replica.applyRemote(states, this.ctx.peer)
    this.stats.keysReceived += states.length
    this.stats.keysRepaired += report.changed
    this.stats.keysRejected += report.rejected
    this.stats.keysWithheld += report.rejected - (report.superseded ?? 0)
  }

  /**
   * Streams what the peer asked for plus `more`, in bucket order, never a bucket twice, then
   * `after` — all packed into as few frames as possible, since the peer commits per frame.
   */
  private async streamOwed (more: Array<[number, number]>, after: AsyncIterable<EncodedChange> | Iterable<EncodedChange> = []): Promise<void> {
    const ranges = [...this.owed, ...more].sort((a, b) => a[0] - b[0])
    this.owed = []
    const allowed = new BucketSet()
    const taken: Array<[number, number]> = []
    for (const range of ranges) {
      for (const part of this.streamedOut.takeRange(range)) {
        allowed.addRange(part)
        taken.push(part)
      }
    }
    const reads = coalesce(taken, this.tree)
    const { replica } = this.ctx
    const leftToGossip = (storeKey: string): boolean => this.leftToGossip(storeKey)
    async function * all (): AsyncGenerator<EncodedChange> {
      for (const [from, to] of reads) {
        for await (const change of replica.statesInBuckets(from, to)) {
          // A key written into a gap since we looked is not the peer's to receive.
          if (allowed.has(bucketOf(change.storeKey)) && !leftToGossip(change.storeKey)) yield change
        }
      }
      yield * after
    }
    await this.sendStates(all())
  }

  private async sendStates (changes: AsyncIterable<EncodedChange>): Promise<void> {
    let batch: EncodedChange[] = []
    let size = 0
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return
      const states = batch
      batch = []
      size = 0
      await this.send({ type: FrameType.States, states })
      this.stats.keysSent += states.length
    }
    for await (const change of changes) {
      const bytes = change.state.length + Buffer.byteLength(change.storeKey, 'utf8') + STATE_ENTRY_OVERHEAD
      if (bytes + 16 > this.ctx.maxFrameBytes) {
        await flush()
        await this.sendInParts(change)
        continue
      }
      if (size + bytes > this.ctx.statesFrameBytes) await flush()
      batch.push(change)
      size += bytes
    }
    await flush()
  }

  /** A state too large for one frame goes in STATE_PART frames of at most a STATES frame's size. */
  private async sendInParts (change: EncodedChange): Promise<void> {
    const total = change.state.byteLength
    if (total > MAX_AE_STATE_BYTES) {
      this.ctx.log.warn({ storeKey: change.storeKey, bytes: total }, 'anti-entropy: state larger than MAX_AE_STATE_BYTES, not sent')
      return
    }
    const room = this.ctx.maxFrameBytes - Buffer.byteLength(change.storeKey, 'utf8') - 64
    const partBytes = Math.max(1, Math.min(this.ctx.statesFrameBytes, room))
    for (let offset = 0; offset < total; offset += partBytes) {
      const bytes = change.state.subarray(offset, Math.min(total, offset + partBytes))
      await this.send({ type: FrameType.StatePart, storeKey: change.storeKey, total, offset, bytes })
    }
    this.stats.keysSent++
  }
}

/** Takes one STATE_PART: the first of a state, or the next of the one being assembled. */
function continueAssembly (assembly: Assembly | undefined, part: StatePartFrame): Assembly {
  if (assembly === undefined) {
    if (part.offset !== 0) throw violation('STATE_PART does not start at 0')
    assembly = { storeKey: part.storeKey, total: part.total, parts: [], received: 0 }
  } else if (part.storeKey !== assembly.storeKey || part.total !== assembly.total || part.offset !== assembly.received) {
    throw violation('STATE_PART out of sequence')
  }
  assembly.parts.push(part.bytes)
  assembly.received += part.bytes.length
  return assembly
}

function setOf (buckets: readonly number[]): BucketSet {
  const set = new BucketSet()
  for (const b of buckets) set.add(b)
  return set
}

function concat (parts: readonly Uint8Array[], width: number): Uint8Array {
  const out = new Uint8Array(parts.length * width)
  parts.forEach((p, i) => { out.set(p, i * width) })
  return out
}
