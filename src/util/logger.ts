/**
 * The one way Chorus makes a logger, so every line has the same fields (docs/operations.md,
 * "Logs"): `time` (ISO 8601), `level` (a name: info, warn, …), `msg`, `component` (the part
 * that logs: replica, gossip, anti-entropy, rpc, cli, …), `node` (this node's peer id, once
 * known), `peer` (the other node a line is about), `err`. JSON lines, one per event; on a
 * terminal the same lines made readable by pino-pretty.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions, type StreamEntry } from 'pino'
import pretty from 'pino-pretty'

export type { Logger }

export interface LoggerInit {
  level: string
  /** Where the lines go; default stderr, readable when stderr is a terminal, JSON otherwise. */
  destination?: NodeJS.WritableStream
  /** Also receives every line at warn and above (the node's recent-errors ring). */
  errors?: DestinationStream
  /** Bound to every line. */
  component?: string
}

const OPTIONS: LoggerOptions = {
  base: null,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) }
}

/** stderr: readable on a terminal, JSON lines otherwise (a log collector, a file, a pipe). */
function stderr (): DestinationStream {
  if (process.stderr.isTTY === true) {
    return pretty({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'node', messageKey: 'msg' })
  }
  return pino.destination({ fd: 2, sync: true })
}

const LEVEL_ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

export function createLogger (init: LoggerInit): Logger {
  const streams: StreamEntry[] = []
  if (init.level !== 'silent') streams.push({ level: init.level as pino.Level, stream: (init.destination as DestinationStream | undefined) ?? stderr() })
  if (init.errors !== undefined) streams.push({ level: 'warn', stream: init.errors })
  // The logger lets through what its least severe stream wants: warnings reach the errors ring
  // even when the main stream is at error or silent.
  const level = init.errors !== undefined && LEVEL_ORDER.indexOf(init.level) > LEVEL_ORDER.indexOf('warn') ? 'warn' : init.level
  const logger = pino({ ...OPTIONS, level }, pino.multistream(streams))
  return init.component === undefined ? logger : logger.child({ component: init.component })
}
