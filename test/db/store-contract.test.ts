/**
 * One contract for both stores (src/db/store.ts): the same repo-level tests run against SQLite (src/db/repo.ts via
 * sqliteStore) and PostgreSQL (src/db/pg/repo.ts via openPgStore; skipped without a server, test/helpers/pg.ts),
 * every operation run the way the services run them — steps built from q() and handed to store.read/write/snapshot —
 * and every filter and sort compiled by the store's own compiler (store.sql). Then PostgreSQL-only tests of what
 * only several processes can do to it: concurrent read-modify-writes, concurrent creates of one userName, a member
 * added while it is being deleted, deadlock retries, concurrent migrations, the UTF8 check.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { SQL as BunSQL } from 'bun'
import { closeDatabase, openDatabase } from '../../src/db/client'
import type { FilterSqlContext } from '../../src/db/filter-sql'
import { migrationsFolder, runMigrations } from '../../src/db/migrate'
import { join } from 'node:path'
import { pgErrorToScim } from '../../src/db/pg/errors'
import { migratePg, PgEncodingError } from '../../src/db/pg/migrate'
import { openPgStore, type PgStore } from '../../src/db/pg/store'
import type { GroupColumns, Kind, PageRow, SeekPosition, StoredResource, UserColumns } from '../../src/db/repo'
import { sqliteStore } from '../../src/db/sqlite-store'
import { q, type Maybe, type Repo, type Step, type Store } from '../../src/db/store'
import { toScimError } from '../../src/http/scim-plugin'
import { parseAttrPath } from '../../src/scim/attr-path'
import type { ScimError } from '../../src/scim/errors'
import { parseFilter } from '../../src/scim/filter/parser'
import { defaultRegistry } from '../../src/scim/schema/registry'
import { foldKey } from '../../src/scim/text'
import { dropDatabase, freshDatabase, PG_SKIP_MESSAGE, pgUrl } from '../helpers/pg'

const pg = await pgUrl()
if (!pg) console.warn(PG_SKIP_MESSAGE)

const registry = defaultRegistry()
const ctx = (kind: Kind): FilterSqlContext => ({ registry, rt: registry.resourceType(kind)!, kind, strict: false })
const T1 = 'default'
const T2 = 'acme'
const TS = '2024-01-01T00:00:00.000Z'

interface Harness {
  store: Store
  reset(): Promise<void>
  close(): Promise<void>
}

async function sqliteHarness(): Promise<Harness> {
  const db = openDatabase(':memory:')
  runMigrations(db)
  return {
    store: sqliteStore(db),
    reset: async () =>
      void db.$client.exec('delete from group_members; delete from users; delete from groups; delete from counters; delete from settings; delete from history; delete from tenants'),
    close: async () => closeDatabase(db),
  }
}

async function pgHarness(): Promise<Harness> {
  const url = await freshDatabase()
  await migratePg(url)
  const store = await openPgStore(url, { max: 4, statementTimeoutMs: 10_000 })
  return {
    store,
    reset: async () => void (await store.client.unsafe('truncate group_members, users, groups, counters, settings, history, tenants')),
    async close() {
      await store.close()
      await dropDatabase(url)
    },
  }
}

/** The SCIM error a storage failure becomes (the HTTP layer: PostgreSQL's mapping first, then the generic one). */
const toScim = (e: unknown): ScimError => pgErrorToScim(e) ?? toScimError('UNKNOWN', e)

let n = 0
/** ids sort in creation order, as UUIDv7 do */
const nextId = (prefix = '8') => `00000000-0000-7000-${prefix}000-${String(++n).padStart(12, '0')}`

function user(userName: string, extra: Record<string, unknown> = {}, id = nextId()): { r: StoredResource; cols: UserColumns } {
  const data = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, ...extra }
  const displayName = typeof extra.displayName === 'string' ? extra.displayName : null
  return {
    r: { id, version: 1, created: TS, lastModified: TS, data },
    cols: { userNameKey: foldKey(userName), externalId: (extra.externalId as string) ?? null, displayNameKey: displayName && foldKey(displayName), active: (extra.active as boolean) ?? null },
  }
}

function group(displayName: string, id = nextId('9')): { r: StoredResource; cols: GroupColumns } {
  return {
    r: { id, version: 1, created: TS, lastModified: TS, data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName } },
    cols: { displayNameKey: foldKey(displayName), externalId: null },
  }
}

const makers: [string, (() => Promise<Harness>) | undefined][] = [
  ['sqlite', sqliteHarness],
  ['postgres', pg ? pgHarness : undefined],
]

