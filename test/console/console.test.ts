/**
 * The console (GET /) in a real headless Chromium (Debian's, installed by
 * scripts/install-test-deps.sh) against real nodes with an RPC token: log in, see a conflict the
 * test made, resolve it by clicking, and find it resolved on every node. Screenshots at 1280 and
 * 390 px wide are kept in test-artifacts/console/.
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startRealNode, waitFor, type RealNode } from '../rpc/helpers.js'

const CHROMIUM = process.env.CHORUS_CHROMIUM ?? '/usr/bin/chromium'
const TOKEN = 'console-test-token'
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console')

async function launch (): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/install-test-deps.sh (as root), or set CHORUS_CHROMIUM`)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Root in CI, and a machine with no network past loopback: nothing that phones home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  onTestFinished(async () => { await browser.close() })
  return browser
}

function dialable (n: RealNode): string {
  const addr = n.node.multiaddrs()[0] as string
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${n.node.peerId}`
}

/** Whether the page is wider than its window (something overflows sideways). */
async function overflows (page: Page): Promise<boolean> {
  return await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)
}

describe('the console in a real browser', () => {
  it('logs in with the token, shows a conflict, resolves it by a click, and every node agrees', async () => {
    await mkdir(ARTIFACTS, { recursive: true })
    // A conflict: a and b write the same key before they know each other; c joins both.
    const a = await startRealNode({ token: TOKEN })
    const b = await startRealNode({ token: TOKEN })
    await a.client.kvPut('doc', { title: 'from a' })
    await b.client.kvPut('doc', { title: 'from b' })
    const c = await startRealNode({ token: TOKEN, bootstrap: [dialable(a), dialable(b)] })
    const nodes = [a, b, c]
    await waitFor('the conflict on every node', async () => (await Promise.all(nodes.map(async n => (await n.client.kvGet('doc')).conflict))).every(Boolean), 30_000)

    const browser = await launch()
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const failures: string[] = []
    page.on('pageerror', err => { failures.push(err.message) })
    await page.goto(a.server.url)

    // No token yet: the login, and none of the node's data.
    await page.locator('#token').waitFor({ timeout: 30_000 })
    expect(await page.content()).not.toContain(a.node.peerId)
    await page.fill('#token', TOKEN)
    await page.click('#login button[type=submit]')

    const card = page.locator('[data-key="doc"]')
    await card.waitFor({ timeout: 30_000 })
    await expect.poll(async () => await card.locator('.sibling').count()).toBe(2)
    await page.locator('#node-id').filter({ hasText: a.node.peerId }).waitFor()
    await page.locator('#peers [data-peer]').first().waitFor()
    await page.locator('#live .ok').waitFor({ timeout: 15_000 })
    await expect.poll(async () => await page.locator('#stat-conflicts b').textContent()).toBe('1')
    expect(page.url()).not.toContain(TOKEN)
    expect(await page.evaluate(() => sessionStorage.getItem('chorus.rpcToken'))).toBe(TOKEN)
    expect(await overflows(page)).toBe(false)
    await page.screenshot({ path: join(ARTIFACTS, 'console-1280.png'), fullPage: true })

    await page.setViewportSize({ width: 390, height: 844 })
    expect(await overflows(page)).toBe(false)
    await page.screenshot({ path: join(ARTIFACTS, 'console-390.png'), fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })

    // Keep the version written on b.
    const fromB = card.locator('.sibling').filter({ hasText: 'from b' })
    await fromB.locator('button[data-action="keep"]').click()
    await page.locator('#conflicts').filter({ hasText: 'No key has concurrent versions.' }).waitFor({ timeout: 30_000 })
    await expect.poll(async () => await page.locator('#stat-conflicts b').textContent()).toBe('0')

    await waitFor('the resolution on every node', async () => {
      const reads = await Promise.all(nodes.map(async n => await n.client.kvGet('doc', { all: true })))
      return reads.every(r => !r.conflict && (r.value as { title: string }).title === 'from b' && r.values?.length === 1)
    }, 30_000)
    await page.screenshot({ path: join(ARTIFACTS, 'console-resolved-1280.png'), fullPage: true })
    expect(failures).toEqual([])
  })

  it('a merged value written from the page supersedes both versions; a wrong token is refused', async () => {
    const a = await startRealNode({ token: TOKEN })
    const b = await startRealNode({ token: TOKEN, bootstrap: [] })
    await a.client.kvPut('list', ['x'])
    await b.client.kvPut('list', ['y'])
    const c = await startRealNode({ token: TOKEN, bootstrap: [dialable(a), dialable(b)] })
    await waitFor('the conflict on c', async () => (await c.client.kvGet('list')).conflict, 30_000)

    const browser = await launch()
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } })
    await page.goto(c.server.url)
    await page.fill('#token', 'not-the-token')
    await page.click('#login button[type=submit]')
    await page.locator('#login .error').filter({ hasText: 'refused' }).waitFor({ timeout: 15_000 })
    await page.fill('#token', TOKEN)
    await page.click('#login button[type=submit]')

    const card = page.locator('[data-key="list"]')
    await card.waitFor({ timeout: 30_000 })
    await card.locator('textarea').fill('["x","y"]')
    await card.locator('button[data-action="merge"]').click()
    await waitFor('the merge on every node', async () => {
      const reads = await Promise.all([a, b, c].map(async n => await n.client.kvGet('list')))
      return reads.every(r => !r.conflict && JSON.stringify(r.value) === '["x","y"]')
    }, 30_000)
  })
})
