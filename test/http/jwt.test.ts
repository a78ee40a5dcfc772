import { beforeAll, describe, expect, test } from 'bun:test'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose'
import { generateKeyPairSync } from 'node:crypto'
import { loopbackEndpoint, makeAuthApp, scimError, sign } from '../helpers/auth'

const ISS = 'https://issuer.test/oauth2/default'
const AUD = 'scimd'
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)

// key A (RS256, kid a) is published from the start; key B (ES256, kid b) appears on rotation
const A = await generateKeyPair('RS256', { extractable: true })
const B = await generateKeyPair('ES256', { extractable: true })
const pubA = { ...(await exportJWK(A.publicKey)), kid: 'a', alg: 'RS256', use: 'sig' } as JWK
const pubB = { ...(await exportJWK(B.publicKey)), kid: 'b', alg: 'ES256', use: 'sig' } as JWK
const pemA = await exportSPKI(A.publicKey)

let published: JWK[] = [pubA]
let fetches = 0
const jwks = loopbackEndpoint(() => {
  fetches++
  return Response.json({ keys: published })
})

const good = { iss: ISS, aud: AUD, sub: 'okta-app', scope: 'scim openid' }
const bearer = (t: string) => `Bearer ${t}`

function expectInvalidToken(r: Awaited<ReturnType<ReturnType<typeof makeAuthApp>['req']>>) {
  const body = scimError(r, 401)
  expect(body.detail).toBe('Invalid bearer token') // generic: the reason is in the server log only
  expect(r.headers.get('www-authenticate')).toBe('Bearer realm="scimd", error="invalid_token"')
}

describe('JWT bearer tokens from a JWKS URL', () => {
  let t: ReturnType<typeof makeAuthApp>
  beforeAll(() => {
    t = makeAuthApp({
      jwtJwksUrl: jwks.url('/keys'),
      jwtJwksCooldown: 0.3,
      jwtIssuer: [ISS],
      jwtAudience: [AUD],
      requiredScopes: ['scim'],
    })
  })

  test('a valid token is accepted; the JWKS is fetched once and cached', async () => {
    const before = fetches
    const token = await sign(good, A.privateKey, { alg: 'RS256', kid: 'a' })
    for (let i = 0; i < 3; i++) expect((await t.req('/Users', { auth: bearer(token) })).status).toBe(200)
    expect(fetches - before).toBeLessThanOrEqual(1)
    expect(t.generatedToken).toBeUndefined() // JWT mode is configured auth: no generated token
  })

  test('Okta-style scp array and Entra-style scp string carry the scope', async () => {
    const { scope: _s, ...rest } = good
    for (const scp of [['scim'], 'openid scim']) {
      const token = await sign({ ...rest, scp }, A.privateKey, { alg: 'RS256', kid: 'a' })
      expect((await t.req('/Users', { auth: bearer(token) })).status).toBe(200)
    }
  })

  test.each([
    ['expired', { exp: now() - 120 }, 'ERR_JWT_EXPIRED'],
    ['not yet valid (nbf)', { nbf: now() + 300 }, 'nbf'],
    ['issued in the future (iat)', { iat: now() + 300 }, 'iat'],
    ['wrong issuer', { iss: 'https://evil.test' }, 'iss'],
    ['wrong audience', { aud: 'someone-else' }, 'aud'],
    ['no exp', { exp: undefined }, 'exp'],
  ])('%s → 401 invalid_token, reason in the log, token never', async (_name, claims, reason) => {
    const token = await sign({ ...good, ...claims } as any, A.privateKey, { alg: 'RS256', kid: 'a' })
    t.lines.length = 0
    expectInvalidToken(await t.req('/Users', { auth: bearer(token) }))
    const log = t.lines.join('\n')
    expect(log).toContain('authentication refused')
    expect(log).toContain(reason)
    expect(log).not.toContain(token)
    expect(log).not.toContain(token.split('.')[2])
  })

  test('within the clock tolerance (exp 30 s ago, skew 60 s) → accepted', async () => {
    const token = await sign({ ...good, exp: now() - 30 }, A.privateKey, { alg: 'RS256', kid: 'a' })
    expect((await t.req('/Users', { auth: bearer(token) })).status).toBe(200)
  })

  test('alg "none" → 401', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...good, iat: now(), exp: now() + 300 })}.`
    t.lines.length = 0
    expectInvalidToken(await t.req('/Users', { auth: bearer(token) }))
    expect(t.lines.join('\n')).toContain('alg \\"none\\"')
  })

  test('HS256 signed with the RSA public key as the secret → 401', async () => {
    for (const secret of [pemA, JSON.stringify(pubA)]) {
      const token = await sign(good, new TextEncoder().encode(secret), { alg: 'HS256', kid: 'a' })
      expectInvalidToken(await t.req('/Users', { auth: bearer(token) }))
    }
  })

  test('tampered payload → 401', async () => {
    const token = await sign(good, A.privateKey, { alg: 'RS256', kid: 'a' })
    const [h, , s] = token.split('.')
    const forged = `${h}.${b64({ ...good, sub: 'admin', iat: now(), exp: now() + 300 })}.${s}`
    expectInvalidToken(await t.req('/Users', { auth: bearer(forged) }))
  })

  test('missing scope → 403 insufficient_scope with the required scope named', async () => {
    const token = await sign({ ...good, scope: 'openid' }, A.privateKey, { alg: 'RS256', kid: 'a' })
    const r = await t.req('/Users', { auth: bearer(token) })
    const body = scimError(r, 403)
    expect(body.detail).toContain('scim')
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="scimd", error="insufficient_scope", scope="scim"')
  })

  test('unknown kid → 401 without hammering the JWKS; after rotation (and the cooldown) → accepted', async () => {
    const token = await sign(good, B.privateKey, { alg: 'ES256', kid: 'b' })
    await Bun.sleep(350) // past the cooldown of earlier fetches
    const before = fetches
    for (let i = 0; i < 5; i++) expectInvalidToken(await t.req('/Users', { auth: bearer(token) }))
    expect(fetches - before).toBe(1) // one re-fetch for the unknown kid, then the cooldown holds
    published = [pubA, pubB] // the authorization server rotates in key B
    await Bun.sleep(350)
    expect((await t.req('/Users', { auth: bearer(token) })).status).toBe(200)
    expect(fetches - before).toBe(2)
    // the old key still works while it is published
    expect((await t.req('/Users', { auth: bearer(await sign(good, A.privateKey, { alg: 'RS256', kid: 'a' })) })).status).toBe(200)
  })

  test('a token that is neither a JWT nor a configured token → 401', async () => {
    expectInvalidToken(await t.req('/Users', { auth: 'Bearer opaque-token-value' }))
  })

  test('ServiceProviderConfig and OpenAPI list exactly the JWT mode', async () => {
    const token = await sign(good, A.privateKey, { alg: 'RS256', kid: 'a' })
    const spc = (await t.req('/ServiceProviderConfig', { auth: bearer(token) })).json
    expect(spc.authenticationSchemes).toEqual([
      expect.objectContaining({ type: 'oauthbearertoken', specUri: 'https://www.rfc-editor.org/rfc/rfc7519', primary: true }),
    ])
    const doc = (await t.req('/docs/json')).json
    expect(doc.components.securitySchemes).toEqual({ jwtAuth: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }) })
  })
})

describe('JWKS endpoint unreachable', () => {
  test('→ 503 with Retry-After and a SCIM error (the token may be good)', async () => {
    const dead = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
    const port = dead.port
    dead.stop(true)
    const t = makeAuthApp({ jwtJwksUrl: `http://127.0.0.1:${port}/keys` })
    const token = await sign(good, A.privateKey, { alg: 'RS256', kid: 'a' })
    const r = await t.req('/Users', { auth: bearer(token) })
    scimError(r, 503)
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(r.text).not.toContain(token)
  })
})

