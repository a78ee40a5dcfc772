/** Many clients at once over real HTTP: uniqueness, lost updates, membership and If-Match hold. */
import { afterAll, expect, test } from 'bun:test'
import { listenTestApp } from '../helpers/server'
import { PATCH_URN } from '../helpers/app'

const srv = listenTestApp()
afterAll(() => srv.close())

test('200 concurrent POSTs of one userName → exactly one 201 and 199 × 409', async () => {
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      srv.send('POST', '/Users', { userName: i % 2 ? 'Race@Example.com' : 'race@example.com', password: i % 10 === 0 ? 'pw-' + i : undefined }),
    ),
  )
  const statuses = results.map((r) => r.status)
  expect(statuses.filter((s) => s === 201)).toHaveLength(1)
  expect(statuses.filter((s) => s === 409)).toHaveLength(199)
  for (const r of results.filter((r) => r.status === 409)) expect(r.json.scimType).toBe('uniqueness')
  const list = await srv.send('GET', `/Users?filter=${encodeURIComponent('userName eq "race@example.com"')}`)
  expect(list.json.totalResults).toBe(1)
})

test('100 concurrent PATCH add-member requests on one group → every member present', async () => {
  const users = await Promise.all(Array.from({ length: 100 }, (_, i) => srv.send('POST', '/Users', { userName: `member${i}@example.com` })))
  const g = await srv.send('POST', '/Groups', { displayName: 'Crowd' })
  const patches = await Promise.all(
    users.map((u) => srv.send('PATCH', `/Groups/${g.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: u.json.id }] }] })),
  )
  expect(patches.every((p) => p.status === 200)).toBe(true)
  const after = await srv.send('GET', `/Groups/${g.json.id}`)
  expect(after.json.members).toHaveLength(100)
  expect(new Set(after.json.members.map((m: any) => m.value))).toEqual(new Set(users.map((u) => u.json.id)))
  expect(after.json.meta.version).toBe('W/"101"')
})

test('concurrent If-Match updates of one resource → exactly one wins, the rest get 412', async () => {
  const u = await srv.send('POST', '/Users', { userName: 'ifmatch@example.com', title: 'v0' })
  const etag = u.headers.get('etag')!
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      i % 2
        ? srv.send('PATCH', `/Users/${u.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'title', value: `p${i}` }] }, { 'if-match': etag })
        : srv.send('PUT', `/Users/${u.json.id}`, { userName: 'ifmatch@example.com', title: `u${i}` }, { 'if-match': etag }),
    ),
  )
  const ok = results.filter((r) => r.status === 200)
  expect(ok).toHaveLength(1)
  const failed = results.filter((r) => r.status === 412)
  expect(failed).toHaveLength(49)
  expect(failed[0].json).toMatchObject({ status: '412', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] })
  const now = await srv.send('GET', `/Users/${u.json.id}`)
  expect(now.json.title).toBe(ok[0].json.title)
  expect(now.json.meta.version).toBe('W/"2"')
})

test('mixed concurrent writes never surface SQLITE_BUSY or a 500', async () => {
  const ops = Array.from({ length: 300 }, (_, i) => {
    const k = i % 3
    if (k === 0) return srv.send('POST', '/Users', { userName: `mix${i}@example.com` })
    if (k === 1) return srv.send('GET', '/Users?count=5')
    return srv.send('POST', '/Groups', { displayName: `mix${i}` })
  })
  const results = await Promise.all(ops)
  for (const r of results) {
    expect(r.status).toBeLessThan(500)
    expect(r.text).not.toContain('SQLITE')
  }
})
