/**
 * The change history (issue 10): a row for every kind of write, written in the write's transaction, with
 * before/after, the request id and principal, never a password; retention pruning; the admin endpoints.
 */
import { describe, expect, test } from 'bun:test'
import { makeTestApp, GROUP_URN, PATCH_URN, TOKEN, user } from '../helpers/app'
import { pruneHistory, startHistoryPruner } from '../../src/resources/history'
import * as repo from '../../src/db/repo'

const ADMIN = 'history-admin-token-0123456789'
const SECRET = 'Sup3r-Secret-Passw0rd!'

function setup(overrides = {}) {
  const t = makeTestApp({ adminToken: ADMIN, ...overrides })
  const admin = async (path: string, opts: { auth?: string | false } = {}) => {
    const headers: Record<string, string> = {}
    if (opts.auth !== false) headers.authorization = opts.auth ?? `Bearer ${ADMIN}`
    const res = await t.app.handle(new Request('http://localhost' + path, { headers }))
    const text = await res.text()
    return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined }
  }
  const history = async (id: string) => (await admin(`/admin/resources/${id}/history?order=oldest`)).json.entries as any[]
  return { ...t, admin, history }
}

const patch = (...ops: unknown[]) => ({ schemas: [PATCH_URN], Operations: ops })

describe('history rows', () => {
  test('create, PUT, PATCH and delete of a user: before/after, request id, principal, no password', async () => {
    const t = setup()
    const c = await t.req('POST', '/Users', user('hist.ann', { password: SECRET, active: true, displayName: 'Ann' }))
    expect(c.status).toBe(201)
    const id = c.json.id
    const reqId = c.headers.get('x-scimd-request-id')
    expect(reqId).toBeTruthy()
    const put = await t.req('PUT', `/Users/${id}`, user('hist.ann', { password: SECRET + '2', active: true, displayName: 'Ann B' }))
    expect(put.status).toBe(200)
    const p = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))
    expect(p.status).toBe(200)
    const pw = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'password', value: SECRET + '3' }))
    expect(pw.status).toBe(200)
    expect((await t.req('DELETE', `/Users/${id}`)).status).toBe(204)

    const rows = await t.history(id)
    expect(rows.map((r) => r.op)).toEqual(['create', 'replace', 'patch', 'patch', 'delete'])
    const [create, replace, deactivate, password, del] = rows
    expect(create.requestId).toBe(reqId)
    expect(create.principal).toBe('bearer:' + (create.principal as string).split(':')[1])
    expect(create.principal).not.toContain(TOKEN)
    expect(create.before).toBeNull()
    expect(create.after.userName).toBe('hist.ann')
    expect(create.resourceType).toBe('User')
    expect(replace.changed).toEqual(['displayName'])
    expect(replace.before.displayName).toBe('Ann')
    expect(replace.after.displayName).toBe('Ann B')
    expect(deactivate.changed).toEqual(['active'])
    expect(deactivate.before.active).toBe(true)
    expect(deactivate.after.active).toBe(false)
    expect(deactivate.requestId).toBe(p.headers.get('x-scimd-request-id'))
    expect(password.changed).toEqual([]) // a password change changes no stored attribute
    expect(del.before.userName).toBe('hist.ann')
    expect(del.after).toBeNull()
    // no password (or its hash) anywhere in the history table
    const dump = JSON.stringify(t.db.$client.query('select * from history').all())
    expect(dump).not.toContain(SECRET)
    expect(dump).not.toContain('argon2')
    expect(dump.toLowerCase()).not.toContain('password')
    // the deleted user's history is still there by id
    const all = await t.admin(`/admin/history?id=${id}`)
    expect(all.json.totalResults).toBe(5)
    expect(all.json.entries[0].op).toBe('delete')
  })

  test('a failed write leaves no row', async () => {
    const t = setup()
    const c = await t.req('POST', '/Users', user('hist.fail'))
    await t.req('POST', '/Users', user('hist.fail')) // 409
    const bad = await t.req('PATCH', `/Users/${c.json.id}`, patch({ op: 'replace', path: 'userName', value: 42 }))
    expect(bad.status).toBe(400)
    const rows = await t.admin('/admin/history')
    expect(rows.json.entries.map((e: any) => e.op)).toEqual(['create'])
  })

  test('membership: PATCH add/remove and PUT give one member row per write with the ids', async () => {
    const t = setup()
    const ids: string[] = []
    for (const n of ['m.a', 'm.b', 'm.c']) ids.push((await t.req('POST', '/Users', user(n))).json.id)
    const g = await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Eng', members: [{ value: ids[0] }] })
    expect(g.status).toBe(201)
    const gid = g.json.id
    await t.req('PATCH', `/Groups/${gid}`, patch({ op: 'add', path: 'members', value: [{ value: ids[1] }, { value: ids[2] }, { value: ids[0] }] }))
    await t.req('PATCH', `/Groups/${gid}`, patch({ op: 'remove', path: `members[value eq "${ids[1]}"]` }))
    // PUT with a new list and a new name: a replace row plus member rows
    await t.req('PUT', `/Groups/${gid}`, { schemas: [GROUP_URN], displayName: 'Engineering', members: [{ value: ids[1] }, { value: ids[2] }] })
    // add and remove in one PATCH cancel out: no member row; a displayName change: a patch row
    await t.req('PATCH', `/Groups/${gid}`, patch({ op: 'add', path: 'members', value: [{ value: ids[0] }] }, { op: 'remove', path: `members[value eq "${ids[0]}"]` }, { op: 'replace', path: 'displayName', value: 'Eng 2' }))

    const rows = await t.history(gid)
    expect(rows.map((r) => r.op)).toEqual(['create', 'member_add', 'member_add', 'member_remove', 'replace', 'member_add', 'member_remove', 'patch'])
    expect(rows[1].members).toEqual({ count: 1, ids: [ids[0]], truncated: false })
    expect(rows[2].members.count).toBe(2) // ids[0] was already a member
    expect(new Set(rows[2].members.ids)).toEqual(new Set([ids[1], ids[2]]))
    expect(rows[3].members.ids).toEqual([ids[1]])
    expect(rows[4].changed).toEqual(['displayName'])
    expect(rows[5].members.ids).toEqual([ids[1]])
    expect(rows[6].members.ids).toEqual([ids[0]])
    expect(rows[7].changed).toEqual(['displayName'])
    // all rows of one request share its id
    expect(rows[4].requestId).toBe(rows[5].requestId)

    // deleting a member user records its removal on the group
    await t.req('DELETE', `/Users/${ids[2]}`)
    const after = await t.history(gid)
    expect(after.at(-1).op).toBe('member_remove')
    expect(after.at(-1).members.ids).toEqual([ids[2]])
  })

  test('big membership changes: counts exact, ids capped', async () => {
    const t = setup()
    const ids: string[] = []
    for (let i = 0; i < 150; i++) ids.push((await t.req('POST', '/Users', user('big.' + i))).json.id)
    const g = await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Big' })
    await t.req('PATCH', `/Groups/${g.json.id}`, patch({ op: 'replace', path: 'members', value: ids.map((value) => ({ value })) }))
    const rows = await t.history(g.json.id)
    const add = rows.find((r) => r.op === 'member_add')
    expect(add.members.count).toBe(150)
    expect(add.members.ids.length).toBe(100)
    expect(add.members.truncated).toBe(true)
    expect(rows.filter((r) => r.op.startsWith('member_')).length).toBe(1)
  })

  test('SCIMD_HISTORY_DAYS=0 keeps no history', async () => {
    const t = setup({ historyDays: 0 })
    await t.req('POST', '/Users', user('nohist'))
    expect((t.db.$client.query('select count(*) as n from history').get() as any).n).toBe(0)
  })
})

