import { describe, expect, test } from 'bun:test'
import { makeTestApp, SCIM, TOKEN } from '../helpers/app'
import { safeEqual } from '../../src/auth'
import { DEFAULTS } from '../../src/config'
import { assemble } from '../../src/server'
import { silentLogger } from '../../src/log'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64')

describe('Basic and static bearer tokens', () => {
  const t = makeTestApp({ basicAuth: { user: 'okta', password: 's3cret' }, bearerTokens: [TOKEN, 'second-token'] })

  test('either mode is accepted when both are configured', async () => {
    expect((await t.req('GET', '/Users', undefined, { auth: basic('okta', 's3cret') })).status).toBe(200)
    expect((await t.req('GET', '/Users', undefined, { auth: `Bearer ${TOKEN}` })).status).toBe(200)
    expect((await t.req('GET', '/Users', undefined, { auth: 'Bearer second-token' })).status).toBe(200)
    expect((await t.req('GET', '/Users', undefined, { auth: `bearer ${TOKEN}` })).status).toBe(200)
  })

  test.each([
    ['wrong password', basic('okta', 'nope')],
    ['wrong user', basic('admin', 's3cret')],
    ['no colon', 'Basic ' + Buffer.from('okta').toString('base64')],
    ['garbage', 'Basic !!!'],
    ['wrong token', 'Bearer nope'],
    ['unknown scheme', 'Digest abc'],
    ['empty bearer', 'Bearer '],
  ])('%s → 401 with both challenges and a SCIM body', async (_name, header) => {
    const r = await t.req('GET', '/Users', undefined, { auth: header })
    expect(r.status).toBe(401)
    expect(r.headers.get('content-type')).toStartWith(SCIM)
    expect(r.json).toMatchObject({ status: '401', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] })
    const challenge = r.headers.get('www-authenticate')!
    expect(challenge).toContain('Bearer realm="scimd"')
    expect(challenge).toContain('Basic realm="scimd"')
    expect(r.text).not.toContain('s3cret')
  })

  test('every SCIM route needs auth; /healthz and discovery do not', async () => {
    for (const [m, p] of [['GET', '/Users'], ['POST', '/Users'], ['GET', '/Groups'], ['GET', '/Users/x'], ['PATCH', '/Groups/x'], ['DELETE', '/Users/x'], ['POST', '/Users/.search']])
      expect((await t.req(m, p, m === 'GET' || m === 'DELETE' ? undefined : {}, { auth: false })).status).toBe(401)
    expect((await t.req('GET', 'http://localhost/healthz', undefined, { auth: false })).status).toBe(200)
    expect((await t.req('GET', '/ServiceProviderConfig', undefined, { auth: false })).status).toBe(200)
  })

  test('ServiceProviderConfig lists exactly the configured schemes', async () => {
    const r = await t.req('GET', '/ServiceProviderConfig')
    expect(r.json.authenticationSchemes.map((s: any) => s.type).sort()).toEqual(['httpbasic', 'oauthbearertoken'])
  })

  test('safeEqual', () => {
    expect(safeEqual('abc', 'abc')).toBe(true)
    expect(safeEqual('abc', 'abd')).toBe(false)
    expect(safeEqual('abc', 'abcd')).toBe(false)
  })
})

describe('no auth configured: never open', () => {
  test('a token is generated on first start, kept in the database, and reused after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimd-auth-'))
    try {
      const config = { ...DEFAULTS, databaseUrl: join(dir, 'db.sqlite') }
      const first = assemble(config, silentLogger)
      expect(first.generatedToken?.isNew).toBe(true)
      const token = first.generatedToken!.token
      expect(token.length).toBeGreaterThan(40)
      const open = await first.app.handle(new Request('http://localhost/scim/v2/Users'))
      expect(open.status).toBe(401)
      const ok = await first.app.handle(new Request('http://localhost/scim/v2/Users', { headers: { authorization: `Bearer ${token}` } }))
      expect(ok.status).toBe(200)
      first.db.$client.close()
      const second = assemble(config, silentLogger)
      expect(second.generatedToken).toEqual({ token, isNew: false })
      second.db.$client.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
