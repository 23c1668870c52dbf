/**
 * The command line, as a library: bin/chorus imports ./main.js, which runs it.
 */
export { buildProgram } from './program.js'
export { UsageError, parseHostPort, splitHostPort, applyConfigFile } from './options.js'
export { newClusterKey } from './keygen.js'
export { parseValueArg } from './client-commands.js'