describe('retention', () => {
  test('pruneHistory deletes rows older than the retention, in batches, deterministically', async () => {
    let now = new Date('2026-01-01T00:00:00Z')
    const t = setup({ historyDays: 30 })
    // the app's clock is not injectable through makeTestApp: write rows directly at chosen times
    const db = t.db
    const at = (iso: string, id: string) =>
      repo.insertHistory(db, { tenant: 'default', time: iso, op: 'create', resourceType: 'User', resourceId: id, requestId: null, principal: null, before: null, after: '{}', changed: '[]', members: null })
    for (let i = 0; i < 25; i++) at('2025-11-01T00:00:00.000Z', 'old' + i) // 61 days before `now`
    at('2025-12-05T00:00:00.000Z', 'recent') // 27 days before
    expect(pruneHistory(db, 30, now, { batch: 10, maxBatches: 2 })).toBe(20) // bounded per call
    expect(pruneHistory(db, 30, now, { batch: 10, maxBatches: 2 })).toBe(5)
    expect(pruneHistory(db, 30, now, { batch: 10 })).toBe(0)
    const left = (await t.admin('/admin/history?since=2000-01-01')).json.entries.map((e: any) => e.resourceId)
    expect(left).toEqual(['recent'])
    now = new Date('2026-01-10T00:00:00Z') // 36 days after 'recent'
    expect(pruneHistory(db, 30, now)).toBe(1)
    expect(pruneHistory(db, 0, now)).toBe(0) // 0 = off: nothing pruned (nothing is written either)
  })

  test('the pruner deletes old rows on its timer, batch after batch, and stops', async () => {
    const t = setup({ historyDays: 0 }) // no app pruner: this test drives its own
    const now = new Date('2026-01-01T00:00:00Z')
    const old = '2025-10-01T00:00:00.000Z'
    const rows = Array.from({ length: 2100 }, (_, i) => ['default', old, 'create', 'User', 'u' + i])
    t.db.$client.transaction(() => {
      const st = t.db.$client.prepare('insert into history (tenant_id, time, op, resource_type, resource_id) values (?, ?, ?, ?, ?)')
      for (const r of rows) st.run(...r)
    })()
    const count = () => (t.db.$client.query('select count(*) as n from history').get() as { n: number }).n
    const errors: unknown[] = []
    const stop = startHistoryPruner(t.db, 30, { now: () => now, intervalMs: 60_000, firstDelayMs: 0, onError: (e) => errors.push(e) })
    const t0 = Date.now()
    // 2100 rows = 2000 (one tick: 4 batches of 500) + 100 (the next tick, 50 ms later, not 60 s)
    while (count() > 0 && Date.now() - t0 < 3000) await Bun.sleep(10)
    stop()
    expect(count()).toBe(0)
    expect(errors).toEqual([])
    expect(Date.now() - t0).toBeLessThan(3000)
  })
})

