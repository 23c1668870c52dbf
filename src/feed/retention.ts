/**
 * Keeps the change feed bounded: every `intervalMs` it prunes the log down to `retain` entries,
 * in batches that leave room for the writes between them (the write path never waits for it).
 */
import type { Logger } from 'pino'
import type { ChangeLog } from './change-log.js'

export interface FeedRetentionInit {
  log: ChangeLog
  /** Entries kept. */
  retain: number
  intervalMs: number
  logger: Logger
}

export class FeedRetention {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<number> | undefined
  private stopping: Promise<void> | undefined

  constructor (private readonly init: FeedRetentionInit) {}

  start (): void {
    this.timer = setInterval(() => { void this.run() }, this.init.intervalMs)
    this.timer.unref()
  }

  /** One pruning pass now (joins the one under way); resolves with the entries deleted. */
  async run (): Promise<number> {
    if (this.stopping !== undefined) return 0
    this.running ??= this.init.log.prune(this.init.retain)
      .catch((err: unknown) => { this.init.logger.warn({ err }, 'change feed: pruning failed; it is tried again at the next interval'); return 0 })
      .finally(() => { this.running = undefined })
    return await this.running
  }

  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.timer)
      await this.running
    })()
    await this.stopping
  }
}
