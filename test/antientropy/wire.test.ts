import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../../src/codec/index.js'
import { MAX_AE_FRESH_MS } from '../../src/constants.js'
import { decodeFrame, encodeFrame, FrameType, type Frame } from '../../src/antientropy/wire.js'
import { BucketSet } from '../../src/antientropy/tree-view.js'

describe('anti-entropy frames', () => {
  const frames: Frame[] = [
    { type: FrameType.Hello, version: 1, root: new Uint8Array(16).fill(7), keys: 1_000_000, window: 10, fresh: 1_000 },
    { type: FrameType.Nodes, level: 2, indices: [3, 65_535], hashes: new Uint8Array(128), pull: [4] },
    { type: FrameType.Entries, buckets: [1, 2], counts: [1, 0], leaves: new Uint8Array(6), pull: [] },
    { type: FrameType.Want, leaves: new Uint8Array(12) },
    { type: FrameType.States, states: [{ storeKey: 'r/k', state: new Uint8Array([1, 2]) }] },
    { type: FrameType.Done, level: 4, pull: [] },
    { type: FrameType.Busy },
    { type: FrameType.Refused, count: 3 },
    { type: FrameType.StatePart, storeKey: 'r/k', total: 10, offset: 4, bytes: new Uint8Array([1, 2, 3]) }
  ]

  it('round-trips every frame type', () => {
    for (const frame of frames) expect(decodeFrame(encodeFrame(frame))).toEqual(frame)
  })

  it('keeps the in-sync check small: HELLO and DONE', () => {
    expect(encodeFrame(frames[0] as Frame).length).toBeLessThanOrEqual(32)
    expect(encodeFrame({ type: FrameType.Done, level: 0, pull: [] }).length).toBe(4)
  })

  it('refuses malformed frames with ERR_PROTOCOL', () => {
    const bad = [
      new Uint8Array([0xff]),
      encodeCbor('hello'),
      encodeCbor([]),
      encodeCbor([42]),
      encodeCbor([FrameType.Hello, 1, new Uint8Array(15), 0, 0]),
      encodeCbor([FrameType.Hello, 1, new Uint8Array(16), 0, 11, 0]),
      // A HELLO of protocol version 2 (no fresh window), a fresh window past the limit, or negative.
      encodeCbor([FrameType.Hello, 2, new Uint8Array(16), 0, 0]),
      encodeCbor([FrameType.Hello, 3, new Uint8Array(16), 0, 0, MAX_AE_FRESH_MS + 1]),
      encodeCbor([FrameType.Hello, 3, new Uint8Array(16), 0, 0, -1]),
      encodeCbor([FrameType.Nodes, 1, new Uint8Array(3), new Uint8Array(0), new Uint8Array(0)]),
      encodeCbor([FrameType.Want, new Uint8Array(7)]),
      encodeCbor([FrameType.States, [['', new Uint8Array(1)]]]),
      encodeCbor([FrameType.States, [['r/' + 'x'.repeat(2000), new Uint8Array(1)]]]),
      encodeCbor([FrameType.States, [['r/k', 'not bytes']]]),
      encodeCbor([FrameType.Entries, new Uint8Array(2), [-1], new Uint8Array(0), new Uint8Array(0)]),
      encodeCbor([FrameType.Done, 1]),
      encodeCbor([FrameType.Refused, 0]),
      encodeCbor([FrameType.Refused, -1]),
      encodeCbor([FrameType.Refused]),
      encodeCbor([FrameType.StatePart, 'r/k', 10, 8, new Uint8Array(3)]),
      encodeCbor([FrameType.StatePart, 'r/k', 10, 0, new Uint8Array(0)]),
      encodeCbor([FrameType.StatePart, 'r/k', 65 * 1024 * 1024, 0, new Uint8Array(1)]),
      encodeCbor([FrameType.StatePart, '', 10, 0, new Uint8Array(1)]),
      encodeCbor([FrameType.StatePart, 'r/k', 10, 0])
    ]
    for (const bytes of bad) expect(() => decodeFrame(bytes)).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }))
  })

  it('takes each bucket range at most once', () => {
    const set = new BucketSet()
    expect(set.takeRange([0, 16])).toEqual([[0, 16]])
    expect(set.takeRange([8, 40])).toEqual([[16, 40]])
    expect(set.takeRange([0, 40])).toEqual([])
    set.add(50)
    expect(set.takeRange([48, 52])).toEqual([[48, 50], [51, 52]])
  })
})
