/**
 * scale10m: the scale measurements at 10,000,000 keys (10,000 in --quick), for issue 11's
 * goals at that size: RSS ≤ 400 MB, restart-to-ready ≤ 5 s, an in-sync check ≤ 64 bytes.
 * Loading takes minutes; `npm run bench -- scale10m` runs it alone.
 */
import { scaleSuite } from './scale.js'

export const suite = scaleSuite('scale10m', 61, 10_000_000, 'The scale suite at 10,000,000 keys (10,000 in --quick): one `bin/chorus` node loaded through kv.batch of 1,000 (2 clients), 100-byte values: load rate, RSS, data size on disk, restart-to-ready, the bytes of an anti-entropy exchange with an in-sync peer, full kv.scan throughput (120 s at most), kv.get latency.')
