// The node console, served at GET / (docs/operations.md, "The console"). Plain browser
// JavaScript, no build step and no external assets. It talks JSON-RPC to the node that served
// it: over one WebSocket (a refresh every 2 s), over POST /rpc until that is open.
// Everything the store holds is shown with textContent, never as HTML: values are user data.
'use strict'
;(() => {
  const TOKEN_KEY = 'chorus.rpcToken'
  const REFRESH_MS = 2000
  const CONFLICTS_SHOWN = 20
  const ERRORS_SHOWN = 20
  // `session` counts logins and logouts: a refresh that was in flight across one does not go on.
  const state = { token: sessionStorage.getItem(TOKEN_KEY) ?? '', ws: undefined, nextId: 1, waiting: new Map(), last: undefined, timer: undefined, editing: new Set(), session: 0 }

  // ---- DOM

  function h (tag, attrs = {}, ...children) {
    const el = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') el.className = v
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
      else if (v !== undefined && v !== false) el.setAttribute(k, v === true ? '' : v)
    }
    for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c))
    return el
  }
  const $ = (id) => document.getElementById(id)
  const fill = (id, ...children) => { const el = $(id); el.replaceChildren(...children.flat()); return el }

  function ago (ms) {
    if (ms === undefined || ms === null || ms < 0) return 'never'
    const s = Math.round(ms / 1000)
    if (s < 2) return 'now'
    if (s < 120) return `${s} s ago`
    if (s < 7200) return `${Math.round(s / 60)} min ago`
    return `${Math.round(s / 3600)} h ago`
  }
  function duration (ms) {
    const s = Math.floor(ms / 1000)
    const d = Math.floor(s / 86400); const hh = Math.floor((s % 86400) / 3600); const m = Math.floor((s % 3600) / 60)
    return d > 0 ? `${d} d ${hh} h` : hh > 0 ? `${hh} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`
  }
  const json = (v) => JSON.stringify(v)
  /** A peer id's ends (the full id is the title): 52 characters break a phone's table. */
  const shortId = (id) => id.length > 20 ? `${id.slice(0, 8)}…${id.slice(-8)}` : id

  // ---- JSON-RPC

  class RpcError extends Error {
    constructor (error) { super(error.message); this.code = error.code; this.data = error.data }
  }

  function authHeaders () {
    return state.token === '' ? {} : { authorization: `Bearer ${state.token}` }
  }

  async function rpc (method, params = {}) {
    if (state.ws?.readyState === WebSocket.OPEN) {
      const id = state.nextId++
      const answer = new Promise((resolve, reject) => { state.waiting.set(id, { resolve, reject }) })
      state.ws.send(json({ jsonrpc: '2.0', id, method, params }))
      return await answer
    }
    const res = await fetch('/rpc', { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders() }, body: json({ jsonrpc: '2.0', id: state.nextId++, method, params }) })
    if (res.status === 401) throw new RpcError({ code: -32001, message: 'unauthorized', data: { code: 'ERR_UNAUTHORIZED' } })
    const reply = await res.json()
    if (reply.error !== undefined) throw new RpcError(reply.error)
    return reply.result
  }

  function base64url (text) {
    const bytes = new TextEncoder().encode(text)
    let bin = ''
    for (const b of bytes) bin += String.fromCharCode(b)
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  }

  /** One WebSocket for calls and change events; the token travels as a subprotocol, never in the URL. */
  function openSocket () {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`
    const ws = new WebSocket(url, state.token === '' ? ['chorus'] : ['chorus', `chorus-token.${base64url(state.token)}`])
    state.ws = ws
    // Calls only: a kv.watch would stream every value written, which a busy node's console
    // does not need to see a conflict within a refresh.
    ws.addEventListener('open', () => { setLive(true) })
    ws.addEventListener('message', (evt) => {
      let msg
      try { msg = JSON.parse(evt.data) } catch { return }
      if (msg === null || typeof msg !== 'object') return
      const waiter = state.waiting.get(msg.id)
      if (waiter === undefined) return
      state.waiting.delete(msg.id)
      if (msg.error !== undefined) waiter.reject(new RpcError(msg.error))
      else waiter.resolve(msg.result)
    })
    ws.addEventListener('close', () => {
      setLive(false)
      for (const w of state.waiting.values()) w.reject(new Error('the connection closed'))
      state.waiting.clear()
      if (state.ws === ws) setTimeout(() => { if (state.ws === ws) openSocket() }, 2000)
    })
  }

  function setLive (on) {
    fill('live', on ? h('span', { class: 'ok' }, '● live') : h('span', { class: 'warn' }, '● reconnecting'))
  }

  // ---- metrics

  async function metrics () {
    const res = await fetch('/metrics', { headers: authHeaders() })
    const out = new Map()
    for (const line of (await res.text()).split('\n')) {
      if (line === '' || line.startsWith('#')) continue
      const at = line.lastIndexOf(' ')
      out.set(line.slice(0, at), Number(line.slice(at + 1)))
    }
    return out
  }

  function rates (m) {
    const now = performance.now()
    const local = m.get('chorus_local_ops_total') ?? 0
    const remote = m.get('chorus_remote_changed_total') ?? 0
    const prev = state.last
    state.last = { at: now, local, remote }
    if (prev === undefined || now <= prev.at) return { local: undefined, remote: undefined }
    const s = (now - prev.at) / 1000
    return { local: (local - prev.local) / s, remote: (remote - prev.remote) / s }
  }

  // ---- panels

  function stat (label, value, cls) {
    return h('div', { class: 'stat' }, h('b', { class: cls }, value), h('span', {}, label))
  }

  /** From kv.conflicts, refreshed with the conflicts panel (the metric is a 30 s old scan). */
  function conflictStat () {
    const n = state.conflicts
    const el = stat('conflicted keys', n === undefined ? '…' : `${n}${n >= CONFLICTS_SHOWN ? '+' : ''}`, n > 0 ? 'warn' : 'ok')
    el.id = 'stat-conflicts'
    return el
  }

  function exposure (info) {
    if (info.exposure === 'cluster-key') return 'nodes holding the cluster key'
    if (info.exposure === 'this-host') return 'processes on this host only (no cluster key)'
    return h('span', { class: 'bad' }, 'anyone: no cluster key, open')
  }

  function renderNode (info, m, r, members) {
    fill('node-id', info.peerId)
    const correction = m.get('chorus_clock_correction_seconds') ?? 0
    const holding = members === undefined ? undefined : members.filter(x => x.holdsGc).length
    fill('node',
      h('div', { class: 'stats' },
        stat('keys', info.keys.toLocaleString()),
        stat('writes/s here', r.local === undefined ? '…' : r.local.toFixed(1)),
        stat('replicated in/s', r.remote === undefined ? '…' : r.remote.toFixed(1)),
        conflictStat(),
        stat('tombstones', String(m.get('chorus_tombstones') ?? '?')),
        stat('members holding GC', holding === undefined ? '–' : String(holding), holding > 0 ? 'warn' : 'ok'),
        stat('clock correction', correction === 0 ? 'none' : `${(correction * 1000).toFixed(0)} ms`, correction === 0 ? 'ok' : 'bad'),
        stat('uptime', duration(info.uptimeMs))),
      h('div', { class: 'scroll' }, h('table', {},
        h('tr', {}, h('th', {}, 'digest'), h('td', {}, h('code', {}, info.digest))),
        h('tr', {}, h('th', {}, 'version'), h('td', {}, info.version)),
        h('tr', {}, h('th', {}, 'who may connect'), h('td', {}, exposure(info))),
        h('tr', {}, h('th', {}, 'listening'), h('td', {}, info.addrs.map(a => h('div', {}, h('code', {}, a))))))))
  }

  function renderPeers (peers, members) {
    const byId = new Map((members ?? []).map(x => [x.peerId, x]))
    const ids = [...new Set([...peers.map(p => p.peerId), ...byId.keys()])].sort()
    const inSync = peers.filter(p => p.inSync === true).length
    fill('peers-title', `Peers (${peers.filter(p => p.connected).length} connected, ${inSync} in sync)`)
    if (ids.length === 0) { fill('peers', h('p', { class: 'dim' }, 'No peer known yet: check the cluster key and the bootstrap addresses.')); return }
    const peerById = new Map(peers.map(p => [p.peerId, p]))
    fill('peers', h('div', { class: 'scroll' }, h('table', {},
      h('tr', {}, ['peer', 'connection', 'data', 'last seen', 'last complete sync', 'tombstone GC'].map(t => h('th', {}, t))),
      ids.map(id => {
        const p = peerById.get(id); const mem = byId.get(id)
        const data = p?.inSync === true ? h('span', { class: 'ok' }, '✔ in sync') : p?.inSync === false ? h('span', { class: 'warn' }, '✘ differs') : h('span', { class: 'dim' }, '?')
        return h('tr', { 'data-peer': id },
          h('td', {}, h('code', { title: id }, shortId(id))),
          h('td', {}, p?.connected ? h('span', { class: 'ok' }, 'connected') : h('span', { class: 'dim' }, 'disconnected')),
          h('td', {}, data),
          h('td', {}, p?.connected ? 'now' : ago(mem?.lastSeenMs ?? p?.lastSeenMs)),
          h('td', {}, mem === undefined ? '–' : ago(mem.lastSyncMs)),
          h('td', {}, mem === undefined ? '–' : mem.holdsGc ? h('span', { class: 'warn' }, 'holds it back') : h('span', { class: 'ok' }, 'ok')))
      }))))
  }

  function renderErrors (errors) {
    if (errors === undefined) { fill('errors', h('p', { class: 'dim' }, 'This node does not report its errors.')); return }
    if (errors.length === 0) { fill('errors', h('p', { class: 'ok' }, 'No warnings or errors since the node started.')); return }
    fill('errors', h('div', { class: 'scroll' }, h('table', {},
      h('tr', {}, ['when', 'level', 'part', 'message'].map(t => h('th', {}, t))),
      errors.slice(-ERRORS_SHOWN).reverse().map(e => h('tr', {},
        h('td', {}, ago(Date.now() - Date.parse(e.time))),
        h('td', { class: e.level === 'error' ? 'bad' : 'warn' }, e.level),
        h('td', {}, e.component ?? ''),
        h('td', {}, e.msg))))))
  }

  // ---- conflicts

  async function refreshConflicts () {
    const { keys } = await rpc('kv.conflicts', { limit: CONFLICTS_SHOWN })
    const reads = await Promise.all(keys.map(async key => ({ key, read: await rpc('kv.get', { key, all: true }) })))
    const shown = reads.filter(x => x.read.conflict)
    state.conflicts = shown.length
    $('stat-conflicts')?.replaceWith(conflictStat())
    fill('conflicts-title', `Conflicts (${shown.length}${keys.length >= CONFLICTS_SHOWN ? '+' : ''})`)
    // A merge being typed is not swept away by a refresh.
    if ([...state.editing].some(k => shown.some(x => x.key === k))) return
    if (shown.length === 0) { fill('conflicts', h('p', { class: 'ok' }, 'No key has concurrent versions.')); return }
    fill('conflicts', shown.map(({ key, read }) => conflictCard(key, read)))
  }

  function conflictCard (key, read) {
    const status = h('span', { class: 'dim' })
    const act = async (what, call) => {
      for (const b of card.querySelectorAll('button')) b.disabled = true
      status.textContent = `${what}…`
      try {
        await call()
        state.editing.delete(key)
        status.textContent = 'resolved'
        await refreshConflicts()
      } catch (err) {
        status.className = 'error'
        status.textContent = `${what} failed: ${err.message}`
        for (const b of card.querySelectorAll('button')) b.disabled = false
      }
    }
    const merged = h('textarea', { rows: '3', 'aria-label': `merged value for ${key}`, onfocus: () => state.editing.add(key) })
    merged.value = json(read.value)
    const card = h('div', { class: 'conflict', 'data-key': key },
      h('div', {}, h('code', {}, key), ' ', h('span', { class: 'warn' }, `${read.values.length} concurrent versions`)),
      read.values.map((s, i) => h('div', { class: 'sibling' },
        h('code', { class: 'value' }, s.deleted ? '(deleted)' : json(s.value)),
        h('span', { class: 'dim mono' }, `by …${s.node.slice(-6)} at ${new Date(Number(s.hlc.split(':')[0])).toISOString()}`),
        h('button', {
          class: 'secondary',
          'data-action': 'keep',
          'data-index': String(i),
          onclick: () => act('keeping this version', async () => s.deleted ? await rpc('kv.delete', { key, context: read.context }) : await rpc('kv.put', { key, value: s.value, context: read.context }))
        }, s.deleted ? 'Keep deleted' : 'Keep this'))),
      h('div', { class: 'merge' },
        merged,
        h('div', {},
          h('button', {
            'data-action': 'merge',
            onclick: () => act('writing the merged value', async () => {
              let value
              try { value = JSON.parse(merged.value) } catch { throw new Error('the merged value is not valid JSON') }
              await rpc('kv.put', { key, value, context: read.context })
            })
          }, 'Write merged value'), ' ', status)))
    return card
  }

  // ---- refresh

  async function optional (call) {
    try { return await call() } catch (err) { if (err.code === -32601) return undefined; throw err }
  }

  async function refresh () {
    const [info, peers, members, errors, m] = await Promise.all([
      rpc('node.info'), rpc('cluster.peers'), optional(() => rpc('cluster.members')), optional(() => rpc('node.errors')), metrics()
    ])
    await refreshConflicts()
    renderNode(info, m, rates(m), members)
    renderPeers(peers, members)
    renderErrors(errors?.errors)
    fill('failure')
  }

  function showFailure (err) {
    if (err?.data?.code === 'ERR_UNAUTHORIZED') { showLogin('The token was refused.'); return }
    fill('failure', h('p', { class: 'error' }, `Cannot reach the node: ${err?.message ?? err}`))
  }

  function loop () {
    clearTimeout(state.timer)
    const session = state.session
    refresh().catch(err => { if (session === state.session) showFailure(err) }).finally(() => {
      if (session === state.session) state.timer = setTimeout(loop, REFRESH_MS)
    })
  }

  // ---- login

  function showLogin (problem) {
    state.session++
    clearTimeout(state.timer)
    state.ws?.close()
    state.ws = undefined
    $('app').hidden = true
    const input = h('input', { type: 'password', id: 'token', autocomplete: 'current-password', 'aria-label': 'RPC token' })
    fill('login-box', h('section', { id: 'login' },
      h('h2', {}, 'This node asks for its RPC token'),
      h('p', { class: 'dim' }, 'The token is kept in this browser tab only (session storage), and sent in a header, never in the address.'),
      problem === undefined ? undefined : h('p', { class: 'error' }, problem),
      h('form', { onsubmit: (evt) => { evt.preventDefault(); state.token = input.value; sessionStorage.setItem(TOKEN_KEY, state.token); start() } },
        input, h('button', { type: 'submit' }, 'Open the console'))))
    input.focus()
  }

  async function start () {
    try {
      await rpc('node.info')
    } catch (err) {
      if (err?.data?.code === 'ERR_UNAUTHORIZED') { showLogin(state.token === '' ? undefined : 'The token was refused.'); return }
      showFailure(err)
    }
    state.session++
    fill('login-box')
    $('app').hidden = false
    fill('logout', state.token === '' ? undefined : h('button', { class: 'secondary', onclick: () => { sessionStorage.removeItem(TOKEN_KEY); state.token = ''; showLogin() } }, 'Log out'))
    openSocket()
    loop()
  }

  start()
})()
