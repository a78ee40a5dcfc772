import { describe, expect, test } from 'bun:test'
import { makeTestApp, PATCH_URN, user } from '../helpers/app'

async function setup() {
  const t = makeTestApp()
  const ids: string[] = []
  for (const n of ['a', 'b', 'c']) ids.push((await t.req('POST', '/Users', user(`${n}@example.com`))).json.id)
  return { t, ids }
}

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_URN], Operations })
const memberIds = (g: any) => (g.members ?? []).map((m: any) => m.value).sort()

describe('Groups', () => {
  test('POST with members; GET shows members with $ref, type and display; User.groups is derived', async () => {
    const { t, ids } = await setup()
    const g = await t.req('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Eng', members: [{ value: ids[0] }, { value: ids[1], type: 'User' }] })
    expect(g.status).toBe(201)
    expect(g.headers.get('location')).toBe(`http://localhost/scim/v2/Groups/${g.json.id}`)
    expect(g.json.members).toContainEqual({ value: ids[0], $ref: `http://localhost/scim/v2/Users/${ids[0]}`, type: 'User', display: 'a@example.com' })
    const u = await t.req('GET', `/Users/${ids[0]}`)
    expect(u.json.groups).toEqual([{ value: g.json.id, $ref: `http://localhost/scim/v2/Groups/${g.json.id}`, display: 'Eng', type: 'direct' }])
  })

  test('a member id that names nothing → 400 invalidValue, nothing created', async () => {
    const { t } = await setup()
    const r = await t.req('POST', '/Groups', { displayName: 'Bad', members: [{ value: 'no-such-id' }] })
    expect(r.status).toBe(400)
    expect(r.json.scimType).toBe('invalidValue')
    expect((await t.req('GET', '/Groups')).json.totalResults).toBe(0)
  })

  test('excludedAttributes=members leaves members out', async () => {
    const { t, ids } = await setup()
    const g = await t.req('POST', '/Groups', { displayName: 'Eng', members: [{ value: ids[0] }] })
    const r = await t.req('GET', `/Groups/${g.json.id}?excludedAttributes=members`)
    expect(r.status).toBe(200)
    expect(r.json.members).toBeUndefined()
    expect(r.json.displayName).toBe('Eng')
    const l = await t.req('GET', `/Groups?filter=${encodeURIComponent('displayName eq "eng"')}&excludedAttributes=members`)
    expect(l.json.totalResults).toBe(1)
    expect(l.json.Resources[0].members).toBeUndefined()
  })

  test('PUT replaces the member list (Okta custom apps)', async () => {
    const { t, ids } = await setup()
    const g = await t.req('POST', '/Groups', { displayName: 'Eng', members: [{ value: ids[0] }, { value: ids[1] }] })
    const r = await t.req('PUT', `/Groups/${g.json.id}`, { displayName: 'Eng', members: [{ value: ids[1] }, { value: ids[2] }] })
    expect(r.status).toBe(200)
    expect(memberIds(r.json)).toEqual([ids[1], ids[2]].sort())
    const empty = await t.req('PUT', `/Groups/${g.json.id}`, { displayName: 'Eng', members: [] })
    expect(empty.json.members).toBeUndefined()
  })

  test('PATCH: add with a value array, remove by filter, replace the list, several ops in one request', async () => {
    const { t, ids } = await setup()
    const g = (await t.req('POST', '/Groups', { displayName: 'Eng', members: [] })).json
    let r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: [{ value: ids[0], display: 'a@example.com' }, { value: ids[1] }] }))
    expect(r.status).toBe(200)
    expect(memberIds(r.json)).toEqual([ids[0], ids[1]].sort())
    r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'remove', path: `members[value eq "${ids[0]}"]` }, { op: 'add', path: 'members', value: [{ value: ids[2] }] }))
    expect(memberIds(r.json)).toEqual([ids[1], ids[2]].sort())
    r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'replace', path: 'members', value: [{ value: ids[0] }] }))
    expect(memberIds(r.json)).toEqual([ids[0]])
    expect(r.json.meta.version).toBe('W/"4"')
  })

  test('PATCH rename with the id in the value (Okta) ignores the id', async () => {
    const { t } = await setup()
    const g = (await t.req('POST', '/Groups', { displayName: 'Old' })).json
    const r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'replace', value: { id: g.id, displayName: 'New' } }))
    expect(r.status).toBe(200)
    expect(r.json.displayName).toBe('New')
    expect(r.json.id).toBe(g.id)
  })

  test('DELETE → 204, and the group leaves its members’ groups', async () => {
    const { t, ids } = await setup()
    const g = (await t.req('POST', '/Groups', { displayName: 'Gone', members: [{ value: ids[0] }] })).json
    expect((await t.req('DELETE', `/Groups/${g.id}`)).status).toBe(204)
    expect((await t.req('GET', `/Groups/${g.id}`)).status).toBe(404)
    expect((await t.req('GET', `/Users/${ids[0]}`)).json.groups).toBeUndefined()
  })
})

test('a list renders each user’s groups exactly as GET by id does (fetched for the whole page at once)', async () => {
  const { t, ids } = await setup()
  const g1 = (await t.req('POST', '/Groups', { displayName: 'One', members: [{ value: ids[0] }, { value: ids[1] }] })).json
  const g2 = (await t.req('POST', '/Groups', { displayName: 'Two', members: [{ value: ids[1] }] })).json
  const list = await t.req('GET', '/Users?count=10')
  expect(list.json.Resources).toHaveLength(3)
  for (const u of list.json.Resources) expect(u).toEqual((await t.req('GET', `/Users/${u.id}`)).json)
  const byId = Object.fromEntries(list.json.Resources.map((u: any) => [u.id, (u.groups ?? []).map((g: any) => g.value).sort()]))
  expect(byId[ids[0]]).toEqual([g1.id])
  expect(byId[ids[1]]).toEqual([g1.id, g2.id].sort())
  expect(byId[ids[2]]).toEqual([])
})
