/** Showing the change feed on the command line. */
import type { ChangeEntry } from '../node/api.js'
import { ChorusRpcError } from '../rpc/index.js'

export function formatChange (c: ChangeEntry): string {
  return `${c.seq}\t${c.origin}\t${c.space}\t${c.key}${c.deleted ? '\t(deleted)' : ''}`
}

/**
 * ERR_HISTORY_GONE names the cursor to resume from only in `data`: a person reading the
 * message needs it too.
 */
export function withResumeCursor (err: unknown): unknown {
  if (err instanceof ChorusRpcError && err.data.code === 'ERR_HISTORY_GONE' && typeof err.data.cursor === 'string') {
    return new ChorusRpcError({ code: err.code, message: `${err.message}. The current cursor: ${err.data.cursor}`, data: err.data })
  }
  return err
}
