/**
 * Spawns and stops real `bin/chorus start` processes on loopback for the benchmarks.
 * Every node: --rpc 127.0.0.1:0, --listen /ip4/127.0.0.1/tcp/0, --no-mdns, bootstrap only to
 * other local nodes. All spawned processes are killed when the harness exits.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RpcClient } from './rpc.js'
import { now, sleep } from './stats.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** The binary under test; CHORUS_BENCH_BIN overrides it (e.g. an installed build elsewhere). */
export const BIN = process.env.CHORUS_BENCH_BIN ?? join(ROOT, 'bin', 'chorus')

const live = new Set<ChildProcess>()
/** SIGKILLs every node still running (a suite that overran its time limit; the harness exiting). */
export function killAll (): void {
  for (const p of live) { try { p.kill('SIGKILL') } catch {} }
  live.clear()
}
process.on('exit', killAll)

export interface NodeInfo { peerId: string, addrs: string[], rpcUrl: string, version: string, uptimeMs: number, keys: number, digest: string }

export interface ChorusNode {
  readonly dataDir: string
  readonly url: string
  readonly rpc: RpcClient
  readonly pid: number
  /** ms from spawn to the `ready` line. */
  readonly readyMs: number
  info: () => Promise<NodeInfo>
  /** SIGTERM, wait for exit (SIGKILL after `graceMs`); resolves with the ms it took. */
  stop: (graceMs?: number) => Promise<number>
  /** Current and peak resident set size of the node's process tree, bytes (Linux /proc). */
  rss: () => { rss: number | null, peak: number | null }
  /** CPU time the node's process tree has used so far, all threads, user + system, ms (Linux /proc); null when unreadable. */
  cpuMs: () => number | null
  stderrTail: () => string
  /** undefined while running; the exit code (or null for a signal) once the process has exited. */
  exitCode: () => number | null | undefined
}

export interface StartOptions {
  dataDir?: string
  bootstrap?: string[]
  extraArgs?: string[]
  readyTimeoutMs?: number
}

let availability: Promise<string | null> | undefined

/** null when bin/chorus looks runnable; otherwise the reason it is not. Checked once per run. */
export async function chorusUnavailable (): Promise<string | null> {
  availability ??= (async () => {
    if (!existsSync(BIN)) return `${BIN.startsWith(ROOT) ? BIN.slice(ROOT.length + 1) : BIN} does not exist yet`
    if (process.env.CHORUS_BENCH_BIN == null && !existsSync(join(ROOT, 'dist'))) return 'dist/ is missing: run `npm run build` first'
    return await new Promise<string | null>((resolve) => {
      const p = spawn(BIN, ['start', '--help'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      let err = ''
      p.stderr.on('data', (d: Buffer) => { err += d.toString() })
      const t = setTimeout(() => { p.kill('SIGKILL'); resolve('`bin/chorus start --help` did not finish in 15 s') }, 15_000)
      p.on('error', (e) => { clearTimeout(t); resolve(`bin/chorus: ${e.message}`) })
      p.on('exit', (code) => {
        clearTimeout(t)
        resolve(code === 0 ? null : `\`bin/chorus start --help\` exited ${String(code)}: ${err.trim().split('\n').slice(-3).join(' | ')}`)
      })
    })
  })()
  return await availability
}

export async function makeTempDir (prefix = 'chorus-bench-'): Promise<string> {
  return await mkdtemp(join(tmpdir(), prefix))
}

export async function removeDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => {})
}

function procStatus (pid: number): Record<string, number> {
  const out: Record<string, number> = {}
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(VmRSS|VmHWM):\s+(\d+)\s+kB/.exec(line)
      if (m?.[1] != null && m[2] != null) out[m[1]] = Number(m[2]) * 1024
    }
  } catch {}
  return out
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux build that matters). */
const CLOCK_TICKS_PER_S = 100

