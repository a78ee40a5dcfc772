/**
 * The Requests view's tenant picker in headless Chromium: filled from GET /admin/tenants ("all tenants" first);
 * picking a tenant shows (and streams) only that tenant's exchanges. Skipped where Chromium is not installed.
 */
import { expect, test } from 'bun:test'
import { confineTo, consoleApp, hasChromium, launchChromium } from '../helpers/browser'

const ADMIN = 'browser-admin-token-tenants-0123456789'
const app = consoleApp(ADMIN)

test.skipIf(!hasChromium)('the tenant picker filters the list and the live stream', async () => {
  const t = app()
  const origin = `http://127.0.0.1:${t.port}`
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(origin + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then((r) => r.json() as any)
  const tokA = (await admin('POST', '/admin/tenants', { id: 'org-a' })).credentials.token
  const tokB = (await admin('POST', '/admin/tenants', { id: 'org-b' })).credentials.token
  const get = (tenant: string, token: string, n: number) =>
    fetch(`${origin}/t/${tenant}/scim/v2/Users?n=${n}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.headers.get('x-scimd-request-id')!)
  const a1 = await get('org-a', tokA, 1)
  const b1 = await get('org-b', tokB, 2)

  const { page, close } = await launchChromium('scimd-admin-tenants-chromium-')
  try {
    const { blocked, errors } = await confineTo(page, origin)
    await page.goto(origin + '/admin', { waitUntil: 'load', timeout: 15_000 })
    await page.waitForSelector('#login-form', { state: 'visible', timeout: 10_000 })
    await page.fill('#token', ADMIN)
    await page.click('#login-form button')
    await page.waitForSelector('#requests', { timeout: 10_000 })
    await page.waitForFunction(() => document.querySelectorAll('#f-tenant option').length === 4, null, { timeout: 10_000 })
    expect(await page.locator('#f-tenant option').allTextContents()).toEqual(['all tenants', 'default', 'org-a', 'org-b'])
    await page.locator(`#requests tbody tr[data-id="${b1}"]`).waitFor({ timeout: 10_000 })

    await page.selectOption('#f-tenant', 'org-a')
    await page.waitForFunction((id) => !document.querySelector(`#requests tbody tr[data-id="${id}"]`), b1, { timeout: 10_000 })
    await page.locator(`#requests tbody tr[data-id="${a1}"]`).waitFor({ timeout: 10_000 })
    await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'live', null, { timeout: 10_000 })
    // live: org-b's new request does not appear, org-a's does
    const b2 = await get('org-b', tokB, 3)
    const a2 = await get('org-a', tokA, 4)
    await page.locator(`#requests tbody tr[data-id="${a2}"]`).waitFor({ timeout: 10_000 })
    expect(await page.locator(`#requests tbody tr[data-id="${b2}"]`).count()).toBe(0)
    expect(blocked).toEqual([])
    expect(errors).toEqual([])
  } finally {
    await close()
  }
})
