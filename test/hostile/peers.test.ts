/**
 * Hostile peers against a real node. Two honest nodes, a and b, in-process over TCP on
 * 127.0.0.1; a hostile member connected to a sends what fast-check generates (test/hostile/gen.ts):
 * gossip on the changes and digest topics, then anti-entropy exchanges with a as responder
 * (the hostile side dials) and as initiator (a dials it: cluster.sync and the scheduler),
 * while slow peers hold streams open in the background and b keeps writing.
 *
 * After every group of cases and at the end: a answers; every key it holds reads back; nothing
 * outside the documented bounds is stored on a or b (the kit's own oracle, test/hostile/oracle.ts)
 * and no forged key ever appears; b's writes reach a; the node's counters say what happened
 * (gossip received / invalid / rejected by reason exactly as predicted, anti-entropy violations
 * at least once per certain violation, none on honest b); a and b converge; the heap stays bounded.
 *
 * CHORUS_FUZZ_SEED (default 20240601) fixes the cases; CHORUS_FUZZ_PEER_RUNS (default 1000) is the
 * number of gossip messages and the number of anti-entropy exchanges (half each way); the default
 * run takes about 3½ minutes on a busy 2-core machine (≈ 95 s of CPU). A failure names the case
 * (its number and label); rerun with the printed seed to replay it, and CHORUS_FUZZ_CASES (a regex
 * on "aer:<n>" / "aei:<n>") to run only some anti-entropy cases. Cases that mutate donor states
 * depend on the donor's (fresh) peer id, so they replay the same mutation, not the same bytes.
 *
 * The hostile side never assumes it stays connected: it re-dials before every case and takes a
 * new identity when the node will not have it back (peer penalties, bans).
 */
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeCounter } from '../../src/codec/index.js'
import { bucketOf } from '../../src/merkle/index.js'
import type { ChorusNode } from '../../src/node/index.js'
import { waitFor } from '../helpers/nodes.js'
import { cbor } from './cbor-raw.js'
import { aeCaseArb, digestCaseArb, gossipCaseArb, gossipCorners, type AeCase, type DigestCase, type DonorState, type GossipCase } from './gen.js'
import {
  addExpectations, aeOutcome, audit, baseOf, CHANGES, DIGESTS, diffCounters, expectationOf, ForgedKeys, gossipCounters, heapUsed, HostilePeer,
  m, modelGossip, newHost, pullAll, reached, readMetrics, runAsInitiator, runAsResponder, sameCounts, short, stallAgainstInitiator,
  settled, stallAgainstResponder, responderTotal, startChorus, stopNode, within, type AeContext, type GossipExpectation, type Host, type Started
} from './kit.js'
import { storesKey } from './oracle.js'

const SEED = Number(process.env.CHORUS_FUZZ_SEED ?? 20240601)
const RUNS = Number(process.env.CHORUS_FUZZ_PEER_RUNS ?? 1000)
/** Gossip messages published before the node's counters are checked against the prediction. */
const GROUP = 10
/** Cases between the heavier checks (liveness, b's writes, a full audit of a). */
const BATCH = 100
/** a's heap may grow by at most this over the run (whole test process: a, b and the hostile hosts share it). */
const HEAP_BOUND = 200 * 1024 * 1024

console.log(`hostile peers: CHORUS_FUZZ_SEED=${SEED} CHORUS_FUZZ_PEER_RUNS=${RUNS} (gossip ${RUNS} + digests ${Math.ceil(RUNS / 10)}, anti-entropy ${RUNS})`)

let a: Started
let b: Started
let hostile: HostilePeer
let auditor: Host
let stallers: Host[] = []
let donor: DonorState[] = []
let heapBefore = 0
const forged = new ForgedKeys()
const timings: Record<string, number> = {}
const counts = { gossipSent: 0, gossipSkipped: 0, digests: 0, aeResponder: 0, aeInitiator: 0, violationsA: 0, violationsI: 0, scheduled: 0 }

// ---- b's honest writes during the run

const honest = { keys: [] as string[], count: 0, members: [] as string[] }

async function honestWrites (tag: string): Promise<void> {
  const bNode = b.node
  await bNode.kvPut(`honest/${tag}`, { tag })
  await bNode.counterIncr('honest-count', 1)
  await bNode.setAdd('honest-set', [tag])
  honest.keys.push(`honest/${tag}`)
  honest.count++
  honest.members.push(tag)
}

