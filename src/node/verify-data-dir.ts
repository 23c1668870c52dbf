/**
 * Offline rebuild-and-verify of a (stopped) node's data directory: the node knows where its
 * LevelDB lives; the store does the checking.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { DataDirError } from '../errors.js'
import { Store, verifyTree, type VerifyOptions, type VerifyReport } from '../store/index.js'

export async function verifyDataDir (dataDir: string, options: VerifyOptions = {}): Promise<VerifyReport & { digest: string }> {
  if (!existsSync(join(dataDir, 'db'))) throw new DataDirError(`${dataDir} holds no Chorus database (expected ${join(dataDir, 'db')})`)
  const store = await Store.open({ location: join(dataDir, 'db'), fsync: true })
  try {
    const report = await verifyTree(store, options)
    // A repaired leaf index makes a shutdown snapshot of the tree stale: drop it.
    if (report.repaired > 0) await store.takeTreeSnapshot()
    const { tree } = await store.loadTree()
    return { ...report, digest: Buffer.from(tree.root()).toString('hex') }
  } finally {
    await store.close()
  }
}
