/**
 * The /admin console in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): log in with the
 * admin token, send a SCIM request, watch its row arrive over the live stream, open it, and change the chaos rules.
 * Only loopback is reachable. Skipped where Chromium is not installed (.ci/run installs it).
 */
import { expect, test } from 'bun:test'
import { confineTo, consoleApp, hasChromium, launchChromium } from '../helpers/browser'
import { GROUP_URN, PATCH_URN, user } from '../helpers/app'

const ADMIN = 'browser-admin-token-0123456789'
const app = consoleApp(ADMIN)

test.skipIf(!hasChromium)('log in, see a SCIM request appear live, open it, change the chaos rules', async () => {
  const t = app()
  const { page, close } = await launchChromium('scimd-admin-chromium-')
  try {
    const origin = `http://127.0.0.1:${t.port}`
    const { blocked, errors } = await confineTo(page, origin)
    const res = await page.goto(origin + '/admin', { waitUntil: 'load', timeout: 15_000 })
    expect(res?.status()).toBe(200)

    // the login form; a wrong token is refused
    await page.waitForSelector('#login-form', { state: 'visible', timeout: 10_000 })
    await page.fill('#token', 'wrong-token-wrong-token')
    await page.click('#login-form button')
    await page.waitForFunction(() => document.querySelector('#login-error')?.textContent?.includes('Wrong'), null, { timeout: 10_000 })
    await page.fill('#token', ADMIN)
    await page.click('#login-form button')
    await page.waitForSelector('#requests', { timeout: 10_000 })
    await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'live', null, { timeout: 10_000 })

    // a SCIM write from outside the browser shows up in the list without a reload
    const created = await t.send('POST', '/Users', user('browser.erin', { displayName: 'Erin' }))
    const id = created.headers.get('x-scimd-request-id')!
    const row = page.locator(`#requests tbody tr[data-id="${id}"]`)
    await row.waitFor({ timeout: 10_000 })
    expect(await row.locator('td').nth(1).textContent()).toBe('POST')
    expect(await row.locator('td').nth(3).textContent()).toBe('201')

    // open it: the exchange in full, redacted, with the resource after the write
    await row.click()
    await page.waitForFunction((x) => document.querySelector('#detail h2')?.textContent?.startsWith('POST /scim/v2/Users') && document.querySelector('#detail pre.after'), id, { timeout: 10_000 })
    const detail = (await page.textContent('#detail'))!
    expect(detail).toContain('Bearer [REDACTED]')
    expect(detail).not.toContain('test-token-0123456789')
    expect(await page.textContent('#detail pre.after')).toContain('"userName": "browser.erin"')
    expect(page.url()).toBe(`${origin}/admin#/requests/${id}`)

    // a PATCH shows before and after and the changed attribute
    const patched = await t.send('PATCH', `/Users/${created.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'displayName', value: 'Erin B' }] })
    const pid = patched.headers.get('x-scimd-request-id')!
    await page.locator(`#requests tbody tr[data-id="${pid}"]`).click()
    // wait for the PATCH's own detail: the POST's (which has a diff table too) may still be on screen
    await page.waitForFunction(() => document.querySelector('#detail h2')?.textContent?.startsWith('PATCH') && document.querySelector('#detail table.diff'), undefined, { timeout: 10_000 })
    const diff = (await page.textContent('#detail table.diff'))!
    expect(diff).toContain('displayName')
    expect(diff).toContain('"Erin B"')

    // the Chaos view changes the rules at run time; a bad rule is shown, not applied
    await page.click('#tabs a[data-view="chaos"]')
    await page.waitForSelector('#c-faults')
    await page.fill('#c-faults', 'POST /Groups=503 retry-after=4')
    await page.click('#c-save')
    await page.waitForFunction(() => document.querySelector('#c-msg')?.textContent?.startsWith('Saved'), null, { timeout: 10_000 })
    const g = await t.send('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'chaos-from-the-browser' })
    expect(g.status).toBe(503)
    expect(g.headers.get('retry-after')).toBe('4')
    await page.fill('#c-faults', 'POST /Groups=404')
    await page.click('#c-save')
    await page.waitForFunction(() => document.querySelector('#c-msg')?.textContent?.includes("'POST /Groups=404'"), null, { timeout: 10_000 })
    expect(t.app.toolkit.chaos.settings.faults.map((f) => f.source)).toEqual(['POST /Groups=503 retry-after=4'])

    expect(errors).toEqual([])
    expect(blocked).toEqual([])
  } finally {
    await close()
  }
}, 60_000)
