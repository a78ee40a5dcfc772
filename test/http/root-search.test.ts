/** POST /.search at the SCIM root (RFC 7644 §3.4.3): Users and Groups in one result set. */
import { describe, expect, test } from 'bun:test'
import { ERROR_URN, GROUP_URN, makeTestApp, user, USER_URN } from '../helpers/app'

const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'

async function seed() {
  const t = makeTestApp()
  const u = async (userName: string, extra: Record<string, unknown> = {}) => (await t.req('POST', '/Users', user(userName, extra))).json.id as string
  const g = async (displayName: string, members: string[] = []) =>
    (await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName, members: members.map((value) => ({ value })) })).json.id as string
  const alice = await u('alice', { displayName: 'Alice Admin', title: 'Engineer' })
  const admins = await g('Admins', [alice])
  const bob = await u('bob', { displayName: 'Bob' })
  const all = await g('All', [alice, bob])
  const carol = await u('carol')
  return { t, ids: { alice, admins, bob, all, carol }, order: [alice, admins, bob, all, carol] }
}

const search = (t: ReturnType<typeof makeTestApp>, body: Record<string, unknown>) => t.req('POST', '/.search', { schemas: [SEARCH], ...body })
const idsOf = (r: { json: any }) => r.json.Resources.map((x: any) => x.id)

describe('POST /.search at the root', () => {
  test('returns Users and Groups together, each with its own schemas and meta.resourceType, in id order', async () => {
    const { t, ids, order } = await seed()
    const r = await search(t, {})
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toStartWith('application/scim+json')
    expect(r.json.totalResults).toBe(5)
    expect(r.json.startIndex).toBe(1)
    expect(idsOf(r)).toEqual(order)
    const byId = new Map(r.json.Resources.map((x: any) => [x.id, x]))
    expect((byId.get(ids.alice) as any).schemas).toEqual([USER_URN])
    expect((byId.get(ids.alice) as any).meta.resourceType).toBe('User')
    expect((byId.get(ids.alice) as any).meta.location).toBe(`http://localhost/scim/v2/Users/${ids.alice}`)
    expect((byId.get(ids.admins) as any).schemas).toEqual([GROUP_URN])
    expect((byId.get(ids.admins) as any).meta.resourceType).toBe('Group')
    expect((byId.get(ids.admins) as any).members.map((m: any) => m.value)).toEqual([ids.alice])
  })

  test('requires auth like every resource endpoint', async () => {
    const { t } = await seed()
    expect((await t.req('POST', '/.search', { schemas: [SEARCH] }, { auth: false })).status).toBe(401)
  })

  test('a filter on an attribute both types define matches in both', async () => {
    const { t, ids } = await seed()
    expect(idsOf(await search(t, { filter: 'displayName sw "A"' }))).toEqual([ids.alice, ids.admins, ids.all])
    expect(idsOf(await search(t, { filter: 'meta.resourceType eq "Group"' }))).toEqual([ids.admins, ids.all])
  })

  test('an attribute only one type defines is unassigned in the other', async () => {
    const { t, ids } = await seed()
    expect(idsOf(await search(t, { filter: 'userName eq "bob"' }))).toEqual([ids.bob])
    expect(idsOf(await search(t, { filter: `members.value eq "${ids.bob}"` }))).toEqual([ids.all])
    expect(idsOf(await search(t, { filter: `members[value eq "${ids.alice}"]` }))).toEqual([ids.admins, ids.all])
    // not / or / ne around such attributes: Groups have no userName, Users no members
    expect(idsOf(await search(t, { filter: 'not (userName pr)' }))).toEqual([ids.admins, ids.all])
    expect(idsOf(await search(t, { filter: 'userName ne "alice"' }))).toEqual([ids.admins, ids.bob, ids.all, ids.carol])
    expect(idsOf(await search(t, { filter: `userName eq "carol" or members.value eq "${ids.bob}"` }))).toEqual([ids.all, ids.carol])
    expect(idsOf(await search(t, { filter: 'title eq "Engineer" and displayName pr' }))).toEqual([ids.alice])
  })

  test('an attribute no type defines → 400 invalidFilter; a bad filter → 400 invalidFilter', async () => {
    const { t } = await seed()
    for (const filter of ['noSuchAttr eq "x"', 'userName eq', 'displayName eq "x" and (userName pr']) {
      const r = await search(t, { filter })
      expect(r.status).toBe(400)
      expect(r.json).toEqual({ schemas: [ERROR_URN], status: '400', scimType: 'invalidFilter', detail: expect.any(String) })
    }
  })

  test('index paging across both types is stable and complete', async () => {
    const { t, order } = await seed()
    const pages: string[] = []
    for (let start = 1; start <= 5; start += 2) {
      const r = await search(t, { startIndex: start, count: 2 })
      expect(r.json.totalResults).toBe(5)
      expect(r.json.startIndex).toBe(start)
      pages.push(...idsOf(r))
    }
    expect(pages).toEqual(order)
  })

  test('sortBy across types: a type without the attribute sorts as having no value', async () => {
    const { t, ids } = await seed()
    const r = await search(t, { sortBy: 'displayName', attributes: ['displayName'] })
    expect(r.json.Resources.map((x: any) => x.displayName ?? null)).toEqual(['Admins', 'Alice Admin', 'All', 'Bob', null])
    const byName = await search(t, { sortBy: 'userName', sortOrder: 'descending', attributes: ['userName'] })
    // descending: no value first (the groups, by id descending), then carol, bob, alice
    expect(idsOf(byName)).toEqual([ids.all, ids.admins, ids.carol, ids.bob, ids.alice])
  })

  test('cursor paging across both types', async () => {
    const { t, order } = await seed()
    const seen: string[] = []
    let cursor = ''
    let prevSeen = false
    for (let i = 0; i < 10; i++) {
      const r = await search(t, { cursor, count: 2 })
      expect(r.status).toBe(200)
      expect(r.json.totalResults).toBe(5)
      if (r.json.previousCursor) prevSeen = true
      seen.push(...idsOf(r))
      if (!r.json.nextCursor) break
      cursor = r.json.nextCursor
    }
    expect(seen).toEqual(order)
    expect(prevSeen).toBe(true)
    // a root cursor is not valid on /Users
    const c = (await search(t, { cursor: '', count: 1 })).json.nextCursor
    const wrong = await t.req('GET', `/Users?count=1&cursor=${c}`)
    expect(wrong.status).toBe(400)
    expect(wrong.json.scimType).toBe('invalidCursor')
  })

  test('attributes projection applies per type', async () => {
    const { t, ids } = await seed()
    const r = await search(t, { filter: `id eq "${ids.alice}" or id eq "${ids.admins}"`, attributes: ['displayName'] })
    expect(r.json.Resources).toEqual([
      { schemas: [USER_URN], id: ids.alice, displayName: 'Alice Admin' },
      { schemas: [GROUP_URN], id: ids.admins, displayName: 'Admins' },
    ])
  })
})
