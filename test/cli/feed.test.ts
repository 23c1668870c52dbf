/**
 * The change feed as an operator uses it: real `chorus start` processes and the real bin/chorus.
 * `chorus changes` pages through what changed and prints the cursor to resume from; `chorus
 * watch --since` replays what it missed; after `kill -9` the feed and the data agree.
 */
import { describe, expect, it } from 'vitest'
import { rpc, startProcess } from '../helpers/processes.js'
import { chorus, spawnChorus, waitFor } from './helpers.js'

const cursorOf = (stderr: string): string => {
  const m = /^cursor: (\S+)$/m.exec(stderr)
  if (m === null) throw new Error(`no cursor in: ${stderr}`)
  return m[1] as string
}

describe('chorus changes / chorus watch --since', () => {
  it('changes lists what changed in order and prints the cursor; --since C gives exactly what followed', async () => {
    const node = await startProcess()
    await rpc(node.url, 'kv.put', { key: 'user/1', value: 'ada' })
    await rpc(node.url, 'counter.incr', { key: 'hits', by: 2 })
    await rpc(node.url, 'set.add', { key: 'tags', members: ['a'] })
    await rpc(node.url, 'kv.delete', { key: 'user/1' })

    const all = await chorus(['changes', '--url', node.url])
    expect(all.code).toBe(0)
    expect(all.stdout.trim().split('\n')).toEqual(['1\tlocal\tkv\tuser/1', '2\tlocal\tcounter\thits', '3\tlocal\tset\ttags', '4\tlocal\tkv\tuser/1\t(deleted)'])
    const cursor = cursorOf(all.stderr)
    expect(all.stderr).toContain(`chorus changes --since ${cursor}`)

    await rpc(node.url, 'kv.put', { key: 'user/2', value: 'bob' })
    await rpc(node.url, 'kv.put', { key: 'other', value: 1 })
    const next = await chorus(['changes', '--url', node.url, '--since', cursor, '--prefix', 'user/', '--json'])
    expect(next.code).toBe(0)
    const page = JSON.parse(next.stdout) as { changes: Array<{ seq: number, key: string }>, cursor: string }
    expect(page.changes.map(c => [c.seq, c.key])).toEqual([[5, 'user/2']])
    // Past the filtered change too: nothing is left after it.
    const none = await chorus(['changes', '--url', node.url, '--since', page.cursor, '--json'])
    expect(JSON.parse(none.stdout)).toEqual({ changes: [], cursor: page.cursor })

    const limited = await chorus(['changes', '--url', node.url, '--limit', '2'])
    expect(limited.stdout.trim().split('\n').map(l => l.split('\t')[0])).toEqual(['1', '2'])

    const bad = await chorus(['changes', '--url', node.url, '--since', 'nonsense'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/params\.since/)
  })

  it('watch prints the cursor on exit; watch --since replays what happened meanwhile, then goes on live', async () => {
    const node = await startProcess()
    const first = spawnChorus(['watch', '--url', node.url, '--prefix', 'w/'])
    // The subscription is in place once a write made after starting it shows up.
    await waitFor('the first watch to see a write', async () => {
      await rpc(node.url, 'kv.put', { key: 'w/0', value: 0 })
      return first.lines.some(l => l.includes('w/0'))
    })
    expect(await first.stop()).toBe(0)
    const cursor = cursorOf(first.stderr())
    expect(first.stderr()).toContain(`chorus watch --since ${cursor}`)

    await rpc(node.url, 'kv.put', { key: 'w/1', value: 'while away' })
    await rpc(node.url, 'counter.incr', { key: 'w/2' })
    const second = spawnChorus(['watch', '--url', node.url, '--prefix', 'w/', '--since', cursor])
    await second.waitLine(/w\/2/)
    await rpc(node.url, 'set.add', { key: 'w/3', members: ['live'] })
    await second.waitLine(/w\/3/)
    expect(second.lines.filter(l => !l.includes('w/0'))).toEqual([
      'local\tkv\tw/1\t"while away"\t(replayed)',
      'local\tcounter\tw/2\t1\t(replayed)',
      'local\tset\tw/3\t["live"]'
    ])
    expect(await second.stop()).toBe(0)

    const foreign = await chorus(['watch', '--url', node.url, '--since', 'ZjEgMDAxMTIyMzM0NDU1NjY3NyA1IDEyRDNLb29XT3RoZXI'])
    expect(foreign.code).toBe(1)
    expect(foreign.stderr).toMatch(/issued by node 12D3KooWOther/)
  })

  it('after kill -9 the feed lists exactly the acknowledged writes, and the node goes on from there', async () => {
    let node = await startProcess()
    const acknowledged: string[] = []
    for (let i = 0; i < 40; i++) {
      await rpc(node.url, i % 2 === 0 ? 'kv.put' : 'counter.incr', i % 2 === 0 ? { key: `k${i}`, value: i } : { key: `k${i}` })
      acknowledged.push(`k${i}`)
    }
    node.child.kill('SIGKILL')
    await node.exited
    node = await startProcess([], node.dataDir)
    const after = JSON.parse((await chorus(['changes', '--url', node.url, '--json'])).stdout) as { changes: Array<{ seq: number, key: string }>, cursor: string }
    expect(after.changes.map(c => c.key)).toEqual(acknowledged)
    expect(after.changes.map(c => c.seq)).toEqual(acknowledged.map((_, i) => i + 1))
    await rpc(node.url, 'kv.put', { key: 'next', value: 1 })
    const next = JSON.parse((await chorus(['changes', '--url', node.url, '--since', after.cursor, '--json'])).stdout) as { changes: Array<{ seq: number, key: string }> }
    expect(next.changes).toEqual([expect.objectContaining({ seq: 41, key: 'next' })])
  })
})
