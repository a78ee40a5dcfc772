import { beforeAll, describe, expect, test } from 'bun:test'
import { loopbackEndpoint, makeAuthApp, scimError } from '../helpers/auth'
import { createIntrospector } from '../../src/introspection'

const CLIENT = 'Basic ' + Buffer.from('scimd-rs:rs+secret').toString('base64') // "rs secret", form-encoded first (RFC 6749 §2.3.1)
const now = () => Math.floor(Date.now() / 1000)

let calls: string[] = []
let mode: 'ok' | 'error' = 'ok'
const endpoint = loopbackEndpoint(async (req) => {
  if (mode === 'error') return new Response('boom', { status: 500 })
  if (req.headers.get('authorization') !== CLIENT) return Response.json({ error: 'invalid_client' }, { status: 401 })
  const form = new URLSearchParams(await req.text())
  const token = form.get('token') ?? ''
  calls.push(token)
  switch (token) {
    case 'opaque-good':
    case 'opaque-good-2':
      return Response.json({ active: true, scope: 'scim offline', sub: 'okta-app', client_id: 'okta', exp: now() + 600 })
    case 'opaque-noscope':
      return Response.json({ active: true, scope: 'openid', sub: 'x', exp: now() + 600 })
    case 'opaque-other-aud':
      return Response.json({ active: true, scope: 'scim', aud: 'another-api', exp: now() + 600 })
    case 'opaque-expired':
      return Response.json({ active: true, scope: 'scim', exp: now() - 600 })
    default:
      return Response.json({ active: false })
  }
})

const cfg = () => ({
  introspectionUrl: endpoint.url('/introspect'),
  introspectionClientId: 'scimd-rs',
  introspectionClientSecret: 'rs secret',
  introspectionCache: 0.4,
  requiredScopes: ['scim'],
  jwtAudience: ['scimd'],
})

describe('RFC 7662 introspection', () => {
  let t: ReturnType<typeof makeAuthApp>
  beforeAll(() => {
    t = makeAuthApp(cfg())
  })

  test('active → accepted; the answer is cached (at most SCIMD_INTROSPECTION_CACHE)', async () => {
    calls = []
    for (let i = 0; i < 3; i++) expect((await t.req('/Users', { auth: 'Bearer opaque-good' })).status).toBe(200)
    expect(calls).toEqual(['opaque-good'])
    await Bun.sleep(450)
    expect((await t.req('/Users', { auth: 'Bearer opaque-good' })).status).toBe(200)
    expect(calls).toEqual(['opaque-good', 'opaque-good'])
  })

  test.each([
    ['inactive', 'opaque-dead'],
    ['active but past exp', 'opaque-expired'],
    ['active for another audience', 'opaque-other-aud'],
  ])('%s → 401 invalid_token, not cached', async (_n, token) => {
    calls = []
    t.lines.length = 0
    for (let i = 0; i < 2; i++) {
      const r = await t.req('/Users', { auth: `Bearer ${token}` })
      expect(scimError(r, 401).detail).toBe('Invalid bearer token')
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="scimd", error="invalid_token"')
    }
    expect(calls).toEqual([token, token])
    expect(t.lines.join('\n')).toContain('introspection:')
    expect(t.lines.join('\n')).not.toContain(token)
  })

  test('active without the required scope → 403 insufficient_scope', async () => {
    const r = await t.req('/Users', { auth: 'Bearer opaque-noscope' })
    scimError(r, 403)
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="scimd", error="insufficient_scope", scope="scim"')
  })

  test('a JWT-shaped token goes to introspection when no JWT key is configured', async () => {
    calls = []
    const jwtLike = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'
    scimError(await t.req('/Users', { auth: `Bearer ${jwtLike}` }), 401)
    expect(calls).toEqual([jwtLike])
  })

  test('endpoint failing (HTTP 500, or refusing scimd as a client) → 503 with Retry-After', async () => {
    mode = 'error'
    try {
      const r = await t.req('/Users', { auth: 'Bearer opaque-good-2' })
      scimError(r, 503)
      expect(r.headers.get('retry-after')).toBe('5')
    } finally {
      mode = 'ok'
    }
    const wrongClient = makeAuthApp({ ...cfg(), introspectionClientSecret: 'nope' })
    scimError(await wrongClient.req('/Users', { auth: 'Bearer opaque-good-2' }), 503)
  })

  test('endpoint unreachable → 503 with Retry-After and a SCIM body', async () => {
    const dead = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
    const port = dead.port
    dead.stop(true)
    const u = makeAuthApp({ ...cfg(), introspectionUrl: `http://127.0.0.1:${port}/introspect` })
    const r = await u.req('/Users', { auth: 'Bearer opaque-good' })
    expect(scimError(r, 503).detail).toContain('retry')
    expect(r.headers.get('retry-after')).toBe('5')
    expect(u.lines.join('\n')).toContain('introspection endpoint unreachable')
  })

  test('ServiceProviderConfig lists the introspection mode', async () => {
    const spc = (await t.req('/ServiceProviderConfig')).json
    expect(spc.authenticationSchemes).toEqual([expect.objectContaining({ type: 'oauthbearertoken', name: 'OAuth 2.0 bearer token (introspection)' })])
  })
})

test('the cache: bounded, never past exp', async () => {
  let t = 1_000_000
  const t0 = t
  const seen: string[] = []
  const fake = (async (_url: string, init: RequestInit) => {
    const token = new URLSearchParams(String(init.body)).get('token')!
    seen.push(token)
    return Response.json({ active: true, exp: Math.floor(t0 / 1000) + (token === 'short' ? 2 : 3600) })
  }) as unknown as typeof fetch
  const i = createIntrospector({ url: 'http://unused', cacheSeconds: 60, clockSkew: 0, maxEntries: 3, fetch: fake, now: () => t })
  await i.introspect('short')
  await i.introspect('short')
  expect(seen).toEqual(['short'])
  t += 2500 // past exp (2 s), well within the 60 s cache
  await expect(i.introspect('short')).rejects.toThrow('expired')
  for (const tok of ['a', 'b', 'c', 'd', 'e']) await i.introspect(tok)
  expect(i.cacheSize()).toBe(3)
})
