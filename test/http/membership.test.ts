/**
 * Issue 4 §7: group membership as rows. A PATCH touches only the member rows it names; User.groups (readOnly) is
 * derived from group_members; deleting a user (or group) removes its memberships; a member value naming no
 * resource → 400 invalidValue.
 */
import { describe, expect, test } from 'bun:test'
import { ERROR_URN, GROUP_URN, makeTestApp, PATCH_URN, user } from '../helpers/app'

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_URN], Operations })

async function setup(n: number) {
  const t = makeTestApp()
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push((await t.req('POST', '/Users', user(`u${i}@example.com`, { displayName: `U${i}` }))).json.id)
  const sql = t.db.$client
  const rows = (groupId: string) =>
    sql.query('select rowid as r, member_id as m from group_members where group_id = ? order by rowid').all(groupId) as { r: number; m: string }[]
  const totalChanges = () => (sql.query('select total_changes() as n').get() as { n: number }).n
  return { t, ids, rows, totalChanges }
}

describe('membership at scale: only the named rows are touched', () => {
  test('PATCH add / remove change exactly those rows; the others keep their rowids', async () => {
    const { t, ids, rows, totalChanges } = await setup(40)
    const g = (await t.req('POST', '/Groups', { displayName: 'Big', members: ids.slice(0, 30).map((value) => ({ value })) })).json
    const before = rows(g.id)
    expect(before).toHaveLength(30)

    let c0 = totalChanges()
    let r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: ids.slice(30, 35).map((value) => ({ value })) }))
    expect(r.status).toBe(200)
    // 5 member rows inserted + the group row's version/lastModified + one history row; nothing else written
    expect(totalChanges() - c0).toBe(7)
    const afterAdd = rows(g.id)
    expect(afterAdd.slice(0, 30)).toEqual(before)
    expect(afterAdd.slice(30).map((x) => x.m)).toEqual(ids.slice(30, 35))

    c0 = totalChanges()
    r = await t.req('PATCH', `/Groups/${g.id}`, patch(
      { op: 'remove', path: `members[value eq "${ids[3]}" or value eq "${ids[7]}"]` },
      { op: 'Remove', path: 'members', value: [{ value: ids[31] }] },
    ))
    expect(r.status).toBe(200)
    expect(totalChanges() - c0).toBe(5) // 3 deletions + the group row + one history row (member_remove)
    const afterRemove = rows(g.id)
    expect(afterRemove).toEqual(afterAdd.filter((x) => ![ids[3], ids[7], ids[31]].includes(x.m)))

    // adding members already present inserts nothing
    c0 = totalChanges()
    r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: [{ value: ids[0] }, { value: ids[1] }] }))
    expect(r.status).toBe(200)
    expect(totalChanges() - c0).toBe(2) // the group row + the history row of the (no-op) PATCH
    expect(rows(g.id)).toEqual(afterRemove)
  })

  test('a rename PATCH does not touch member rows', async () => {
    const { t, ids, rows, totalChanges } = await setup(10)
    const g = (await t.req('POST', '/Groups', { displayName: 'Big', members: ids.map((value) => ({ value })) })).json
    const before = rows(g.id)
    const c0 = totalChanges()
    const r = await t.req('PATCH', `/Groups/${g.id}?excludedAttributes=members`, patch({ op: 'replace', value: { id: g.id, displayName: 'Bigger' } }))
    expect(r.status).toBe(200)
    expect(r.json.members).toBeUndefined()
    expect(totalChanges() - c0).toBe(2) // the group row + its history row
    expect(rows(g.id)).toEqual(before)
  })
})

describe('User.groups is derived from group_members', () => {
  test('follows adds, removals and renames; readOnly on input', async () => {
    const { t, ids } = await setup(2)
    const g1 = (await t.req('POST', '/Groups', { displayName: 'One' })).json
    const g2 = (await t.req('POST', '/Groups', { displayName: 'Two', members: [{ value: ids[0] }] })).json
    await t.req('PATCH', `/Groups/${g1.id}`, patch({ op: 'add', path: 'members', value: [{ value: ids[0] }, { value: ids[1] }] }))
    const groupsOf = async (id: string) => ((await t.req('GET', `/Users/${id}`)).json.groups ?? []).map((g: any) => [g.value, g.display, g.type]).sort()
    expect(await groupsOf(ids[0])).toEqual([[g1.id, 'One', 'direct'], [g2.id, 'Two', 'direct']].sort())
    expect(await groupsOf(ids[1])).toEqual([[g1.id, 'One', 'direct']])
    await t.req('PATCH', `/Groups/${g1.id}`, patch({ op: 'replace', path: 'displayName', value: 'Uno' }))
    await t.req('PATCH', `/Groups/${g2.id}`, patch({ op: 'remove', path: `members[value eq "${ids[0]}"]` }))
    expect(await groupsOf(ids[0])).toEqual([[g1.id, 'Uno', 'direct']])
    // filterable, and excluded on request
    const f = await t.req('GET', `/Users?filter=${encodeURIComponent(`groups.value eq "${g1.id}"`)}&excludedAttributes=groups`)
    expect(f.json.totalResults).toBe(2)
    expect(f.json.Resources.every((u: any) => u.groups === undefined)).toBe(true)
    // a client's groups on PUT are ignored: membership is changed through the group
    const put = await t.req('PUT', `/Users/${ids[1]}`, user('u1@example.com', { groups: [{ value: g2.id }] }))
    expect(put.status).toBe(200)
    expect(put.json.groups.map((g: any) => g.value)).toEqual([g1.id])
  })
})

