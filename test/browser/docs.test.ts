/**
 * /docs in a real browser with the network cut off: headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core) may reach only the compiled scimd on loopback. The page must render the Users and Groups
 * operations from assets embedded in the binary. Skipped where Chromium is not installed (.ci/run installs it).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary, startBinary, type Running } from '../helpers/binary'
import { confineTo, hasChromium, launchChromium } from '../helpers/browser'

let srv: Running | undefined
let dir: string

beforeAll(async () => {
  if (!hasChromium) return
  dir = mkdtempSync(join(tmpdir(), 'scimd-docs-'))
  srv = await startBinary(buildBinary(), dir, { SCIMD_BEARER_TOKENS: 'browser-test-token' })
})

afterAll(async () => {
  await srv?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test.skipIf(!hasChromium)('/docs renders the Users and Groups operations with no internet access', async () => {
  const { page, close } = await launchChromium()
  try {
    const origin = new URL(srv!.base).origin
    const { blocked, served } = await confineTo(page, origin)
    const res = await page.goto(origin + '/docs', { waitUntil: 'load', timeout: 15_000 })
    expect(res?.status()).toBe(200)
    // Swagger UI draws one section per tag, then one block per operation
    await page.waitForSelector('.opblock-tag-section', { timeout: 15_000 })
    const tags = await page.$$eval('.opblock-tag', (els) => els.map((e) => e.getAttribute('data-tag')))
    expect(tags).toContain('Users')
    expect(tags).toContain('Groups')
    const ops = await page.$$eval('.opblock-summary', (els) =>
      els.map((e) => `${e.querySelector('.opblock-summary-method')?.textContent?.trim()} ${e.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
    )
    for (const op of ['POST /scim/v2/Users', 'GET /scim/v2/Users/{id}', 'PATCH /scim/v2/Users/{id}', 'GET /scim/v2/Groups', 'PATCH /scim/v2/Groups/{id}', 'DELETE /scim/v2/Groups/{id}'])
      expect(ops).toContain(op)
    expect(served).toContain('/docs/json')
    expect(served).toContain('/docs/assets/swagger-ui-bundle.js')
    expect(blocked).toEqual([]) // the page asked for nothing outside scimd
  } finally {
    await close()
  }
}, 60_000)
