/**
 * What expiring keys cost (docs/consistency.md, "Expiring keys"). Used by the `promises` suite
 * (bench/suites/promises.ts: bytes per state and kv.put / kv.get with and without ttlMs), and
 * standalone, which prints the pure core's µs per encode, decode, merge and read too:
 *   npx tsx bench/expiry-cost.ts
 * Bytes per state, with and without an expiry; then kv.put and kv.get on one in-process node
 * (127.0.0.1, no mDNS, temp LevelDB), with and without ttlMs, wall and CPU per call.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EMPTY_REGISTER, mergeRegisters, registerWinner, winnerAt, writeRegister } from '../src/causal/index.js'
import { decodeCounter, decodeOrSet, decodeRegister, encodeCounter, encodeOrSet, encodeRegister } from '../src/codec/index.js'
import { EMPTY_COUNTER, EMPTY_OR_SET, addMembersAt, counterValue, counterValueAt, incrementAt, mergeCounters, mergeOrSets } from '../src/crdt/index.js'
import { createChorusNode } from '../src/node/index.js'
import { interleaved, type PerCall } from './lib/cost.js'

const NOW = 1_795_875_390_123
const ROUNDS = 200_000

function perOp (label: string, fn: () => unknown): number {
  for (let i = 0; i < 10_000; i++) fn() // warm up
  const started = process.hrtime.bigint()
  for (let i = 0; i < ROUNDS; i++) fn()
  const us = Number(process.hrtime.bigint() - started) / 1000 / ROUNDS
  console.log(`${label.padEnd(44)} ${us.toFixed(3)} µs`)
  return us
}

const plain = writeRegister(EMPTY_REGISTER, { node: '12D3KooWQkLz9dFk4pCnW5vXj8pXwdy7bNvZTiqrYnAF1dWdLhDq', hlc: { wall: NOW, logical: 0 }, value: '{"name":"Ada"}' })
const expiring = writeRegister(EMPTY_REGISTER, { node: '12D3KooWQkLz9dFk4pCnW5vXj8pXwdy7bNvZTiqrYnAF1dWdLhDq', hlc: { wall: NOW, logical: 0 }, value: '{"name":"Ada"}', ttlMs: 60_000 })
const node = '12D3KooWQkLz9dFk4pCnW5vXj8pXwdy7bNvZTiqrYnAF1dWdLhDq'
const counter = incrementAt(EMPTY_COUNTER, node, 5, NOW)
const counterTtl = incrementAt(EMPTY_COUNTER, node, 5, NOW, 60_000)
const counterGen = incrementAt(counterTtl, node, 1, NOW + 60_000, 60_000) // a later life: gen and end both set
const set = addMembersAt(EMPTY_OR_SET, node, ['red', 'blue'], NOW)
const setTtl = addMembersAt(EMPTY_OR_SET, node, ['red', 'blue'], NOW, 60_000)
const setGen = addMembersAt(setTtl, node, ['red'], NOW + 60_000, 60_000)

/** Encoded bytes of each state, without and with an expiry (counters and sets: first and a later life). */
export function expiryBytes (): { register: [number, number], counter: [number, number, number], set: [number, number, number] } {
  return {
    register: [encodeRegister(plain).byteLength, encodeRegister(expiring).byteLength],
    counter: [encodeCounter(counter).byteLength, encodeCounter(counterTtl).byteLength, encodeCounter(counterGen).byteLength],
    set: [encodeOrSet(set).byteLength, encodeOrSet(setTtl).byteLength, encodeOrSet(setGen).byteLength]
  }
}

function printBytes (): void {
  const b = expiryBytes()
  console.log('bytes per state')
  console.log(`  register (one sibling)    ${b.register[0]} → ${b.register[1]} with expiry`)
  console.log(`  counter (one node)        ${b.counter[0]} → ${b.counter[1]} first life with end, ${b.counter[2]} later life with end`)
  console.log(`  set (one node, 2 members) ${b.set[0]} → ${b.set[1]} first life with end, ${b.set[2]} later life with end`)
}

function printCore (): void {
  console.log('\npure core, per operation')
  const rb = encodeRegister(plain)
  const rbe = encodeRegister(expiring)
  perOp('register encode', () => encodeRegister(plain))
  perOp('register encode, expiring', () => encodeRegister(expiring))
  perOp('register decode', () => decodeRegister(rb))
  perOp('register decode, expiring', () => decodeRegister(rbe))
  perOp('register merge', () => mergeRegisters(plain, { vv: plain.vv, siblings: [...plain.siblings] }))
  perOp('register merge, expiring', () => mergeRegisters(expiring, { vv: expiring.vv, siblings: [...expiring.siblings] }))
  perOp('register read (registerWinner)', () => registerWinner(expiring))
  perOp('register read at a time (winnerAt)', () => winnerAt(expiring, NOW + 1))
  const cb = encodeCounter(counter)
  const cbe = encodeCounter(counterGen)
  perOp('counter decode', () => decodeCounter(cb))
  perOp('counter decode, later life with end', () => decodeCounter(cbe))
  perOp('counter merge', () => mergeCounters(counter, counter))
  perOp('counter merge, later life with end', () => mergeCounters(counterGen, counterGen))
  perOp('counter read (counterValue)', () => counterValue(counterGen))
  perOp('counter read at a time (counterValueAt)', () => counterValueAt(counterGen, NOW + 1))
  const sb = encodeOrSet(set)
  const sbe = encodeOrSet(setGen)
  perOp('set decode', () => decodeOrSet(sb))
  perOp('set decode, later life with end', () => decodeOrSet(sbe))
  perOp('set merge', () => mergeOrSets(set, set))
  perOp('set merge, later life with end', () => mergeOrSets(setGen, setGen))
}

export interface ExpiryCalls { put: PerCall, putTtl: PerCall, get: PerCall, getTtl: PerCall }

/**
 * kv.put and kv.get with and without ttlMs on one in-process node, sequential calls (no RPC):
 * `rounds` interleaved blocks of `calls` per case (see `interleaved`), median per case.
 */
export async function expiryCalls (calls: number, rounds: number): Promise<ExpiryCalls> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-expiry-cost-'))
  const n = await createChorusNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent' })
  try {
    // Every key written before it is read; each put writes a fresh key.
    for (let i = 0; i < calls; i++) { await n.kvPut(`p/${i}`, { i }); await n.kvPut(`t/${i}`, { i }, undefined, { ttlMs: 3_600_000 }) }
    return await interleaved({
      put: async i => await n.kvPut(`pp/${i}`, { i }),
      putTtl: async i => await n.kvPut(`tt/${i}`, { i }, undefined, { ttlMs: 3_600_000 }),
      get: async i => await n.kvGet(`p/${i % calls}`),
      getTtl: async i => await n.kvGet(`t/${i % calls}`)
    }, calls, rounds)
  } finally {
    await n.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  printBytes()
  printCore()
  const r = await expiryCalls(1000, 7)
  console.log('\none node, sequential calls (in process, no RPC), median of 6 rounds of 1,000 after one to warm up')
  const line = (label: string, c: PerCall): void => { console.log(`${label.padEnd(44)} ${c.wallUs.toFixed(1)} µs (CPU ${c.cpuUs.toFixed(1)} µs)`) }
  line('kv.put', r.put)
  line('kv.put with ttlMs', r.putTtl)
  line('kv.get', r.get)
  line('kv.get of an expiring key', r.getTtl)
}
