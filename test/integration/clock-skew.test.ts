import { describe, expect, it } from 'vitest'
import { connectAll, startNode, waitConverged, waitFor } from '../helpers/nodes.js'

const HOUR = 3_600_000

describe('a node whose clock is an hour ahead', () => {
  it('neither loses others\' writes nor pins the LWW winner', async () => {
    const a = await startNode({ aeIntervalMs: 500 })
    const ahead = await startNode({ aeIntervalMs: 500, now: () => Date.now() + HOUR })
    await connectAll([a, ahead])
    // It hears the cluster's time in digest announcements and pulls its clock back.
    await waitFor(async () => (await ahead.info()).clockCorrectionMs <= -HOUR + 60_000, { what: 'the clock correction', timeoutMs: 30_000 })
    expect((await a.info()).clockCorrectionMs).toBe(0)

    // Concurrent writes (empty contexts supersede nothing): the one written later in real time
    // must win everywhere — with the bad clock uncorrected, `ahead` would win for an hour.
    const none = (await a.kvGet('never-written')).context
    await ahead.kvPut('k', 'from-ahead', none)
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
    for (const v of values ?? []) expect(Number(v.hlc.split(':')[0])).toBeLessThan(Date.now() + 60_000)
  })

  it('writes it made before it could correct are held back, not lost, and not allowed to win', async () => {
    const a = await startNode({ aeIntervalMs: 300 })
    const ahead = await startNode({ aeIntervalMs: 300, now: () => Date.now() + HOUR })
    await ahead.kvPut('early', 'future-stamped') // before it has heard any peer
    await connectAll([a, ahead])
    await a.sync(ahead.peerId)
    // a refuses the future-stamped version (and counts it) instead of letting it win for an hour.
    expect((await a.kvGet('early')).found).toBe(false)
    expect(await a.metricsText()).toMatch(/chorus_remote_rejected_total\{reason="clock-drift"\} [1-9]/)
    // ahead still holds it: nothing acknowledged is lost.
    expect(await ahead.kvGet('early')).toMatchObject({ found: true, value: 'future-stamped' })
    // And the other way round ahead learns that a did not take it: that exchange does not count
    // as a holding all ahead holds (tombstone GC relies on it).
    await expect(ahead.sync(a.peerId)).rejects.toMatchObject({ code: 'ERR_SYNC_FAILED', data: { refused: 1 } })
  })
})
