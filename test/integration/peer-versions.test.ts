/**
 * A peer of another Chorus build — one that speaks this cluster's anti-entropy protocol and
 * gossip topic only in other versions — connecting to a real node: the node names it in a warn
 * line with its versions and ours, counts it in chorus_peers_incompatible, never dials it for
 * anti-entropy, never penalises it, and goes on serving.
 */
import { Writable } from 'node:stream'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { antiEntropyProtocol, changesTopic } from '../../src/constants.js'
import { createHost } from '../antientropy/helpers/peers.js'
import { startNode, waitFor } from '../helpers/nodes.js'

interface LogLine { level: string, msg: string, component?: string, peer?: string, ours?: string[], theirs?: string[] }

/** A log destination that keeps the node's JSON lines. */
function captureLog (): { lines: LogLine[], destination: Writable } {
  const lines: LogLine[] = []
  let rest = ''
  const destination = new Writable({
    write (chunk: Buffer, _encoding, done) {
      const parts = (rest + chunk.toString()).split('\n')
      rest = parts.pop() ?? ''
      for (const line of parts) if (line.length > 0) lines.push(JSON.parse(line) as LogLine)
      done()
    }
  })
  return { lines, destination }
}

function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('peers of another version', () => {
  it('are logged with their versions and ours, counted, left out of anti-entropy and not penalised', async () => {
    const { lines, destination } = captureLog()
    const node = await startNode({ logLevel: 'info', logDestination: destination, aeIntervalMs: 200 })
    expect(sample(await node.metricsText(), 'chorus_peers_incompatible')).toBe(0)
    expect(sample(await node.metricsText(), 'chorus_peers_incompatible_detected_total')).toBe(0)

    const ours = antiEntropyProtocol('default')
    const older = ours.replace(/3\.0\.0$/, '2.0.0')
    const olderTopic = changesTopic('default').replace(/1$/, '0')
    const old = await createHost({ pubsub: true })
    let dialledUs = 0
    await old.handle(older, ({ stream }) => { dialledUs++; stream.abort(new Error('an older build')) })
    old.services.pubsub?.subscribe(olderTopic)
    await old.dial(multiaddr(node.multiaddrs()[0] as string))
    const peer = old.peerId.toString()

    const about = (needle: string): LogLine | undefined => lines.find(l => l.level === 'warn' && l.peer === peer && l.theirs?.includes(needle) === true)
    const protocolLine = await waitFor(() => about(older), { what: 'the protocol version warning' })
    expect(protocolLine.component).toBe('peers')
    expect(protocolLine.ours).toEqual([ours])
    expect(protocolLine.msg).toContain(peer)
    expect(protocolLine.msg).toContain(ours)
    expect(protocolLine.msg).toContain(older)
    const topicLine = await waitFor(() => about(olderTopic), { what: 'the gossip topic version warning' })
    expect(topicLine.ours).toEqual([changesTopic('default')])

    const metrics = await node.metricsText()
    expect(sample(metrics, 'chorus_peers_incompatible')).toBe(1)
    expect(sample(metrics, 'chorus_peers_incompatible_detected_total')).toBe(1)

    // Several anti-entropy intervals: the node never picks it, and an explicit sync finds no peer.
    await expect(node.sync()).rejects.toMatchObject({ code: 'ERR_NO_PEER' })
    await new Promise(resolve => setTimeout(resolve, 1000)) // five scheduled rounds that must not dial it
    expect(dialledUs).toBe(0)
    const after = await node.metricsText()
    expect(after).not.toMatch(/^chorus_peer_penalties_total\{[^}]*\} [1-9]/m)
    expect(sample(after, 'chorus_peers_banned')).toBe(0)
    expect(sample(after, 'chorus_ae_exchanges_total{role="initiator",outcome="error"}')).toBe(0)
    expect((await node.peers()).find(p => p.peerId === peer)?.connected).toBe(true)
    // Once per peer and interval: the reconnections of a flapping peer do not flood the log.
    expect(lines.filter(l => l.peer === peer && l.theirs?.includes(older) === true)).toHaveLength(1)

    await node.kvPut('still', 'serving')
    expect((await node.kvGet('still')).value).toBe('serving')

    await old.stop()
    await waitFor(async () => sample(await node.metricsText(), 'chorus_peers_incompatible') === 0, { what: 'the gauge to drop when the peer leaves' })
  })
})