async function honestArrived (node: ChorusNode, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => {
    for (const key of honest.keys) if (!(await node.kvGet(key)).found) return false
    if ((await node.counterGet('honest-count')).value !== honest.count) return false
    const members = new Set((await node.setGet('honest-set')).members)
    return honest.members.every(x => members.has(x))
  }, { what: `b's ${honest.keys.length} writes to reach ${node === a.node ? 'a' : 'b'}`, timeoutMs })
}

/** b writes, and the writes reach a — waiting until a has counted every gossip message b published, so the next group's counts are a's alone. */
async function honestRound (tag: string): Promise<void> {
  const published = (x: Awaited<ReturnType<typeof readMetrics>>): number => m(x, 'chorus_gossip_published_total')
  const [aBefore, bBefore] = [await readMetrics(a.node), await readMetrics(b.node)]
  await honestWrites(tag)
  await honestArrived(a.node)
  await waitFor(async () => {
    const [aNow, bNow] = [await readMetrics(a.node), await readMetrics(b.node)]
    return m(aNow, 'chorus_gossip_received_total') - m(aBefore, 'chorus_gossip_received_total') >= published(bNow) - published(bBefore)
  }, { what: 'a to have counted b\'s gossip' })
}

/** a answers, writes and reads; b's exchange with a succeeds (BUSY aside: a slow peer may hold a slot a moment). */
async function liveness (round: string): Promise<void> {
  const info = await within(a.node.info(), 5_000, 'a.info()')
  expect(info.peerId).toBe(a.node.peerId)
  await a.node.kvPut('probe/a', round)
  expect((await a.node.kvGet('probe/a')).value).toBe(round)
  await waitFor(async () => {
    try {
      await b.node.sync(a.node.peerId)
      return true
    } catch (err) {
      if ((err as { data?: { busy?: boolean } }).data?.busy === true) return false
      throw err
    }
  }, { what: 'an honest exchange b → a', timeoutMs: 30_000 })
}

async function auditA (what: string): Promise<Map<string, Uint8Array>> {
  const result = await audit(auditor, a.node, forged)
  expect(result.problems.slice(0, 20), `${what}: a's audit`).toEqual([])
  return result.states
}

// ---- setup

async function seedDonor (): Promise<DonorState[]> {
  // An honest node not in the cluster: its states are the "real" ones the generators mutate.
  // Not a or b, whose own ids in a forged version would (by design) stop them writing.
  const d = await startChorus(600_000)
  try {
    const n = d.node
    const values = fc.sample(fc.jsonValue({ maxDepth: 4 }), { seed: SEED, numRuns: 30 })
    for (const [i, v] of values.entries()) await n.kvPut(`d${i}`, v)
    await n.kvPut('deep', JSON.parse('['.repeat(512) + ']'.repeat(512)))
    await n.kvPut('big', 'x'.repeat(20_000))
    await n.kvPut('unicode-ключ-😀', { 'ключ': '😀', n: -1.5e-7 })
    for (let i = 0; i < 5; i++) {
      // Concurrent siblings: writes that did not see each other.
      const before = await n.kvGet(`conflict${i}`)
      await n.kvPut(`conflict${i}`, `first${i}`)
      await n.kvPut(`conflict${i}`, `second${i}`, before.context)
    }
    for (let i = 0; i < 3; i++) { await n.kvPut(`gone${i}`, i); await n.kvDelete(`gone${i}`) }
    for (let i = 0; i < 6; i++) await n.counterIncr(`count${i % 3}`, i % 2 === 0 ? 7 * i + 1 : -(3 * i))
    await n.setAdd('set0', ['a', 'b', 'c', 'ключ'])
    await n.setRemove('set0', ['b'])
    await n.setAdd('set1', Array.from({ length: 50 }, (_, i) => `m${i}`))
    const states = await pullAll(auditor, n)
    return [...states].map(([storeKey, state]) => ({ storeKey, state }))
  } finally {
    await stopNode(d)
  }
}

