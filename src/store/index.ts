export { Store, bucketPrefix } from './store.js'
export type { StoreInit, StoreWrite, StoreSublevel, StoreSnapshot, RangeOptions } from './store.js'
export { verifyTree } from './verify.js'
export type { VerifyReport, VerifyOptions } from './verify.js'
