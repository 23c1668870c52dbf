/**
 * node.export: a consistent export read in pages. The first page takes a snapshot between two
 * commits (Replica.snapshot: every state committed up to that moment, none after, with the
 * Merkle root of exactly those states); every later page reads the same snapshot from its
 * cursor on. So the pages of one export add up to the node's data at one moment, whatever is
 * written meanwhile, and asking for the same cursor twice (a retry) gives the same page.
 *
 * Each open export holds a LevelDB snapshot, which keeps LevelDB from dropping what later
 * writes replaced: they are few (MAX_OPEN_EXPORTS) and close with their last page, or after
 * EXPORT_IDLE_MS without a page.
 */
import { randomBytes } from 'node:crypto'
import { DEFAULT_EXPORT_PAGE_KEYS, EXPORT_IDLE_MS, MAX_EXPORT_PAGE_BYTES, MAX_EXPORT_PAGE_KEYS, MAX_OPEN_EXPORTS } from '../constants.js'
import { CursorExpiredError, InvalidParamsError, LimitExceededError } from '../errors.js'
import { fromStoreKey } from '../model/index.js'
import type { Replica, ReplicaSnapshot } from '../replica/index.js'
import type { ExportItem, ExportOptions, ExportPage, ExportSnapshot } from './api.js'

export interface ExportSessionsInit {
  /** The peer id named in every export. */
  node: () => string
  /** @default MAX_OPEN_EXPORTS */
  maxOpen?: number
  /** @default EXPORT_IDLE_MS */
  idleMs?: number
}

interface OpenExport {
  replica: ReplicaSnapshot
  info: ExportSnapshot
  timer: NodeJS.Timeout
}

/** A cursor: the export's id, '.', the base64url of the last store key returned. */
const CURSOR = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)$/

export class ExportSessions {
  private readonly open = new Map<string, OpenExport>()
  private readonly init: ExportSessionsInit
  private readonly maxOpen: number
  private readonly idleMs: number

  constructor (init: ExportSessionsInit) {
    this.init = init
    this.maxOpen = init.maxOpen ?? MAX_OPEN_EXPORTS
    this.idleMs = init.idleMs ?? EXPORT_IDLE_MS
  }

  /** Exports open now (each holds a snapshot). */
  get size (): number {
    return this.open.size
  }

  async page (replica: Replica, options: ExportOptions = {}): Promise<ExportPage> {
    const limit = checkPageLimit(options.limit)
    const { id, after } = options.cursor === undefined || options.cursor === null
      ? { id: await this.start(replica), after: undefined }
      : this.resume(options.cursor)
    const session = this.open.get(id)
    if (session === undefined) throw expired()
    const items: ExportItem[] = []
    let bytes = 0
    let last: string | undefined
    let more = false
    try {
      for await (const { storeKey, state } of replica.snapshotStates(session.replica.snapshot, after)) {
        // One key past a full page tells whether another page follows: the last page carries no cursor.
        if (items.length >= limit || bytes >= MAX_EXPORT_PAGE_BYTES) {
          more = true
          break
        }
        const addr = fromStoreKey(storeKey)
        if (addr === undefined) continue // nothing else lives in `data`; never hand out what import refuses
        items.push({ space: addr.space, key: addr.key, state: Buffer.from(state).toString('base64url') })
        bytes += state.byteLength
        last = storeKey
      }
    } catch (err) {
      // The snapshot went away under us (expired meanwhile, the store reopened after a failure).
      if (!this.open.has(id) || (err as { code?: string }).code === 'LEVEL_SNAPSHOT_NOT_OPEN') throw expired()
      throw err
    }
    if (!more || last === undefined) {
      // The snapshot holds nothing past this page: the export is complete.
      await this.close(id)
      return { items, snapshot: session.info }
    }
    this.touch(id)
    return { items, snapshot: session.info, cursor: `${id}.${Buffer.from(last, 'utf8').toString('base64url')}` }
  }

  /** Closes every open export (node stop). */
  async closeAll (): Promise<void> {
    await Promise.all([...this.open.keys()].map(async id => { await this.close(id) }))
  }

  private async start (replica: Replica): Promise<string> {
    if (this.open.size >= this.maxOpen) {
      throw new LimitExceededError(`${this.open.size} exports are open already (at most ${this.maxOpen}); one closes with its last page or after ${this.idleMs} ms without one`)
    }
    const snap = await replica.snapshot()
    // Checked again: others may have started while the snapshot job waited for its turn.
    if (this.open.size >= this.maxOpen) {
      await snap.snapshot.close()
      throw new LimitExceededError(`${this.open.size} exports are open already (at most ${this.maxOpen})`)
    }
    const id = randomBytes(12).toString('base64url')
    const info: ExportSnapshot = { node: this.init.node(), keys: snap.keys, digest: snap.digest, at: new Date(snap.atMs).toISOString() }
    this.open.set(id, { replica: snap, info, timer: this.idleTimer(id) })
    return id
  }

  private resume (cursor: unknown): { id: string, after: string } {
    const m = typeof cursor === 'string' ? CURSOR.exec(cursor) : null
    if (m === null) throw new InvalidParamsError('cursor: not a node.export cursor returned by Chorus', { data: { field: 'cursor' } })
    const id = m[1] as string
    if (!this.open.has(id)) throw expired()
    return { id, after: Buffer.from(m[2] as string, 'base64url').toString('utf8') }
  }

  private idleTimer (id: string): NodeJS.Timeout {
    const timer = setTimeout(() => { void this.close(id) }, this.idleMs)
    timer.unref()
    return timer
  }

  private touch (id: string): void {
    const session = this.open.get(id)
    if (session === undefined) return
    clearTimeout(session.timer)
    session.timer = this.idleTimer(id)
  }

  private async close (id: string): Promise<void> {
    const session = this.open.get(id)
    if (session === undefined) return
    this.open.delete(id)
    clearTimeout(session.timer)
    await session.replica.snapshot.close().catch(() => {})
  }
}

function expired (): CursorExpiredError {
  return new CursorExpiredError('cursor: the export it belongs to is closed (it ended, stayed idle too long, or the node restarted): start the export again', { data: { field: 'cursor' } })
}

function checkPageLimit (limit: unknown): number {
  if (limit === undefined || limit === null) return DEFAULT_EXPORT_PAGE_KEYS
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_EXPORT_PAGE_KEYS) {
    throw new InvalidParamsError(`limit: must be an integer from 1 to ${MAX_EXPORT_PAGE_KEYS}`, { data: { field: 'limit' } })
  }
  return limit
}
