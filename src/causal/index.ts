export { EMPTY_VV, vvGet, vvJoin, vvAdd, vvCovers, vvDescends, vvEquals, dotEquals, compareDots, isValidVersionVector } from './version-vector.js'
export type { VersionVector, Dot } from './version-vector.js'
export { EMPTY_REGISTER, writeRegister, mergeRegisters, registerWinner, hasConflict, isDeleted, compareSiblings } from './register.js'
export type { RegisterState, Sibling, RegisterWrite } from './register.js'
