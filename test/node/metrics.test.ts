/**
 * GET /metrics on real nodes: the series an operator alerts on exist from the start (at 0),
 * carry the standard process names, and move with what the node does.
 */
import { describe, expect, it } from 'vitest'
import { startRealNode, waitFor, type RealNode } from '../rpc/helpers.js'

async function scrape (n: RealNode): Promise<string> {
  return await (await fetch(`${n.server.url}/metrics`)).text()
}

/** The value of one sample line (`name{labels}`), or undefined when the series is absent. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('metrics', () => {
  it('every alertable series exists before anything happens, with the standard process names', async () => {
    const a = await startRealNode()
    const text = await scrape(a)

    for (const series of [
      'chorus_rpc_duration_seconds_count{method="kv.put",outcome="ok"}',
      'chorus_rpc_duration_seconds_count{method="cluster.sync",outcome="error"}',
      'chorus_commit_duration_seconds_count',
      'chorus_replication_delay_seconds_count',
      'chorus_ae_exchanges_total{role="initiator",outcome="violation"}',
      'chorus_ae_exchange_duration_seconds_count{role="responder",outcome="error"}',
      'chorus_ae_bytes_total{direction="sent",kind="state"}',
      'chorus_remote_rejected_total{reason="collected"}',
      'chorus_peer_penalties_total{offence="gossip-rate"}',
      'chorus_peers_connected',
      'chorus_peers_in_sync',
      'chorus_write_queue_jobs',
      'chorus_write_queue_bytes',
      'chorus_clock_correction_seconds',
      'chorus_conflicted_keys',
      'chorus_tombstones'
    ]) expect(sample(text, series), series).toBe(0)
    expect(sample(text, 'chorus_data_dir_bytes')).toBeGreaterThan(0)
    expect(text).toMatch(/^chorus_build_info\{version="\d+\.\d+\.\d+[^"]*",nodejs="[^"]+"\} 1$/m)
    expect(text).toMatch(/^process_cpu_user_seconds_total /m)
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m)
    expect(text).not.toMatch(/chorus_process_/)
  })

  it('RPC calls, commits, replication delay, peers, conflicts and tombstones show as they happen', async () => {
    const a = await startRealNode()
    const b = await startRealNode()
    // A conflict: both write the same key before they know each other.
    await a.client.kvPut('both', 'from a')
    await b.client.kvPut('both', 'from b')
    await a.client.kvPut('gone', 1)
    await a.client.kvDelete('gone')
    await expect(a.client.call('kv.put', { key: '', value: 1 })).rejects.toMatchObject({ code: -32602 })
    const dialable = (n: RealNode): string => {
      const addr = n.node.multiaddrs()[0] as string
      return addr.includes('/p2p/') ? addr : `${addr}/p2p/${n.node.peerId}`
    }
    // c joins both; a and b meet only through it.
    const c = await startRealNode({ bootstrap: [dialable(a), dialable(b)] })
    await waitFor('the three to agree', async () => {
      const digests = await Promise.all([a, b, c].map(async n => (await n.client.info()).digest))
      return digests.every(d => d === digests[0])
    })
    await waitFor('a to see c in sync', async () => sample(await scrape(a), 'chorus_peers_in_sync') === 1)

    const text = await scrape(a)
    expect(sample(text, 'chorus_rpc_duration_seconds_count{method="kv.put",outcome="ok"}')).toBe(2)
    expect(sample(text, 'chorus_rpc_duration_seconds_count{method="kv.put",outcome="error"}')).toBe(1)
    expect(sample(text, 'chorus_rpc_duration_seconds_count{method="kv.delete",outcome="ok"}')).toBe(1)
    expect(sample(text, 'chorus_commit_duration_seconds_count')).toBeGreaterThanOrEqual(3)
    expect(sample(text, 'chorus_peers_connected')).toBe(1)
    // c's first scrape: the index counts are read now.
    const cText = await scrape(c)
    expect(sample(cText, 'chorus_peers_connected')).toBe(2)
    expect(sample(cText, 'chorus_conflicted_keys')).toBe(1)
    expect(sample(cText, 'chorus_tombstones')).toBe(1)
    // c learnt every register from a and b: each a remote register change with a delay.
    expect(sample(cText, 'chorus_replication_delay_seconds_count')).toBeGreaterThanOrEqual(2)
  })
})
