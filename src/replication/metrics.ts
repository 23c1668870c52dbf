/**
 * Metrics of durable writes (docs/operations.md): how long writes with `replicas` waited and how
 * they ended, pushes by outcome, and what the serving side refused. Registered with the node's
 * registry by the node; counters are read from plain fields at scrape time.
 */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { PushOutcome } from './push.js'
import type { ResponderStats } from './responder.js'

/** 0.5 ms to 60 s (the longest wait a write may ask for). */
const WAIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export class ReplicationMetrics {
  responder: ResponderStats = { pushes: 0, refused: 0, violations: 0 }
  private readonly pushes: Record<PushOutcome | 'failed', number> = { acked: 0, rejected: 0, failed: 0 }
  private readonly wait = new Histogram({
    name: 'chorus_replicated_write_wait_seconds',
    help: 'Writes with `replicas`: time from the local commit to enough acknowledgements (outcome ok) or to the deadline (outcome timeout)',
    labelNames: ['outcome'] as const,
    buckets: WAIT_BUCKETS,
    registers: []
  })

  observeWait (outcome: 'ok' | 'timeout', seconds: number): void {
    this.wait.observe({ outcome }, seconds)
  }

  push (outcome: PushOutcome | 'failed'): void {
    this.pushes[outcome]++
  }

  register (registry: Registry): void {
    for (const outcome of ['ok', 'timeout']) this.wait.zero({ outcome })
    registry.registerMetric(this.wait)
    const pushes = this.pushes
    const responder = (): ResponderStats => this.responder
    registry.registerMetric(new Counter({
      name: 'chorus_replicate_pushes_total',
      help: 'Replicate pushes sent by this node, by outcome: acked (the peer committed every state), rejected (it refused some), failed (the stream failed)',
      labelNames: ['outcome'] as const,
      registers: [],
      collect () {
        this.reset()
        for (const [outcome, n] of Object.entries(pushes)) this.inc({ outcome }, n)
      }
    }))
    registry.registerMetric(new Counter({
      name: 'chorus_replicate_served_total',
      help: 'Replicate requests served by this node, by result: merged (acknowledged), refused (peer not allowed or past its streams), violation',
      labelNames: ['result'] as const,
      registers: [],
      collect () {
        const s = responder()
        this.reset()
        this.inc({ result: 'merged' }, s.pushes)
        this.inc({ result: 'refused' }, s.refused)
        this.inc({ result: 'violation' }, s.violations)
      }
    }))
  }
}
