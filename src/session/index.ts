/** Causal sessions: tokens, positions, catch-up (docs/consistency.md "Sessions"). */
export { CatchUp, type CatchUpComponents } from './catch-up.js'
export { decodeToken, encodeToken } from './codec.js'
export { SessionPositions } from './positions.js'
export { parseSessionToken, sessionTokenProblem, Sessions } from './sessions.js'
export { VectorProtocol } from './vector-protocol.js'
export { comparePositions, formatPosition, mergeVectors, type Position, type SessionVector } from './vector.js'