beforeAll(async () => {
  const started = Date.now()
  a = await startChorus(5_000)
  b = await startChorus(5_000)
  await a.node.dial(b.node.multiaddrs()[0] as string)
  await waitFor(async () => (await a.node.peers()).some(p => p.peerId === b.node.peerId && p.connected), { what: 'a and b connected' })
  auditor = await newHost(false)
  donor = await seedDonor()
  hostile = new HostilePeer({ gossip: true })
  await hostile.start()
  await hostile.ensureConnected(a.node)
  stallers = [await newHost(false), await newHost(false)]
  for (let i = 0; i < 100; i++) await b.node.kvPut(`seed/${i}`, { i })
  await honestRound('setup')
  heapBefore = heapUsed()
  timings.setup = Date.now() - started
  console.log(`hostile peers: setup ${timings.setup} ms, ${donor.length} donor states, heap ${(heapBefore / 1e6).toFixed(1)} MB`)
}, 120_000)

afterAll(async () => {
  await hostile?.stop()
  for (const h of [auditor, ...stallers]) await Promise.resolve(h?.stop()).catch(() => {})
  await stopNode(a)
  await stopNode(b)
}, 60_000)

// ---- gossip

interface Sent { no: number, label: string, want: GossipExpectation, stored: Array<{ storeKey: string, state: Uint8Array }> }

const seen = new Set<string>()

const describeCase = (c: AeCase): string => c.kind === 'script'
  ? c.name
  : `${c.op}@${c.at}${c.op === 'parts-lie' ? `/${c.partLie}` : ''}${c.trickle ? ' trickled' : ''}${c.flipIn ? ' flip-in' : ''}${c.smallFrames ? ' small frames' : ''}, extras: ${c.extras.map(e => e.entry.label.slice(0, 30)).join(' / ')}`

/** Only the cases whose "phase:number" matches (phases g, aer, aei), to replay one: CHORUS_FUZZ_CASES='aei:451$'. */
const ONLY = process.env.CHORUS_FUZZ_CASES === undefined ? undefined : new RegExp(process.env.CHORUS_FUZZ_CASES)
const wanted = (phase: string, no: number): boolean => ONLY === undefined || ONLY.test(`${phase}:${no}`)

/** Case durations of the current phase, for the slowest-cases line. */
let slowest: Array<[number, string]> = []
function report (phase: string): void {
  slowest.sort((x, y) => y[0] - x[0])
  const total = slowest.reduce((n, [ms]) => n + ms, 0)
  console.log(`hostile peers: ${phase}: mean case ${(total / Math.max(1, slowest.length)).toFixed(0)} ms, slowest ${slowest.slice(0, 8).map(([ms, l]) => `${ms} ms ${l}`).join('; ')}`)
  slowest = []
}

/** Publish one group and check a's counters moved exactly as predicted. */
async function publishGroup (group: Array<{ no: number, c: GossipCase }>): Promise<Sent[]> {
  const sent: Sent[] = []
  const payloads: Uint8Array[] = []
  for (const { no, c } of group) {
    const bytes = c.build(`fz${no}`)
    const id = createHash('sha256').update(bytes).digest('hex')
    // Gossipsub ids are content hashes: a repeat would never reach the validator.
    if (seen.has(id)) { counts.gossipSkipped++; continue }
    seen.add(id)
    const model = modelGossip(bytes)
    const stored: Sent['stored'] = []
    if (model.wellFormed) {
      const keys = model.entries.map(e => e.storeKey)
      for (const e of model.entries) {
        forged.note(e.storeKey, e.verdict)
        if (e.verdict === 'ok' && keys.filter(k => k === e.storeKey).length === 1 && storesKey(e.storeKey, e.state)) stored.push({ storeKey: e.storeKey, state: e.state })
      }
    }
    sent.push({ no, label: c.label, want: expectationOf(model), stored })
    payloads.push(bytes)
  }
  const want = addExpectations(sent.map(s => s.want))
  const detail = (): string => sent.map(s => `  #${s.no} ${s.label.slice(0, 200)} → ${JSON.stringify(s.want)}`).join('\n')
  await hostile.ensureConnected(a.node)
  const before = gossipCounters(await readMetrics(a.node))
  let delta = diffCounters(before, before)
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      // Fewer messages reached a's validator than were sent: a penalty may have cut us off. A
      // fresh identity publishes them again (a's seen-cache drops those it already took).
      await hostile.rotate()
      await hostile.ensureConnected(a.node)
    }
    for (const p of payloads) await hostile.pubsub.publish(CHANGES, p).catch(() => {})
    try {
      await waitFor(async () => {
        delta = diffCounters(gossipCounters(await readMetrics(a.node)), before)
        return reached(delta, want)
      }, { what: 'a to take the group', timeoutMs: 15_000, intervalMs: 10 })
      break
    } catch (err) {
      const undelivered = delta.received < want.received || delta.invalid < want.invalid
      if (attempt < 2 && undelivered) continue
      throw new Error(`gossip group: a's counters moved by ${JSON.stringify(delta)}, predicted ${JSON.stringify(want)}\n${detail()}`, { cause: err })
    }
  }
  // Exactly as predicted: received and invalid messages, refused states by reason.
  if (!sameCounts(delta, want)) throw new Error(`gossip group: a's counters moved by ${JSON.stringify(delta)}, predicted ${JSON.stringify(want)}\n${detail()}`)
  return sent
}