for (const [name, make] of makers) {
  describe.skipIf(!make)(`store contract: ${name}`, () => {
    let h: Harness
    beforeAll(async () => {
      h = await make!()
    })
    afterAll(async () => {
      await h?.close()
    })
    beforeEach(async () => {
      await h.reset()
    })

    // one operation as a step, run the way a service runs it (async wrapper: SQLite throws synchronously)
    const read = async <T>(op: (r: Repo) => Maybe<T>): Promise<T> => await h.store.read(q(op))
    const write = async <T>(op: (r: Repo) => Maybe<T>): Promise<T> => await h.store.write(q(op))
    const insertUser = (t: string, u: ReturnType<typeof user>) => write((r) => r.insertUser(t, u.r, u.cols))
    const insertGroup = (t: string, g: ReturnType<typeof group>) => write((r) => r.insertGroup(t, g.r, g.cols))
    const where = (kind: Kind, filter: string) => h.store.sql.filterToSql(ctx(kind), parseFilter(filter))
    const sortBy = (kind: Kind, path: string) => h.store.sql.sortToSql(ctx(kind), parseAttrPath(path)!)

    test('users and groups: insert, get, update, touch, delete, each tenant seeing only its own', async () => {
      const a = user('Alice', { displayName: 'Alice A', active: true, externalId: 'ext-a' })
      const g = group('Admins')
      await insertUser(T1, a)
      await insertGroup(T1, g)
      expect(await read((r) => r.getResource(T1, 'User', a.r.id))).toEqual(a.r)
      expect(await read((r) => r.getResource(T1, 'Group', g.r.id))).toEqual(g.r)
      // isolation: the other tenant sees nothing, and can hold its own Alice
      expect(await read((r) => r.getResource(T2, 'User', a.r.id))).toBeUndefined()
      expect(await read((r) => r.findUserIdByKey(T2, 'alice'))).toBeUndefined()
      const a2 = user('alice')
      await insertUser(T2, a2)
      expect(await read((r) => r.findUserIdByKey(T1, 'alice'))).toBe(a.r.id)
      expect(await read((r) => r.findUserIdByKey(T2, 'alice'))).toBe(a2.r.id)
      expect(await read((r) => r.countAll(T1, 'User'))).toBe(1)
      expect(await read((r) => r.countAll(T2, 'User'))).toBe(1)
      expect(await read((r) => r.countAll(T1, 'Group'))).toBe(1)
      expect(await read((r) => r.countAll(T2, 'Group'))).toBe(0)

      // update with the version read (If-Match): written, and the key columns follow
      const next = { ...a.r, version: 2, lastModified: '2024-02-01T00:00:00.000Z', data: { ...a.r.data, userName: 'Alicia', nickName: 'Al' } }
      expect(await write((r) => r.updateResource(T1, 'User', next, { ...a.cols, userNameKey: 'alicia', passwordHash: 'h1' }, 1))).toBe(true)
      expect(await read((r) => r.getResource(T1, 'User', a.r.id))).toEqual(next)
      expect(await read((r) => r.findUserIdByKey(T1, 'alicia'))).toBe(a.r.id)
      expect(await read((r) => r.getPasswordHash(T1, a.r.id))).toBe('h1')
      // no passwordHash key: the stored hash stays
      const third = { ...next, version: 3 }
      await write((r) => r.updateResource(T1, 'User', third, { userNameKey: 'alicia', externalId: null, displayNameKey: null, active: false }, 2))
      expect(await read((r) => r.getPasswordHash(T1, a.r.id))).toBe('h1')
      // another tenant's update touches nothing
      await write((r) => r.updateResource(T2, 'User', { ...third, version: 9 }, { userNameKey: 'x', externalId: null, displayNameKey: null, active: null }))
      expect((await read((r) => r.getResource(T1, 'User', a.r.id)))?.version).toBe(3)

      // only the columns given are written: the others keep their stored value
      const fourth = { ...third, version: 4 }
      await write((r) => r.updateResource(T1, 'User', fourth, { externalId: 'ext-4' }, 3))
      expect(await read((r) => r.findUserIdByKey(T1, 'alicia'))).toBe(a.r.id)
      const byExt = await read((r) => r.listResources(T1, 'User', { where: where('User', 'externalId eq "ext-4"'), offset: 0, limit: 10 }))
      expect(byExt.rows.map((x) => x.version)).toEqual([4])
      const inactive = await read((r) => r.listResources(T1, 'User', { where: where('User', 'active eq false'), offset: 0, limit: 10 }))
      expect(inactive.rows.map((x) => x.id)).toEqual([a.r.id])
      expect(await read((r) => r.getPasswordHash(T1, a.r.id))).toBe('h1')

      await write((r) => r.touchResource(T1, 'Group', g.r.id, '2024-03-01T00:00:00.000Z'))
      const touched = await read((r) => r.getResource(T1, 'Group', g.r.id))
      expect([touched?.version, touched?.lastModified, touched?.data]).toEqual([2, '2024-03-01T00:00:00.000Z', g.r.data])

      // delete: only in its tenant; the counter follows
      expect(await write((r) => r.deleteResource(T2, 'User', a.r.id))).toBe(false)
      expect(await write((r) => r.deleteResource(T1, 'User', a.r.id))).toBe(true)
      expect(await write((r) => r.deleteResource(T1, 'User', a.r.id))).toBe(false)
      expect(await read((r) => r.getResource(T1, 'User', a.r.id))).toBeUndefined()
      expect(await read((r) => r.countAll(T1, 'User'))).toBe(0)
      expect(await read((r) => r.countAll(T2, 'User'))).toBe(1)
      expect(await write((r) => r.deleteResource(T1, 'Group', g.r.id))).toBe(true)
      expect(await read((r) => r.countAll(T1, 'Group'))).toBe(0)
    })

    test('getUserWithGroups: the user and its direct groups (id order) in one read', async () => {
      const u = user('bob')
      const g1 = group('Zeta')
      const g2 = group('Alpha')
      const other = group('Other tenant')
      await insertUser(T1, u)
      for (const g of [g2, g1]) await insertGroup(T1, g)
      await insertGroup(T2, other)
      await write((r) => r.addMembers(g2.r.id, [{ id: u.r.id, type: 'User' }]))
      await write((r) => r.addMembers(g1.r.id, [{ id: u.r.id, type: 'User' }]))
      await write((r) => r.addMembers(other.r.id, [{ id: u.r.id, type: 'User' }])) // a foreign group: not listed
      const got = await read((r) => r.getUserWithGroups(T1, u.r.id))
      expect(got?.stored).toEqual(u.r)
      expect(got?.groups).toEqual([
        { id: g1.r.id, display: 'Zeta' },
        { id: g2.r.id, display: 'Alpha' },
      ])
      const lonely = user('nobody')
      await insertUser(T1, lonely)
      expect((await read((r) => r.getUserWithGroups(T1, lonely.r.id)))?.groups).toEqual([])
      expect(await read((r) => r.getUserWithGroups(T2, u.r.id))).toBeUndefined()
    })

    test('uniqueness: a second (tenant, userName key) fails, and the error is a 409 uniqueness', async () => {
      await insertUser(T1, user('Carol'))
      let caught: unknown
      try {
        await insertUser(T1, user('CAROL'))
      } catch (e) {
        caught = e
      }
      expect(caught).toBeDefined()
      const scim = toScim(caught)
      expect([scim.status, scim.scimType]).toEqual([409, 'uniqueness'])
      // the failed write left nothing behind, counter included
      expect(await read((r) => r.countAll(T1, 'User'))).toBe(1)
      await insertUser(T2, user('carol')) // another tenant: fine
      expect(await read((r) => r.countAll(T2, 'User'))).toBe(1)
    })

    test('listResources: filter and sortBy from the store compiler, NULLs last ascending and first descending, totals', async () => {
      const rows = [
        user('alice', { title: 'b' }),
        user('bob'),
        user('carol', { title: 'A' }),
        user('dave', { title: 'c' }),
        user('erin'),
      ]
      for (const u of rows) await insertUser(T1, u)
      await insertUser(T2, user('zed', { title: 'a' }))
      const [alice, bob, carol, dave, erin] = rows.map((u) => u.r.id)
      const list = (qy: Parameters<Repo['listResources']>[2]) => read((r) => r.listResources(T1, 'User', qy))
      const ids = async (qy: Parameters<Repo['listResources']>[2]) => (await list(qy)).rows.map((x) => x.id)

      expect(await ids({ offset: 0, limit: 10 })).toEqual([alice, bob, carol, dave, erin])
      const title = sortBy('User', 'title')
      expect(await ids({ orderBy: title, offset: 0, limit: 10 })).toEqual([carol, alice, dave, bob, erin])
      expect(await ids({ orderBy: title, descending: true, offset: 0, limit: 10 })).toEqual([erin, bob, dave, alice, carol])
      // an attribute nothing holds sorts every row as missing: id order, reversed descending
      const none = sortBy('User', 'urn:x:nothing:here')
      expect(await ids({ orderBy: none, offset: 0, limit: 10 })).toEqual([alice, bob, carol, dave, erin])
      expect(await ids({ orderBy: none, descending: true, offset: 0, limit: 10 })).toEqual([erin, dave, carol, bob, alice])

      // filters (the other tenant's 'zed' never matches)
      expect(await ids({ where: where('User', 'title pr'), orderBy: title, offset: 0, limit: 10 })).toEqual([carol, alice, dave])
      expect(await ids({ where: where('User', 'userName sw "A" or userName eq "ERIN"'), offset: 0, limit: 10 })).toEqual([alice, erin])
      expect(await ids({ where: where('User', 'not (title pr)'), offset: 0, limit: 10 })).toEqual([bob, erin])

      // totals: counted when the page is full, known without counting when it is not; limit 0 counts
      expect((await list({ orderBy: title, offset: 0, limit: 2 })).total).toBe(5)
      expect((await list({ where: where('User', 'title pr'), offset: 1, limit: 2 })).total).toBe(3)
      expect((await list({ where: where('User', 'title pr'), offset: 1, limit: 5 })).total).toBe(3)
      expect((await list({ where: where('User', 'title pr'), offset: 7, limit: 5 })).total).toBe(3)
      expect(await list({ where: where('User', 'title pr'), offset: 0, limit: 0 })).toEqual({ total: 3, rows: [] })
      expect((await list({ offset: 3, limit: 1 })).rows.map((x) => x.id)).toEqual([dave])
      expect((await list({ offset: 3, limit: 1 })).total).toBe(5)
      // an unfiltered page past the start (PostgreSQL reads its ids apart, src/db/pg/repo.ts): every offset and size
      // gives the slice of the whole list, in this tenant only, with the rows whole
      const all = [alice, bob, carol, dave, erin]
      for (let offset = 1; offset <= 6; offset++)
        for (const limit of [1, 2, 3, 10]) {
          const page = await list({ offset, limit })
          expect(page.rows.map((x) => x.id)).toEqual(all.slice(offset, offset + limit))
          if (page.rows.length) expect(page.total).toBe(5)
        }
      expect((await list({ offset: 2, limit: 1 })).rows[0]).toEqual(rows[2].r)
    })

    test('seekPage walks the listResources order forwards and backwards; listAcross merges users and groups', async () => {
      const users = ['b', null, 'a', 'c', null, 'a'].map((t, i) => user(`u${i}`, t === null ? {} : { displayName: t }))
      for (const u of users) await insertUser(T1, u)
      const groups = ['B', 'z'].map((d) => group(d))
      for (const g of groups) await insertGroup(T1, g)
      for (const desc of [false, true]) {
        for (const sort of [undefined, 'displayName']) {
          const orderBy = sort ? sortBy('User', sort) : undefined
          const descending = Boolean(sort) && desc
          const expected = (await read((r) => r.listResources(T1, 'User', { orderBy, descending, offset: 0, limit: 100 }))).rows.map((x) => x.id)
          const walk = async (backward: boolean) => {
            const seen: string[] = []
            let after: SeekPosition | undefined
            for (let i = 0; i < 20; i++) {
              const page: PageRow[] = await read((r) => r.seekPage(T1, [{ kind: 'User', orderBy }], { descending: backward ? !descending : descending, after, limit: 2 }))
              seen.push(...page.map((x) => x.id))
              if (page.length < 2) break
              after = { key: page[1].sortKey, id: page[1].id }
            }
            return seen
          }
          expect(await walk(false)).toEqual(expected)
          expect(await walk(true)).toEqual([...expected].reverse())
        }
      }
      // merged: users and groups by displayName (folded), missing values last, ties by id
      const parts = (['User', 'Group'] as Kind[]).map((kind) => ({ kind, orderBy: sortBy(kind, 'displayName') }))
      const across = await read((r) => r.listAcross(T1, parts, { descending: false, offset: 0, limit: 20 }))
      const u = users.map((x) => x.r.id)
      const [gB, gz] = groups.map((x) => x.r.id)
      expect(across.map((x) => x.id)).toEqual([u[2], u[5], u[0], gB, u[3], gz, u[1], u[4]])
      expect(across.map((x) => x.kind)).toEqual(['User', 'User', 'User', 'Group', 'User', 'Group', 'User', 'User'])
      expect(across.map((x) => x.sortKey)).toEqual(['a', 'a', 'b', 'b', 'c', 'z', null, null])
      const page2 = await read((r) => r.listAcross(T1, parts, { descending: true, offset: 2, limit: 3 }))
      expect(page2.map((x) => x.id)).toEqual([gz, u[3], gB])
      // one type alone (a root search whose filter only Users define): the same order, one arm
      const usersOnly = await read((r) => r.listAcross(T1, [parts[0]], { descending: false, offset: 1, limit: 3 }))
      expect(usersOnly.map((x) => x.id)).toEqual([u[5], u[0], u[3]])
      const unsorted = await read((r) => r.listAcross(T1, [{ kind: 'User' as Kind }], { descending: false, offset: 0, limit: 2 }))
      expect(unsorted.map((x) => x.id)).toEqual([...u].sort().slice(0, 2))
      expect(await read((r) => r.countParts(T1, parts))).toBe(8)
      expect(await read((r) => r.countParts(T1, [{ kind: 'User', where: where('User', 'displayName eq "A"') }]))).toBe(2)
      // merged keyset paging across both types
      const seekAll: string[] = []
      let after: SeekPosition | undefined
      for (let i = 0; i < 10; i++) {
        const page = await read((r) => r.seekPage(T1, parts, { descending: false, after, limit: 3 }))
        seekAll.push(...page.map((x) => x.id))
        if (page.length < 3) break
        after = { key: page[2].sortKey, id: page[2].id }
      }
      expect(seekAll).toEqual(across.map((x) => x.id))
    })

    test('members: add/remove return the ids, order is insertion order, lookups and cascades', async () => {
      const us = ['m1', 'm2', 'm3', 'm4'].map((x, i) => user(x, i === 0 ? { displayName: 'First' } : {}))
      for (const u of us) await insertUser(T1, u)
      const g = group('Team')
      const sub = group('Sub')
      await insertGroup(T1, g)
      await insertGroup(T1, sub)
      const [u1, u2, u3, u4] = us.map((u) => u.r.id)
      // insertion order is not id order
      expect(await write((r) => r.addMembers(g.r.id, [{ id: u3, type: 'User' }, { id: u1, type: 'User' }, { id: sub.r.id, type: 'Group' }]))).toEqual([u3, u1, sub.r.id])
      // already present ones are skipped
      expect(await write((r) => r.addMembers(g.r.id, [{ id: u1, type: 'User' }, { id: u2, type: 'User' }, { id: u4, type: 'User' }]))).toEqual([u2, u4])
      expect(await write((r) => r.addMembers(g.r.id, []))).toEqual([])
      expect(await write((r) => r.addMembers(sub.r.id, [{ id: u1, type: 'User' }, { id: u1, type: 'User' }]))).toEqual([u1]) // twice in one call: once
      expect(await write((r) => r.removeMembersWhere(sub.r.id))).toEqual([u1])
      expect(await read((r) => r.listMembers(g.r.id))).toEqual([
        { memberId: u3, memberType: 'User', display: 'm3' },
        { memberId: u1, memberType: 'User', display: 'First' },
        { memberId: sub.r.id, memberType: 'Group', display: 'Sub' },
        { memberId: u2, memberType: 'User', display: 'm2' },
        { memberId: u4, memberType: 'User', display: 'm4' },
      ])
      expect(await read((r) => r.membersPage(g.r.id, 1, 2))).toEqual({
        total: 5,
        rows: [
          { memberId: u1, memberType: 'User', display: 'First' },
          { memberId: sub.r.id, memberType: 'Group', display: 'Sub' },
        ],
      })
      expect(await read((r) => r.groupsOfMember(T1, u1))).toEqual([{ id: g.r.id, display: 'Team' }])
      expect(await read((r) => r.groupsOfMember(T2, u1))).toEqual([])
      const of = await read((r) => r.groupsOfMembers(T1, [u1, u2, 'nobody']))
      expect([...of.entries()]).toEqual([
        [u1, [{ id: g.r.id, display: 'Team' }]],
        [u2, [{ id: g.r.id, display: 'Team' }]],
      ])
      expect((await read((r) => r.groupsOfMembers(T1, []))).size).toBe(0)
      const resolved = await read((r) => r.resolveMemberIds(T1, [u1, sub.r.id, 'missing', u1]))
      expect([...resolved.entries()].sort()).toEqual([[sub.r.id, 'Group'], [u1, 'User']].sort() as [string, Kind][])
      expect((await read((r) => r.resolveMemberIds(T2, [u1]))).size).toBe(0)

      // removals return what went
      expect((await write((r) => r.removeMembers(g.r.id, [u2, 'not-a-member']))).sort()).toEqual([u2])
      const memberFilter = h.store.sql.memberFilterToSql({ registry, rt: registry.resourceType('Group')!, strict: false }, parseFilter('type eq "Group"'))
      expect(await write((r) => r.removeMembersWhere(g.r.id, memberFilter))).toEqual([sub.r.id])
      expect((await read((r) => r.listMembers(g.r.id))).map((m) => m.memberId)).toEqual([u3, u1, u4])

      // a deleted user leaves its groups; a deleted group takes its member rows along
      await write((r) => r.deleteResource(T1, 'User', u3))
      expect((await read((r) => r.listMembers(g.r.id))).map((m) => m.memberId)).toEqual([u1, u4])
      await write((r) => r.addMembers(sub.r.id, [{ id: u1, type: 'User' }]))
      await write((r) => r.deleteResource(T1, 'Group', g.r.id))
      expect(await read((r) => r.listMembers(g.r.id))).toEqual([])
      expect(await read((r) => r.groupsOfMember(T1, u1))).toEqual([{ id: sub.r.id, display: 'Sub' }])
      expect((await write((r) => r.removeMembersWhere(sub.r.id))).sort()).toEqual([u1])
    })

    test('settings: put, get, and putSettingOnce keeps the first value', async () => {
      expect(await read((r) => r.getSetting('k'))).toBeUndefined()
      expect(await write((r) => r.putSettingOnce('k', 'first'))).toBe('first')
      expect(await write((r) => r.putSettingOnce('k', 'second'))).toBe('first')
      await write((r) => r.putSetting('k', 'third'))
      expect(await read((r) => r.getSetting('k'))).toBe('third')
    })

    test('history: insert, list (filters, order, paging), prune by age', async () => {
      const row = (i: number, over: Partial<Record<string, string | null>> = {}) => ({
        tenant: T1,
        time: `2024-01-0${i}T00:00:00.000Z`,
        op: 'create',
        resourceType: 'User',
        resourceId: `r${i}`,
        requestId: null,
        principal: 'p',
        before: null,
        after: JSON.stringify({ i }),
        changed: null,
        members: null,
        ...over,
      })
      for (let i = 1; i <= 5; i++) await write((r) => r.insertHistory(row(i, i === 3 ? { op: 'delete' } : i === 5 ? { tenant: T2 } : {})))
      const all = await read((r) => r.listHistory({ offset: 0, limit: 10 }))
      expect(all.total).toBe(5)
      expect(all.rows.map((x) => x.resourceId)).toEqual(['r5', 'r4', 'r3', 'r2', 'r1'])
      expect(typeof all.rows[0].seq).toBe('number')
      expect(all.rows[4]).toEqual({ ...row(1), seq: all.rows[4].seq })
      const t1 = await read((r) => r.listHistory({ tenant: T1, ascending: true, offset: 1, limit: 2 }))
      expect([t1.total, t1.rows.map((x) => x.resourceId)]).toEqual([4, ['r2', 'r3']])
      const ops = await read((r) => r.listHistory({ op: ['delete', 'patch'], offset: 0, limit: 10 }))
      expect(ops.rows.map((x) => x.resourceId)).toEqual(['r3'])
      const span = await read((r) => r.listHistory({ since: '2024-01-02T00:00:00.000Z', until: '2024-01-04T00:00:00.000Z', resourceType: 'User', offset: 0, limit: 0 }))
      expect(span).toEqual({ total: 2, rows: [] })
      expect((await read((r) => r.listHistory({ resourceId: 'r4', offset: 0, limit: 5 }))).rows.length).toBe(1)
      expect(await write((r) => r.pruneHistory('2024-01-04T00:00:00.000Z', 2))).toBe(2)
      expect(await write((r) => r.pruneHistory('2024-01-04T00:00:00.000Z', 2))).toBe(1)
      expect((await read((r) => r.listHistory({ offset: 0, limit: 10 }))).rows.map((x) => x.resourceId)).toEqual(['r5', 'r4'])
    })

    test('tenants: insert, get, list, update (only the fields given), counts, delete with all their data', async () => {
      const row = { id: T2, created: TS, profile: 'okta', tokenHash: 'th', basicUser: null, basicPasswordHash: null, rotated: null, auth: { jwt: { issuer: 'https://idp' } } }
      await write((r) => r.insertTenant(row))
      await write((r) => r.insertTenant({ ...row, id: 'b-tenant', profile: null, auth: null }))
      expect(await read((r) => r.getTenant(T2))).toEqual(row)
      expect(await read((r) => r.getTenant('nope'))).toBeUndefined()
      expect((await read((r) => r.listTenants())).map((t) => t.id)).toEqual([T2, 'b-tenant'].sort())
      await write((r) => r.updateTenant(T2, { tokenHash: 'th2', rotated: TS, auth: null }))
      expect(await read((r) => r.getTenant(T2))).toEqual({ ...row, tokenHash: 'th2', rotated: TS, auth: null })
      await write((r) => r.updateTenant(T2, { auth: { scopes: ['a'] } }))
      expect((await read((r) => r.getTenant(T2)))?.auth).toEqual({ scopes: ['a'] })

      const u = user('tenant-user')
      const g = group('tenant-group')
      await insertUser(T2, u)
      await insertGroup(T2, g)
      await write((r) => r.addMembers(g.r.id, [{ id: u.r.id, type: 'User' }]))
      await write((r) => r.insertHistory({ tenant: T2, time: TS, op: 'create', resourceType: 'User', resourceId: u.r.id, requestId: null, principal: null, before: null, after: null, changed: null, members: null }))
      const keep = user('default-user')
      await insertUser(T1, keep)
      expect(await read((r) => r.tenantCounts(T2))).toEqual({ users: 1, groups: 1 })
      expect(await write((r) => r.deleteTenant(T2))).toEqual({ users: 1, groups: 1 })
      expect(await write((r) => r.deleteTenant(T2))).toBeUndefined()
      expect(await read((r) => r.getTenant(T2))).toBeUndefined()
      expect(await read((r) => r.getResource(T2, 'User', u.r.id))).toBeUndefined()
      expect(await read((r) => r.listMembers(g.r.id))).toEqual([])
      expect(await read((r) => r.tenantCounts(T2))).toEqual({ users: 0, groups: 0 })
      expect((await read((r) => r.listHistory({ tenant: T2, offset: 0, limit: 5 }))).total).toBe(0)
      expect(await read((r) => r.getResource(T1, 'User', keep.r.id))).toEqual(keep.r)
    })

    test('write: all or nothing — a step that throws persists none of its operations', async () => {
      const u = user('rollback')
      const g = group('Rolled')
      function* failing(): Step<never> {
        yield* q((r) => r.insertUser(T1, u.r, u.cols))
        yield* q((r) => r.insertGroup(T1, g.r, g.cols))
        yield* q((r) => r.addMembers(g.r.id, [{ id: u.r.id, type: 'User' }]))
        yield* q((r) => r.putSetting('during', 'x'))
        throw new Error('service refused')
      }
      await expect((async () => h.store.write(failing()))()).rejects.toThrow('service refused')
      expect(await read((r) => r.getResource(T1, 'User', u.r.id))).toBeUndefined()
      expect(await read((r) => r.getResource(T1, 'Group', g.r.id))).toBeUndefined()
      expect(await read((r) => r.countAll(T1, 'User'))).toBe(0)
      expect(await read((r) => r.listMembers(g.r.id))).toEqual([])
      expect(await read((r) => r.getSetting('during'))).toBeUndefined()
      // a step that succeeds returns its value and keeps everything
      function* ok(): Step<string> {
        yield* q((r) => r.insertUser(T1, u.r, u.cols))
        const found = yield* q((r) => r.findUserIdByKey(T1, 'rollback')) // sees its own write
        return found!
      }
      expect(await h.store.write(ok())).toBe(u.r.id)
    })

    test('the reads a write step makes (locking ones on PostgreSQL) and a snapshot step makes give the same answers', async () => {
      const u = user('reader')
      const g = group('Readers')
      await insertUser(T1, u)
      await insertGroup(T1, g)
      await write((r) => r.addMembers(g.r.id, [{ id: u.r.id, type: 'User' }]))
      function* reads(): Step<unknown[]> {
        return [
          yield* q((r) => r.getResource(T1, 'User', u.r.id)),
          yield* q((r) => r.getResource(T1, 'Group', g.r.id)),
          yield* q((r) => r.getUserWithGroups(T1, u.r.id)),
          [...(yield* q((r) => r.resolveMemberIds(T1, [u.r.id, g.r.id, 'x']))).entries()].sort(),
          yield* q((r) => r.listMembers(g.r.id)),
          yield* q((r) => r.listResources(T1, 'User', { where: where('User', 'userName eq "reader"'), offset: 0, limit: 5 })),
        ]
      }
      const plain = await h.store.read(reads())
      expect(plain[0]).toEqual(u.r)
      expect(await h.store.write(reads())).toEqual(plain)
      expect(await h.store.snapshot(reads())).toEqual(plain)
    })

    test('snapshot: one read-only view; a step sees its own consistent page and total', async () => {
      for (const x of ['s1', 's2', 's3']) await insertUser(T1, user(x))
      function* page(): Step<{ n: number; ids: string[] }> {
        const n = yield* q((r) => r.countAll(T1, 'User'))
        const list = yield* q((r) => r.listResources(T1, 'User', { offset: 0, limit: 10 }))
        return { n, ids: list.rows.map((x) => x.id) }
      }
      const got = await h.store.snapshot(page())
      expect(got.n).toBe(3)
      expect(got.ids.length).toBe(3)
    })
  })
}

