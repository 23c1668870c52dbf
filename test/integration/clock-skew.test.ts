import { describe, expect, it } from 'vitest'
import { connectAll, startNode, waitConverged, waitFor } from '../helpers/nodes.js'

const HOUR = 3_600_000
const MINUTE = 60_000

const wallOf = (hlc: string): number => Number(hlc.split(':')[0])

describe('a node whose clock is an hour ahead', () => {
  it('neither loses others\' writes nor pins the LWW winner', async () => {
    const a = await startNode({ aeIntervalMs: 500 })
    const ahead = await startNode({ aeIntervalMs: 500, now: () => Date.now() + HOUR })
    await connectAll([a, ahead])
    // It asks its peer for the time as soon as they connect, and pulls its clock back.
    await waitFor(async () => (await ahead.info()).clockCorrectionMs <= -HOUR + MINUTE, { what: 'the clock correction', timeoutMs: 30_000 })
    expect((await a.info()).clockCorrectionMs).toBe(0)

    // Concurrent writes (empty contexts supersede nothing): the one written later in real time
    // must win everywhere — with the bad clock uncorrected, `ahead` would win for an hour.
    // Both read the key while it is still empty: their writes are concurrent.
    const none = (await a.kvGet('k')).context
    const noneAhead = (await ahead.kvGet('k')).context
    await ahead.kvPut('k', 'from-ahead', noneAhead)
    const written = Date.now()
    await waitFor(() => Date.now() > written + 1, { what: 'a later wall-clock millisecond for a\'s write' })
    await a.kvPut('k', 'from-a', none)
    await waitConverged([a, ahead])
    for (const node of [a, ahead]) {
      const got = await node.kvGet('k', { all: true })
      expect(got.conflict).toBe(true)
      expect(got.value).toBe('from-a')
      expect(got.values?.map(v => v.value).sort()).toEqual(['from-a', 'from-ahead'])
    }
    // Nobody's clock was dragged forward: a's new writes carry a's own time.
    const { values } = await a.kvGet('k', { all: true })
    for (const v of values ?? []) expect(wallOf(v.hlc)).toBeLessThan(Date.now() + MINUTE)
  })

  it('writes it made before it could correct reach its peers at once, and do not drag their clocks', async () => {
    const a = await startNode({ aeIntervalMs: 300 })
    // No peer to ask: the node trusts its own clock and takes writes at once.
    const ahead = await startNode({ aeIntervalMs: 300, now: () => Date.now() + HOUR })
    await ahead.kvPut('early', 'future-stamped')
    await connectAll([a, ahead])
    // Refusing it would leave an acknowledged write on one disk until real time caught up.
    await waitConverged([a, ahead])
    expect(await a.kvGet('early')).toMatchObject({ found: true, value: 'future-stamped' })
    const { values } = await a.kvGet('early', { all: true })
    expect(wallOf(values?.[0]?.hlc ?? '0')).toBeGreaterThan(Date.now() + HOUR - MINUTE)
    // a's own clock did not follow it: its next write carries its own time.
    await a.kvPut('later', 'from-a')
    const later = await a.kvGet('later', { all: true })
    expect(wallOf(later.values?.[0]?.hlc ?? '0')).toBeLessThan(Date.now() + MINUTE)
    // A write that has seen the future version supersedes it, whatever the timestamps say.
    await a.kvPut('early', 'overwritten', (await a.kvGet('early')).context)
    await waitConverged([a, ahead])
    expect(await ahead.kvGet('early')).toMatchObject({ value: 'overwritten', conflict: false })
  })

  it('asks a bootstrap peer for the time before its first write when it starts ahead', async () => {
    const a = await startNode()
    const ahead = await startNode({ now: () => Date.now() + HOUR, bootstrap: [a.multiaddrs()[0] as string], clockSettleTimeoutMs: 20_000 })
    // Issued at once, before anything has connected: the write waits for the peer's time.
    await ahead.kvPut('first', 'right-away')
    const { values } = await ahead.kvGet('first', { all: true })
    expect(wallOf(values?.[0]?.hlc ?? '0')).toBeLessThan(Date.now() + MINUTE)
    expect((await ahead.info()).clockCorrectionMs).toBeLessThanOrEqual(-HOUR + MINUTE)
  })

  it('a live jump of a running node\'s clock is corrected before the next write is stamped', async () => {
    let skew = 0
    const a = await startNode()
    const b = await startNode({ now: () => Date.now() + skew })
    await connectAll([a, b])
    // b measures a's clock once, on connect; then its own clock jumps an hour ahead.
    await waitFor(async () => (await b.info()).clockPeers === 1, { what: 'b knows a\'s clock' })
    skew = HOUR
    await b.kvPut('after-jump', 'stamped')
    const { values } = await b.kvGet('after-jump', { all: true })
    expect(wallOf(values?.[0]?.hlc ?? '0')).toBeLessThan(Date.now() + MINUTE)
    expect((await b.info()).clockCorrectionMs).toBeLessThanOrEqual(-HOUR + MINUTE)
    // And when it jumps back, the correction goes with it.
    skew = 0
    await b.kvPut('after-return', 'stamped')
    expect((await b.info()).clockCorrectionMs).toBe(0)
    const back = await b.kvGet('after-return', { all: true })
    expect(Math.abs(wallOf(back.values?.[0]?.hlc ?? '0') - Date.now())).toBeLessThan(MINUTE)
  })
})
