/**
 * Lines of a stream, each at most `maxBytes`, as strict UTF-8. A longer line is refused as soon
 * as it passes the bound, without being held whole (readline would buffer it all).
 */
import type { Readable } from 'node:stream'
import { BackupFileError } from '../errors.js'

export interface Line { number: number, text: string }

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export async function * readLines (input: Readable, maxBytes: number, name: string): AsyncGenerator<Line> {
  let parts: Buffer[] = []
  let length = 0
  let number = 1
  const finish = (): Line => {
    const bytes = parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts, length)
    parts = []
    length = 0
    let text: string
    try {
      text = STRICT_UTF8.decode(bytes)
    } catch {
      throw new BackupFileError(`${name}:${number}: not valid UTF-8`)
    }
    return { number: number++, text: text.endsWith('\r') ? text.slice(0, -1) : text }
  }
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start)
      const end = nl === -1 ? chunk.length : nl
      length += end - start
      if (length > maxBytes) throw new BackupFileError(`${name}:${number}: the line is longer than ${maxBytes} bytes (the largest state node.import takes, base64url, plus its key)`)
      if (end > start) parts.push(chunk.subarray(start, end))
      if (nl === -1) break
      yield finish()
      start = nl + 1
    }
  }
  if (length > 0) yield finish()
}