describe('admin directory endpoints', () => {
  test('refuse requests without the admin token (401 SCIM error)', async () => {
    const t = setup()
    const c = await t.req('POST', '/Users', user('sec.u', { password: SECRET }))
    for (const path of ['/admin/users', '/admin/groups', '/admin/history', `/admin/resources/${c.json.id}`, `/admin/resources/${c.json.id}/history`]) {
      for (const auth of [false, `Bearer ${TOKEN}`, 'Bearer wrong-wrong-wrong-wrong', `Basic ${btoa('a:' + ADMIN)}`] as const) {
        const r = await t.admin(path, { auth })
        expect(r.status).toBe(401)
        expect(r.json.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
        expect(r.json.status).toBe('401')
        expect(r.text).not.toContain('sec.u')
      }
    }
  })

  test('are 404 when the console is off', async () => {
    const t = makeTestApp()
    const r = await t.app.handle(new Request('http://localhost/admin/users'))
    expect(r.status).toBe(404)
  })

  test('users and groups: filter, sort, page; resource with memberships and no secrets', async () => {
    const t = setup()
    const ids: string[] = []
    for (let i = 0; i < 7; i++) ids.push((await t.req('POST', '/Users', user(`dir.${i}`, { password: SECRET, active: i % 2 === 0, emails: [{ value: `d${i}@x.test`, primary: true }] }))).json.id)
    const g = await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Dir', members: ids.slice(0, 3).map((value) => ({ value })) })

    const page = await t.admin('/admin/users?filter=' + encodeURIComponent('userName sw "dir." and active eq true') + '&sortBy=userName&sortOrder=descending&count=2&startIndex=2')
    expect(page.status).toBe(200)
    expect(page.json.totalResults).toBe(4)
    expect(page.json.rows.map((r: any) => r.userName)).toEqual(['dir.4', 'dir.2'])
    expect(page.json.rows[0]).toMatchObject({ active: true, email: 'd4@x.test' })
    const groups = await t.admin('/admin/groups?filter=' + encodeURIComponent('displayName eq "dir"'))
    expect(groups.json.rows.map((r: any) => r.id)).toEqual([g.json.id])
    const bad = await t.admin('/admin/users?filter=' + encodeURIComponent('nosuch eq 1'))
    expect(bad.status).toBe(400)
    expect(bad.json.scimType).toBe('invalidFilter')

    const u = await t.admin(`/admin/resources/${ids[0]}`)
    expect(u.status).toBe(200)
    expect(u.json.resourceType).toBe('User')
    expect(u.json.resource.userName).toBe('dir.0')
    expect(u.json.groups).toEqual([{ id: g.json.id, display: 'Dir' }])
    expect(u.text).not.toContain(SECRET)
    expect(u.text).not.toContain('argon2')
    expect(u.text.toLowerCase()).not.toContain('password')
    const gr = await t.admin(`/admin/resources/${g.json.id}?membersCount=2`)
    expect(gr.json.members.totalResults).toBe(3)
    expect(gr.json.members.rows.length).toBe(2)
    expect(gr.json.members.rows[0]).toMatchObject({ value: ids[0], type: 'User', display: 'dir.0' })
    expect((await t.admin('/admin/resources/nope')).status).toBe(404)
  })

  test("a tenant's resource (?tenant=) is shown with its own meta.location under /t/{tenant}", async () => {
    const t = setup()
    const made = await t.app.handle(new Request('http://localhost/admin/tenants', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'acme' }) }))
    const token = ((await made.json()) as any).credentials.token
    const u = await t.req('POST', 'http://localhost/t/acme/scim/v2/Users', user('tenant.u'), { auth: `Bearer ${token}` })
    expect(u.json.meta.location).toBe(`http://localhost/t/acme/scim/v2/Users/${u.json.id}`)
    const r = await t.admin(`/admin/resources/${u.json.id}?tenant=acme`)
    expect(r.status).toBe(200)
    expect(r.json.resource.meta.location).toBe(u.json.meta.location)
    expect((await t.admin(`/admin/resources/${u.json.id}`)).status).toBe(404) // not in the default tenant
  })

  test('history filters: time range, type, op, id; bad values are 400 invalidValue', async () => {
    const t = setup()
    const u = await t.req('POST', '/Users', user('f.u'))
    await t.req('PATCH', `/Users/${u.json.id}`, patch({ op: 'replace', path: 'active', value: false }))
    await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'F', members: [{ value: u.json.id }] })
    const q = async (s: string) => (await t.admin('/admin/history?' + s)).json
    expect((await q('')).totalResults).toBe(4)
    expect((await q('type=User')).entries.map((e: any) => e.op)).toEqual(['patch', 'create'])
    expect((await q('type=groups&op=member_add')).totalResults).toBe(1)
    expect((await q('op=create,patch')).totalResults).toBe(3)
    expect((await q('since=1h')).totalResults).toBe(4)
    expect((await q('until=1h')).totalResults).toBe(0)
    expect((await q('since=2000-01-01&until=2100-01-01T00:00:00Z')).totalResults).toBe(4)
    expect((await q(`id=${u.json.id}&count=1`)).entries.length).toBe(1)
    expect((await q('count=1&startIndex=4')).entries[0].op).toBe('create')
    const e = (await q('op=create')).entries.find((x: any) => x.resourceType === 'User')
    expect(e.inInspector).toBe(true) // the console is on: the inspector still has the request
    expect((await t.admin(`/admin/requests/${e.requestId}`)).status).toBe(200)
    for (const bad of ['since=yesterday', 'type=Role', 'op=create,frobnicate', 'count=x', 'order=sideways']) {
      const r = await t.admin('/admin/history?' + bad)
      expect(r.status).toBe(400)
      expect(r.json.scimType).toBe('invalidValue')
    }
  })

  test('documented in /docs under the Admin tag', async () => {
    const t = setup()
    const doc = (await t.app.handle(new Request('http://localhost/docs/json')).then((r) => r.json())) as any
    for (const p of ['/admin/users', '/admin/groups', '/admin/history', '/admin/resources/{id}', '/admin/resources/{id}/history']) {
      expect(doc.paths[p]?.get?.tags).toEqual(['Admin'])
    }
  })
})