// ── PostgreSQL only: what several processes (or connections) can do at once ──────────────────────────────────

describe.skipIf(!pg)('PostgreSQL under concurrency', () => {
  let url: string
  let store: PgStore
  let other: PgStore
  beforeAll(async () => {
    url = await freshDatabase()
    await migratePg(url)
    // a lower deadlock_timeout (superuser setting) so the deadlock test takes tens of ms, not a second
    const admin = new BunSQL(url, { max: 1 })
    await admin.unsafe(`alter database ${new URL(url).pathname.slice(1)} set deadlock_timeout = '50ms'`)
    await admin.close()
    // two pools: two replicas
    store = await openPgStore(url, { max: 8 })
    other = await openPgStore(url, { max: 8 })
  })
  afterAll(async () => {
    await store?.close()
    await other?.close()
    if (url) await dropDatabase(url)
  })

  test('concurrent read-modify-writes of one row lose no update (If-Match in the UPDATE, rows locked on read)', async () => {
    const u = user('counter', { nickName: '0' })
    await store.write(q((r) => r.insertUser(T1, u.r, u.cols)))
    function* increment(): Step<boolean> {
      const cur = (yield* q((r) => r.getResource(T1, 'User', u.r.id)))!
      const next = { ...cur, version: cur.version + 1, data: { ...cur.data, nickName: String(Number(cur.data.nickName) + 1) } }
      return yield* q((r) => r.updateResource(T1, 'User', next, u.cols, cur.version))
    }
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).write(increment())))
    expect(results.every(Boolean)).toBe(true)
    const final = await store.read(q((r) => r.getResource(T1, 'User', u.r.id)))
    expect([final?.version, final?.data.nickName]).toEqual([21, '20'])
    // a stale version is refused by the UPDATE itself
    const stale = { ...final!, version: 5 }
    expect(await store.write(q((r) => r.updateResource(T1, 'User', stale, u.cols, 4)))).toBe(false)
    expect((await store.read(q((r) => r.getResource(T1, 'User', u.r.id))))?.version).toBe(21)
  })

  test('counts stay exact under concurrent inserts and deletes from two pools (sharded counter rows)', async () => {
    const T = 'count-tenant'
    const made = Array.from({ length: 40 }, (_, i) => user(`c${i}`))
    await Promise.all(made.map((u, i) => (i % 2 ? store : other).write(q((r) => r.insertUser(T, u.r, u.cols)))))
    expect(await store.read(q((r) => r.countAll(T, 'User')))).toBe(40)
    await Promise.all(made.slice(0, 15).map((u, i) => (i % 2 ? other : store).write(q((r) => r.deleteResource(T, 'User', u.r.id)))))
    expect(await other.read(q((r) => r.countAll(T, 'User')))).toBe(25)
    expect(await store.read(q((r) => r.tenantCounts(T)))).toEqual({ users: 25, groups: 0 })
    // spread over several rows, so concurrent writers rarely meet on one row lock
    const [{ n }] = (await store.client.unsafe(`select count(*)::int as n from counters where tenant_id = $1`, [T])) as { n: number }[]
    expect(n).toBeGreaterThan(1)
  })

  test('two concurrent creates of one userName: exactly one succeeds, the other is a 409', async () => {
    for (let round = 0; round < 5; round++) {
      const name = `twin${round}`
      function* create(): Step<string> {
        const taken = yield* q((r) => r.findUserIdByKey(T1, name)) // both see it free
        if (taken) throw new Error('seen')
        const u = user(name)
        yield* q((r) => r.insertUser(T1, u.r, u.cols))
        return u.r.id
      }
      const settled = await Promise.allSettled([store.write(create()), other.write(create())])
      const ok = settled.filter((s) => s.status === 'fulfilled')
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
      expect(ok.length).toBe(1)
      expect(failed.length).toBe(1)
      const reason = failed[0].reason
      if ((reason as Error).message !== 'seen') expect(pgErrorToScim(reason)?.status).toBe(409)
      expect(await store.read(q((r) => r.findUserIdByKey(T1, name)))).toBe((ok[0] as PromiseFulfilledResult<string>).value)
    }
    expect(await store.read(q((r) => r.countAll(T1, 'User')))).toBeGreaterThanOrEqual(5)
  })

  test('a member added while it is being deleted does not stay behind (KEY SHARE on resolved members)', async () => {
    const u = user('leaving')
    const g = group('Club')
    await store.write(q((r) => r.insertUser(T1, u.r, u.cols)))
    await store.write(q((r) => r.insertGroup(T1, g.r, g.cols)))
    let release!: () => void
    const gate = new Promise<void>((res) => (release = res))
    let resolvedSeen!: () => void
    const resolved = new Promise<void>((res) => (resolvedSeen = res))
    function* addMember(): Step<string[]> {
      yield* q((r) => r.getResource(T1, 'Group', g.r.id))
      const found = yield* q((r) => r.resolveMemberIds(T1, [u.r.id]))
      expect(found.get(u.r.id)).toBe('User')
      resolvedSeen()
      yield* q(() => gate) // hold the transaction open while the delete starts
      return yield* q((r) => r.addMembers(g.r.id, [{ id: u.r.id, type: 'User' }]))
    }
    const adding = store.write(addMember())
    await resolved
    const deleting = other.write(q((r) => r.deleteResource(T1, 'User', u.r.id)))
    await Bun.sleep(50) // the delete is now waiting for the add's lock
    release()
    expect(await adding).toEqual([u.r.id])
    expect(await deleting).toBe(true)
    expect(await store.read(q((r) => r.listMembers(g.r.id)))).toEqual([])
  })

  test('a deadlock reruns a step given as a function; a started generator cannot be rerun and fails as a 503', async () => {
    const a = user('dl-a')
    const b = user('dl-b')
    for (const x of [a, b]) await store.write(q((r) => r.insertUser(T1, x.r, x.cols)))
    const run = async (asFactory: boolean) => {
      let bothLocked!: () => void
      let locked = 0
      const barrier = new Promise<void>((res) => (bothLocked = res))
      let attempts = 0
      const step = (first: typeof a, second: typeof a) =>
        function* (): Step<number> {
          attempts++
          const x = (yield* q((r) => r.getResource(T1, 'User', first.r.id)))!
          if (++locked === 2) bothLocked()
          yield* q(() => (attempts <= 2 ? barrier : undefined)) // first round: both hold their first row
          const y = (yield* q((r) => r.getResource(T1, 'User', second.r.id)))!
          yield* q((r) => r.touchResource(T1, 'User', y.id, TS))
          return x.version
        }
      const s1 = step(a, b)
      const s2 = step(b, a)
      return {
        settled: await Promise.allSettled(asFactory ? [store.write(s1), other.write(s2)] : [store.write(s1()), other.write(s2())]),
        attempts,
      }
    }
    const retried = await run(true)
    expect(retried.settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(retried.attempts).toBe(3) // one of the two ran again
    const once = await run(false)
    const failed = once.settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
    expect(failed.length).toBe(1)
    expect((failed[0].reason as { errno?: string }).errno).toBe('40P01')
    const scim = pgErrorToScim(failed[0].reason)
    expect([scim?.status, scim?.headers['Retry-After']]).toEqual([503, '1'])
  })

  test('migratePg run twice at once applies cleanly (advisory lock), and again later is a no-op', async () => {
    const fresh = await freshDatabase()
    try {
      await Promise.all([migratePg(fresh), migratePg(fresh)])
      await migratePg(fresh)
      const c = new BunSQL(fresh, { max: 1 })
      const [{ n }] = (await c.unsafe('select count(*)::int as n from drizzle.__drizzle_migrations')) as { n: number }[]
      const [{ t }] = (await c.unsafe(`select count(*)::int as t from information_schema.tables where table_schema = 'public'`)) as { t: number }[]
      await c.close()
      // every migration of the journal exactly once
      const journal = (await Bun.file(join(migrationsFolder('postgres'), 'meta', '_journal.json')).json()) as { entries: unknown[] }
      expect(n).toBe(journal.entries.length)
      expect(t).toBe(7)
    } finally {
      await dropDatabase(fresh)
    }
  })

  test('a database not in UTF8 is refused with a clear message', async () => {
    const admin = new BunSQL((await pgUrl())!, { max: 1 })
    const name = `t_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
    await admin.unsafe(`create database ${name} encoding 'SQL_ASCII' lc_collate 'C' lc_ctype 'C' locale_provider libc template template0`)
    await admin.close()
    const u = new URL(url)
    u.pathname = `/${name}`
    try {
      const err = await migratePg(u.toString()).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(PgEncodingError)
      expect((err as Error).message).toContain('SQL_ASCII')
      expect((err as Error).message).toContain('UTF8')
    } finally {
      await dropDatabase(u.toString())
    }
  })
})
