import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  GOSSIP_CONTROL_BURST_HEARTBEATS, GOSSIP_HEARTBEAT_MS, MAX_IHAVE_IDS_PER_TOPIC, MAX_IWANT_IDS_PER_HEARTBEAT
} from '../../src/constants.js'
import { GossipControlAudit, type AuditedControl } from '../../src/gossip/index.js'

const id = (n: number): Uint8Array => { const b = new Uint8Array(32); new DataView(b.buffer).setUint32(0, n); return b }
const ids = (count: number): Uint8Array[] => Array.from({ length: count }, (_, i) => id(i))
/** What an honest router sends at most in one heartbeat on two topics. */
const HONEST_IHAVE: AuditedControl = { ihave: [{ messageIDs: ids(MAX_IHAVE_IDS_PER_TOPIC) }, { messageIDs: ids(MAX_IHAVE_IDS_PER_TOPIC) }] }
const honestIhave = (): AuditedControl => HONEST_IHAVE
const HONEST_IWANT: AuditedControl = { iwant: [{ messageIDs: ids(MAX_IWANT_IDS_PER_HEARTBEAT) }] }

function auditAt (): { audit: GossipControlAudit, clock: { ms: number } } {
  const clock = { ms: 0 }
  return { audit: new GossipControlAudit({ topics: 2, now: () => clock.ms }), clock }
}

describe('GossipControlAudit', () => {
  it('passes what an honest router sends every heartbeat, for as long as it sends it', () => {
    const { audit, clock } = auditAt()
    for (let beat = 0; beat < 10 * GOSSIP_CONTROL_BURST_HEARTBEATS; beat++) {
      expect(audit.check('p', honestIhave())).toBeUndefined()
      expect(audit.check('p', HONEST_IWANT)).toBeUndefined()
      clock.ms += GOSSIP_HEARTBEAT_MS
    }
  })

  it('passes the backlog of a reader that stalled for the burst allowance, and then the steady rate again', () => {
    const { audit, clock } = auditAt()
    for (let i = 0; i < GOSSIP_CONTROL_BURST_HEARTBEATS; i++) expect(audit.check('p', honestIhave())).toBeUndefined()
    clock.ms += GOSSIP_HEARTBEAT_MS
    expect(audit.check('p', honestIhave())).toBeUndefined()
  })

  it('refuses a frame no honest router sends: too many ids in an entry or in all, or ids that are not message ids', () => {
    const { audit } = auditAt()
    expect(audit.check('p', { ihave: [{ messageIDs: ids(MAX_IHAVE_IDS_PER_TOPIC + 1) }] })).toMatch(/^IHAVE: an entry of 5001 ids/)
    expect(audit.check('p', { ihave: [honestIhave().ihave, honestIhave().ihave].flat() as never })).toMatch(/^IHAVE: 20000 ids in one frame/)
    expect(audit.check('p', { ihave: [{ messageIDs: [new Uint8Array(31)] }] })).toMatch(/message id of 31 bytes/)
    expect(audit.check('p', { iwant: [{ messageIDs: ids(MAX_IWANT_IDS_PER_HEARTBEAT + 1) }] })).toMatch(/^IWANT: an entry of 5001/)
    expect(audit.check('p', { iwant: [{ messageIDs: ids(3000) }, { messageIDs: ids(3000) }] })).toMatch(/^IWANT: 6000 ids in one frame/)
    expect(audit.check('p', { iwant: [{ messageIDs: [new Uint8Array(0)] }] })).toMatch(/message id of 0 bytes/)
    expect(audit.check('p', { idontwant: [{ messageIDs: [new Uint8Array(33)] }] })).toMatch(/^IDONTWANT: a message id of 33 bytes/)
    // Refusals charge nothing: the same peer's honest gossip still passes.
    expect(audit.check('p', honestIhave())).toBeUndefined()
  })

  it('refuses a sustained rate past the honest one once the burst allowance is spent, per peer', () => {
    const { audit, clock } = auditAt()
    // Twice the honest rate: one frame every half heartbeat.
    let refusedAt: number | undefined
    for (let frame = 0; frame < 4 * GOSSIP_CONTROL_BURST_HEARTBEATS && refusedAt === undefined; frame++) {
      if (audit.check('flooder', honestIhave()) !== undefined) refusedAt = frame
      expect(audit.check('honest', frame % 2 === 0 ? honestIhave() : undefined)).toBeUndefined()
      clock.ms += GOSSIP_HEARTBEAT_MS / 2
    }
    // Before frame f the allowance is B - f + f/2 frames (B heartbeats, spent at 2 a heartbeat,
    // refilled at 1): frame 2B - 1 is the first it cannot cover.
    expect(refusedAt).toBe(2 * GOSSIP_CONTROL_BURST_HEARTBEATS - 1)
  })

  it('an idle heartbeat refills exactly one heartbeat of allowance, never more than the burst', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 3 * GOSSIP_CONTROL_BURST_HEARTBEATS }), idle => {
      const { audit, clock } = auditAt()
      for (let i = 0; i < GOSSIP_CONTROL_BURST_HEARTBEATS; i++) audit.check('p', honestIhave())
      clock.ms += idle * GOSSIP_HEARTBEAT_MS
      let passed = 0
      while (audit.check('p', honestIhave()) === undefined) passed++
      expect(passed).toBe(Math.min(idle, GOSSIP_CONTROL_BURST_HEARTBEATS))
    }), { numRuns: 50 })
  })

  it('tracks a bounded number of peers, forgetting first those whose allowance is full again', () => {
    const clock = { ms: 0 }
    const audit = new GossipControlAudit({ topics: 2, now: () => clock.ms, maxPeers: 3 })
    for (const p of ['a', 'b', 'c']) audit.check(p, honestIhave())
    clock.ms += GOSSIP_CONTROL_BURST_HEARTBEATS * GOSSIP_HEARTBEAT_MS
    for (let i = 0; i < GOSSIP_CONTROL_BURST_HEARTBEATS; i++) audit.check('c', honestIhave())
    audit.check('d', honestIhave())
    expect(audit.size).toBe(2) // a and b refilled and were forgotten; c's spent allowance was kept
    expect(audit.check('c', honestIhave())).toMatch(/within 30 s/)
    for (const p of ['e', 'f', 'g']) audit.check(p, honestIhave())
    expect(audit.size).toBe(3)
  })

  it('needs at least one topic', () => {
    expect(() => new GossipControlAudit({ topics: 0, now: () => 0 })).toThrow(RangeError)
  })
})
