/**
 * Starting a node with its RPC server: the options of `chorus start` (defaults and ranges in
 * one place), their checks for createNode(), and launchNode(), the one start path of both.
 * launch.js (libp2p, LevelDB) is not re-exported here: importers load it when they start a node.
 */
export { createNode } from './create-node.js'
export type { EmbeddedNode, LocalNode } from './create-node.js'
export { resolveCreateNodeOptions } from './resolve.js'
export type { CreateNodeOptions } from './resolve.js'
export {
  DEFAULT_RPC, LOG_LEVELS, START_DEFAULTS, START_LIMITS, camelName, clusterKeyBytes, flagName, toNodeInit
} from './options.js'
export type { IntegerOption, OptionNaming, StartOptions } from './options.js'
export { hostPortProblem, multiaddrProblem, splitHostPort } from './addresses.js'
export type { LaunchedNode } from './launch.js'