async function digestRound (no: number): Promise<void> {
  const c = fc.sample(digestCaseArb, { seed: SEED * 7 + no, numRuns: 1 })[0] as DigestCase
  const ids = { a: a.node.peerId, b: b.node.peerId, hostile: hostile.id }
  await hostile.pubsub.publish(DIGESTS, c.build(ids, Date.now() * 1000 + no)).catch(() => {})
  counts.digests++
  // Our own announcement is the barrier: once a shows it, it has seen what we published before it.
  const root = createHash('sha256').update(`marker${no}`).digest().subarray(0, 16)
  let sentAt = 0
  await waitFor(async () => {
    if ((await a.node.peers()).find(p => p.peerId === hostile.id)?.digest === root.toString('hex')) return true
    if (Date.now() - sentAt > 2_000) {
      // (Again after a while: we may have been disconnected, or a fresh identity not yet seen on the topic.)
      await hostile.ensureConnected(a.node)
      await hostile.pubsub.publish(DIGESTS, cbor([root, 1, hostile.id, Date.now() * 1000 + no])).catch(() => {})
      sentAt = Date.now()
    }
    return false
  }, { what: `a to record our digest after "${c.label}"`, timeoutMs: 20_000, intervalMs: 10 })
  const known = new Set([b.node.peerId, auditor.peerId.toString(), ...hostile.ids, ...stallers.map(s => s.peerId.toString())])
  const listed = (await a.node.peers()).map(p => p.peerId)
  expect(listed.filter(p => !known.has(p)), `after "${c.label}": a lists peers nobody connected as`).toEqual([])
}

