/**
 * What a map costs beside the other types, roughly (docs/consistency.md, "Maps"). Used by the
 * `promises` suite (bench/suites/promises.ts: bytes per state, and map.update / map.get vs
 * kv.put / kv.get on one real node), and standalone, which prints more: encoded bytes per field
 * and per writer, and the CPU of one update (apply + bounds + encode) and of one merge on the
 * pure core. Run: npx tsx bench/map-cost.ts
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeRegister, encodeOrMap } from '../src/codec/index.js'
import { writeRegister, EMPTY_REGISTER } from '../src/causal/index.js'
import { EMPTY_OR_MAP, mergeOrMaps, updateOrMap, type MapOp, type MapWrite, type OrMapState } from '../src/crdt/index.js'
import { createChorusNode } from '../src/node/index.js'
import { mapSizes } from '../src/replica/map-bounds.js'
import { interleaved, type PerCall } from './lib/cost.js'
import { value100 } from './lib/stats.js'

const NODE = '12D3KooWGRUrvXbmGrXyRp4fj2ibs3yUQdobHLLrsTfDEFzzndcS'
const NODE2 = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
let wall = Date.now()
const write = (node: string): MapWrite => ({ node, hlc: () => ({ wall: ++wall, logical: 0 }), maxSiblings: 32 })
const bytes = (s: OrMapState): number => encodeOrMap(s).byteLength

function perOp (label: string, n: number, f: () => void): number {
  for (let i = 0; i < Math.min(n, 200); i++) f()
  const t = performance.now()
  for (let i = 0; i < n; i++) f()
  const us = (performance.now() - t) * 1000 / n
  console.log(`${label}: ${us.toFixed(1)} µs`)
  return us
}

function printCore (): void {
  // ---- bytes
  const value = '"hello"'
  const reg = encodeRegister(writeRegister(EMPTY_REGISTER, { node: NODE, hlc: { wall, logical: 0 }, value })).byteLength
  const one = updateOrMap(EMPTY_OR_MAP, [{ op: 'set', field: 'title', json: value }], write(NODE)).state
  console.log(`kv register holding ${value}: ${reg} B; a map whose one register field "title" holds it: ${bytes(one)} B`)
  const ten = updateOrMap(EMPTY_OR_MAP, Array.from({ length: 10 }, (_, i): MapOp => ({ op: 'set', field: `field${i}`, json: value })), write(NODE)).state
  const eleven = updateOrMap(ten, [{ op: 'set', field: 'field10', json: value }], write(NODE)).state
  console.log(`one more register field (name of 7 B, value of 7 B) adds ${bytes(eleven) - bytes(ten)} B`)
  const counters = updateOrMap(ten, [{ op: 'incr', field: 'n', by: 1 }], write(NODE)).state
  console.log(`a counter field "n" adds ${bytes(counters) - bytes(ten)} B; a second writer's share of it adds ${bytes(updateOrMap(counters, [{ op: 'incr', field: 'n', by: 1 }], write(NODE2)).state) - bytes(counters)} B`)
  const set = updateOrMap(ten, [{ op: 'add', field: 's', members: ['m1'] }], write(NODE)).state
  console.log(`a set field "s" with member "m1" adds ${bytes(set) - bytes(ten)} B; each further member of 2 B adds ${bytes(updateOrMap(set, [{ op: 'add', field: 's', members: ['m2'] }], write(NODE)).state) - bytes(set)} B`)
  const nested = updateOrMap(ten, [{ op: 'update', field: 'address', ops: [{ op: 'set', field: 'city', json: value }] }], write(NODE)).state
  console.log(`a register field nested one map down ("address"."city") adds ${bytes(nested) - bytes(ten)} B`)
  const estimate = mapSizes(ten).find(s => s.what === 'bytes in the map')?.size ?? 0
  console.log(`10-field map: ${bytes(ten)} B encoded, ${estimate} B by the local-bound estimate`)

  // ---- CPU on the pure core, for maps of 10 and 500 fields
  for (const fields of [10, 500]) {
    let m = updateOrMap(EMPTY_OR_MAP, Array.from({ length: fields }, (_, i): MapOp => ({ op: 'set', field: `field${i}`, json: value })), write(NODE)).state
    const other = updateOrMap(m, [{ op: 'set', field: 'field0', json: '"x"' }], write(NODE2)).state
    perOp(`${fields} fields: update one field + bounds + encode`, 2000, () => {
      m = updateOrMap(m, [{ op: 'incr', field: 'views', by: 1 }], write(NODE)).state
      mapSizes(m)
      encodeOrMap(m)
    })
    perOp(`${fields} fields: merge with a peer's state`, 2000, () => { mergeOrMaps(m, other) })
  }
}

/** Encoded bytes of what one write stores and gossips: a kv register holding a 100-byte string, and maps of 1 and 100 such fields. */
export function mapBytes (): { register: number, map1: number, map100: number } {
  const json = JSON.stringify(value100(1))
  const register = encodeRegister(writeRegister(EMPTY_REGISTER, { node: NODE, hlc: { wall, logical: 0 }, value: json })).byteLength
  const fields = (n: number): MapOp[] => Array.from({ length: n }, (_, i): MapOp => ({ op: 'set', field: i === 0 ? 'f' : `field${i}`, json }))
  return { register, map1: bytes(updateOrMap(EMPTY_OR_MAP, fields(1), write(NODE)).state), map100: bytes(updateOrMap(EMPTY_OR_MAP, fields(100), write(NODE)).state) }
}

export interface MapCalls { kvPut: PerCall, map1Update: PerCall, map100Update: PerCall, kvGet: PerCall, map100Get: PerCall }

/**
 * One real node (LevelDB in a temp dir, no peers), sequential calls in process: kv.put of a
 * 100-byte string vs map.update setting one field to it in a 1-field and a 100-field map, and
 * kv.get vs map.get of the 100-field map; `rounds` interleaved blocks of `calls` per case (see
 * `interleaved`), median per case.
 */
export async function mapCalls (calls: number, rounds: number): Promise<MapCalls> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-map-cost-'))
  const node = await createChorusNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent', aeIntervalMs: 60_000 })
  try {
    await node.mapUpdate('wide', Array.from({ length: 99 }, (_, i) => ({ op: 'set' as const, field: `field${i + 1}`, value: value100(i) })))
    return await interleaved({
      kvPut: async i => await node.kvPut('k', value100(i)),
      map1Update: async i => await node.mapUpdate('m', [{ op: 'set', field: 'f', value: value100(i) }]),
      map100Update: async i => await node.mapUpdate('wide', [{ op: 'set', field: 'f', value: value100(i) }]),
      kvGet: async () => await node.kvGet('k'),
      map100Get: async () => await node.mapGet('wide')
    }, calls, rounds)
  } finally {
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  printCore()
  const b = mapBytes()
  console.log(`a 100-byte string: kv register ${b.register} B; map of 1 field ${b.map1} B; map of 100 fields ${b.map100} B`)
  const r = await mapCalls(1000, 7)
  const line = (label: string, c: PerCall): void => { console.log(`${label}: ${c.wallUs.toFixed(0)} µs per call (CPU ${c.cpuUs.toFixed(0)} µs)`) }
  line('node kv.put (one key)', r.kvPut)
  line('node map.update set (one field of a 1-field map)', r.map1Update)
  line('node map.update set (one field of a 100-field map)', r.map100Update)
  line('node kv.get', r.kvGet)
  line('node map.get (100-field map)', r.map100Get)
}
