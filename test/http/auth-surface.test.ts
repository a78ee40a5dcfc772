import { describe, expect, test } from 'bun:test'
import { makeAuthApp, scimError } from '../helpers/auth'
import { ensureLocalKey } from '../../src/token-cmd'

const AUTH = 'Bearer good-token-123'
const user = JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'form@example.com' })

describe('tokens only from the Authorization header', () => {
  const t = makeAuthApp({ bearerTokens: ['good-token-123'] })
  const form = { 'content-type': 'application/x-www-form-urlencoded' }

  test('access_token in a form-encoded body → 401 invalid_request (with or without a good header)', async () => {
    for (const auth of [undefined, AUTH]) {
      const r = await t.req('/Users', { method: 'POST', headers: form, body: 'access_token=good-token-123&userName=x', auth })
      expect(scimError(r, 401).detail).toContain('request body')
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="scimd", error="invalid_request"')
    }
    expect((await t.req('/Users?filter=userName%20eq%20%22x%22', { auth: AUTH })).json.totalResults).toBe(0)
  })

  test("JSON sent with curl's default form content type still works", async () => {
    expect((await t.req('/Users', { method: 'POST', headers: form, body: user, auth: AUTH })).status).toBe(201)
  })

  test('access_token in the query string → 401 invalid_request', async () => {
    const r = await t.req('/Users?access_token=good-token-123')
    scimError(r, 401)
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_request"')
  })
})

describe('public or closed docs and discovery', () => {
  test('by default /docs, /docs/json, discovery and /healthz are public', async () => {
    const t = makeAuthApp({ bearerTokens: ['good-token-123'] })
    for (const p of ['/docs/json', '/scim/v2/ServiceProviderConfig', '/scim/v2/Schemas', '/scim/v2/ResourceTypes', '/healthz']) expect((await t.req(p)).status).toBe(200)
  })

  test('SCIMD_PUBLIC_DOCS=false and SCIMD_PUBLIC_DISCOVERY=false put them behind auth; /healthz stays public', async () => {
    const t = makeAuthApp({ bearerTokens: ['good-token-123'], basicAuth: { user: 'u', password: 'p' }, publicDocs: false, publicDiscovery: false })
    for (const p of ['/docs', '/docs/json', '/scim/v2/ServiceProviderConfig', '/scim/v2/Schemas', '/scim/v2/ResourceTypes/User']) {
      const r = await t.req(p)
      scimError(r, 401)
      expect(r.headers.get('www-authenticate')).toContain('Bearer realm="scimd"')
      expect((await t.req(p, { auth: AUTH })).status).toBe(200)
      expect((await t.req(p, { auth: 'Basic ' + Buffer.from('u:p').toString('base64') })).status).toBe(200)
    }
    expect((await t.req('/healthz')).status).toBe(200)
  })
})

describe('/.well-known/jwks.json', () => {
  test('404 while no local key exists; then the public half only', async () => {
    const t = makeAuthApp({ bearerTokens: ['good-token-123'] })
    scimError(await t.req('/.well-known/jwks.json'), 404)
    const { jwk } = ensureLocalKey(t.db)
    const r = await t.req('/.well-known/jwks.json')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/jwk-set+json')
    expect(r.json.keys).toEqual([{ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: jwk.kid, alg: 'ES256', use: 'sig' }])
    expect(r.text).not.toContain('"d"')
  })

  test('not served when another JWT key is configured and SCIMD_JWT_LOCAL is auto, nor when false', async () => {
    for (const o of [{ jwtSecret: 'x'.repeat(32) }, { jwtLocal: false as const }]) {
      const t = makeAuthApp({ bearerTokens: ['good-token-123'], ...o })
      ensureLocalKey(t.db)
      scimError(await t.req('/.well-known/jwks.json'), 404)
    }
  })
})
