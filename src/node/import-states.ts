/**
 * node.import: exported states merged exactly as a peer's states are — through
 * Replica.applyRemote, so with the same validation and bounds, the same refusal of states this
 * node could not read back, the same rules for collected tombstones, and a causal merge that
 * never replaces a newer version with an older one. Importing the same states twice changes
 * nothing the second time.
 */
import { MAX_IMPORT_KEYS, MAX_IMPORT_STATE_BYTES, MAX_IMPORT_STATE_CHARS } from '../constants.js'
import { InvalidParamsError } from '../errors.js'
import { KEY_SPACES, keyProblem, toStoreKey, type KeySpace } from '../model/index.js'
import type { EncodedChange, Replica } from '../replica/index.js'
import type { ImportResult } from './api.js'

/** How applyRemote names the source of imported states in logs and identity checks. */
export const IMPORT_SOURCE = 'import'

const BASE64URL = /^[A-Za-z0-9_-]+$/


export async function importStates (replica: Replica, items: unknown): Promise<ImportResult> {
  const changes = checkItems(items)
  const report = await replica.applyRemote(changes, IMPORT_SOURCE)
  const superseded = report.superseded ?? 0
  const added = report.added ?? 0
  return {
    added,
    updated: report.changed - added,
    unchanged: report.applied - report.changed,
    rejected: report.rejected - superseded,
    superseded
  }
}

/** The node's own check of a request (it never trusts the RPC layer's). */
function checkItems (items: unknown): EncodedChange[] {
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_IMPORT_KEYS) {
    throw new InvalidParamsError(`items: must be an array of 1 to ${MAX_IMPORT_KEYS} items`, { data: { field: 'items' } })
  }
  return items.map((item: unknown, i) => {
    const at = `items[${i}]`
    if (typeof item !== 'object' || item === null) throw new InvalidParamsError(`${at}: must be an object`, { data: { field: at } })
    const { space, key, state } = item as Record<string, unknown>
    if (typeof space !== 'string' || !KEY_SPACES.includes(space as KeySpace)) {
      throw new InvalidParamsError(`${at}.space: must be one of ${KEY_SPACES.map(sp => JSON.stringify(sp)).join(', ')}`, { data: { field: `${at}.space` } })
    }
    const problem = keyProblem(key)
    if (problem !== undefined) throw new InvalidParamsError(`${at}.key: ${problem}`, { data: { field: `${at}.key` } })
    return { storeKey: toStoreKey(space as KeySpace, key as string), state: decodeState(state, `${at}.state`) }
  })
}

/** Strict base64url: the canonical text of the bytes, nothing a lenient decoder would guess at. */
function decodeState (state: unknown, field: string): Uint8Array {
  if (typeof state !== 'string' || state.length === 0 || !BASE64URL.test(state)) {
    throw new InvalidParamsError(`${field}: must be non-empty base64url text (an exported state)`, { data: { field } })
  }
  if (state.length > MAX_IMPORT_STATE_CHARS) {
    throw new InvalidParamsError(`${field}: a state of at most ${MAX_IMPORT_STATE_BYTES} bytes`, { data: { field } })
  }
  const bytes = Buffer.from(state, 'base64url')
  if (bytes.toString('base64url') !== state) throw new InvalidParamsError(`${field}: not canonical base64url`, { data: { field } })
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
