/**
 * Committed states of recently touched keys (encoded and decoded), so a hot key's next write
 * needs neither a LevelDB read nor a decode. Write-through: only the write path fills it, after
 * each commit, and every write goes through the write path, so it can never be stale. States
 * are immutable values, so sharing the decoded object is safe. `null` caches "absent".
 */
export interface CachedState {
  bytes: Uint8Array | null
  state: unknown
}

export class StateCache {
  private readonly entries = new Map<string, CachedState>()
  private readonly maxEntries: number

  constructor (maxEntries: number) {
    this.maxEntries = maxEntries
  }

  get (storeKey: string): CachedState | undefined {
    const hit = this.entries.get(storeKey)
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.entries.delete(storeKey)
      this.entries.set(storeKey, hit)
    }
    return hit
  }

  set (storeKey: string, value: CachedState): void {
    this.entries.delete(storeKey)
    this.entries.set(storeKey, value)
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
    }
  }

  delete (storeKey: string): void {
    this.entries.delete(storeKey)
  }
}
