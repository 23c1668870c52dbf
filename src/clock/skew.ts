/**
 * How far to pull our physical clock back so that a node whose clock runs ahead of the cluster
 * cannot win every last-writer-wins read or drag other clocks forward.
 *
 * Input: the offsets (peer clock − our clock) of recently heard peers. We take the lower median
 * of those offsets together with our own (0). If it lies more than `maxDriftMs` behind us, the
 * cluster's clock is behind ours and we adopt it; otherwise we keep ours. With two nodes the one
 * ahead defers; with more, a majority decides. A node that is *behind* is never moved forward —
 * its writes just lose ties, which harms no one else.
 */
export function skewCorrection (peerOffsetsMs: readonly number[], maxDriftMs: number, correcting = false): number {
  if (peerOffsetsMs.length === 0) return 0
  const all = [0, ...peerOffsetsMs].sort((a, b) => a - b)
  const lowerMedian = all[Math.floor((all.length - 1) / 2)] as number
  // Hysteresis: once correcting, keep at it until the skew is well inside the limit, so jitter
  // around the threshold cannot flip the clock back and forth.
  const limit = correcting ? maxDriftMs / 2 : maxDriftMs
  return lowerMedian < -limit ? Math.round(lowerMedian) : 0
}
