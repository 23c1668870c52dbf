/**
 * A JSON-RPC relay that runs inside one node's network namespace (`ip netns exec`), where the
 * node's RPC listens on 127.0.0.1. The orchestrator writes one request per line on stdin
 * ({id, method, params, timeoutMs}); the agent answers one line per request on stdout:
 *   {id, kind: "ok", result} | {id, kind: "failed", error} | {id, kind: "unknown", reason}
 * "failed" is a JSON-RPC error response (the node answered: not applied); "unknown" is
 * anything where the node may or may not have applied it (timeout, refused, reset).
 * The agent exits when stdin closes, so it never outlives the orchestrator.
 */
import { createInterface } from 'node:readline'

const url = `http://${process.argv[2] ?? '127.0.0.1:7070'}/rpc`

interface Request { id: number, method: string, params: unknown, timeoutMs: number }

async function call (req: Request): Promise<Record<string, unknown>> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: req.method, params: req.params }),
      signal: AbortSignal.timeout(req.timeoutMs)
    })
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } }
    return { kind: 'unknown', reason: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.message) }
  }
  let body: { result?: unknown, error?: unknown }
  try {
    body = await res.json() as typeof body
  } catch (err) {
    // Cut off mid-answer (killed, timed out while reading): the node may have applied it.
    return { kind: 'unknown', reason: `bad response (HTTP ${res.status}): ${(err as Error).name}` }
  }
  if (body.error !== undefined) return { kind: 'failed', error: body.error }
  return { kind: 'ok', result: body.result }
}

const lines = createInterface({ input: process.stdin })
lines.on('line', line => {
  const req = JSON.parse(line) as Request
  void call(req).then(answer => { process.stdout.write(JSON.stringify({ id: req.id, ...answer }) + '\n') })
})
lines.on('close', () => { process.exit(0) })
