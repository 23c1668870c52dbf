/**
 * A small in-memory ChorusApi for the pure handler/transport tests (validation, error codes,
 * HTTP admission). Anything about real behaviour uses a real node instead.
 */
import { AfterTimeoutError, InvalidContextError, NoPeerError } from '../../src/errors.js'
import { CheckedValue } from '../../src/model/index.js'
import type { BatchOp, ChangeEvent, ChorusApi, ChorusApiExtras, KvGetResult } from '../../src/node/api.js'

/** The RPC layer hands the node values it already checked as CheckedValue: the value they stand for. */
const plain = (value: unknown): unknown => value instanceof CheckedValue ? JSON.parse(value.json) : value
const plainOp = (op: BatchOp): BatchOp => op.op === 'put' ? { ...op, value: plain(op.value) } : op

export interface FakeApi extends ChorusApi, ChorusApiExtras {
  calls: Array<{ method: string, args: unknown[] }>
  ready: boolean
  emit: (event: ChangeEvent) => void
}

export function createFakeApi (): FakeApi {
  const data = new Map<string, unknown>()
  const watchers = new Set<{ prefix: string, listener: (e: ChangeEvent) => void }>()
  let n = 0
  const api: FakeApi = {
    calls: [],
    ready: true,
    emit (event) { for (const w of watchers) if (event.key.startsWith(w.prefix)) w.listener(event) },
    recentErrors: () => [{ time: '2026-12-07T00:00:00.000Z', level: 'warn', msg: 'something <b>odd</b>' }],
    async kvPut (key, checked, context) {
      const value = plain(checked)
      api.calls.push({ method: 'kvPut', args: [key, value, context] })
      if (key === 'explode') throw new Error('secret internal detail /home/x/stack')
      data.set(key, value)
      return { context: `ctx${++n}`, conflict: false }
    },
    async kvGet (key, options) {
      api.calls.push({ method: 'kvGet', args: [key, options] })
      if (options?.after === 'never') throw new AfterTimeoutError('did not see the write in time')
      // As the node names a field it refuses: without the RPC layer's `params.` prefix.
      if (options?.after === 'foreign') throw new InvalidContextError('after: belongs to another key', { data: { field: 'after' } })
      const found = data.has(key)
      const r: KvGetResult = { found, value: found ? data.get(key) : null, conflict: false, context: 'c' }
      return r
    },
    async kvDelete (key, context) {
      api.calls.push({ method: 'kvDelete', args: [key, context] })
      data.delete(key)
      return { context: `ctx${++n}`, conflict: false }
    },
    async kvBatch (checked) {
      const ops = checked.map(plainOp)
      api.calls.push({ method: 'kvBatch', args: [ops] })
      return { contexts: ops.map(() => `ctx${++n}`), conflicts: ops.map(() => false) }
    },
    async kvScan (options) {
      api.calls.push({ method: 'kvScan', args: [options] })
      return { items: [...data.entries()].map(([key, value]) => ({ key, value, conflict: false })) }
    },
    async kvConflicts (options) {
      api.calls.push({ method: 'kvConflicts', args: [options] })
      return { keys: [] }
    },
    async counterIncr (key, by) {
      api.calls.push({ method: 'counterIncr', args: [key, by] })
      return { value: by ?? 1, context: 'c' }
    },
    async counterGet (key) {
      api.calls.push({ method: 'counterGet', args: [key] })
      return { value: 0, context: 'c' }
    },
    async setAdd (key, members) {
      api.calls.push({ method: 'setAdd', args: [key, members] })
      return { members: [...members].sort(), context: 'c' }
    },
    async setRemove (key, members) {
      api.calls.push({ method: 'setRemove', args: [key, members] })
      return { members: [], context: 'c' }
    },
    async setGet (key) {
      api.calls.push({ method: 'setGet', args: [key] })
      return { members: [], context: 'c' }
    },
    async counterScan (options) {
      api.calls.push({ method: 'counterScan', args: [options] })
      return { items: [] }
    },
    async setScan (options) {
      api.calls.push({ method: 'setScan', args: [options] })
      return { items: [] }
    },
    async mapUpdate (key, ops, context) {
      api.calls.push({ method: 'mapUpdate', args: [key, ops, context] })
      return { context: `ctx${++n}`, conflict: false }
    },
    async mapGet (key, options) {
      api.calls.push({ method: 'mapGet', args: [key, options] })
      return { found: false, value: {}, conflict: false, conflicts: [], context: 'c' }
    },
    async mapDelete (key, context) {
      api.calls.push({ method: 'mapDelete', args: [key, context] })
      return { context: `ctx${++n}`, conflict: false }
    },
    async mapScan (options) {
      api.calls.push({ method: 'mapScan', args: [options] })
      return { items: [] }
    },
    async exportPage (options) {
      api.calls.push({ method: 'exportPage', args: [options] })
      return { items: [], snapshot: { node: '12D3KooWFake', keys: 0, digest: 'abcd', at: new Date(0).toISOString() } }
    },
    async importStates (items) {
      api.calls.push({ method: 'importStates', args: [items] })
      return { added: items.length, updated: 0, unchanged: 0, rejected: 0, superseded: 0 }
    },
    async info () {
      return { peerId: '12D3KooWFake<script>', addrs: ['/ip4/127.0.0.1/tcp/1'], rpcUrl: 'http://127.0.0.1:1', version: '0.1.0', uptimeMs: 1234, keys: data.size, digest: 'abcd', open: true, exposure: 'open', clockCorrectionMs: 0, clockPeers: 0, clockJumps: 0 }
    },
    async peers () {
      return [{ peerId: '12D3KooWPeer', addrs: ['/ip4/127.0.0.1/tcp/2'], connected: true, lastSeenMs: Date.now(), digest: 'abcd', inSync: true }]
    },
    async sync (peer) {
      throw new NoPeerError(peer === undefined ? 'no peer connected' : `peer ${peer} is not connected`)
    },
    async members () {
      api.calls.push({ method: 'members', args: [] })
      return []
    },
    async forget (peerId) {
      api.calls.push({ method: 'forget', args: [peerId] })
      return { peerId, wasMember: false, disconnected: false }
    },
    async connect (addr) {
      api.calls.push({ method: 'connect', args: [addr] })
      throw new NoPeerError(`cannot dial ${addr} here`)
    },
    watch (prefix, listener) {
      const w = { prefix, listener }
      watchers.add(w)
      return () => { watchers.delete(w) }
    },
    async changes (options) {
      api.calls.push({ method: 'changes', args: [options] })
      return { changes: [], cursor: 'c0' }
    },
    watchFeed (options, listener) {
      return { cursor: 'c0', unsubscribe: api.watch(options.prefix, listener) }
    },
    isReady: () => api.ready,
    metricsText: async () => '# HELP chorus_test a test metric\n# TYPE chorus_test counter\nchorus_test 1\n'
  }
  return api
}
