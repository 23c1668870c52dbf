// OrbitDB 3.0.2 baseline for the Chorus benchmarks. Run as a child process by
// bench/suites/orbitdb.ts with cwd = bench/orbitdb (so its own node_modules resolve):
//
//   node orbit-bench.mjs '{"quick":false}'
//
// Prints progress to stderr and one line `RESULT {json}` to stdout, then exits explicitly
// (OrbitDB 3.0.2 leaves 30 s timers behind on every block read/write).
//
// Networking: every peer listens on /ip4/127.0.0.1/tcp/0 and dials the others directly.
// No bootstrap list, no DHT, no relay, no mDNS, no delegated routing, no gateways.

// Node 20 lacks Promise.withResolvers (it-queue in libp2p's peer store calls it).
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

const { createLibp2p } = await import('libp2p')
const { tcp } = await import('@libp2p/tcp')
const { noise } = await import('@chainsafe/libp2p-noise')
const { yamux } = await import('@chainsafe/libp2p-yamux')
const { identify } = await import('@libp2p/identify')
const { gossipsub } = await import('@chainsafe/libp2p-gossipsub')
const { Helia } = await import('@helia/utils')
const { bitswap } = await import('@helia/block-brokers')
const { libp2pRouting } = await import('@helia/routers')
const { LevelBlockstore } = await import('blockstore-level')
const { LevelDatastore } = await import('datastore-level')
const { createOrbitDB, IPFSAccessController } = await import('@orbitdb/core')
const { mkdtemp, rm } = await import('node:fs/promises')
const { tmpdir } = await import('node:os')
const { join } = await import('node:path')
const { performance } = await import('node:perf_hooks')

const opts = JSON.parse(process.argv[2] ?? '{}')
const quick = opts.quick === true
const HARD_LIMIT_MS = quick ? 45_000 : 300_000

const N_SEQ = quick ? 30 : 1000
const N_CONC = quick ? 64 : 1000
const CONCURRENCY = 64
const N_LAT = quick ? 10 : 200
const LAT_SPACING_MS = 20
const N_BACKLOG = quick ? 50 : 1000
const VALUE = 'v'.repeat(100)

const log = (...a) => process.stderr.write(`[orbitdb] ${a.join(' ')}\n`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const hardTimer = setTimeout(() => {
  process.stdout.write(`RESULT ${JSON.stringify({ error: `hard time limit of ${HARD_LIMIT_MS} ms reached` })}\n`)
  process.exit(2)
}, HARD_LIMIT_MS)
hardTimer.unref()

let peakRssBytes = 0
const rssSampler = setInterval(() => {
  const r = process.memoryUsage.rss()
  if (r > peakRssBytes) peakRssBytes = r
}, 50)
rssSampler.unref()

const root = await mkdtemp(join(tmpdir(), 'chorus-bench-orbitdb-'))

async function makePeer (name) {
  const dir = join(root, name)
  const blockstore = new LevelBlockstore(join(dir, 'blocks'))
  const datastore = new LevelDatastore(join(dir, 'data'))
  await blockstore.open()
  await datastore.open()
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    datastore,
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false })
    }
  })
  const helia = new Helia({
    libp2p,
    blockstore,
    datastore,
    blockBrokers: [bitswap()],
    routers: [libp2pRouting(libp2p)]
  })
  await helia.start()
  const orbitdb = await createOrbitDB({ ipfs: helia, id: name, directory: join(dir, 'orbitdb') })
  return { name, helia, libp2p, orbitdb }
}

async function connect (from, to) {
  const addr = to.libp2p.getMultiaddrs().find((a) => a.toString().startsWith('/ip4/127.0.0.1/'))
  if (addr == null) throw new Error(`${to.name} has no 127.0.0.1 address`)
  await from.libp2p.dial(addr)
}

function pct (sorted, p) {
  if (sorted.length === 0) return null
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}
function dist (xs) {
  const s = [...xs].sort((a, b) => a - b)
  return {
    n: s.length,
    p50: pct(s, 50),
    p95: pct(s, 95),
    p99: pct(s, 99),
    max: s.length > 0 ? s[s.length - 1] : null,
    mean: s.length > 0 ? s.reduce((a, b) => a + b, 0) / s.length : null
  }
}

