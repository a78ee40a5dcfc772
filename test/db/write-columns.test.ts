/**
 * A write rewrites only the indexed columns whose value changes (service.ts writeVersion → Repo.updateResource):
 * a PATCH of `active` must leave the userName, externalId and displayName columns — and so their indexes — alone.
 * Watched with a SQLite trigger `AFTER UPDATE OF <column>`, which fires only when the UPDATE names the column.
 */
import { expect, test } from 'bun:test'
import { makeTestApp, USER_URN } from '../helpers/app'

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

test('PATCH active names only the columns that change; a userName change names its column, and uniqueness still holds', async () => {
  const t = makeTestApp()
  const c = t.db.$client
  c.exec('create table touched (col text not null)')
  for (const col of ['user_name_key', 'external_id', 'display_name_key', 'active'])
    c.exec(`create trigger touched_${col} after update of ${col} on users begin insert into touched values ('${col}'); end`)
  const touched = () => c.query<{ col: string }, []>('select col from touched order by rowid').all().map((r) => r.col)

  const a = await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'ann', externalId: 'e-1', displayName: 'Ann', active: true })
  expect(a.status).toBe(201)
  await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'bob' })
  const id = a.json.id

  expect((await t.req('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(200)
  expect(touched()).toEqual(['active'])
  // an operation that changes nothing indexed names none of them
  expect((await t.req('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'nickName', value: 'A' }] })).status).toBe(200)
  expect(touched()).toEqual(['active'])
  // a case-only userName change keeps the key (same holder): no uniqueness look-up needed, no key rewrite
  expect((await t.req('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'ANN' }] })).status).toBe(200)
  expect(touched()).toEqual(['active'])
  // a real rename writes the key; taking another user's name is still a 409
  expect((await t.req('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'annie' }] })).status).toBe(200)
  expect(touched()).toEqual(['active', 'user_name_key'])
  const taken = await t.req('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'Bob' }] })
  expect([taken.status, taken.json.scimType]).toEqual([409, 'uniqueness'])
  // PUT: the same rule
  const put = await t.req('PUT', `/Users/${id}`, { schemas: [USER_URN], userName: 'annie', externalId: 'e-2', displayName: 'Ann', active: false })
  expect(put.status).toBe(200)
  expect(touched()).toEqual(['active', 'user_name_key', 'external_id'])
  // and what is stored answers filters on every column
  for (const f of ['userName eq "annie"', 'externalId eq "e-2"', 'displayName eq "ann"', 'active eq false'])
    expect((await t.req('GET', `/Users?filter=${encodeURIComponent(f)}`)).json.totalResults).toBe(1)
})
