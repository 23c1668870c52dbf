/**
 * At most `limit` streams of one protocol open with each peer: a push past it waits for a slot
 * (the peer refuses streams past the same limit). Waiters give up when their signal aborts,
 * so the queue holds only pushes of writes that still wait.
 */
export class PeerSlots {
  private readonly active = new Map<string, number>()
  private readonly waiters = new Map<string, Array<() => void>>()

  constructor (private readonly limit: number) {}

  /** A release function once a slot is free, or undefined if `signal` aborted first. */
  async acquire (peer: string, signal: AbortSignal): Promise<(() => void) | undefined> {
    while ((this.active.get(peer) ?? 0) >= this.limit) {
      if (signal.aborted) return undefined
      await new Promise<void>(resolve => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake)
          const queue = this.waiters.get(peer)
          const at = queue?.indexOf(wake) ?? -1
          if (at >= 0) queue?.splice(at, 1)
          if (queue?.length === 0) this.waiters.delete(peer)
          resolve()
        }
        signal.addEventListener('abort', wake, { once: true })
        this.waiters.set(peer, [...(this.waiters.get(peer) ?? []), wake])
      })
    }
    if (signal.aborted) return undefined
    this.active.set(peer, (this.active.get(peer) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.active.get(peer) ?? 1) - 1
      if (left === 0) this.active.delete(peer)
      else this.active.set(peer, left)
      this.waiters.get(peer)?.[0]?.()
    }
  }

  /** Wakes every waiter (the node is stopping: their signals abort too). */
  clear (): void {
    for (const queue of [...this.waiters.values()]) for (const wake of [...queue]) wake()
  }
}
