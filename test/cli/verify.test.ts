import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CHORUS_BIN, rpc, startProcess } from '../helpers/processes.js'

const run = promisify(execFile)

describe('chorus verify', () => {
  it('verifies a stopped node\'s tree against its data and prints the same digest the node announced', async () => {
    const node = await startProcess()
    await rpc(node.url, 'kv.batch', { ops: Array.from({ length: 300 }, (_, i) => ({ op: 'put', key: `k${i}`, value: i })) })
    const { digest } = await rpc(node.url, 'node.info')
    // A running node holds the lock: verify refuses with a clear error.
    await expect(run(process.execPath, [CHORUS_BIN, 'verify', '--data', node.dataDir])).rejects.toMatchObject({ stderr: expect.stringContaining('in use') })
    node.child.kill('SIGTERM')
    expect(await node.exited).toBe(0)
    const { stdout } = await run(process.execPath, [CHORUS_BIN, 'verify', '--data', node.dataDir, '--json'])
    expect(JSON.parse(stdout)).toEqual({ keys: 300, mismatched: 0, orphaned: 0, repaired: 0, digest })
  })
})