/** utime + stime of the process (all its threads), ms. */
export function processCpuMs (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) * 1000 / CLOCK_TICKS_PER_S : null
  } catch {
    return null
  }
}

function descendants (pid: number): number[] {
  const out = [pid]
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
      for (const k of kids.split(/\s+/)) if (k !== '') out.push(...descendants(Number(k)))
    }
  } catch {}
  return out
}

/** Bytes used on disk under `dir` (allocated blocks, like du). */
export function diskUsage (dir: string): number {
  let total = 0
  const walk = (d: string): void => {
    let entries: string[]
    try { entries = readdirSync(d) } catch { return }
    for (const e of entries) {
      const p = join(d, e)
      try {
        const s = statSync(p)
        if (s.isDirectory()) walk(p); else total += s.blocks * 512
      } catch {}
    }
  }
  walk(dir)
  return total
}

export async function startChorus (opts: StartOptions = {}): Promise<ChorusNode> {
  const dataDir = opts.dataDir ?? await makeTempDir()
  const args = ['start', '--data', dataDir, '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--log-level', 'warn']
  for (const b of opts.bootstrap ?? []) args.push('--bootstrap', b)
  args.push(...(opts.extraArgs ?? []))
  const t0 = now()
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('CHORUS_')) delete env[k]
  const proc = spawn(BIN, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env })
  live.add(proc)
  const errLines: string[] = []
  proc.stderr?.on('data', (d: Buffer) => {
    errLines.push(...d.toString().split('\n').filter((l) => l !== ''))
    if (errLines.length > 60) errLines.splice(0, errLines.length - 60)
  })
  let exited: number | null | undefined
  const exitPromise = new Promise<void>((resolve) => proc.on('exit', (code) => { exited = code; live.delete(proc); resolve() }))

  const url = await new Promise<string>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`chorus did not print ready in ${opts.readyTimeoutMs ?? 60_000} ms; stderr: ${errLines.slice(-5).join(' | ')}`))
    }, opts.readyTimeoutMs ?? 60_000)
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (/ready/i.test(line)) {
          const m = /https?:\/\/[^\s"'<>,]+/.exec(line)
          let u = m?.[0]
          if (u == null) { try { u = readFileSync(join(dataDir, 'rpc.url'), 'utf8').trim() } catch {} }
          if (u != null) { clearTimeout(timer); resolve(u.replace(/\/+$/, '')) }
        }
      }
    })
    void exitPromise.then(() => { clearTimeout(timer); reject(new Error(`chorus exited ${String(exited)} before ready; stderr: ${errLines.slice(-5).join(' | ')}`)) })
  })
  const readyMs = now() - t0
  const base = new URL(url)
  const rpcUrl = `${base.protocol}//${base.host}/rpc`
  const rpc = new RpcClient(rpcUrl)
  const pid = proc.pid ?? -1
  return {
    dataDir,
    url: rpcUrl,
    rpc,
    pid,
    readyMs,
    info: async () => await rpc.call<NodeInfo>('node.info', {}),
    stop: async (graceMs = 15_000) => {
      const s = now()
      rpc.close()
      if (exited !== undefined) return 0
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs)
      await exitPromise
      clearTimeout(t)
      return now() - s
    },
    rss: () => {
      let rss = 0
      let peak = 0
      let any = false
      for (const p of descendants(pid)) {
        const st = procStatus(p)
        if (st.VmRSS != null) { any = true; rss += st.VmRSS; peak += st.VmHWM ?? 0 }
      }
      return any ? { rss, peak } : { rss: null, peak: null }
    },
    cpuMs: () => {
      let total = 0
      for (const p of descendants(pid)) {
        const ms = processCpuMs(p)
        if (ms == null) return null
        total += ms
      }
      return total
    },
    stderrTail: () => errLines.slice(-10).join('\n'),
    exitCode: () => exited
  }
}

