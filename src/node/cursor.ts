/** Scan cursors: the last key returned, opaque to clients (base64url of its UTF-8). */
import { InvalidParamsError } from '../errors.js'

export function encodeCursor (lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url')
}

export function decodeCursor (cursor: unknown, field = 'cursor'): string | undefined {
  if (cursor === undefined || cursor === null) return undefined
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidParamsError(`${field}: not a cursor returned by Chorus`, { data: { field } })
  }
  return Buffer.from(cursor, 'base64url').toString('utf8')
}

/**
 * Keys are ordered as LevelDB stores them: by their UTF-8 bytes. JavaScript's `<` compares
 * UTF-16 code units, which disagrees for characters above U+FFFF (an emoji sorts below U+FFFF
 * in UTF-16, above it in UTF-8): bounds compared that way let a scan list keys outside its
 * range, and a cursor step back so that paging never ended.
 */
export function compareKeys (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** Bounds of a key range: the intersection of a prefix, [start, end) and "after the cursor". */
export function scanBounds (opts: { prefix?: string, start?: string, end?: string, after?: string }): { gte?: string, gt?: string, lt?: string } {
  let lower = opts.prefix ?? ''
  if (opts.start !== undefined && compareKeys(opts.start, lower) > 0) lower = opts.start
  let upper: string | undefined = opts.prefix !== undefined && opts.prefix !== '' ? prefixEnd(opts.prefix) : undefined
  if (opts.end !== undefined && (upper === undefined || compareKeys(opts.end, upper) < 0)) upper = opts.end
  const bounds: { gte?: string, gt?: string, lt?: string } = {}
  if (opts.after !== undefined && compareKeys(opts.after, lower) >= 0) bounds.gt = opts.after
  else bounds.gte = lower
  if (upper !== undefined) bounds.lt = upper
  return bounds
}

/**
 * The least string greater than every string starting with `prefix`, for LevelDB's bytewise
 * order: U+10FFFF encodes as F4 8F BF BF, above any UTF-8 continuation of the prefix (keys
 * containing U+10FFFF right after the prefix are the one documented exception).
 */
function prefixEnd (prefix: string): string {
  return prefix + '\u{10FFFF}'
}
