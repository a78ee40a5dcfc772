import { describe, expect, test } from 'bun:test'
import { makeTestApp, user, GROUP_URN, PATCH_URN, ERROR_URN, TOKEN } from '../helpers/app'
import { q } from '../../src/db/store'

const ADMIN = 'admin-token-0123456789abcdef'
const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64')

async function setup() {
  const t = makeTestApp({ adminToken: ADMIN })
  const admin = (method: string, path: string, body?: unknown) => t.req(method, 'http://localhost' + path, body, { auth: `Bearer ${ADMIN}`, headers: body ? { 'content-type': 'application/json' } : {} })
  const a = await admin('POST', '/admin/tenants', { id: 'okta-a', profile: 'okta', basicUser: 'okta' })
  const b = await admin('POST', '/admin/tenants', { id: 'entra-b', profile: 'entra' })
  expect(a.status).toBe(201)
  expect(b.status).toBe(201)
  const as = (tenant: string, token: string) => (method: string, path: string, body?: unknown, opts: { auth?: string; headers?: Record<string, string> } = {}) =>
    t.req(method, `http://localhost/t/${tenant}/scim/v2${path}`, body, { auth: opts.auth ?? `Bearer ${token}`, headers: opts.headers })
  return { t, admin, a: as('okta-a', a.json.credentials.token), b: as('entra-b', b.json.credentials.token), aCreds: a.json.credentials, bCreds: b.json.credentials, as }
}

