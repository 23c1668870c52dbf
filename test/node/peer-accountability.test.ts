import { multiaddr } from '@multiformats/multiaddr'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { resolveNodeConfig } from '../../src/config.js'
import { MAX_BANNED_PEERS, PEER_BAN_MS } from '../../src/constants.js'
import { ConfigError } from '../../src/errors.js'
import { PeerGate } from '../../src/node/peer-gate.js'
import { PeerPenalties } from '../../src/node/peer-penalties.js'
import { isLoopbackAddress } from '../../src/util/loopback.js'

const silent = pino({ level: 'silent' })
const key = new Uint8Array(95)

function tally (now: { t: number }): { penalties: PeerPenalties, gate: PeerGate, hungUp: string[] } {
  const gate = new PeerGate({ loopbackOnly: false, now: () => now.t })
  const hungUp: string[] = []
  const penalties = new PeerPenalties({ gate, logger: silent, now: () => now.t, hangUp: async p => { hungUp.push(p) } })
  return { penalties, gate, hungUp }
}

describe('peer penalties', () => {
  it('two anti-entropy violations in quick succession ban; the ban ends after PEER_BAN_MS', () => {
    const now = { t: 1_000_000 }
    const { penalties, gate, hungUp } = tally(now)
    penalties.penalise('p', 'ae-violation')
    expect(gate.isBanned('p')).toBe(false)
    now.t += 1_000
    penalties.penalise('p', 'ae-violation')
    expect(gate.isBanned('p')).toBe(true)
    expect(hungUp).toEqual(['p'])
    expect(penalties.stats.bans).toBe(1)
    now.t += PEER_BAN_MS - 1
    expect(gate.isBanned('p')).toBe(true)
    now.t += 1
    expect(gate.isBanned('p')).toBe(false)
  })

  it('points decay: violations spread out over minutes never ban', () => {
    const now = { t: 0 }
    const { penalties, gate } = tally(now)
    for (let i = 0; i < 50; i++) {
      penalties.penalise('slow-glitch', 'ae-violation')
      now.t += 120_000
    }
    expect(gate.isBanned('slow-glitch')).toBe(false)
    expect(penalties.points('slow-glitch')).toBeLessThan(30)
  })

  it('other peers are untouched by one peer\'s ban', () => {
    const { penalties, gate } = tally({ t: 0 })
    penalties.penalise('bad', 'ae-violation')
    penalties.penalise('bad', 'ae-violation')
    expect(gate.isBanned('bad')).toBe(true)
    expect(gate.isBanned('good')).toBe(false)
  })

  it('the ban list is bounded: past MAX_BANNED_PEERS the ban ending first goes', () => {
    const gate = new PeerGate({ loopbackOnly: false, now: () => 0 })
    for (let i = 0; i <= MAX_BANNED_PEERS; i++) gate.ban(`p${i}`, 1_000 + i)
    expect(gate.bannedCount()).toBe(MAX_BANNED_PEERS)
    expect(gate.isBanned('p0')).toBe(false)
    expect(gate.isBanned(`p${MAX_BANNED_PEERS}`)).toBe(true)
  })
})

describe('peer gate', () => {
  it('loopback-only refuses every address off this host, both ways', async () => {
    const gater = new PeerGate({ loopbackOnly: true }).gater()
    const conn = (addr: string): never => ({ remoteAddr: multiaddr(addr) }) as never
    expect(await gater.denyDialMultiaddr?.(multiaddr('/ip4/127.0.0.1/tcp/1'))).toBe(false)
    expect(await gater.denyDialMultiaddr?.(multiaddr('/ip4/127.8.9.10/tcp/1'))).toBe(false)
    expect(await gater.denyDialMultiaddr?.(multiaddr('/ip6/::1/tcp/1'))).toBe(false)
    expect(await gater.denyDialMultiaddr?.(multiaddr('/ip4/10.0.0.1/tcp/1'))).toBe(true)
    expect(await gater.denyDialMultiaddr?.(multiaddr('/ip4/0.0.0.0/tcp/1'))).toBe(true)
    expect(await gater.denyDialMultiaddr?.(multiaddr('/dns4/example.com/tcp/1'))).toBe(true)
    expect(await gater.denyInboundConnection?.(conn('/ip4/192.168.1.2/tcp/5'))).toBe(true)
    expect(await gater.denyInboundConnection?.(conn('/ip4/127.0.0.1/tcp/5'))).toBe(false)
    const open = new PeerGate({ loopbackOnly: false }).gater()
    expect(await open.denyInboundConnection?.(conn('/ip4/192.168.1.2/tcp/5'))).toBe(false)
  })

  it('isLoopbackAddress judges text, and text that does not parse is not loopback', () => {
    expect(isLoopbackAddress('/ip4/127.0.0.1/tcp/7071/p2p/12D3KooWGRUVh7Q9cLz6t5g7xNFwZhV8cYjzPx7s5qgVq3ZkJ1Wm')).toBe(true)
    expect(isLoopbackAddress('/dns4/localhost/tcp/1')).toBe(true)
    expect(isLoopbackAddress('/ip4/10.0.0.1/tcp/1')).toBe(false)
    expect(isLoopbackAddress('not a multiaddr')).toBe(false)
  })
})

describe('secure default (config)', () => {
  it('without a key: loopback listen, mDNS off, loopback-only', () => {
    const c = resolveNodeConfig({})
    expect(c.listen).toEqual(['/ip4/127.0.0.1/tcp/7071'])
    expect(c.mdns).toBe(false)
    expect(c.loopbackOnly).toBe(true)
  })

  it('with a key or --open: every interface and mDNS, as the spec\'s defaults say', () => {
    for (const init of [{ clusterKey: key }, { open: true }]) {
      const c = resolveNodeConfig(init)
      expect(c.listen).toEqual(['/ip4/0.0.0.0/tcp/7071'])
      expect(c.mdns).toBe(true)
      expect(c.loopbackOnly).toBe(false)
    }
  })

  it('refuses what would expose a keyless node: mDNS, a bootstrap peer on another host, a bad cluster name', () => {
    expect(() => resolveNodeConfig({ mdns: true })).toThrow(ConfigError)
    expect(() => resolveNodeConfig({ bootstrap: ['/ip4/10.0.0.2/tcp/7071'] })).toThrow(/another host/)
    expect(resolveNodeConfig({ bootstrap: ['/ip4/127.0.0.1/tcp/7071'] }).bootstrap).toHaveLength(1)
    expect(() => resolveNodeConfig({ clusterName: 'a/b' })).toThrow(/cluster name/)
    expect(() => resolveNodeConfig({ clusterName: '' })).toThrow(/cluster name/)
    expect(resolveNodeConfig({ clusterName: 'prod-eu.1_x' }).clusterName).toBe('prod-eu.1_x')
  })

  it('an explicit listen address is kept (the gate then refuses other hosts)', () => {
    const c = resolveNodeConfig({ listen: ['/ip4/0.0.0.0/tcp/0'] })
    expect(c.listen).toEqual(['/ip4/0.0.0.0/tcp/0'])
    expect(c.loopbackOnly).toBe(true)
  })
})
