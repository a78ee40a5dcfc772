import { describe, expect, test } from 'bun:test'
import { loopbackEndpoint, makeAuthApp, scimError, sign } from '../helpers/auth'

const SECRET_TEXT = 'a-test-secret-of-at-least-32-bytes!!'
const SECRET = new TextEncoder().encode(SECRET_TEXT)
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const TOKEN = 'me-static-token-0123456789'
const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64')

const introspection = loopbackEndpoint(async (req) => {
  const token = new URLSearchParams(await req.text()).get('token')
  if (token === 'opaque-alice') return Response.json({ active: true, sub: 'alice@example.com', email: 'alice@example.com', exp: Math.floor(Date.now() / 1000) + 600 })
  return Response.json({ active: false })
})

async function seed(app: ReturnType<typeof makeAuthApp>, auth: string) {
  const c = await app.req('/Users', { method: 'POST', auth, headers: { 'content-type': 'application/scim+json' }, body: JSON.stringify({ schemas: [USER], userName: 'Alice@Example.com', externalId: 'ext-1' }) })
  expect(c.status).toBe(201)
  return c.json.id as string
}

describe('/Me', () => {
  test('static bearer token → 501 with a SCIM error saying why', async () => {
    const app = makeAuthApp({ bearerTokens: [TOKEN] })
    const r = await app.req('/Me', { auth: `Bearer ${TOKEN}` })
    expect(scimError(r, 501).detail).toContain('static bearer token')
    expect((await app.req('/Me', {})).status).toBe(401)
  })

  test('Basic: the user name; GET, PATCH, PUT, DELETE act on that user', async () => {
    const app = makeAuthApp({ basicAuth: { user: 'alice@example.com', password: 'pw' } })
    const auth = basic('alice@example.com', 'pw')
    const id = await seed(app, auth)
    const g = await app.req('/Me', { auth })
    expect(g.status).toBe(200)
    expect(g.json.id).toBe(id)
    expect(g.json.meta.location).toBe(`http://localhost/scim/v2/Users/${id}`)
    expect(g.headers.get('etag')).toBe('W/"1"')
    const p = await app.req('/Me', { method: 'PATCH', auth, headers: { 'content-type': 'application/scim+json' }, body: JSON.stringify({ schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Al' }] }) })
    expect(p.json.displayName).toBe('Al')
    const u = await app.req('/Me', { method: 'PUT', auth, headers: { 'content-type': 'application/scim+json' }, body: JSON.stringify({ schemas: [USER], userName: 'alice@example.com', nickName: 'A' }) })
    expect(u.status).toBe(200)
    expect(u.json.nickName).toBe('A')
    expect(u.json.displayName).toBeUndefined()
    expect((await app.req('/Me', { method: 'POST', auth })).status).toBe(405)
    expect((await app.req('/Me', { method: 'DELETE', auth })).status).toBe(204)
    expect(scimError(await app.req('/Me', { auth }), 404).detail).toContain('No User matches')
  })

  test('JWT: sub by default; SCIMD_ME_CLAIM / SCIMD_ME_MATCH choose the claim and attribute', async () => {
    const app = makeAuthApp({ jwtSecret: SECRET_TEXT } as any)
    const tok = async (claims: Record<string, unknown>) => 'Bearer ' + (await sign(claims, SECRET, { alg: 'HS256' }))
    const id = await seed(app, await tok({ sub: 'admin' }))
    expect((await app.req('/Me', { auth: await tok({ sub: 'ALICE@example.com' }) })).json.id).toBe(id)
    expect(scimError(await app.req('/Me', { auth: await tok({ sub: 'bob' }) }), 404).detail).toContain('No User matches')

    const byExt = makeAuthApp({ jwtSecret: SECRET_TEXT, meClaim: 'oid', meMatch: 'externalId' } as any)
    const id2 = await seed(byExt, await tok({ sub: 'admin' }))
    expect((await byExt.req('/Me', { auth: await tok({ sub: 'x', oid: 'ext-1' }) })).json.id).toBe(id2)
    expect(scimError(await byExt.req('/Me', { auth: await tok({ sub: 'x' }) }), 404).detail).toContain("'oid'")

    const byId = makeAuthApp({ jwtSecret: SECRET_TEXT, meMatch: 'id' } as any)
    const id3 = await seed(byId, await tok({ sub: 'admin' }))
    expect((await byId.req('/Me', { auth: await tok({ sub: id3 }) })).json.id).toBe(id3)
  })

  test('introspection: the introspected sub', async () => {
    const app = makeAuthApp({ introspectionUrl: introspection.url('/introspect'), introspectionClientId: 'c', introspectionClientSecret: 's' } as any)
    const basicApp = app // seed through /Users with the same token: the subject does not matter there
    const id = await seed(basicApp, 'Bearer opaque-alice')
    const r = await app.req('/Me', { auth: 'Bearer opaque-alice' })
    expect(r.status).toBe(200)
    expect(r.json.id).toBe(id)
  })
})