describe('tenants', () => {
  test('admin API: create (credentials once, stored hashed), list, conflicts, bad ids, auth', async () => {
    const { t, admin, aCreds } = await setup()
    expect(aCreds.token).toMatch(/^scimd_/)
    expect(aCreds.basic.user).toBe('okta')
    const list = await admin('GET', '/admin/tenants')
    expect(list.json.tenants.map((x: any) => [x.id, x.profile, x.auth])).toEqual([
      ['entra-b', 'entra', ['bearer']],
      ['okta-a', 'okta', ['bearer', 'basic']],
    ])
    expect(list.json.tenants[1].baseUrl).toBe('http://localhost/t/okta-a/scim/v2')
    expect(list.text).not.toContain(aCreds.token)
    // only digests in the database
    const row = (await (await t.ready).store.read(q((r) => r.getTenant('okta-a'))))!
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(row)).not.toContain(aCreds.token)
    expect(JSON.stringify(row)).not.toContain(aCreds.basic.password)
    expect((await admin('POST', '/admin/tenants', { id: 'okta-a' })).status).toBe(409)
    for (const id of ['Bad', '', 'a/b', 'default', '-x']) {
      const r = await admin('POST', '/admin/tenants', { id })
      expect(r.status).toBe(400)
      expect(r.json.schemas).toEqual([ERROR_URN])
    }
    expect((await admin('POST', '/admin/tenants', { id: 'p', profile: 'google' })).status).toBe(400)
    const noAuth = await t.req('GET', 'http://localhost/admin/tenants', undefined, { auth: `Bearer ${TOKEN}` })
    expect(noAuth.status).toBe(401)
    expect((await t.req('GET', 'http://localhost/t/nope/scim/v2/Users')).status).toBe(404)
  })

  test('credentials never open another tenant (every combination)', async () => {
    const { t, aCreds, bCreds } = await setup()
    const creds: Record<string, string> = {
      default: `Bearer ${TOKEN}`,
      'okta-a': `Bearer ${aCreds.token}`,
      'okta-a basic': basic('okta', aCreds.basic.password),
      'entra-b': `Bearer ${bCreds.token}`,
    }
    const paths: Record<string, string> = { default: '/scim/v2/Users', 'okta-a': '/t/okta-a/scim/v2/Users', 'entra-b': '/t/entra-b/scim/v2/Users' }
    for (const [who, auth] of Object.entries(creds))
      for (const [where, path] of Object.entries(paths)) {
        const r = await t.req('GET', 'http://localhost' + path, undefined, { auth })
        expect([who, where, r.status]).toEqual([who, where, who.split(' ')[0] === where ? 200 : 401])
      }
    const wrongPw = await t.req('GET', 'http://localhost/t/okta-a/scim/v2/Users', undefined, { auth: basic('okta', 'nope') })
    expect(wrongPw.status).toBe(401)
  })

  test('ids, uniqueness, filters, memberships, search and bulk never cross tenants', async () => {
    const { t, a, b } = await setup()
    const ua = await a('POST', '/Users', user('same@example.com', { externalId: 'x1' }))
    expect(ua.status).toBe(201)
    expect(ua.headers.get('location')).toBe(`http://localhost/t/okta-a/scim/v2/Users/${ua.json.id}`)
    expect(ua.json.meta.location).toBe(`http://localhost/t/okta-a/scim/v2/Users/${ua.json.id}`)
    // the same userName in another tenant is no conflict; in the same one it is
    expect((await b('POST', '/Users', user('same@example.com'))).status).toBe(201)
    expect((await t.req('POST', '/Users', user('same@example.com'))).status).toBe(201)
    expect((await a('POST', '/Users', user('SAME@example.com'))).status).toBe(409)
    const id = ua.json.id
    // read, update, patch, delete with another tenant's credentials at its own base path → 404
    expect((await b('GET', `/Users/${id}`)).status).toBe(404)
    expect((await t.req('GET', `/Users/${id}`)).status).toBe(404)
    expect((await b('PUT', `/Users/${id}`, user('taken'))).status).toBe(404)
    expect((await b('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(404)
    expect((await b('DELETE', `/Users/${id}`)).status).toBe(404)
    expect((await t.req('DELETE', `/Users/${id}`)).status).toBe(404)
    // filters
    expect((await b('GET', '/Users?filter=' + encodeURIComponent('externalId eq "x1"'))).json.totalResults).toBe(0)
    expect((await a('GET', '/Users?filter=' + encodeURIComponent('externalId eq "x1"'))).json.totalResults).toBe(1)
    expect((await b('GET', '/Users?filter=' + encodeURIComponent(`id eq "${id}"`))).json.totalResults).toBe(0)
    expect((await b('POST', '/.search', { filter: 'userName sw "same"' })).json.totalResults).toBe(1)
    expect((await t.req('GET', '/Users')).json.totalResults).toBe(1)
    // memberships: another tenant's user id → 400 invalidValue, in POST, PUT and PATCH
    const gb = await b('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'G' })
    const post = await b('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'H', members: [{ value: id }] })
    expect([post.status, post.json.scimType]).toEqual([400, 'invalidValue'])
    const put = await b('PUT', `/Groups/${gb.json.id}`, { schemas: [GROUP_URN], displayName: 'G', members: [{ value: id }] })
    expect([put.status, put.json.scimType]).toEqual([400, 'invalidValue'])
    const patch = await b('PATCH', `/Groups/${gb.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] })
    expect([patch.status, patch.json.scimType]).toEqual([400, 'invalidValue'])
    // bulk in another tenant cannot touch it either
    const bulk = await b('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [{ method: 'DELETE', path: `/Users/${id}` }] })
    expect(bulk.json.Operations[0].status).toBe('404')
    expect((await a('GET', `/Users/${id}`)).status).toBe(200)
  })

  test('a pagination cursor works only in the tenant that issued it (400 invalidCursor elsewhere)', async () => {
    const { t, a, b } = await setup()
    for (let i = 0; i < 3; i++) {
      await a('POST', '/Users', user(`a${i}@example.com`))
      await b('POST', '/Users', user(`b${i}@example.com`))
      await t.req('POST', '/Users', user(`d${i}@example.com`))
    }
    for (const [path, body] of [['/Users?cursor&count=1', undefined], ['/.search', { cursor: '', count: 1 }]] as const) {
      const first = await a(body ? 'POST' : 'GET', path, body)
      expect(first.status).toBe(200)
      const cursor = first.json.nextCursor
      expect(typeof cursor).toBe('string')
      const next = (send: typeof a) => (body ? send('POST', '/.search', { cursor, count: 1 }) : send('GET', `/Users?count=1&cursor=${cursor}`))
      expect((await next(a)).status).toBe(200)
      for (const other of [b, (m: string, p: string, bd?: unknown) => t.req(m, p, bd)] as (typeof a)[]) {
        const r = await next(other)
        expect([path, r.status, r.json.scimType]).toEqual([path, 400, 'invalidCursor'])
      }
    }
  })

  test('inspector entries are tagged with the tenant; /admin/requests?tenant= filters', async () => {
    const { t, admin, a, b } = await setup()
    await a('GET', '/Users')
    await b('GET', '/Groups')
    await t.req('GET', '/Users')
    const onlyA = await admin('GET', '/admin/requests?full=1&tenant=okta-a')
    expect(onlyA.json.entries.length).toBe(1)
    expect(onlyA.json.entries[0].path).toBe('/t/okta-a/scim/v2/Users')
    expect(onlyA.json.entries[0].tenant).toBe('okta-a')
    expect(onlyA.json.entries[0].profile).toBe('okta')
    const def = await admin('GET', '/admin/requests?full=1&tenant=default')
    expect(def.json.entries.map((e: any) => e.path)).toEqual(['/scim/v2/Users'])
    expect(def.json.entries[0].profile).toBe('tolerant')
  })

  test('chaos rules are per tenant', async () => {
    const { t, admin, a, b } = await setup()
    const set = await admin('PUT', '/admin/chaos?tenant=okta-a', { faults: 'GET /Users=503' })
    expect(set.status).toBe(200)
    expect((await a('GET', '/Users')).status).toBe(503)
    expect((await b('GET', '/Users')).status).toBe(200)
    expect((await t.req('GET', '/Users')).status).toBe(200)
    expect((await admin('GET', '/admin/chaos')).json.faults).toEqual([])
    expect((await admin('PUT', '/admin/chaos?tenant=ghost', { faults: 'GET /Users=503' })).status).toBe(404)
  })

  test('profile override: a strict tenant refuses what a tolerant one accepts; ServiceProviderConfig shows it', async () => {
    const { admin, as, a } = await setup()
    const s = await admin('POST', '/admin/tenants', { id: 'pure', profile: 'strict' })
    const strict = as('pure', s.json.credentials.token)
    const entraUser = { UserName: 'cap@example.com', Active: 'True' } // no schemas, capitalised, string boolean
    expect((await a('POST', '/Users', entraUser)).status).toBe(201)
    expect((await strict('POST', '/Users', entraUser)).status).toBe(400)
    const spc = await strict('GET', '/ServiceProviderConfig')
    expect(spc.json['urn:scimd:params:scim:schemas:extension:profile:1.0']).toEqual({ profile: 'strict', strict: true })
    expect(spc.json.meta.location).toBe('http://localhost/t/pure/scim/v2/ServiceProviderConfig')
    expect((await a('GET', '/ServiceProviderConfig')).json['urn:scimd:params:scim:schemas:extension:profile:1.0']).toEqual({ profile: 'okta', strict: false })
  })

  test('rotate: old credentials stop working; delete: all data goes', async () => {
    const { t, admin, a, aCreds, as } = await setup()
    const u = await a('POST', '/Users', user('gone'))
    const g = await a('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'G', members: [{ value: u.json.id }] })
    expect(g.status).toBe(201)
    const r = await admin('POST', '/admin/tenants/okta-a/rotate')
    expect(r.status).toBe(200)
    expect(r.json.credentials.token).not.toBe(aCreds.token)
    expect((await a('GET', '/Users')).status).toBe(401)
    const a2 = as('okta-a', r.json.credentials.token)
    expect((await a2('GET', '/Users')).json.totalResults).toBe(1)
    expect((await a2('GET', '/Users', undefined, { auth: basic('okta', r.json.credentials.basic.password) })).status).toBe(200)
    expect((await admin('DELETE', '/admin/tenants/okta-a')).json).toEqual({ deleted: 'okta-a', users: 1, groups: 1 })
    expect((await a2('GET', '/Users')).status).toBe(404)
    // nothing of the tenant is left (its memberships went with its groups)
    const store = (await t.ready).store
    expect(await store.read(q((r) => r.tenantCounts('okta-a')))).toEqual({ users: 0, groups: 0 })
    expect((await store.read(q((r) => r.listResources('okta-a', 'User', { offset: 0, limit: 10 })))).rows).toEqual([])
    expect((await store.read(q((r) => r.listResources('okta-a', 'Group', { offset: 0, limit: 10 })))).rows).toEqual([])
    expect(await store.read(q((r) => r.listMembers(g.json.id)))).toEqual([])
    expect((await admin('DELETE', '/admin/tenants/okta-a')).status).toBe(404)
    // the id can be used again, empty
    const again = await admin('POST', '/admin/tenants', { id: 'okta-a' })
    expect((await as('okta-a', again.json.credentials.token)('GET', '/Users')).json.totalResults).toBe(0)
  })
})
