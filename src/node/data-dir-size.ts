/** The bytes of the files under a directory (the data dir: LevelDB's tables and logs, the identity). */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Deep enough for the data dir's layout (dir/db/…); deeper entries are not counted. */
const MAX_DEPTH = 4

export async function directoryBytes (dir: string, depth = 0): Promise<number> {
  let total = 0
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (depth < MAX_DEPTH) total += await directoryBytes(path, depth + 1)
    } else if (entry.isFile()) {
      // A file LevelDB removed between the listing and the stat counts as 0.
      total += (await stat(path).catch(() => undefined))?.size ?? 0
    }
  }
  return total
}
