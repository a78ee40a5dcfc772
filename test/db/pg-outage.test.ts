/**
 * The PostgreSQL store when the database goes away and comes back, on a private throwaway cluster that this file
 * stops and starts (test/helpers/pg.ts privateCluster; skipped like the other PostgreSQL tests): every failure is a
 * SCIM 503 with Retry-After (src/db/pg/errors.ts), ping() says false, and the same pool serves again once the
 * server is back, without reopening the store. Also: a statement that outlives statement_timeout is a 503.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { pgErrorToScim } from '../../src/db/pg/errors'
import { migratePg } from '../../src/db/pg/migrate'
import { openPgStore, type PgStore } from '../../src/db/pg/store'
import { q, type Step } from '../../src/db/store'
import { createLogger, silentLogger } from '../../src/log'
import { DEFAULTS, type Config } from '../../src/config'
import { assembleAny, closeAll } from '../../src/server'
import { PG_SKIP_MESSAGE, privateCluster, type PrivateCluster } from '../helpers/pg'

const cluster = await privateCluster()
if (!cluster) console.warn(PG_SKIP_MESSAGE)

const T = 'default'
const TS = '2024-01-01T00:00:00.000Z'
const userRow = (id: string, userName: string) => ({
  r: { id, version: 1, created: TS, lastModified: TS, data: { userName } },
  cols: { userNameKey: userName, externalId: null, displayNameKey: null, active: null },
})

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure')
    },
    (e: unknown) => e,
  )
}

describe.skipIf(!cluster)('PostgreSQL outage', () => {
  let c: PrivateCluster
  let store: PgStore
  const logged: string[] = []
  beforeAll(async () => {
    c = cluster!
    await migratePg(c.url)
    const log = createLogger('warn', 'json', (line) => logged.push(line))
    store = await openPgStore(c.url, { max: 3, connectTimeoutS: 2, statementTimeoutMs: 300, log })
  })
  afterAll(async () => {
    await store?.close()
    c?.close()
  })

  test('server stopped: reads and writes fail as 503 with Retry-After, ping() is false; started again: the pool recovers', async () => {
    const u = userRow('00000000-0000-7000-8000-000000000001', 'before')
    await store.write(q((r) => r.insertUser(T, u.r, u.cols)))
    expect(await store.ping()).toBe(true)

    c.stop()
    const seen = new Set<string>()
    for (const attempt of [
      () => store.read(q((r) => r.getResource(T, 'User', u.r.id))), // a pooled connection the server closed
      () => store.read(q((r) => r.countAll(T, 'User'))), // a new connection: refused
      () => store.write(q((r) => r.touchResource(T, 'User', u.r.id, TS))),
      () => store.snapshot(q((r) => r.countAll(T, 'User'))),
    ]) {
      const e = await failure(attempt())
      const { code, errno } = e as { code?: string; errno?: string }
      seen.add(errno ? `${code} ${errno}` : String(code))
      const scim = pgErrorToScim(e)
      expect(scim?.status).toBe(503)
      expect(Number(scim?.headers['Retry-After'])).toBeGreaterThan(0)
      expect(scim?.detail).not.toContain('127.0.0.1') // no connection details in the answer
    }
    // a pooled connection gets the server's 57P01 (terminating connection: shutdown), new ones are refused
    for (const code of seen) expect(code).toMatch(/^ERR_POSTGRES_CONNECTION_[A-Z]+$|^ERR_POSTGRES_SERVER_ERROR 57P01$/)
    expect(seen.has('ERR_POSTGRES_CONNECTION_REFUSED')).toBe(true)
    expect(await store.ping()).toBe(false)
    // the outage is logged (once, not per request), without the connection URL
    expect(logged.length).toBe(1)
    expect(logged[0]).toContain('database connection closed or refused')
    expect(logged.join('\n')).not.toContain(c.url)
    expect(logged.join('\n')).not.toContain('127.0.0.1')

    c.start()
    // the same store, no reopen: the next queries open fresh connections
    const deadline = Date.now() + 10_000
    let back = false
    while (!back && Date.now() < deadline) {
      back = await store.ping()
      if (!back) await Bun.sleep(100)
    }
    expect(back).toBe(true)
    for (let i = 0; i < 5; i++) expect((await store.read(q((r) => r.getResource(T, 'User', u.r.id))))?.id).toBe(u.r.id)
    const v = userRow('00000000-0000-7000-8000-000000000002', 'after')
    await store.write(q((r) => r.insertUser(T, v.r, v.cols)))
    expect(await store.read(q((r) => r.countAll(T, 'User')))).toBe(2)
  })

  test('a statement that outlives statement_timeout (waiting for a row lock) is a 503', async () => {
    const u = userRow('00000000-0000-7000-8000-000000000003', 'locked')
    await store.write(q((r) => r.insertUser(T, u.r, u.cols)))
    let release!: () => void
    const gate = new Promise<void>((res) => (release = res))
    let holding!: () => void
    const held = new Promise<void>((res) => (holding = res))
    function* holder(): Step<void> {
      yield* q((r) => r.getResource(T, 'User', u.r.id)) // FOR NO KEY UPDATE
      holding()
      yield* q(() => gate)
    }
    const first = store.write(holder())
    await held
    const e = await failure(store.write(q((r) => r.getResource(T, 'User', u.r.id))))
    release()
    await first
    expect((e as { errno?: string }).errno).toBe('57014')
    const scim = pgErrorToScim(e)
    expect([scim?.status, scim?.headers['Retry-After']]).toEqual([503, '1'])
  })

  test("over HTTP: while the database is down every SCIM request (a tenant's too) is a 503 SCIM error with Retry-After; then it serves again", async () => {
    const ADMIN = 'admin-token-0123456789abcdef'
    const config: Config = { ...DEFAULTS, databaseUrl: c.url, bearerTokens: ['tok-0123456789abcdef'], adminToken: ADMIN, pgConnectTimeout: 2, pgStatementTimeoutMs: 2000 }
    const s = await assembleAny(config, silentLogger)
    try {
      const call = (method: string, path: string, body?: unknown, token = 'tok-0123456789abcdef') =>
        s.app.handle(new Request('http://localhost' + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: body === undefined ? undefined : JSON.stringify(body) }))
      const tenant = await (await call('POST', '/admin/tenants', { id: 'acme' }, ADMIN)).json()
      expect((await call('GET', '/t/acme/scim/v2/Users', undefined, tenant.credentials.token)).status).toBe(200)
      c.stop()
      for (const [method, path, token] of [
        ['GET', '/scim/v2/Users', undefined],
        ['POST', '/scim/v2/Users', undefined],
        ['GET', '/t/acme/scim/v2/Users', tenant.credentials.token],
      ] as const) {
        const r = await call(method, path, method === 'POST' ? { userName: 'down@example.com' } : undefined, token)
        expect(r.status).toBe(503)
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(r.headers.get('content-type')).toStartWith('application/scim+json')
        const body = await r.json()
        expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
        expect(body.status).toBe('503')
        expect(JSON.stringify(body)).not.toContain('127.0.0.1')
      }
      c.start()
      const deadline = Date.now() + 10_000
      let status = 0
      while (status !== 201 && Date.now() < deadline) {
        status = (await call('POST', '/scim/v2/Users', { userName: 'back@example.com' })).status
        if (status !== 201) await Bun.sleep(100)
      }
      expect(status).toBe(201)
      expect((await call('GET', '/t/acme/scim/v2/Users', undefined, tenant.credentials.token)).status).toBe(200)
    } finally {
      await closeAll(s)
    }
  }, 30_000)
})