describe('hostile peers against a real node', () => {
  it(`gossip: ${RUNS} hostile messages on the changes topic, ${Math.ceil(RUNS / 10)} on the digest topic`, async () => {
    const started = Date.now()
    const corners = gossipCorners()
    const groups = Math.ceil(RUNS / GROUP)
    // The corner cases (large, rare) replace the first case of a few groups spread over the run.
    const cornerAt = new Map(corners.map((c, k) => [Math.floor((k + 0.5) * groups / corners.length), c]))
    let expectStored: Array<{ storeKey: string, state: Uint8Array, no: number }> = []
    const check = async (no: number): Promise<void> => {
      await liveness(`gossip ${no}`)
      await honestRound(`gossip-${no}`)
      const states = await auditA(`gossip batch ending at case ${no}`)
      const missing = expectStored.filter(e => Buffer.compare(states.get(e.storeKey) ?? Buffer.alloc(0), e.state) !== 0)
      expect(missing.map(e => `#${e.no} ${short(e.storeKey)}`), 'valid states a must have stored as sent').toEqual([])
      expectStored = []
    }
    // Until RUNS distinct messages went out (a repeat of an earlier message is skipped: gossipsub would drop it as seen).
    let no = 0
    for (; counts.gossipSent < RUNS; no += GROUP) {
      const sample = fc.sample(gossipCaseArb(donor), { seed: SEED + no, numRuns: GROUP })
      const group = sample.map((c, i) => ({ no: no + i, c })).slice(0, Math.max(1, RUNS - counts.gossipSent))
      const corner = cornerAt.get(no / GROUP)
      if (corner !== undefined) group[0] = { no, c: corner }
      const groupStarted = Date.now()
      const sent = await publishGroup(group)
      const published = Date.now()
      counts.gossipSent += sent.length
      for (const s of sent) for (const st of s.stored) expectStored.push({ ...st, no: s.no })
      await digestRound(no)
      slowest.push([Date.now() - groupStarted, `group ${no} (publish ${published - groupStarted} ms; ${group.map(g => g.c.label.slice(0, 40)).join(' | ')})`])
      if ((no + GROUP) % BATCH === 0) await check(no + GROUP - 1)
    }
    if (no % BATCH !== 0) await check(no - 1)
    timings.gossip = Date.now() - started
    report('gossip groups')
    const metrics = await readMetrics(a.node)
    console.log(`hostile peers: gossip ${counts.gossipSent} messages (${counts.gossipSkipped} repeats skipped), ${counts.digests} digests in ${timings.gossip} ms; ` +
      `a: received ${m(metrics, 'chorus_gossip_received_total')}, invalid ${m(metrics, 'chorus_gossip_invalid_total')}, rejected ${['bad-key', 'corrupt', 'too-large', 'out-of-range'].map(r => `${r}=${m(metrics, `chorus_remote_rejected_total{reason="${r}"}`)}`).join(' ')}; ${forged.size} forged keys tracked`)
    expect(counts.gossipSent).toBe(RUNS)
    expect(m(metrics, 'chorus_gossip_invalid_total')).toBeGreaterThan(0)
  }, 120_000 + RUNS * 400)

  it('gossip: a frame past the gossipsub limit is dropped, and gossip from that peer works again after a reconnect', async () => {
    await hostile.ensureConnected(a.node)
    const before = gossipCounters(await readMetrics(a.node))
    await hostile.pubsub.publish(CHANGES, new Uint8Array(5 * 1024 * 1024).fill(0x61)).catch(() => {})
    await hostile.reconnect(a.node)
    const marker = cbor([1, [[`c/fz-after-oversize-${SEED}`, encodeCounter({ FzAfter: { p: 1, n: 0, ops: 1 } })]]])
    await waitFor(async () => {
      await hostile.ensureConnected(a.node)
      await hostile.pubsub.publish(CHANGES, marker).catch(() => {})
      return (await a.node.counterGet(`fz-after-oversize-${SEED}`)).value === 1
    }, { what: 'a valid message after the oversized frame', timeoutMs: 30_000, intervalMs: 500 })
    const delta = diffCounters(gossipCounters(await readMetrics(a.node)), before)
    // The 5 MiB frame never reached the validator (gossipsub drops it whole); the marker did.
    expect(delta.invalid).toBe(0)
    await liveness('after oversize')
  }, 90_000)

  async function aeContext (): Promise<AeContext> {
    const states = await pullAll(auditor, a.node)
    const nodeKeys = [...states.keys()].filter(k => Buffer.byteLength(k) < 1000)
    return { nodeKeys, nodeBuckets: new Set(nodeKeys.map(bucketOf)), base: baseOf(states), forged, unique: '' }
  }

  const aeCases = (role: 'initiator' | 'responder', n: number): AeCase[] => fc.sample(aeCaseArb(role, donor), { seed: SEED + (role === 'initiator' ? 1 : 2) * 1_000_003, numRuns: n })

  it(`anti-entropy, a as responder: ${Math.ceil(RUNS / 2)} hostile exchanges dialled into a, slow peers alongside`, async () => {
    const started = Date.now()
    const n = Math.ceil(RUNS / 2)
    const before = await readMetrics(a.node)
    // Slow peers, one at a time (each holds one of a's 4 inbound slots until a's 10 s read deadline).
    const stalls = (async () => {
      const out: Array<{ how: string, ending: string, ms: number }> = []
      for (const how of ['silent', 'half-frame', 'trickle'] as const) out.push({ how, ...await stallAgainstResponder(stallers[0] as Host, a.node, how) })
      return out
    })()
    const outbound = (async () => {
      const out: Array<{ how: string, sync: string, ms: number }> = []
      for (const how of ['silent', 'trickle'] as const) out.push({ how, ...await stallAgainstInitiator(stallers[1] as Host, a.node, how) })
      return out
    })()
    let ctx = await aeContext()
    let certain = 0
    for (const [i, c] of aeCases('initiator', n).entries()) {
      if (!wanted('aer', i)) continue
      if (i > 0 && i % BATCH === 0) {
        await liveness(`ae-responder ${i}`)
        await honestRound(`aer-${i}`)
        await auditA(`a as responder, batch ending at case ${i - 1}`)
        ctx = await aeContext()
      }
      ctx.unique = `fzr${i}`
      const label = `case ${i} (${describeCase(c)})`
      const resets = c.expect === 'violation' || c.expect === 'interrupted'
      if (resets) await settled(hostile, a.node)
      const mBefore = resets ? await readMetrics(a.node) : undefined
      const caseStarted = Date.now()
      const totalBefore = responderTotal(await readMetrics(a.node))
      const result = await runAsInitiator(hostile, a.node, c, ctx)
      counts.aeResponder++
      await waitFor(async () => responderTotal(await readMetrics(a.node)) >= totalBefore + result.attempts, { what: `${label}: a to record the exchange`, timeoutMs: 15_000, intervalMs: 10 })
      slowest.push([Date.now() - caseStarted, label])
      if (resets) {
        if (c.expect === 'violation') certain++
        const wanted = c.expect
        expect(result.ending, `${label}: a must reset the stream`).toBe('reset')
        // Counted as a violation (or an interruption), not as an error of a's own (slow peers alongside add violations and interruptions, never errors).
        const outcome = (x: Map<string, number>, o: string): number => m(x, aeOutcome('responder', o)) - m(mBefore as Map<string, number>, aeOutcome('responder', o))
        const mAfter = await waitFor(async () => {
          const x = await readMetrics(a.node)
          return outcome(x, wanted) + outcome(x, 'error') > 0 ? x : false
        }, { what: `${label}: a to count the exchange`, timeoutMs: 10_000 })
        expect({ [wanted]: outcome(mAfter, wanted) > 0, error: outcome(mAfter, 'error') }, `${label}: a's outcome`).toEqual({ [wanted]: true, error: 0 })
      } else if (c.expect === 'ok') {
        expect(result.ending, `${label}: a must end the exchange gracefully`).toBe('closed')
      } else {
        expect(result.ending, `${label}: a must end the stream`).not.toBe('timeout')
      }
    }
    const stallResults = await stalls
    const outboundResults = await outbound
    // Done with them: a's scheduler must not pick a peer that stalls on purpose in later phases.
    for (const h of stallers) await Promise.resolve(h.stop()).catch(() => {})
    console.log('hostile peers: slow peers against a as responder', JSON.stringify(stallResults), 'as initiator', JSON.stringify(outboundResults))
    for (const s of stallResults) {
      expect(s.ending, `slow peer (${s.how}): a must reset it`).toBe('reset')
      expect(s.ms, `slow peer (${s.how}): within the read deadline after its last frame`).toBeLessThan(s.how === 'trickle' ? 6_000 + 15_000 : 15_000)
    }
    for (const s of outboundResults) {
      expect(s.sync, `silent responder (${s.how}): a timeout, no proof of a lie`).toBe('ERR_SYNC_FAILED/ERR_EXCHANGE_INTERRUPTED')
      expect(s.ms).toBeLessThan(15_000)
    }
    const after = await readMetrics(a.node)
    const violations = m(after, aeOutcome('responder', 'violation')) - m(before, aeOutcome('responder', 'violation'))
    counts.violationsA = violations
    expect(violations, 'a counts every certain violation (and the slow peers)').toBeGreaterThanOrEqual(certain + stallResults.length)
    await liveness('ae-responder end')
    await honestRound('aer-end')
    await auditA('after a as responder')
    timings.aeResponder = Date.now() - started
    report('a as responder')
    console.log(`hostile peers: a as responder, ${n} exchanges (${certain} certain violations, ${violations} counted) in ${timings.aeResponder} ms`)
  }, 180_000 + RUNS * 600)

  it(`anti-entropy, a as initiator: ${Math.floor(RUNS / 2)} hostile exchanges a dials (cluster.sync and its scheduler)`, async () => {
    const started = Date.now()
    const n = Math.floor(RUNS / 2)
    // A fresh identity, as after a ban: everything below must work with it (the kit re-dials, re-subscribes, serves again).
    await hostile.rotate()
    await hostile.ensureConnected(a.node)
    const before = await readMetrics(a.node)
    let ctx = await aeContext()
    let confirmed = 0
    const rng = fc.sample(fc.nat(19), { seed: SEED + 5, numRuns: n })
    for (const [i, c] of aeCases('responder', n).entries()) {
      if (!wanted('aei', i)) continue
      if (i > 0 && i % BATCH === 0) {
        await liveness(`ae-initiator ${i}`)
        await honestRound(`aei-${i}`)
        await auditA(`a as initiator, batch ending at case ${i - 1}`)
        ctx = await aeContext()
      }
      ctx.unique = `fzi${i}`
      const trigger = rng[i] === 0 ? 'scheduler' : 'sync'
      if (trigger === 'scheduler') counts.scheduled++
      const label = `case ${i} via ${trigger} (${describeCase(c)})`
      const caseStarted = Date.now()
      const result = await runAsResponder(hostile, a.node, c, ctx, trigger)
      counts.aeInitiator++
      slowest.push([Date.now() - caseStarted, label])
      expect(result.ending, `${label}: the exchange must end`).not.toBe('timeout')
      const sync = result.sync
      if (sync === undefined) continue
      if (!sync.ok) expect([sync.code, sync.causeCode ?? ''].join('/'), `${label}: sync() fails only as a failed sync`).toMatch(/^ERR_SYNC_FAILED\//)
      if (result.attributable !== true || (!sync.ok && sync.busy === true && c.expect !== 'busy')) continue
      switch (c.expect) {
        case 'violation':
          expect(sync, label).toMatchObject({ ok: false, code: 'ERR_SYNC_FAILED', causeCode: 'ERR_PROTOCOL' })
          confirmed++
          break
        case 'interrupted': expect(sync, label).toMatchObject({ ok: false, code: 'ERR_SYNC_FAILED', causeCode: 'ERR_EXCHANGE_INTERRUPTED' }); break
        case 'refused': expect(sync, label).toMatchObject({ ok: false, code: 'ERR_SYNC_FAILED', refused: 1 + ((c as { seed: number }).seed % 100) }); break
        case 'busy': expect(sync, label).toMatchObject({ ok: false, busy: true }); break
        case 'ok': expect(sync, label).toEqual({ ok: true }); break
        case 'any': break
      }
    }
    const after = await readMetrics(a.node)
    const violations = m(after, aeOutcome('initiator', 'violation')) - m(before, aeOutcome('initiator', 'violation'))
    counts.violationsI = violations
    expect(violations, 'a counts every violation its sync() reported').toBeGreaterThanOrEqual(confirmed)
    await liveness('ae-initiator end')
    await honestRound('aei-end')
    await auditA('after a as initiator')
    timings.aeInitiator = Date.now() - started
    report('a as initiator')
    console.log(`hostile peers: a as initiator, ${n} exchanges (${counts.scheduled} by the scheduler, ${confirmed} confirmed violations, ${violations} counted) in ${timings.aeInitiator} ms`)
  }, 180_000 + RUNS * 600)

  it('afterwards: a and b converge, b\'s writes are on a, nothing forged or out of bounds on either, heap bounded, b saw no violation', async () => {
    const started = Date.now()
    await honestWrites('final')
    await honestArrived(a.node)
    const digest = await waitFor(async () => {
      const [da, db] = [(await a.node.info()).digest, (await b.node.info()).digest]
      return da === db ? da : false
    }, { what: 'a and b to converge (same digest)', timeoutMs: 90_000, intervalMs: 200 })
    // a's view of b's digest: forged announcements are overwritten by b's own (at least every 10 s).
    await waitFor(async () => (await a.node.peers()).find(p => p.peerId === b.node.peerId)?.digest === digest, { what: 'a to show b\'s real digest', timeoutMs: 30_000, intervalMs: 200 })
    const onA = await audit(auditor, a.node, forged)
    const onB = await audit(auditor, b.node, forged)
    expect(onA.problems.slice(0, 20), 'a').toEqual([])
    expect(onB.problems.slice(0, 20), 'b').toEqual([])
    await honestArrived(b.node)
    const bMetrics = await readMetrics(b.node)
    const bViolations = [...bMetrics].filter(([k, v]) => k.includes('outcome="violation"') && v > 0)
    expect(bViolations, 'b only ever talked to honest a').toEqual([])
    const heapAfter = heapUsed()
    const aMetrics = await readMetrics(a.node)
    timings.final = Date.now() - started
    console.log(`hostile peers: converged in ${timings.final} ms on ${onA.states.size} keys; heap ${(heapBefore / 1e6).toFixed(1)} → ${(heapAfter / 1e6).toFixed(1)} MB ` +
      `(bound +${HEAP_BOUND / 1e6} MB); hostile identities ${hostile.ids.length}; timings ${JSON.stringify(timings)}; counts ${JSON.stringify(counts)}; ` +
      `a ae outcomes ${JSON.stringify([...aMetrics].filter(([k]) => k.startsWith('chorus_ae_exchanges_total')))}`)
    expect(heapAfter - heapBefore).toBeLessThan(HEAP_BOUND)
  }, 240_000)
})
