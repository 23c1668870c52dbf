import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/nodes.js'
import { rpc, startProcess } from '../helpers/processes.js'

describe('bin/chorus processes on loopback', () => {
  it('three processes, 50 writes on each: all 150 keys readable everywhere with conflict: false', async () => {
    const a = await startProcess()
    const b = await startProcess(['--bootstrap', a.listen])
    const c = await startProcess(['--bootstrap', a.listen, '--bootstrap', b.listen])
    const all = [a, b, c]
    await waitFor(async () => {
      for (const p of all) if ((await rpc<any[]>(p.url, 'cluster.peers')).filter(x => x.connected).length < 2) return false
      return true
    }, { what: 'full mesh', timeoutMs: 30_000 })

    await Promise.all(all.map(async (p, n) => {
      for (let i = 0; i < 50; i++) await rpc(p.url, 'kv.put', { key: `p${n}/${i}`, value: { n, i } })
    }))
    await waitFor(async () => {
      const digests = await Promise.all(all.map(async p => (await rpc(p.url, 'node.info')).digest))
      return digests.every(d => d === digests[0])
    }, { what: 'equal digests', timeoutMs: 30_000 })
    for (const p of all) {
      const { items } = await rpc(p.url, 'kv.scan', { limit: 1000 })
      expect(items).toHaveLength(150)
      for (let n = 0; n < 3; n++) {
        expect(await rpc(p.url, 'kv.get', { key: `p${n}/49` })).toMatchObject({ found: true, value: { n, i: 49 }, conflict: false })
      }
    }
  })

  it('kill -9 during writes loses no acknowledged write; the node catches up after restart', async () => {
    const a = await startProcess(['--ae-interval', '500'])
    let b = await startProcess(['--bootstrap', a.listen, '--ae-interval', '500'])
    const acknowledged: string[] = []
    let writing = true
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          await rpc(b.url, 'kv.put', { key: `acked/${i}`, value: i })
          acknowledged.push(`acked/${i}`)
        } catch {
          return // the process is gone
        }
      }
    })()
    await waitFor(() => acknowledged.length >= 200, { what: '200 acknowledged writes', timeoutMs: 30_000 })
    b.child.kill('SIGKILL')
    expect(await b.exited).toBe('SIGKILL')
    writing = false
    await writer
    for (let i = 0; i < 50; i++) await rpc(a.url, 'kv.put', { key: `while-down/${i}`, value: i })

    b = await startProcess(['--bootstrap', a.listen, '--ae-interval', '500'], b.dataDir)
    // Every write b acknowledged before dying is still on b...
    for (const key of acknowledged) expect((await rpc(b.url, 'kv.get', { key })).found, key).toBe(true)
    // ...and after anti-entropy both nodes hold everything.
    await waitFor(async () => {
      const [da, db] = await Promise.all([rpc(a.url, 'node.info'), rpc(b.url, 'node.info')])
      return da.digest === db.digest
    }, { what: 'convergence after restart', timeoutMs: 30_000 })
    expect((await rpc(b.url, 'kv.get', { key: 'while-down/49' })).found).toBe(true)
    expect((await rpc(a.url, 'kv.get', { key: acknowledged.at(-1) })).found).toBe(true)
  })

  it('SIGTERM shuts down cleanly with exit code 0 and the data dir can be reopened at once', async () => {
    const a = await startProcess()
    await rpc(a.url, 'kv.put', { key: 'k', value: 'v' })
    a.child.kill('SIGTERM')
    expect(await a.exited).toBe(0)
    const again = await startProcess([], a.dataDir)
    expect(again.peerId).toBe(a.peerId)
    expect(await rpc(again.url, 'kv.get', { key: 'k' })).toMatchObject({ found: true, value: 'v' })
  })
})