/** Resolves when `db` emits an update for `key`, or rejects after `ms`. */
function waitForKey (db, key, ms) {
  return new Promise((resolve, reject) => {
    const onUpdate = (entry) => {
      if (entry?.payload?.key === key) { cleanup(); resolve(performance.now()) }
    }
    const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out after ${ms} ms waiting for ${key}`)) }, ms)
    const cleanup = () => { clearTimeout(timer); db.events.off('update', onUpdate) }
    db.events.on('update', onUpdate)
  })
}

/** Waits until `db` has emitted no update for `quietMs` (max `maxMs`); resolves with the ms waited. */
async function quiesce (db, quietMs, maxMs) {
  let last = performance.now()
  const onUpdate = () => { last = performance.now() }
  db.events.on('update', onUpdate)
  const t0 = performance.now()
  while (performance.now() - last < quietMs && performance.now() - t0 < maxMs) await sleep(50)
  db.events.off('update', onUpdate)
  return performance.now() - t0
}

const result = { quick, version: null, peers: 2 }
try {
  const { readFile } = await import('node:fs/promises')
  result.version = JSON.parse(await readFile(new URL('./node_modules/@orbitdb/core/package.json', import.meta.url), 'utf8')).version

  log('starting peers A and B')
  const a = await makePeer('A')
  const b = await makePeer('B')
  await connect(b, a)

  const dbA = await a.orbitdb.open('chorus-bench', {
    type: 'keyvalue',
    AccessController: IPFSAccessController({ write: ['*'] })
  })
  const dbB = await b.orbitdb.open(dbA.address)
  // Let the gossipsub subscriptions and the head exchange settle before measuring.
  {
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      const peers = a.libp2p.services.pubsub.getSubscribers(dbA.address.toString())
      if (peers.length > 0) break
      await sleep(50)
    }
    await sleep(300)
  }

  // 1. put throughput, awaited, sequential
  log(`sequential puts: ${N_SEQ}`)
  {
    const lat = []
    const t0 = performance.now()
    for (let i = 0; i < N_SEQ; i++) {
      const s = performance.now()
      await dbA.put(`seq/${i}`, VALUE)
      lat.push(performance.now() - s)
    }
    const secs = (performance.now() - t0) / 1000
    result.putSequential = { ops: N_SEQ, seconds: secs, opsPerSec: N_SEQ / secs, latencyMs: dist(lat) }
  }

  // 2. put throughput, 64 concurrent writers
  log(`concurrent puts: ${N_CONC} with ${CONCURRENCY} in flight`)
  {
    const lat = []
    let next = 0
    const t0 = performance.now()
    const worker = async () => {
      while (next < N_CONC) {
        const i = next++
        const s = performance.now()
        await dbA.put(`conc/${i}`, VALUE)
        lat.push(performance.now() - s)
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    const secs = (performance.now() - t0) / 1000
    result.putConcurrent = { ops: N_CONC, concurrency: CONCURRENCY, seconds: secs, opsPerSec: N_CONC / secs, latencyMs: dist(lat) }
  }

  // Let B drain everything the throughput phases sent it before measuring latency.
  result.drainAfterThroughputMs = await quiesce(dbB, 1500, 180_000)

  // 3. replication latency: write on A, observe on B's update event
  log(`replication latency: ${N_LAT} writes, one every ${LAT_SPACING_MS} ms`)
  {
    const sent = new Map()
    const seen = new Map()
    const onUpdate = (entry) => {
      const k = entry?.payload?.key
      if (typeof k === 'string' && k.startsWith('lat/') && !seen.has(k)) seen.set(k, performance.now())
    }
    dbB.events.on('update', onUpdate)
    for (let i = 0; i < N_LAT; i++) {
      const k = `lat/${i}`
      sent.set(k, performance.now())
      await dbA.put(k, VALUE)
      await sleep(LAT_SPACING_MS)
    }
    const deadline = Date.now() + 15_000
    while (seen.size < N_LAT && Date.now() < deadline) await sleep(20)
    dbB.events.off('update', onUpdate)
    const lat = []
    for (const [k, t] of sent) { const v = seen.get(k); if (v != null) lat.push(v - t) }
    result.replication = { writes: N_LAT, observed: lat.length, latencyMs: dist(lat), note: 'from put() call on A to the update event on B' }
  }

  // 4. catch-up: C joins late, after a backlog of N_BACKLOG writes on A
  log(`catch-up: ${N_BACKLOG}-write backlog, then a new peer C joins`)
  {
    const t0w = performance.now()
    for (let i = 0; i < N_BACKLOG; i++) await dbA.put(`backlog/${i}`, VALUE)
    const writeSecs = (performance.now() - t0w) / 1000
    const lastKey = `backlog/${N_BACKLOG - 1}`
    // B also receives the backlog; let it finish so that C's catch-up has the process to itself.
    result.drainAfterBacklogMs = await quiesce(dbB, 1500, 180_000)

    const c = await makePeer('C')
    const t0 = performance.now()
    await connect(c, a)
    const dbC = await c.orbitdb.open(dbA.address)
    const seenAt = await waitForKey(dbC, lastKey, 120_000)
    const catchUpMs = seenAt - t0
    // Verify that the whole backlog arrived (a keyvalue get walks the log; do it once).
    const t1 = performance.now()
    const all = await dbC.all()
    const verifyMs = performance.now() - t1
    const backlogKeys = all.filter((e) => String(e.key).startsWith('backlog/')).length
    result.catchUp = { backlog: N_BACKLOG, backlogWriteSeconds: writeSecs, catchUpMs, keysOnC: all.length, backlogKeysOnC: backlogKeys, allReadMs: verifyMs, note: 'from C dialing A to C\'s update event for the last backlog entry' }
    result.peers = 3
  }

  // 5. a keyvalue get on A now (its log holds every write above)
  {
    const lat = []
    for (let i = 0; i < (quick ? 10 : 50); i++) {
      const s = performance.now()
      await dbA.get(`seq/${i}`)
      lat.push(performance.now() - s)
    }
    result.getLatencyMs = dist(lat)
  }
  result.peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss())
  result.maxRssBytes = process.resourceUsage().maxRSS * 1024
} catch (err) {
  result.error = String(err?.stack ?? err)
}

process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
// No graceful stop: OrbitDB 3.0.2 leaves timers and open handles; remove the temp dir and exit.
await rm(root, { recursive: true, force: true }).catch(() => {})
process.exit(result.error != null ? 1 : 0)
