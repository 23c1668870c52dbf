export { Store, bucketPrefix } from './store.js'
export type { StoreInit, StoreWrite, StoreSublevel, RangeOptions } from './store.js'
