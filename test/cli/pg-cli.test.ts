/** The CLI commands that touch the store, on PostgreSQL (DATABASE_URL=postgres://…): tenant and token. */
import { describe, expect, test } from 'bun:test'
import { DEFAULTS, type Config } from '../../src/config'
import { tenantMain } from '../../src/cli/tenant'
import { tokenMain } from '../../src/token-cmd'
import { assembleAny, closeAll } from '../../src/server'
import { silentLogger } from '../../src/log'
import { freshDatabase, pgUrl, PG_SKIP_MESSAGE } from '../helpers/pg'

const url = await pgUrl()
if (!url) console.warn(PG_SKIP_MESSAGE)

describe.skipIf(!url)('scimd tenant and scimd token on PostgreSQL', () => {
  test('a tenant made by the CLI serves through a server on the same database; a CLI token verifies there', async () => {
    const databaseUrl = await freshDatabase()
    const config: Config = { ...DEFAULTS, databaseUrl, bearerTokens: ['server-token-0123456789'] }
    const out: string[] = []
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s) }
    expect(await tenantMain(config, ['add', 'acme'], io)).toBe(0)
    const token = /token:\s*(\S+)/i.exec(out.join(''))?.[1]
    expect(token).toBeDefined()
    out.length = 0
    expect(await tenantMain(config, ['list', '--json'], io)).toBe(0)
    expect(JSON.parse(out.join('').trim())).toMatchObject({ id: 'acme', users: 0 })

    const jwtOut: string[] = []
    const code = await tokenMain(['--sub', 'cli'], { DATABASE_URL: databaseUrl }, { out: (s) => void jwtOut.push(s), err: () => {} })
    expect(code).toBe(0)
    const jwt = jwtOut.join('').trim()

    const s = await assembleAny({ ...config, jwtLocal: 'auto' }, silentLogger)
    try {
      const get = (path: string, auth: string) => s.app.handle(new Request('http://localhost' + path, { headers: { authorization: auth } }))
      expect((await get('/t/acme/scim/v2/Users', `Bearer ${token}`)).status).toBe(200)
      expect((await get('/scim/v2/Users', `Bearer ${jwt}`)).status).toBe(200)
      expect((await get('/scim/v2/Users', 'Bearer nope')).status).toBe(401)
    } finally {
      await closeAll(s)
    }
    expect(await tenantMain(config, ['rm', 'acme', '--yes'], io)).toBe(0)
  }, 30_000)
})
