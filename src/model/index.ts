export { KEY_SPACES, SPACE_TYPES, toStoreKey, fromStoreKey } from './key-space.js'
export type { KeySpace, SpaceType, StateBySpace } from './key-space.js'
export { keyProblem, memberProblem, encodeValue, checkedValue, CheckedValue, jsonDepthProblem, nonFiniteTextProblem } from './validate.js'