describe('deleting a member', () => {
  test('deleting a user removes its membership rows and bumps the versions of its groups', async () => {
    const { t, ids, rows } = await setup(3)
    const g = (await t.req('POST', '/Groups', { displayName: 'G', members: ids.map((value) => ({ value })) })).json
    const etag = g.meta.version
    expect((await t.req('DELETE', `/Users/${ids[1]}`)).status).toBe(204)
    expect(rows(g.id).map((x) => x.m)).toEqual([ids[0], ids[2]])
    expect(t.db.$client.query('select count(*) as n from group_members where member_id = ?').get(ids[1])).toEqual({ n: 0 })
    const r = await t.req('GET', `/Groups/${g.id}`, undefined, { headers: { 'if-none-match': etag } })
    expect(r.status).toBe(200) // the member list changed, so the old ETag no longer matches
    expect(r.json.members.map((m: any) => m.value)).toEqual([ids[0], ids[2]])
  })

  test('deleting a nested group removes it from its parents; deleting a group removes its own rows', async () => {
    const { t, ids, rows } = await setup(1)
    const child = (await t.req('POST', '/Groups', { displayName: 'Child', members: [{ value: ids[0] }] })).json
    const parent = (await t.req('POST', '/Groups', { displayName: 'Parent', members: [{ value: child.id, type: 'Group' }, { value: ids[0] }] })).json
    expect(parent.members.find((m: any) => m.value === child.id)).toMatchObject({ type: 'Group', display: 'Child', $ref: `http://localhost/scim/v2/Groups/${child.id}` })
    expect((await t.req('DELETE', `/Groups/${child.id}`)).status).toBe(204)
    expect(rows(parent.id).map((x) => x.m)).toEqual([ids[0]])
    expect(rows(child.id)).toEqual([])
  })
})

describe('member values that name nothing → 400 invalidValue, nothing written', () => {
  test.each([
    ['POST', (t: any, _g: string) => t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'X', members: [{ value: 'ghost' }] })],
    ['PUT', (t: any, g: string) => t.req('PUT', `/Groups/${g}`, { displayName: 'X', members: [{ value: 'ghost' }] })],
    ['PATCH add', (t: any, g: string) => t.req('PATCH', `/Groups/${g}`, patch({ op: 'add', path: 'members', value: [{ value: 'ghost' }] }))],
    ['PATCH replace', (t: any, g: string) => t.req('PATCH', `/Groups/${g}`, patch({ op: 'replace', path: 'members', value: [{ value: 'ghost' }] }))],
    ['PATCH add, path-less', (t: any, g: string) => t.req('PATCH', `/Groups/${g}`, patch({ op: 'add', value: { members: [{ value: 'ghost' }] } }))],
  ])('%s', async (_, send) => {
    const { t, ids, rows } = await setup(1)
    const g = (await t.req('POST', '/Groups', { displayName: 'G', members: [{ value: ids[0] }] })).json
    const r = await send(t, g.id)
    expect(r.status).toBe(400)
    expect(r.json.schemas).toEqual([ERROR_URN])
    expect(r.json.scimType).toBe('invalidValue')
    expect(r.json.detail).toContain('ghost')
    expect(rows(g.id).map((x) => x.m)).toEqual([ids[0]])
    expect((await t.req('GET', '/Groups')).json.totalResults).toBe(1)
    expect((await t.req('GET', `/Groups/${g.id}`)).json.meta.version).toBe('W/"1"')
  })

  test('a group cannot be its own member → 400 invalidValue', async () => {
    const { t } = await setup(0)
    const g = (await t.req('POST', '/Groups', { displayName: 'G' })).json
    const r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: [{ value: g.id }] }))
    expect(r.status).toBe(400)
    expect(r.json.scimType).toBe('invalidValue')
  })
})
