/**
 * The export file (docs/backup.md): JSON Lines. The first line is a header naming the format
 * and its version, then one line per key — its space, key and full causal state (base64url of
 * the canonical encoded state, exactly what node.export gives and node.import takes) — and a
 * last line that says the export is complete and how many keys it holds, so a cut-off file is
 * told apart from a whole one.
 *
 *   {"format":"chorus-export","version":1,"exportedAt":"…","node":"12D3KooW…","keys":3,"digest":"…"}
 *   {"space":"kv","key":"user/1","state":"…"}
 *   {"end":true,"keys":3}
 */
import { MAX_IMPORT_STATE_BYTES, MAX_IMPORT_STATE_CHARS, MAX_KEY_BYTES } from '../constants.js'
import { BackupFileError } from '../errors.js'
import type { ExportItem, ExportSnapshot } from '../node/api.js'

export const EXPORT_FORMAT = 'chorus-export'
/** Bumped when a reader of this version could not read a new file correctly. */
export const EXPORT_VERSION = 1

export interface ExportHeader {
  format: typeof EXPORT_FORMAT
  version: number
  /** When the node took the snapshot, ISO 8601. */
  exportedAt: string
  /** Peer id of the exporting node. */
  node: string
  /** Keys in the snapshot. */
  keys: number
  /** The exporting node's digest over exactly these states. */
  digest: string
}

export interface ExportTrailer { end: true, keys: number }

/**
 * The longest line an export holds: the largest state node.import takes in base64url, and a
 * key of 1 KiB escaped at worst as six characters per byte (\u00XX), with the field names.
 */
export const MAX_EXPORT_LINE_BYTES = MAX_IMPORT_STATE_CHARS + 6 * MAX_KEY_BYTES + 256

export function headerLine (snapshot: ExportSnapshot): string {
  const header: ExportHeader = { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: snapshot.at, node: snapshot.node, keys: snapshot.keys, digest: snapshot.digest }
  return JSON.stringify(header) + '\n'
}

export function itemLines (items: ExportItem[]): string {
  let text = ''
  for (const item of items) text += JSON.stringify({ space: item.space, key: item.key, state: item.state }) + '\n'
  return text
}

export function trailerLine (keys: number): string {
  return JSON.stringify({ end: true, keys } satisfies ExportTrailer) + '\n'
}

function parseObject (text: string, where: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new BackupFileError(`${where}: not valid JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BackupFileError(`${where}: not a JSON object`)
  return value as Record<string, unknown>
}

/** The first line; refuses anything that is not a header of a version this reader knows. */
export function parseHeader (text: string, where: string): ExportHeader {
  let h: Record<string, unknown>
  try {
    h = parseObject(text, where)
  } catch {
    throw new BackupFileError(`${where}: not a Chorus export (the first line must be a header {"format":"${EXPORT_FORMAT}","version":${EXPORT_VERSION},…})`)
  }
  if (h.format !== EXPORT_FORMAT) throw new BackupFileError(`${where}: not a Chorus export (the header's format is ${JSON.stringify(h.format)}, expected "${EXPORT_FORMAT}")`)
  if (h.version !== EXPORT_VERSION) throw new BackupFileError(`${where}: export format version ${JSON.stringify(h.version)} is not one this Chorus reads (it reads version ${EXPORT_VERSION})`)
  if (typeof h.keys !== 'number' || !Number.isSafeInteger(h.keys) || h.keys < 0) throw new BackupFileError(`${where}: the header's keys must be a count`)
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: typeof h.exportedAt === 'string' ? h.exportedAt : '',
    node: typeof h.node === 'string' ? h.node : '',
    keys: h.keys,
    digest: typeof h.digest === 'string' ? h.digest : ''
  }
}

const SPACES = new Set(['kv', 'counter', 'set', 'map'])
const ITEM_FIELDS = new Set(['space', 'key', 'state'])

/** A key's line, or the trailer. The node checks the key and the state again, as it would a peer's. */
export function parseLine (text: string, where: string): ExportItem | ExportTrailer {
  if (text.length === 0) throw new BackupFileError(`${where}: empty line`)
  const o = parseObject(text, where)
  if (o.end === true) {
    if (typeof o.keys !== 'number' || !Number.isSafeInteger(o.keys) || o.keys < 0) throw new BackupFileError(`${where}: the last line's keys must be a count`)
    return { end: true, keys: o.keys }
  }
  for (const field of Object.keys(o)) {
    if (!ITEM_FIELDS.has(field)) throw new BackupFileError(`${where}: unknown field ${JSON.stringify(field)} (a key's line has space, key and state)`)
  }
  if (typeof o.space !== 'string' || !SPACES.has(o.space)) throw new BackupFileError(`${where}: space must be "kv", "counter", "set" or "map"`)
  if (typeof o.key !== 'string' || o.key.length === 0) throw new BackupFileError(`${where}: key must be a non-empty string`)
  if (typeof o.state !== 'string' || !/^[A-Za-z0-9_-]+$/.test(o.state)) throw new BackupFileError(`${where}: state must be base64url text`)
  if (o.state.length > MAX_IMPORT_STATE_CHARS) {
    throw new BackupFileError(`${where}: the state of ${o.space} ${JSON.stringify(o.key)} is larger than node.import takes (${MAX_IMPORT_STATE_BYTES} bytes)`)
  }
  return { space: o.space as ExportItem['space'], key: o.key, state: o.state }
}
