/**
 * What expiring keys cost (docs/consistency.md, "Expiring keys"): bytes per state, and µs per
 * encode, decode, merge and read of the pure core, with and without an expiry; then kv.put
 * and kv.get on one in-process node (127.0.0.1, no mDNS, temp LevelDB), with and without ttlMs.
 * Run: npx tsx bench/expiry-cost.ts   (standalone; not a suite of run.ts)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EMPTY_REGISTER, mergeRegisters, registerWinner, winnerAt, writeRegister } from '../src/causal/index.js'
import { decodeCounter, decodeOrSet, decodeRegister, encodeCounter, encodeOrSet, encodeRegister } from '../src/codec/index.js'
import { EMPTY_COUNTER, EMPTY_OR_SET, addMembersAt, counterValue, counterValueAt, incrementAt, mergeCounters, mergeOrSets } from '../src/crdt/index.js'
import { createChorusNode } from '../src/node/index.js'

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

console.log('bytes per state')
console.log(`  register (one sibling)    ${encodeRegister(plain).byteLength} → ${encodeRegister(expiring).byteLength} with expiry`)
console.log(`  counter (one node)        ${encodeCounter(counter).byteLength} → ${encodeCounter(counterTtl).byteLength} first life with end, ${encodeCounter(counterGen).byteLength} later life with end`)
console.log(`  set (one node, 2 members) ${encodeOrSet(set).byteLength} → ${encodeOrSet(setTtl).byteLength} first life with end, ${encodeOrSet(setGen).byteLength} later life with end`)

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

async function endToEnd (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-expiry-cost-'))
  const n = await createChorusNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent' })
  try {
    const N = 3000
    const time = async (label: string, fn: (i: number) => Promise<unknown>): Promise<void> => {
      for (let i = 0; i < 300; i++) await fn(i) // warm up
      const started = process.hrtime.bigint()
      for (let i = 0; i < N; i++) await fn(i)
      console.log(`${label.padEnd(44)} ${(Number(process.hrtime.bigint() - started) / 1000 / N).toFixed(1)} µs`)
    }
    console.log('\none node, sequential calls (in process, no RPC)')
    for (let round = 0; round < 2; round++) {
      await time('kv.put', async i => await n.kvPut(`p/${i}`, { i }))
      await time('kv.put with ttlMs', async i => await n.kvPut(`t/${i}`, { i }, undefined, { ttlMs: 3_600_000 }))
      await time('kv.get', async i => await n.kvGet(`p/${i}`))
      await time('kv.get of an expiring key', async i => await n.kvGet(`t/${i}`))
    }
  } finally {
    await n.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
await endToEnd()