describe('JWT with a configured public key or secret, combined with Basic and static tokens', () => {
  const secret = 'a-shared-secret-of-at-least-32-bytes!!'
  const basic = 'Basic ' + Buffer.from('okta:pw').toString('base64')
  let t: ReturnType<typeof makeAuthApp>
  beforeAll(() => {
    t = makeAuthApp({ jwtPublicKey: pemA, jwtSecret: secret, bearerTokens: ['static-token-1'], basicAuth: { user: 'okta', password: 'pw' } })
  })

  test('every mode is accepted; the first that accepts wins', async () => {
    expect((await t.req('/Users', { auth: 'Bearer static-token-1' })).status).toBe(200)
    expect((await t.req('/Users', { auth: basic })).status).toBe(200)
    expect((await t.req('/Users', { auth: bearer(await sign({ sub: 'x' }, A.privateKey, { alg: 'RS256' })) })).status).toBe(200)
    expect((await t.req('/Users', { auth: bearer(await sign({ sub: 'x' }, new TextEncoder().encode(secret), { alg: 'HS256' })) })).status).toBe(200)
  })

  test('the PEM itself as an HMAC secret, an EC token against an RSA key, a wrong secret → 401 with both challenges', async () => {
    for (const token of [
      await sign({ sub: 'x' }, new TextEncoder().encode(pemA), { alg: 'HS256' }),
      await sign({ sub: 'x' }, B.privateKey, { alg: 'ES256' }),
      await sign({ sub: 'x' }, new TextEncoder().encode(secret + 'x'), { alg: 'HS256' }),
    ]) {
      const r = await t.req('/Users', { auth: bearer(token) })
      scimError(r, 401)
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="scimd", error="invalid_token", Basic realm="scimd", charset="UTF-8"')
    }
  })

  test('SCIMD_JWT_ALGORITHMS narrows what the key allows', async () => {
    const k = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const only = makeAuthApp({ jwtPublicKey: k.publicKey.export({ type: 'spki', format: 'pem' }) as string, jwtAlgorithms: ['PS256'] })
    expectInvalidToken(await only.req('/Users', { auth: bearer(await sign({ sub: 'x' }, k.privateKey, { alg: 'RS256' })) }))
    expect((await only.req('/Users', { auth: bearer(await sign({ sub: 'x' }, k.privateKey, { alg: 'PS256' })) })).status).toBe(200)
  })

  test('authenticationSchemes lists exactly the configured modes', async () => {
    const spc = (await t.req('/ServiceProviderConfig')).json
    expect(spc.authenticationSchemes.map((s: any) => [s.type, s.specUri])).toEqual([
      ['oauthbearertoken', 'https://www.rfc-editor.org/rfc/rfc6750'],
      ['oauthbearertoken', 'https://www.rfc-editor.org/rfc/rfc7519'],
      ['httpbasic', 'https://www.rfc-editor.org/rfc/rfc7617'],
    ])
    const doc = (await t.req('/docs/json')).json
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearerAuth', 'jwtAuth', 'basicAuth'])
    expect(doc.security).toEqual([{ bearerAuth: [] }, { jwtAuth: [] }, { basicAuth: [] }])
  })
})

test('a JWK public key works like the PEM', async () => {
  const t = makeAuthApp({ jwtPublicKey: JSON.stringify(pubB) })
  const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().setExpirationTime('5m').sign(B.privateKey)
  expect((await t.req('/Users', { auth: bearer(token) })).status).toBe(200)
  expectInvalidToken(await t.req('/Users', { auth: bearer(await sign({ sub: 'x' }, A.privateKey, { alg: 'RS256' })) }))
})
