/**
 * The Directory view of /admin in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): provision
 * a user and a group over SCIM, log in, find the user by a SCIM filter, open it, and see its create and deactivate
 * events in the timeline (time, principal, a link to the request in the inspector). Only loopback is reachable.
 * Skipped where Chromium is not installed (.ci/run installs it).
 */
import { expect, test } from 'bun:test'
import { confineTo, consoleApp, hasChromium, launchChromium } from '../helpers/browser'
import { GROUP_URN, PATCH_URN, user } from '../helpers/app'

const ADMIN = 'browser-directory-token-0123456789'
const app = consoleApp(ADMIN)

test.skipIf(!hasChromium)('find a user by filter in the Directory view and see its create and deactivate events', async () => {
  const t = app()
  // provisioned over SCIM, as an IdP would: a few users, a group, then a deactivation
  for (const n of ['dir.amy', 'dir.bob', 'other.carl']) expect((await t.send('POST', '/Users', user(n, { active: true, password: 'Secret-Passw0rd-1' }))).status).toBe(201)
  const created = await t.send('POST', '/Users', user('dir.erin', { displayName: 'Erin', active: true, password: 'Secret-Passw0rd-2' }))
  expect(created.status).toBe(201)
  const id = created.json.id
  const group = await t.send('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Directory testers', members: [{ value: id }] })
  expect(group.status).toBe(201)
  const deact = await t.send('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: false } }] })
  expect(deact.status).toBe(200)
  const deactId = deact.headers.get('x-scimd-request-id')!

  const { page, close } = await launchChromium('scimd-directory-chromium-')
  try {
    const origin = `http://127.0.0.1:${t.port}`
    const { blocked, errors } = await confineTo(page, origin)
    expect((await page.goto(origin + '/admin#/directory', { waitUntil: 'load', timeout: 15_000 }))?.status()).toBe(200)
    await page.waitForSelector('#login-form', { state: 'visible', timeout: 10_000 })
    await page.fill('#token', ADMIN)
    await page.click('#login-form button')

    // the Directory tab sits beside Requests and Chaos; the users table is paged by the server
    await page.waitForSelector('#d-table tbody tr', { timeout: 10_000 })
    expect(await page.locator('#tabs a').allTextContents()).toEqual(['Requests', 'Chaos', 'Directory'])
    expect(await page.textContent('#d-msg')).toBe('1–4 of 4')
    expect(await page.isVisible('#login')).toBe(false) // the login form goes once logged in

    // find the user by a SCIM filter
    await page.fill('#d-filter', 'userName sw "dir." and active eq false')
    await page.press('#d-filter', 'Enter')
    await page.waitForFunction(() => document.querySelector('#d-msg')?.textContent === '1–1 of 1', null, { timeout: 10_000 })
    const row = page.locator(`#d-table tbody tr[data-id="${id}"]`)
    expect(await row.locator('td').first().textContent()).toBe('dir.erin')

    // a bad filter is explained, not ignored
    await page.fill('#d-filter', 'userName zz "x"')
    await page.click('#d-search')
    await page.waitForFunction(() => document.querySelector('#d-msg')?.className === 'error', null, { timeout: 10_000 })
    await page.fill('#d-filter', 'userName eq "dir.erin"')
    await page.click('#d-search')
    await page.waitForFunction(() => document.querySelector('#d-msg')?.textContent === '1–1 of 1', null, { timeout: 10_000 })

    // open it: JSON, memberships, timeline (newest first): deactivated, then created
    await row.click()
    await page.waitForSelector('#d-timeline li', { timeout: 10_000 })
    expect(page.url()).toBe(`${origin}/admin#/directory/${id}`)
    expect(await page.textContent('#d-json')).toContain('"userName": "dir.erin"')
    expect(await page.textContent('#d-detail')).not.toContain('Secret-Passw0rd')
    expect(await page.textContent('#d-memberships')).toContain('Directory testers')
    const items = page.locator('#d-timeline > li')
    expect(await items.count()).toBe(2)
    const first = (await items.nth(0).textContent())!
    expect(first).toContain('deactivated')
    expect(first).toContain('by bearer:')
    expect(await items.nth(0).locator('table.diff').textContent()).toContain('active')
    expect(await items.nth(0).locator('td.old').textContent()).toBe('true')
    expect(await items.nth(0).locator('td.new').textContent()).toBe('false')
    expect((await items.nth(1).textContent())!).toContain('created')

    // the request that deactivated it: a link into the inspector
    const link = items.nth(0).locator('a.req')
    expect(await link.getAttribute('href')).toBe(`#/requests/${deactId}`)
    await link.click()
    await page.waitForFunction(() => document.querySelector('#detail h2')?.textContent?.startsWith('PATCH /scim/v2/Users/'), null, { timeout: 10_000 })

    // a deleted user's history is still reachable by id
    expect((await t.send('DELETE', `/Users/${id}`)).status).toBe(204)
    await page.goto(`${origin}/admin#/directory/${id}`, { waitUntil: 'load' })
    await page.waitForFunction(() => document.querySelectorAll('#d-timeline > li').length === 3, null, { timeout: 10_000 })
    expect(await page.textContent('#d-detail')).toContain('No such user or group now')
    expect(await page.locator('#d-timeline > li').first().textContent()).toContain('deleted')

    expect(errors).toEqual([])
    expect(blocked).toEqual([])
  } finally {
    await close()
  }
}, 60_000)
