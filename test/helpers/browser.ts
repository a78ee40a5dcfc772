/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core, with the network
 * cut off except for one loopback origin. Tests skip where Chromium is not installed (.ci/run installs it).
 */
import { afterAll, beforeAll } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { listenTestApp } from './server'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface Launched {
  context: BrowserContext
  page: Page
  /** closes the browser and removes its temporary profile, if any */
  close(): Promise<void>
}

/**
 * Starts Chromium. With `profilePrefix`: a persistent context in a fresh temporary profile directory (named with
 * that prefix, removed by close); without: a plain browser and a new page.
 */
export async function launchChromium(profilePrefix?: string): Promise<Launched> {
  const { chromium } = await import('playwright-core')
  if (profilePrefix === undefined) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    try {
      const page = await browser.newPage()
      return { context: page.context(), page, close: () => browser.close() }
    } catch (e) {
      await browser.close()
      throw e
    }
  }
  const profile = mkdtempSync(join(tmpdir(), profilePrefix))
  const removeProfile = () => rmSync(profile, { recursive: true, force: true })
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS })
  } catch (e) {
    removeProfile()
    throw e
  }
  const close = async () => {
    try {
      await context.close()
    } finally {
      removeProfile()
    }
  }
  try {
    return { context, page: context.pages()[0] ?? (await context.newPage()), close }
  } catch (e) {
    await close()
    throw e
  }
}

/**
 * scimd with the admin console on (`adminToken`) listening on loopback during the tests of the calling file, where
 * Chromium is installed; the returned function gives it to a test.
 */
export function consoleApp(adminToken: string) {
  let t: ReturnType<typeof listenTestApp> | undefined
  beforeAll(() => {
    if (hasChromium) t = listenTestApp({ adminToken })
  })
  afterAll(async () => {
    t?.app.toolkit.close()
    await t?.close()
  })
  return () => t!
}

/**
 * Lets `page` reach only `origin` (every other request is aborted and recorded in `blocked`); records the paths
 * served from `origin` and the page's uncaught errors.
 */
export async function confineTo(page: Page, origin: string) {
  const blocked: string[] = []
  const served: string[] = []
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  await page.route('**', (route) => {
    const url = route.request().url()
    if (url.startsWith(origin + '/')) {
      served.push(new URL(url).pathname)
      return route.continue()
    }
    blocked.push(url)
    return route.abort('internetdisconnected')
  })
  return { blocked, served, errors }
}
