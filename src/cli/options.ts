/**
 * Flag parsing shared by the commands: value parsers (which throw commander's
 * InvalidArgumentError, reported as a one-line error with exit code 2), strict booleans from
 * the environment, and the `--config FILE` layer.
 *
 * Precedence: flag > environment variable > config file > default. Commander handles the first,
 * second and last; applyConfigFile() fills in only options whose value is still the default.
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { InvalidArgumentError, Option } from 'commander'
import type { Command } from 'commander'
import { CLUSTER_NAME_PATTERN } from '../constants.js'
import { START_LIMITS, hostPortProblem, multiaddrProblem, splitHostPort, type IntegerOption } from '../start/index.js'

/** A usage or configuration error: printed as one line, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export function parseHostPort (value: string): string {
  const problem = hostPortProblem(value)
  if (problem !== undefined) throw new InvalidArgumentError(problem)
  return value.trim()
}

export { splitHostPort }

function checkMultiaddr (value: string): string {
  const problem = multiaddrProblem(value)
  if (problem !== undefined) throw new InvalidArgumentError(problem)
  return value.trim()
}

/**
 * A repeatable multiaddr option; values may also be comma-separated (that is how the
 * environment variable carries several). The first occurrence replaces the default.
 */
export function multiaddrList (defaults: readonly string[]): (value: string, previous: string[]) => string[] {
  return (value, previous) => {
    const items = value.split(',').map(s => s.trim()).filter(s => s.length > 0).map(checkMultiaddr)
    return previous === defaults ? items : [...previous, ...items]
  }
}

/** An integer option of `chorus start`, with its range from START_LIMITS. */
export function startInt (option: IntegerOption): (value: string) => number {
  return intIn(START_LIMITS[option].min, START_LIMITS[option].max)
}

export function intIn (min: number, max: number): (value: string) => number {
  return (value) => {
    const v = value.trim()
    if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`expected an integer between ${min} and ${max}`)
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer between ${min} and ${max}`)
    return n
  }
}

export function nonEmpty (what: string): (value: string) => string {
  return (value) => {
    if (value.length === 0) throw new InvalidArgumentError(`${what} must not be empty`)
    return value
  }
}

export function clusterName (value: string): string {
  if (!CLUSTER_NAME_PATTERN.test(value)) throw new InvalidArgumentError('use 1 to 64 letters, digits, \'.\', \'_\' or \'-\' (the name is part of every protocol id and topic)')
  return value
}

export function parseBool (value: string): boolean {
  switch (value.trim().toLowerCase()) {
    case '1': case 'true': case 'yes': case 'on': return true
    case '0': case 'false': case 'no': case 'off': case '': return false
    default: throw new InvalidArgumentError('expected true/false (or 1/0, yes/no, on/off)')
  }
}

/**
 * Commander sets a boolean option to true whenever its environment variable exists, whatever
 * its value: re-read such variables strictly, so that CHORUS_FSYNC=false means false.
 */
export function applyBooleanEnv (cmd: Command): void {
  for (const opt of cmd.options) {
    if (opt.envVar === undefined || opt.required || opt.optional || opt.negate) continue
    const name = opt.attributeName()
    if (cmd.getOptionValueSource(name) !== 'env') continue
    const raw = process.env[opt.envVar] ?? ''
    try {
      cmd.setOptionValueWithSource(name, parseBool(raw), 'env')
    } catch (err) {
      throw new UsageError(`environment variable ${opt.envVar}: ${(err as Error).message}, got ${JSON.stringify(raw)}`)
    }
  }
}

/** Options whose values are file paths: relative paths in a config file are relative to the file. */
const PATH_OPTIONS = new Set(['data', 'clusterKey', 'rpcTlsCert', 'rpcTlsKey', 'ca'])

/**
 * Reads `--config FILE` (a JSON object whose keys are the long flag names in camelCase) and
 * sets every option that still has its default (or no) value. Unknown keys are an error.
 */
export function applyConfigFile (cmd: Command, file: string | undefined): void {
  if (file === undefined) return
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`config file ${file} is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new UsageError(`config file ${file} must hold a JSON object`)
  }
  const byName = new Map<string, Option>()
  for (const opt of cmd.options) {
    const name = opt.attributeName()
    if (name === 'config' || name === 'printConfig' || name === 'help') continue
    if (!byName.has(name) || byName.get(name)?.negate === true) byName.set(name, opt)
  }
  for (const [key, raw] of Object.entries(config)) {
    const opt = byName.get(key)
    if (opt === undefined) {
      throw new UsageError(`config file ${file}: unknown key ${JSON.stringify(key)} (known: ${[...byName.keys()].join(', ')})`)
    }
    const source = cmd.getOptionValueSource(key)
    if (source !== undefined && source !== 'default') continue
    try {
      let value: unknown
      if (!opt.required && !opt.optional) {
        if (typeof raw === 'boolean') value = opt.negate ? !raw : raw
        else if (typeof raw === 'string') value = parseBool(raw)
        else throw new InvalidArgumentError('expected true or false')
      } else {
        const items = Array.isArray(raw) ? raw : [raw]
        if (items.length === 0 && Array.isArray(raw)) {
          value = []
        } else {
          value = cmd.getOptionValue(key)
          for (const item of items) {
            if (typeof item !== 'string' && typeof item !== 'number') throw new InvalidArgumentError('expected a string or a number')
            let s = String(item)
            if (PATH_OPTIONS.has(key) && !isAbsolute(s)) s = resolve(dirname(file), s)
            if (opt.argChoices !== undefined && !opt.argChoices.includes(s)) {
              throw new InvalidArgumentError(`expected one of ${opt.argChoices.join(', ')}`)
            }
            value = opt.parseArg !== undefined ? opt.parseArg(s, value as never) : s
          }
        }
      }
      cmd.setOptionValueWithSource(key, value, 'config')
    } catch (err) {
      throw new UsageError(`config file ${file}: ${key}: ${(err as Error).message}`)
    }
  }
}

/** Adds `--config FILE` (CHORUS_CONFIG); `example` shows keys this command takes. */
export function configOption (example = '{"rpc": "127.0.0.1:7070", "aeInterval": 2000}'): Option {
  return new Option('--config <file>', `read this command's options from a JSON file (keys: its long flag names in camelCase, e.g. ${example}); flags and environment variables win over it`).env('CHORUS_CONFIG')
}

/** Resolves all layers for `cmd` and returns its options. */
export function resolveOptions<T> (cmd: Command): T {
  applyBooleanEnv(cmd)
  applyConfigFile(cmd, cmd.getOptionValue('config') as string | undefined)
  return cmd.opts() as T
}
