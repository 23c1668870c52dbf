import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  GOSSIP_CONTROL_BURST_HEARTBEATS, GOSSIP_HEARTBEAT_MS, MAX_GOSSIP_CONTROL_ENTRIES, MAX_IHAVE_IDS_PER_TOPIC, MAX_IWANT_IDS_PER_HEARTBEAT
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
    expect(audit.check('p', { ihave: [{ messageIDs: ids(MAX_IHAVE_IDS_PER_TOPIC + 1) }] })?.why).toMatch(/^IHAVE: an entry of 5001 ids/)
    expect(audit.check('p', { ihave: [honestIhave().ihave, honestIhave().ihave].flat() as never })?.why).toMatch(/^IHAVE: 20000 ids in one frame/)
    expect(audit.check('p', { ihave: [{ messageIDs: [new Uint8Array(31)] }] })?.why).toMatch(/message id of 31 bytes/)
    expect(audit.check('p', { iwant: [{ messageIDs: ids(MAX_IWANT_IDS_PER_HEARTBEAT + 1) }] })?.why).toMatch(/^IWANT: an entry of 5001/)
    expect(audit.check('p', { iwant: [{ messageIDs: ids(3000) }, { messageIDs: ids(3000) }] })?.why).toMatch(/^IWANT: 6000 ids in one frame/)
    expect(audit.check('p', { iwant: [{ messageIDs: [new Uint8Array(0)] }] })?.why).toMatch(/message id of 0 bytes/)
    expect(audit.check('p', { idontwant: [{ messageIDs: [new Uint8Array(33)] }] })?.why).toMatch(/^IDONTWANT: a message id of 33 bytes/)
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
    expect(audit.check('c', honestIhave())?.why).toMatch(/within 30 s/)
    for (const p of ['e', 'f', 'g']) audit.check(p, honestIhave())
    expect(audit.size).toBe(3)
  })

  it('refuses frames with more entries of a kind than any honest router sends, empty ones too', () => {
    const { audit } = auditAt()
    const many = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make)
    expect(audit.check('p', { ihave: many(MAX_GOSSIP_CONTROL_ENTRIES + 1, () => ({ messageIDs: [] })) })).toMatchObject({ kind: 'shape', report: true, why: expect.stringMatching(/^IHAVE: 65 entries/) })
    expect(audit.check('p', { iwant: many(65, () => ({ messageIDs: [] })) })?.why).toMatch(/^IWANT: 65 entries/)
    expect(audit.check('p', { idontwant: many(65, () => ({ messageIDs: [id(1)] })) })?.why).toMatch(/^IDONTWANT: 65 entries/)
    expect(audit.check('p', { graft: many(65, () => ({ topicID: 't' })) })?.why).toMatch(/^GRAFT: 65 entries/)
    expect(audit.check('p', { prune: many(65, () => ({})) })?.why).toMatch(/^PRUNE: 65 entries/)
    expect(audit.check('p', { prune: [{ peers: many(65, () => ({})) }] })?.why).toMatch(/^PRUNE: 65 peers/)
    expect(audit.check('p', { idontwant: [{ messageIDs: ids(MAX_IWANT_IDS_PER_HEARTBEAT + 1) }] })?.why).toMatch(/^IDONTWANT: an entry of 5001/)
    // At the bounds: passes.
    expect(audit.check('p', { graft: many(MAX_GOSSIP_CONTROL_ENTRIES, () => ({})), prune: [{ peers: many(MAX_GOSSIP_CONTROL_ENTRIES, () => ({})) }] })).toBeUndefined()
  })

  it('a rate past the allowance drops the frame without spending the allowance, and is reported once per burst window', () => {
    const { audit, clock } = auditAt()
    for (let i = 0; i < GOSSIP_CONTROL_BURST_HEARTBEATS; i++) expect(audit.check('p', honestIhave())).toBeUndefined()
    // A stalled reader's backlog beyond the allowance, read at once: dropped, reported once.
    const findings = Array.from({ length: 100 }, () => audit.check('p', honestIhave()))
    expect(findings.every(f => f?.kind === 'rate')).toBe(true)
    expect(findings.filter(f => f?.report === true)).toHaveLength(1)
    // The dropped frames cost nothing: one heartbeat later one heartbeat's gossip passes again.
    clock.ms += GOSSIP_HEARTBEAT_MS
    expect(audit.check('p', honestIhave())).toBeUndefined()
    // A flooder that keeps it up is reported again only once the window has passed.
    expect(audit.check('p', honestIhave())?.report).toBe(false)
    clock.ms += (GOSSIP_CONTROL_BURST_HEARTBEATS - 1) * GOSSIP_HEARTBEAT_MS // the first report's window is over
    let next = audit.check('p', honestIhave())
    while (next === undefined) next = audit.check('p', honestIhave())
    expect(next).toMatchObject({ kind: 'rate', report: true })
    expect(audit.check('p', honestIhave())).toMatchObject({ kind: 'rate', report: false })
  })

  it('needs at least one topic', () => {
    expect(() => new GossipControlAudit({ topics: 0, now: () => 0 })).toThrow(RangeError)
  })
})
