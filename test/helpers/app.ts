/**
 * An in-process scimd on a fresh :memory: database with real migrations — or, with SCIMD_TEST_STORE=postgres
 * (`bun run test:pg`), on a fresh PostgreSQL database of the test cluster (test/helpers/pg.ts): the same HTTP tests
 * then prove both stores behave alike. On PostgreSQL the app is opened asynchronously: `req` waits for it, and
 * `ready` resolves to it; tests that reach for `t.db` are SQLite-only and are not part of the PostgreSQL run.
 */
import { DEFAULTS, type Config } from '../../src/config'
import { assemble, assembleAny, type Started } from '../../src/server'
import { silentLogger } from '../../src/log'
import { freshDatabase, pgUrl } from './pg'
import type { Db } from '../../src/db/client'

export const TOKEN = 'test-token-0123456789'
export const SCIM = 'application/scim+json'

export const TEST_STORE = process.env.SCIMD_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite'

let template: Promise<string> | undefined
/** A database cloned from one migrated template (CREATE DATABASE … TEMPLATE: tens of ms instead of a migration). */
async function pgTestDatabase(): Promise<string> {
  if (!(await pgUrl())) throw new Error('SCIMD_TEST_STORE=postgres needs PostgreSQL (bash .ci/pg-install)')
  template ??= (async () => {
    const url = await freshDatabase()
    const { migratePg } = await import('../../src/db/pg/store')
    await migratePg(url)
    return url
  })()
  return freshDatabase({ template: await template })
}

export function makeTestApp(overrides: Partial<Config> = {}) {
  const config: Config = { ...DEFAULTS, databaseUrl: ':memory:', bearerTokens: [TOKEN], ...overrides }
  const started = TEST_STORE === 'postgres' && config.databaseUrl === ':memory:' ? undefined : assemble(config, silentLogger)
  // typed as the SQLite app: on PostgreSQL `db` stays undefined (SQLite-only tests are not in that run)
  if (!started) return pgTestApp(config) as unknown as ReturnType<typeof withRequests<Started & { db: Db }>>
  return withRequests(started, config, Promise.resolve(started))
}

function pgTestApp(config: Config) {
  const ready = (async () => {
    // small pools that let go quickly: a test file opens many apps on one cluster
    const pg = { ...config, databaseUrl: await pgTestDatabase(), pgPool: 3, pgIdleTimeout: 1 }
    return assembleAny(pg, silentLogger)
  })()
  const lazy = {} as Started
  void ready.then((s) => Object.assign(lazy, s)).catch(() => {})
  return withRequests(lazy, config, ready)
}

function withRequests<S extends Started>(started: S, config: Config, ready: Promise<Started>) {
  const base = 'http://localhost' + config.basePath

  /** Sends a request; `body` objects are JSON-encoded as application/scim+json; auth added unless `auth: false`. */
  async function req(
    method: string,
    path: string,
    body?: unknown,
    opts: { auth?: string | false; headers?: Record<string, string>; raw?: boolean } = {},
  ) {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.auth !== false) headers.authorization = opts.auth ?? `Bearer ${TOKEN}`
    let payload: string | undefined
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body)
      headers['content-type'] ??= SCIM
    }
    const url = path.startsWith('http') ? path : path.startsWith('/') && !path.startsWith(config.basePath + '/') && opts.raw ? 'http://localhost' + path : base + path
    const app = (await ready).app
    return readResponse(await app.handle(new Request(url, { method, headers, body: payload })))
  }
  return Object.assign(started, { config, req, base, ready })
}

/** A response's status, headers and body as text, and as JSON where the body parses (else `json` is undefined). */
export async function readResponse(res: Response) {
  const text = await res.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, json, text }
}

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error'
export const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

export function user(userName: string, extra: Record<string, unknown> = {}) {
  return { schemas: [USER_URN], userName, ...extra }
}
