export { createChorusNode } from './chorus-node.js'
export type { ChorusNode } from './chorus-node.js'
export type * from './api.js'
export { verifyDataDir } from './verify-data-dir.js'