/** Loopback TCP multiaddrs of a node, with its peer id appended when missing. */
export function dialAddrs (info: NodeInfo): string[] {
  return info.addrs
    .filter((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))
    .map((a) => a.includes('/p2p/') ? a : `${a}/p2p/${info.peerId}`)
}

/** Polls until every node reports the same digest (and `pred` holds, if given). Resolves with ms waited, or null on timeout. */
export async function waitConverged (nodes: ChorusNode[], timeoutMs: number, intervalMs = 20): Promise<number | null> {
  const s = now()
  while (now() - s < timeoutMs) {
    try {
      const infos = await Promise.all(nodes.map(async (n) => await n.info()))
      const d = infos[0]?.digest
      if (d != null && infos.every((i) => i.digest === d)) return now() - s
    } catch {}
    await sleep(intervalMs)
  }
  return null
}

/** Starts `count` nodes, each bootstrapping to every earlier node. */
export async function startCluster (count: number, extraArgs: string[] = []): Promise<ChorusNode[]> {
  const nodes: ChorusNode[] = []
  const boots: string[] = []
  try {
    for (let i = 0; i < count; i++) {
      const n = await startChorus({ bootstrap: [...boots], extraArgs })
      nodes.push(n)
      boots.push(...dialAddrs(await n.info()))
    }
  } catch (err) {
    await stopAll(nodes, true)
    throw err
  }
  return nodes
}

/** Polls cluster.peers on every node until each sees `count - 1` connected peers. */
export async function waitMesh (nodes: ChorusNode[], timeoutMs = 15_000): Promise<boolean> {
  const s = now()
  while (now() - s < timeoutMs) {
    try {
      const views = await Promise.all(nodes.map(async (n) => await n.rpc.call<Array<{ connected?: boolean }>>('cluster.peers', {})))
      if (views.every((v) => Array.isArray(v) && v.filter((p) => p.connected === true).length >= nodes.length - 1)) return true
    } catch {}
    await sleep(100)
  }
  return false
}

/** Notes for nodes that died during a measurement (before we stopped them). */
export function crashNotes (nodes: ChorusNode[], label: string): string[] {
  const out: string[] = []
  nodes.forEach((n, i) => {
    const code = n.exitCode()
    if (code !== undefined) out.push(`${label}: node ${i} exited on its own (code ${String(code)}); stderr: ${n.stderrTail().split('\n').slice(-3).join(' | ').slice(0, 400)}`)
  })
  return out
}

export async function stopAll (nodes: ChorusNode[], removeData = true): Promise<void> {
  await Promise.all(nodes.map(async (n) => { await n.stop().catch(() => 0) }))
  if (removeData) await Promise.all(nodes.map(async (n) => { await removeDir(n.dataDir) }))
}

/** CPU the nodes used while `work` ran, ms per node (null where unreadable). */
export async function cpuDuring<T> (nodes: ChorusNode[], work: () => Promise<T>): Promise<{ result: T, cpuMs: Array<number | null> }> {
  const before = nodes.map(n => n.cpuMs())
  const result = await work()
  const cpuMs = nodes.map((n, i) => {
    const a = before[i]
    const b = n.cpuMs()
    return a == null || b == null ? null : b - a
  })
  return { result, cpuMs }
}

/** Anti-entropy bytes the nodes have sent so far, as they count them (`chorus_ae_bytes_total`), summed: tree metadata and key state apart. */
export async function aeBytesSent (nodes: ChorusNode[]): Promise<{ meta: number, state: number }> {
  const texts = await Promise.all(nodes.map(async n => await (await fetch(n.url.replace(/\/rpc$/, '/metrics'))).text()))
  const sum = (kind: string): number => texts.reduce((total, text) => {
    const line = text.split('\n').find(l => l.startsWith(`chorus_ae_bytes_total{direction="sent",kind="${kind}"}`))
    return total + Number(line?.split(' ')[1] ?? 0)
  }, 0)
  return { meta: sum('meta'), state: sum('state') }
}
