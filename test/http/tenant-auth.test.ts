/**
 * Per-tenant OAuth (issue 9, "any auth mode, per tenant"): JWT from a loopback JWKS and RFC 7662 introspection
 * against a loopback endpoint, each tenant with its own issuer/audience/scopes; the brake per tenant and address;
 * secrets never echoed or logged; /Me within the tenant; the inspector stream filtered by tenant.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULTS, type Config } from '../../src/config'
import { createLogger } from '../../src/log'
import { assemble } from '../../src/server'
import { splitTenantAuthArgs, tenantMain } from '../../src/cli/tenant'
import { readResponse, USER_URN } from '../helpers/app'
import { loopbackEndpoint, scimError, sign } from '../helpers/auth'

const ADMIN = 'admin-token-0123456789abcdef'
const HMAC = 'tenant-hmac-secret-0123456789-abcdefghij'
const CLIENT_SECRET = 'introspection-client-secret-XYZ-0987'
const now = () => Math.floor(Date.now() / 1000)

// two "Okta orgs": each its own key and issuer, published at its own JWKS path
const KA = await generateKeyPair('RS256', { extractable: true })
const KB = await generateKeyPair('ES256', { extractable: true })
const jwkA = { ...(await exportJWK(KA.publicKey)), kid: 'org-a', alg: 'RS256' } as JWK
const jwkB = { ...(await exportJWK(KB.publicKey)), kid: 'org-b', alg: 'ES256' } as JWK
const ISS_A = 'https://org-a.okta.test/oauth2/default'
const ISS_B = 'https://org-b.okta.test/oauth2/default'

const introspected: string[] = []
const idp = loopbackEndpoint(async (req) => {
  const path = new URL(req.url).pathname
  if (path === '/a/keys') return Response.json({ keys: [jwkA] })
  if (path === '/b/keys') return Response.json({ keys: [jwkB] })
  if (path === '/introspect') {
    const auth = req.headers.get('authorization') ?? ''
    introspected.push(auth)
    if (auth !== 'Basic ' + Buffer.from(`scimd-client:${encodeURIComponent(CLIENT_SECRET).replace(/%20/g, '+')}`).toString('base64'))
      return new Response('{"error":"invalid_client"}', { status: 401 })
    const token = new URLSearchParams(await req.text()).get('token')
    if (token === 'opaque-good') return Response.json({ active: true, sub: 'bob', scope: 'scim', exp: now() + 300 })
    if (token === 'opaque-noscope') return Response.json({ active: true, sub: 'bob', scope: 'openid', exp: now() + 300 })
    return Response.json({ active: false })
  }
  return new Response('not found', { status: 404 })
})

function makeApp(overrides: Partial<Config> = {}) {
  const config: Config = { ...DEFAULTS, databaseUrl: ':memory:', bearerTokens: ['default-token-0123456789'], adminToken: ADMIN, authFailLimit: 0, ...overrides }
  const lines: string[] = []
  const log = createLogger('debug', 'json', (l) => lines.push(l))
  const s = assemble(config, log, { clientAddress: (r) => r.headers.get('x-test-client') ?? '127.0.0.1' })
  async function req(method: string, path: string, o: { auth?: string; body?: unknown; client?: string } = {}) {
    const headers: Record<string, string> = {}
    if (o.auth) headers.authorization = o.auth
    if (o.client) headers['x-test-client'] = o.client
    if (o.body !== undefined) headers['content-type'] = path.startsWith('/admin') ? 'application/json' : 'application/scim+json'
    return readResponse(await s.app.handle(new Request('http://localhost' + path, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) })))
  }
  const admin = (method: string, path: string, body?: unknown) => req(method, path, { auth: `Bearer ${ADMIN}`, body })
  return { ...s, req, admin, lines }
}

const bearer = (t: string) => `Bearer ${t}`
const tokenA = (claims: Record<string, unknown> = {}) => sign({ iss: ISS_A, aud: 'scimd-a', sub: 'alice', scope: 'scim openid', ...claims }, KA.privateKey, { alg: 'RS256', kid: 'org-a' })

describe('per-tenant OAuth', () => {
  let t: ReturnType<typeof makeApp>
  beforeAll(async () => {
    t = makeApp()
    const made = [
      await t.admin('POST', '/admin/tenants', { id: 'okta-a', profile: 'okta', auth: { jwtJwksUrl: idp.url('/a/keys'), jwtIssuer: ISS_A, jwtAudience: 'scimd-a', requiredScopes: 'scim' } }),
      await t.admin('POST', '/admin/tenants', { id: 'okta-b', auth: { jwtJwksUrl: idp.url('/b/keys'), jwtIssuer: [ISS_B], jwtAudience: ['scimd-b'] } }),
      // same org and keys as okta-a, another audience: okta-a's tokens must not open it
      await t.admin('POST', '/admin/tenants', { id: 'same-keys', auth: { jwtJwksUrl: idp.url('/a/keys'), jwtIssuer: ISS_A, jwtAudience: 'scimd-c' } }),
      await t.admin('POST', '/admin/tenants', { id: 'entra', profile: 'entra', auth: { jwtSecret: HMAC, jwtAudience: 'scimd-entra', jwtAlgorithms: 'HS256' } }),
      await t.admin('POST', '/admin/tenants', { id: 'opaque', auth: { introspectionUrl: idp.url('/introspect'), introspectionClientId: 'scimd-client', introspectionClientSecret: CLIENT_SECRET, requiredScopes: ['scim'] } }),
    ]
    for (const m of made) expect([m.status, m.json?.detail]).toEqual([201, undefined])
  })

  test("a tenant's JWT opens that tenant only (not another tenant, not the default one, not a tenant with the same keys and another audience)", async () => {
    const tok = await tokenA()
    expect((await t.req('GET', '/t/okta-a/scim/v2/Users', { auth: bearer(tok) })).status).toBe(200)
    for (const path of ['/t/okta-b/scim/v2/Users', '/scim/v2/Users', '/t/same-keys/scim/v2/Users', '/t/entra/scim/v2/Users', '/t/opaque/scim/v2/Users']) {
      const r = await t.req('GET', path, { auth: bearer(tok) })
      expect([path, r.status]).toEqual([path, 401])
    }
    const b = await sign({ iss: ISS_B, aud: 'scimd-b', sub: 'x' }, KB.privateKey, { alg: 'ES256', kid: 'org-b' })
    expect((await t.req('GET', '/t/okta-b/scim/v2/Users', { auth: bearer(b) })).status).toBe(200)
    expect((await t.req('GET', '/t/okta-a/scim/v2/Users', { auth: bearer(b) })).status).toBe(401)
    // the static token of a JWT tenant still works (it always has one), and only there
    const list = await t.admin('GET', '/admin/tenants')
    expect(list.json.tenants.find((x: any) => x.id === 'okta-a').auth).toEqual(['bearer', 'jwt'])
    expect(list.json.tenants.find((x: any) => x.id === 'opaque').auth).toEqual(['bearer', 'introspection'])
  })

  test("wrong audience, wrong issuer, expired → 401 with the tenant's realm; a missing scope → 403 insufficient_scope", async () => {
    for (const claims of [{ aud: 'scimd-b' }, { iss: ISS_B }, { iat: now() - 7200, exp: now() - 3600 }]) {
      const r = await t.req('GET', '/t/okta-a/scim/v2/Users', { auth: bearer(await tokenA(claims)) })
      expect(scimError(r, 401).detail).toBe('Invalid bearer token')
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="scimd/okta-a", error="invalid_token"')
    }
    const r = await t.req('GET', '/t/okta-a/scim/v2/Users', { auth: bearer(await tokenA({ scope: 'openid' })) })
    scimError(r, 403)
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="scimd/okta-a", error="insufficient_scope", scope="scim"')
    const none = await t.req('GET', '/t/okta-a/scim/v2/Users')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="scimd/okta-a"')
  })

  test('HMAC (an Entra-style shared secret, HS256 only) per tenant', async () => {
    const secret = new TextEncoder().encode(HMAC)
    const good = await sign({ aud: 'scimd-entra', sub: 'entra-app' }, secret, { alg: 'HS256' })
    expect((await t.req('GET', '/t/entra/scim/v2/Users', { auth: bearer(good) })).status).toBe(200)
    expect((await t.req('GET', '/t/okta-a/scim/v2/Users', { auth: bearer(good) })).status).toBe(401)
    const hs512 = await sign({ aud: 'scimd-entra', sub: 'entra-app' }, secret, { alg: 'HS512' })
    expect((await t.req('GET', '/t/entra/scim/v2/Users', { auth: bearer(hs512) })).status).toBe(401) // jwtAlgorithms: HS256
  })

  test('introspection per tenant: its own endpoint and client; inactive → 401; missing scope → 403; other tenants refuse', async () => {
    introspected.length = 0
    expect((await t.req('GET', '/t/opaque/scim/v2/Users', { auth: bearer('opaque-good') })).status).toBe(200)
    expect(introspected.length).toBe(1) // with the tenant's client credentials (the endpoint checks them)
    const bad = await t.req('GET', '/t/opaque/scim/v2/Users', { auth: bearer('opaque-bad') })
    expect(bad.status).toBe(401)
    expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="scimd/opaque", error="invalid_token"')
    expect((await t.req('GET', '/t/opaque/scim/v2/Users', { auth: bearer('opaque-noscope') })).status).toBe(403)
    for (const path of ['/t/okta-a/scim/v2/Users', '/scim/v2/Users']) expect((await t.req('GET', path, { auth: bearer('opaque-good') })).status).toBe(401)
  })

  test('/Me with a tenant JWT is the user of that tenant whose userName is the sub', async () => {
    const tok = bearer(await tokenA())
    const mk = (path: string, auth: string) => t.req('POST', path, { auth, body: { schemas: [USER_URN], userName: 'alice' } })
    const inA = await mk('/t/okta-a/scim/v2/Users', tok)
    expect(inA.status).toBe(201)
    expect((await mk('/scim/v2/Users', bearer('default-token-0123456789'))).status).toBe(201) // another alice, default tenant
    const me = await t.req('GET', '/t/okta-a/scim/v2/Me', { auth: tok })
    expect([me.status, me.json.id, me.json.userName]).toEqual([200, inA.json.id, 'alice'])
    expect(me.json.meta.location).toContain('/t/okta-a/scim/v2/Users/')
    // okta-b has no alice: its own token for sub alice finds nobody
    const b = await sign({ iss: ISS_B, aud: 'scimd-b', sub: 'alice' }, KB.privateKey, { alg: 'ES256', kid: 'org-b' })
    expect((await t.req('GET', '/t/okta-b/scim/v2/Me', { auth: bearer(b) })).status).toBe(404)
  })

  test('secrets are never returned by the admin API nor logged', async () => {
    const one = await t.admin('GET', '/admin/tenants/entra')
    expect(one.json.authSettings).toEqual({ jwtSecret: 'set', jwtAudience: ['scimd-entra'], jwtAlgorithms: ['HS256'] })
    const op = await t.admin('GET', '/admin/tenants/opaque')
    expect(op.json.authSettings.introspectionClientSecret).toBe('set')
    expect(op.json.authSettings.introspectionClientId).toBe('scimd-client')
    const patched = await t.admin('PATCH', '/admin/tenants/opaque', { auth: { introspectionClientSecret: 'set', requiredScopes: 'scim' } })
    expect(patched.status).toBe(200)
    expect((await t.req('GET', '/t/opaque/scim/v2/Users', { auth: bearer('opaque-good') })).status).toBe(200) // "set" kept the secret
    const all = [one.text, op.text, patched.text, (await t.admin('GET', '/admin/tenants')).text, (await t.admin('GET', '/admin/requests?full=true&limit=1000')).text, t.lines.join('\n')]
    for (const text of all) {
      expect(text).not.toContain(HMAC)
      expect(text).not.toContain(CLIENT_SECRET)
    }
    expect(t.lines.some((l) => l.includes('tenant created'))).toBe(true)
  })
})

describe('tenant auth settings: validation and changes', () => {
  test('a bad value → 400 invalidValue naming the field; nothing is created', async () => {
    const t = makeApp()
    const cases: [unknown, string][] = [
      [{ jwtIssuer: ISS_A }, 'auth.jwtIssuer'],
      [{ jwtJwksUrl: 'ftp://keys.test/' }, 'auth.jwtJwksUrl'],
      [{ jwtJwksUrl: 'https://keys.test/', jwtAlgorithms: 'none' }, 'auth.jwtAlgorithms'],
      [{ jwtSecret: 'short' }, 'auth.jwtSecret'],
      [{ jwtPublicKey: '@/etc/passwd' }, 'auth.jwtPublicKey'],
      [{ jwtPublicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }, 'auth.jwtPublicKey'],
      [{ introspectionUrl: 'https://idp.test/introspect', introspectionClientId: 'x' }, 'auth.introspectionClientSecret'],
      [{ requiredScopes: 'scim' }, 'auth.requiredScopes'],
      [{ jwtAudience: 5 }, 'auth.jwtAudience'],
      [{ kerberos: true }, 'auth.kerberos'],
      ['jwt', "'auth'"],
    ]
    for (const [auth, field] of cases) {
      const r = await t.admin('POST', '/admin/tenants', { id: 'x', auth })
      expect([field, r.status, r.json.scimType]).toEqual([field, 400, 'invalidValue'])
      expect(r.json.detail).toContain(field)
      expect(r.json.detail).not.toContain('short') // the value of a secret is not echoed
    }
    expect((await t.admin('GET', '/admin/tenants')).json.tenants).toEqual([])
    expect((await t.admin('PATCH', '/admin/tenants/nope', { auth: null })).status).toBe(404)
  })

  test('PATCH adds, changes and removes settings; the cached authenticator follows at once', async () => {
    const t = makeApp()
    const made = await t.admin('POST', '/admin/tenants', { id: 'acme' })
    const staticToken = made.json.credentials.token
    const tok = bearer(await tokenA())
    expect((await t.req('GET', '/t/acme/scim/v2/Users', { auth: tok })).status).toBe(401)
    const p1 = await t.admin('PATCH', '/admin/tenants/acme', { auth: { jwtJwksUrl: idp.url('/a/keys'), jwtAudience: 'scimd-a' } })
    expect([p1.status, p1.json.auth]).toEqual([200, ['bearer', 'jwt']])
    expect((await t.req('GET', '/t/acme/scim/v2/Users', { auth: tok })).status).toBe(200)
    expect((await t.admin('PATCH', '/admin/tenants/acme', { auth: { jwtAudience: 'other' } })).status).toBe(200)
    expect((await t.req('GET', '/t/acme/scim/v2/Users', { auth: tok })).status).toBe(401)
    const bad = await t.admin('PATCH', '/admin/tenants/acme', { auth: { jwtJwksUrl: null } }) // audience left without a key
    expect([bad.status, bad.json.detail]).toEqual([400, expect.stringContaining('auth.jwtAudience')])
    const cleared = await t.admin('PATCH', '/admin/tenants/acme', { auth: null, profile: 'strict' })
    expect([cleared.json.auth, cleared.json.authSettings, cleared.json.profile]).toEqual([['bearer'], null, 'strict'])
    expect((await t.req('GET', '/t/acme/scim/v2/Users', { auth: tok })).status).toBe(401)
    expect((await t.req('GET', '/t/acme/scim/v2/Users', { auth: bearer(staticToken) })).status).toBe(200)
    expect((await t.admin('PATCH', '/admin/tenants/acme', { id: 'other' })).status).toBe(400)
  })
})

describe('the brake on guessing, per tenant and address', () => {
  test('N failures from one address on one tenant → 429 with Retry-After there only', async () => {
    const t = makeApp({ authFailLimit: 2 })
    const a = await t.admin('POST', '/admin/tenants', { id: 'a', auth: { jwtJwksUrl: idp.url('/a/keys') } })
    await t.admin('POST', '/admin/tenants', { id: 'b' })
    const good = bearer(a.json.credentials.token)
    for (let i = 0; i < 3; i++) expect((await t.req('GET', '/t/a/scim/v2/Users', { auth: bearer('guess-' + i), client: '203.0.113.7' })).status).toBe(401)
    const braked = await t.req('GET', '/t/a/scim/v2/Users', { auth: good, client: '203.0.113.7' })
    scimError(braked, 429)
    expect(braked.headers.get('retry-after')).toBe('1')
    // another address on the same tenant, the same address on another tenant and on the default tenant: not braked
    expect((await t.req('GET', '/t/a/scim/v2/Users', { auth: good, client: '203.0.113.8' })).status).toBe(200)
    expect((await t.req('GET', '/t/b/scim/v2/Users', { auth: bearer('guess'), client: '203.0.113.7' })).status).toBe(401)
    expect((await t.req('GET', '/scim/v2/Users', { auth: bearer('default-token-0123456789'), client: '203.0.113.7' })).status).toBe(200)
    // JWT failures are counted as well
    for (let i = 0; i < 3; i++) expect((await t.req('GET', '/t/a/scim/v2/Users', { auth: bearer(await tokenA({ exp: now() - 999, iat: now() - 2000 })), client: '198.51.100.1' })).status).toBe(401)
    expect((await t.req('GET', '/t/a/scim/v2/Users', { auth: good, client: '198.51.100.1' })).status).toBe(429)
  })
})

describe('inspector stream per tenant', () => {
  async function readEvents(res: Response, want: number, ms = 2000): Promise<any[]> {
    const reader = res.body!.getReader()
    const dec = new TextDecoder()
    let buf = ''
    const events: any[] = []
    const deadline = Date.now() + ms
    while (events.length < want && Date.now() < deadline) {
      const r = await Promise.race([reader.read(), Bun.sleep(Math.max(1, deadline - Date.now())).then(() => null)])
      if (!r || r.done) break
      buf += dec.decode(r.value)
      let i
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const data = block.split('\n').find((l) => l.startsWith('data: '))
        if (data) events.push(JSON.parse(data.slice(6)))
      }
    }
    await reader.cancel().catch(() => {})
    return events
  }

  test('/admin/requests/stream?tenant=ID replays and streams that tenant only', async () => {
    const t = makeApp()
    const a = (await t.admin('POST', '/admin/tenants', { id: 'a' })).json.credentials.token
    const b = (await t.admin('POST', '/admin/tenants', { id: 'b' })).json.credentials.token
    await t.req('GET', '/t/a/scim/v2/Users?n=1', { auth: bearer(a) })
    await t.req('GET', '/t/b/scim/v2/Users?n=2', { auth: bearer(b) })
    await t.req('GET', '/scim/v2/Users?n=3', { auth: bearer('default-token-0123456789') })
    const stream = await t.app.handle(new Request('http://localhost/admin/requests/stream?after=0&tenant=a', { headers: { authorization: `Bearer ${ADMIN}` } }))
    expect(stream.status).toBe(200)
    const pending = readEvents(stream, 2)
    await Bun.sleep(20)
    await t.req('GET', '/t/b/scim/v2/Users?n=4', { auth: bearer(b) })
    await t.req('GET', '/t/a/scim/v2/Users?n=5', { auth: bearer(a) })
    const events = await pending
    expect(events.map((e) => [e.tenant, e.url])).toEqual([
      ['a', '/t/a/scim/v2/Users?n=1'],
      ['a', '/t/a/scim/v2/Users?n=5'],
    ])
    const def = await t.app.handle(new Request('http://localhost/admin/requests/stream?after=0&tenant=default', { headers: { authorization: `Bearer ${ADMIN}` } }))
    expect((await readEvents(def, 1)).map((e) => [e.tenant, e.url])).toEqual([['default', '/scim/v2/Users?n=3']])
  })
})

describe('scimd tenant with OAuth flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-tenant-auth-'))
  const run = async (config: Config, ...args: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const code = await tenantMain(config, args, { out: (s) => void out.push(s), err: (s) => void err.push(s) })
    return { code, out: out.join(''), err: err.join('') }
  }

  test('the server flag names set the tenant (not the server); secrets print as "set"; bad values exit 2 with one line', async () => {
    const argv = ['add', 'okta-a', '--jwt-jwks-url', idp.url('/a/keys'), '--jwt-issuer=' + ISS_A, '--database-url', 'x.db', '--jwt-secret', HMAC]
    expect(splitTenantAuthArgs(argv)).toEqual({
      own: ['--jwt-jwks-url', idp.url('/a/keys'), '--jwt-issuer=' + ISS_A, '--jwt-secret', HMAC],
      others: ['add', 'okta-a', '--database-url', 'x.db'],
    })
    const config: Config = { ...DEFAULTS, databaseUrl: join(dir, 'db.sqlite'), bearerTokens: ['server-token-0123456789'] }
    const add = (await run(config, 'add', 'okta-a', '--jwt-jwks-url', idp.url('/a/keys'), '--jwt-issuer', ISS_A, '--jwt-audience', 'scimd-a', '--required-scopes', 'scim', '--jwt-secret', HMAC))
    expect([add.code, add.err]).toEqual([0, ''])
    expect(add.out).toContain('jwtSecret:      set')
    expect(add.out).toContain('auth modes:     bearer, jwt')
    const list = (await run(config, 'list', '--json'))
    for (const text of [add.out, list.out]) expect(text).not.toContain(HMAC)
    expect(JSON.parse(list.out).authSettings).toEqual({ jwtJwksUrl: idp.url('/a/keys'), jwtSecret: 'set', jwtIssuer: [ISS_A], jwtAudience: ['scimd-a'], requiredScopes: ['scim'] })

    const bad = (await run(config, 'update', 'okta-a', '--introspection-client-id', 'x'))
    expect(bad.code).toBe(2)
    expect(bad.err.trim().split('\n')).toHaveLength(1)
    expect(bad.err).toContain('auth.introspectionClientSecret')
    expect((await run(config, 'update', 'okta-a', '--jwt-issuer')).code).toBe(2)
    expect((await run(config, 'update', 'nope', '--jwt-issuer', ISS_A)).code).toBe(1)
    const upd = (await run(config, 'update', 'okta-a', '--jwt-secret=', '--jwt-issuer='))
    expect(upd.code).toBe(0)
    expect(upd.out).not.toContain('jwtSecret')
    expect(upd.out).not.toContain('jwtIssuer')

    // a server on the same database accepts okta-a's tokens on /t/okta-a
    const s = assemble(config, createLogger('error', 'json', () => {}))
    const r = await s.app.handle(new Request('http://localhost/t/okta-a/scim/v2/Users', { headers: { authorization: bearer(await tokenA({ iss: 'https://anyone' })) } }))
    expect(r.status).toBe(200)
    s.db.$client.close()
    const cleared = (await run(config, 'update', 'okta-a', '--clear-auth'))
    expect(cleared.out).toContain('auth modes:     bearer\n')
    rmSync(dir, { recursive: true, force: true })
  })
})
