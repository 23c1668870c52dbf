/**
 * A value that costs a scan to read (an index count, a directory's size), read again only once
 * it is older than `maxAgeMs`; concurrent readers share one read. For metrics scraped often.
 */
export class CachedReading {
  private value = 0
  private readAtMs = -Infinity
  private reading: Promise<number> | undefined

  constructor (private readonly maxAgeMs: number, private readonly readNow: () => Promise<number>, private readonly now: () => number = () => performance.now()) {}

  async read (): Promise<number> {
    if (this.now() - this.readAtMs < this.maxAgeMs) return this.value
    this.reading ??= this.readNow().then(value => {
      this.value = value
      this.readAtMs = this.now()
      return value
    }).finally(() => { this.reading = undefined })
    return await this.reading
  }
}
