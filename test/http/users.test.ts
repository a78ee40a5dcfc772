import { describe, expect, test } from 'bun:test'
import { ERROR_URN, makeTestApp, SCIM, user, USER_URN } from '../helpers/app'

describe('Users CRUD', () => {
  test('POST creates a user: 201, Location, ETag, meta, scim+json, no password', async () => {
    const t = makeTestApp()
    const r = await t.req('POST', '/Users', user('bjensen@example.com', { password: 't1meMachine', active: true }))
    expect(r.status).toBe(201)
    expect(r.headers.get('content-type')).toStartWith(SCIM)
    expect(r.json.schemas).toEqual([USER_URN])
    expect(r.json.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(r.headers.get('location')).toBe(`http://localhost/scim/v2/Users/${r.json.id}`)
    expect(r.headers.get('etag')).toBe('W/"1"')
    expect(r.json.meta).toEqual({
      resourceType: 'User',
      created: r.json.meta.created,
      lastModified: r.json.meta.created,
      location: `http://localhost/scim/v2/Users/${r.json.id}`,
      version: 'W/"1"',
    })
    expect(new Date(r.json.meta.created).toISOString()).toBe(r.json.meta.created)
    expect(r.text).not.toContain('t1meMachine')
    expect(r.json.password).toBeUndefined()
  })

  test('GET by id returns the stored user with its ETag; unknown id → 404 SCIM error', async () => {
    const t = makeTestApp()
    const c = await t.req('POST', '/Users', user('a@example.com', { displayName: 'A' }))
    const r = await t.req('GET', `/Users/${c.json.id}`)
    expect(r.status).toBe(200)
    expect(r.json).toEqual(c.json)
    expect(r.headers.get('etag')).toBe('W/"1"')
    const missing = await t.req('GET', '/Users/00000000-0000-0000-0000-000000000000')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toStartWith(SCIM)
    expect(missing.json).toEqual({ schemas: [ERROR_URN], status: '404', detail: expect.any(String) })
  })

  test('duplicate userName, compared case-insensitively → 409 uniqueness', async () => {
    const t = makeTestApp()
    expect((await t.req('POST', '/Users', user('Dup@Example.com'))).status).toBe(201)
    const r = await t.req('POST', '/Users', user('dup@example.COM'))
    expect(r.status).toBe(409)
    expect(r.json).toMatchObject({ schemas: [ERROR_URN], status: '409', scimType: 'uniqueness' })
  })

  test('PUT replaces writable attributes, bumps version, keeps id and created', async () => {
    const t = makeTestApp()
    const c = await t.req('POST', '/Users', user('put@example.com', { title: 'Dev', nickName: 'p' }))
    const r = await t.req('PUT', `/Users/${c.json.id}`, { ...c.json, title: 'Lead', nickName: undefined })
    expect(r.status).toBe(200)
    expect(r.json.title).toBe('Lead')
    expect(r.json.nickName).toBeUndefined()
    expect(r.json.id).toBe(c.json.id)
    expect(r.json.meta.created).toBe(c.json.meta.created)
    expect(r.json.meta.version).toBe('W/"2"')
    expect(r.headers.get('etag')).toBe('W/"2"')
  })

  test('PUT with another id in the body → 400; PUT of an unknown id → 404', async () => {
    const t = makeTestApp()
    const c = await t.req('POST', '/Users', user('x@example.com'))
    const r = await t.req('PUT', `/Users/${c.json.id}`, user('x@example.com', { id: 'other' }))
    expect(r.status).toBe(400)
    expect(r.json.scimType).toBe('invalidValue')
    expect((await t.req('PUT', '/Users/nope', user('x@example.com'))).status).toBe(404)
  })

  test('PUT to a userName held by another user → 409', async () => {
    const t = makeTestApp()
    await t.req('POST', '/Users', user('one@example.com'))
    const two = await t.req('POST', '/Users', user('two@example.com'))
    const r = await t.req('PUT', `/Users/${two.json.id}`, user('ONE@example.com'))
    expect(r.status).toBe(409)
    expect(r.json.scimType).toBe('uniqueness')
  })

  test('DELETE → 204, then 404; memberships go with the user', async () => {
    const t = makeTestApp()
    const c = await t.req('POST', '/Users', user('del@example.com'))
    const g = await t.req('POST', '/Groups', { displayName: 'G', members: [{ value: c.json.id }] })
    const d = await t.req('DELETE', `/Users/${c.json.id}`)
    expect(d.status).toBe(204)
    expect(d.text).toBe('')
    expect((await t.req('GET', `/Users/${c.json.id}`)).status).toBe(404)
    expect((await t.req('DELETE', `/Users/${c.json.id}`)).status).toBe(404)
    const after = await t.req('GET', `/Groups/${g.json.id}`)
    expect(after.json.members ?? []).toEqual([])
  })

  test('a JSON body sent as application/json is accepted; the answer is scim+json', async () => {
    const t = makeTestApp()
    const r = await t.req('POST', '/Users', user('json@example.com'), { headers: { 'content-type': 'application/json' } })
    expect(r.status).toBe(201)
    expect(r.headers.get('content-type')).toStartWith(SCIM)
  })
})

describe('Users list', () => {
  test('pages with startIndex/count; totalResults counts matches; itemsPerPage is what was returned', async () => {
    const t = makeTestApp()
    for (let i = 0; i < 7; i++) await t.req('POST', '/Users', user(`u${i}@example.com`))
    const p1 = await t.req('GET', '/Users?startIndex=1&count=3')
    expect(p1.json).toMatchObject({ totalResults: 7, startIndex: 1, itemsPerPage: 3 })
    const p3 = await t.req('GET', '/Users?startIndex=7&count=3')
    expect(p3.json).toMatchObject({ totalResults: 7, startIndex: 7, itemsPerPage: 1 })
    const all = [
      ...p1.json.Resources,
      ...(await t.req('GET', '/Users?startIndex=4&count=3')).json.Resources,
      ...p3.json.Resources,
    ].map((u: any) => u.userName)
    expect(new Set(all).size).toBe(7)
    const zero = await t.req('GET', '/Users?count=0')
    expect(zero.json).toMatchObject({ totalResults: 7, itemsPerPage: 0, Resources: [] })
  })

  test('Okta lookup: userName eq on an absent user → empty ListResponse', async () => {
    const t = makeTestApp()
    const r = await t.req('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}&startIndex=1&count=100`)
    expect(r.status).toBe(200)
    expect(r.json).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    })
  })

  test('eq filters on userName (any case), externalId, id and displayName', async () => {
    const t = makeTestApp()
    const a = await t.req('POST', '/Users', user('Alice@Example.com', { externalId: 'ext-A', displayName: 'Alice A' }))
    await t.req('POST', '/Users', user('bob@example.com', { externalId: 'ext-a', displayName: 'Bob' }))
    const q = async (f: string) =>
      (await t.req('GET', `/Users?filter=${encodeURIComponent(f)}`)).json.Resources.map((u: any) => u.userName)
    expect(await q('userName eq "alice@example.com"')).toEqual(['Alice@Example.com'])
    expect(await q('externalId eq "ext-A"')).toEqual(['Alice@Example.com'])
    expect(await q(`id eq "${a.json.id}"`)).toEqual(['Alice@Example.com'])
    expect(await q('displayName eq "alice a"')).toEqual(['Alice@Example.com'])
  })

  test('a filter that does not parse → 400 invalidFilter, never an empty 200', async () => {
    const t = makeTestApp()
    const r = await t.req('GET', `/Users?filter=${encodeURIComponent('userName eq')}`)
    expect(r.status).toBe(400)
    expect(r.json).toMatchObject({ schemas: [ERROR_URN], status: '400', scimType: 'invalidFilter' })
  })
})
