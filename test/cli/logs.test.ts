/**
 * The node's logs as an operator reads them (docs/operations.md, "Logs"): JSON lines with one
 * set of field names, ISO times and level names, no key twice on a line, and peers that connect
 * and go away told at info.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/nodes.js'
import { startProcess } from '../helpers/processes.js'

interface Line { level: string, time: string, msg: string, component?: string, node?: string, peer?: string }

function lines (stderr: string): Line[] {
  return stderr.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as Line)
}

/** The top-level keys of one JSON line, in order, repeats included (JSON.parse keeps only the last). */
function topLevelKeys (line: string): string[] {
  const keys: string[] = []
  let depth = 0
  let inString = false
  let start = -1
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (inString) {
      if (c === '\\') { i++; continue }
      if (c === '"') {
        inString = false
        if (depth === 1 && line[i + 1] === ':') keys.push(line.slice(start + 1, i))
      }
      continue
    }
    if (c === '"') { inString = true; start = i } else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return keys
}

describe('logs', () => {
  it('JSON lines with ISO times, level names and one set of fields; peers connecting and leaving at info', async () => {
    const a = await startProcess(['--log-level', 'info'])
    const b = await startProcess(['--log-level', 'info', '--bootstrap', a.listen])
    await waitFor(() => lines(a.stderr()).some(l => l.msg === 'peer connected' && l.peer === b.peerId), { what: 'a to log b connecting' })
    b.child.kill('SIGKILL')
    await waitFor(() => lines(a.stderr()).some(l => l.msg === 'peer disconnected' && l.peer === b.peerId), { what: 'a to log b going away' })

    const raw = a.stderr().split('\n').filter(l => l.trim() !== '')
    expect(raw.length).toBeGreaterThan(3)
    for (const text of raw) {
      const keys = topLevelKeys(text)
      expect(new Set(keys).size, text).toBe(keys.length)
      const line = JSON.parse(text) as Line & Record<string, unknown>
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level)
      expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      expect(typeof line.msg).toBe('string')
      // One name for the part that logs; none of the old ones.
      expect(line).not.toHaveProperty('app')
      expect(line).not.toHaveProperty('part')
      if (line.peer !== undefined) expect(line.peer).not.toBe(a.peerId)
    }
    const connected = lines(a.stderr()).find(l => l.msg === 'peer connected')
    expect(connected).toMatchObject({ level: 'info', component: 'peers', node: a.peerId, peer: b.peerId })
  })

  it('a bootstrap peer that cannot be reached is told at info', async () => {
    const gone = await startProcess(['--log-level', 'info'])
    gone.child.kill('SIGKILL')
    await gone.exited
    const c = await startProcess(['--log-level', 'info', '--bootstrap', gone.listen])
    await waitFor(() => lines(c.stderr()).some(l => l.level === 'info' && l.component === 'redialer' && l.msg === 'bootstrap dial failed; will retry'), { what: 'the failed bootstrap dial at info' })
  })
})
