/**
 * The orchestrator's side of faults/agent.ts: one agent process per node namespace, calls
 * matched to answers by id. The agent enforces the client timeout; a spare local deadline
 * covers an agent that stops answering at all (then the outcome is "unknown" as well).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const AGENT = fileURLToPath(new URL('./agent.ts', import.meta.url))

export type Outcome =
  | { kind: 'ok', result: any }
  | { kind: 'failed', error: { code: number, message: string, data?: { code?: string } } }
  | { kind: 'unknown', reason: string }

export class AgentClient {
  private readonly child: ChildProcessWithoutNullStreams
  private nextId = 1
  private readonly pending = new Map<number, (o: Outcome) => void>()

  constructor (ns: string, rpcAddr: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', AGENT, rpcAddr], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr.on('data', (d: Buffer) => { process.stderr.write(`[agent ${ns}] ${d.toString()}`) })
    createInterface({ input: this.child.stdout }).on('line', line => {
      const msg = JSON.parse(line) as { id: number } & Outcome
      const done = this.pending.get(msg.id)
      this.pending.delete(msg.id)
      done?.(msg)
    })
    this.child.on('exit', () => {
      for (const done of this.pending.values()) done({ kind: 'unknown', reason: 'agent exited' })
      this.pending.clear()
    })
  }

  get pid (): number | undefined { return this.child.pid }

  async call (method: string, params: unknown, timeoutMs = 2000): Promise<Outcome> {
    const id = this.nextId++
    return await new Promise<Outcome>(resolve => {
      const spare = setTimeout(() => { this.pending.delete(id); resolve({ kind: 'unknown', reason: 'agent silent' }) }, timeoutMs + 5000)
      this.pending.set(id, o => { clearTimeout(spare); resolve(o) })
      this.child.stdin.write(JSON.stringify({ id, method, params, timeoutMs }) + '\n')
    })
  }

  /** A call that must succeed (set-up, checker reads): throws on anything but ok. */
  async must (method: string, params: unknown = {}, timeoutMs = 10_000): Promise<any> {
    const o = await this.call(method, params, timeoutMs)
    if (o.kind !== 'ok') throw new Error(`${method}: ${o.kind === 'failed' ? JSON.stringify(o.error) : o.reason}`)
    return o.result
  }

  close (): void {
    this.child.stdin.end()
    setTimeout(() => { try { this.child.kill('SIGKILL') } catch {} }, 1000).unref()
  }
}
