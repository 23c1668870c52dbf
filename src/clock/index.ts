export { HybridLogicalClock, compareHlc, formatHlc, isValidHlc, ZERO_HLC, DEFAULT_MAX_DRIFT_MS } from './hlc.js'
export type { Hlc, HybridLogicalClockInit } from './hlc.js'
export { skewCorrection } from './skew.js'
