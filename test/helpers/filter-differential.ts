/**
 * The differential harness shared by test/db/filter-sql.differential.test.ts (SQLite) and
 * test/db/pg-filter-sql.differential.test.ts (PostgreSQL): a store's filterToSql selects exactly the resources the
 * in-memory reference (evaluateFilter with filterResolver) matches, on random users/groups and random filters.
 * The evaluator sees each resource as read back from the store and rendered as the API would.
 *
 * A store is a `FilterDirectory` (the SQLite one is below; the PostgreSQL one is test/helpers/pg-directory.ts);
 * `storable` maps generated data to what the store can hold (PostgreSQL: no U+0000) — filter literals keep it all.
 */
import { describe, expect, test } from 'bun:test'
import type { SQL } from 'drizzle-orm'
import fc from 'fast-check'
import { openDatabase } from '../../src/db/client'
import { filterResolver, type FilterSqlContext } from '../../src/db/filter-sql'
import { runMigrations } from '../../src/db/migrate'
import * as repo from '../../src/db/repo'
import type { Kind, StoredResource } from '../../src/db/repo'
import { columnsOf, render, type ServiceDeps } from '../../src/resources/service'
import type { AttrPath, CompareOp, Filter, Literal } from '../../src/scim/filter/ast'
import { evaluateFilter, parseDateTime } from '../../src/scim/filter/evaluate'
import { loadSchemaExtensions } from '../../src/scim/schema/extensions'
import { defaultRegistry, type SchemaRegistry } from '../../src/scim/schema/registry'
import { validateResource } from '../../src/scim/schema/validate'
import { foldKey } from '../../src/scim/text'
import { CUSTOM_URN, filterArb, trickyStringArb, userResourceArb } from '../scim/filter/arbitrary'

export const TENANT = 'default'

/** The schemas filterArb and userResourceArb are written for (CUSTOM_URN:loginCount included). */
export const registry = defaultRegistry(
  loadSchemaExtensions({
    schemas: [{ id: CUSTOM_URN, attributes: [{ name: 'loginCount', type: 'integer' }] }],
    resourceTypes: { User: [CUSTOM_URN] },
  }),
)
export const ctxOf = (kind: Kind): FilterSqlContext => ({ registry, rt: registry.resourceType(kind)!, kind, strict: false })

/** What the differential tests need of a store, over the tenant TENANT. */
export interface FilterDirectory {
  reset(): Promise<void>
  insert(kind: Kind, r: StoredResource): Promise<void>
  addMembers(groupId: string, members: { id: string; type: Kind }[]): Promise<void>
  /** ids of kind's rows matching `where` (over alias r), in `orderBy` order (then id) or by id */
  select(kind: Kind, where?: SQL, orderBy?: SQL, descending?: boolean): Promise<string[]>
  /** every row of kind as the API renders it (members, groups included) */
  renderAll(kind: Kind, registry: SchemaRegistry): Promise<{ id: string; resource: Record<string, unknown> }[]>
}

/** A SQLite :memory: store written through repo.ts, rendered through service.render. */
export function openSqliteDirectory(): FilterDirectory & { db: ReturnType<typeof openDatabase> } {
  const db = openDatabase(':memory:')
  runMigrations(db)
  const deps: ServiceDeps = { db, registry, strict: false, tenant: TENANT, now: () => new Date() }
  const origin = { origin: 'http://localhost', baseUrl: 'http://localhost/scim/v2' }
  const list = (kind: Kind, q: Partial<repo.ListQuery> = {}) => repo.listResources(db, TENANT, kind, { offset: 0, limit: 10_000, ...q }).rows
  return {
    db,
    async reset() {
      db.$client.exec('delete from group_members; delete from groups; delete from users; delete from counters')
    },
    async insert(kind, r) {
      if (kind === 'User') repo.insertUser(db, TENANT, r, columnsOf('User', r.data) as repo.UserColumns)
      else repo.insertGroup(db, TENANT, r, columnsOf('Group', r.data) as repo.GroupColumns)
    },
    async addMembers(groupId, members) {
      repo.addMembers(db, groupId, members)
    },
    async select(kind, where, orderBy, descending) {
      return list(kind, { where, orderBy, descending }).map((r) => r.id)
    },
    async renderAll(kind) {
      return list(kind).map((r) => ({ id: r.id, resource: render(deps, kind, r, origin, { members: true, groups: true }) as Record<string, unknown> }))
    },
  }
}

const iso = (s: string) => new Date(parseDateTime(s)!).toISOString()
/** Server-style ids: lower-case, unique, users and groups apart. */
export const userId = (i: number) => `${(i + 1).toString(16).padStart(8, '0')}-0000-7000-8000-000000000000`
export const groupId = (i: number) => `${(i + 0x100).toString(16).padStart(8, '0')}-0000-7000-8000-000000000000`

/** A random user as createResource would store it (validated, canonical, at most one primary email). */
export function storedUser(u: Record<string, unknown>, id: string): StoredResource {
  const { meta, ...body } = u as { meta: { created: string; lastModified: string } } & Record<string, unknown>
  if (Array.isArray(body.emails)) {
    // at most one primary: true (validateResource enforces it)
    let seen = false
    body.emails = (body.emails as Record<string, unknown>[]).map((e) => {
      if (e.primary !== true) return e
      if (seen) return { ...e, primary: false }
      seen = true
      return e
    })
  }
  const data = validateResource(registry, registry.resourceType('User')!, body, { strict: false })
  delete data.groups
  return { id, version: 1, created: iso(meta.created), lastModified: iso(meta.lastModified), data }
}

export function storedGroup(id: string, body: Record<string, unknown>, created: string): StoredResource {
  const data = validateResource(registry, registry.resourceType('Group')!, body, { strict: false })
  return { id, version: 1, created, lastModified: created, data }
}

/** 1–5 random users with distinct userName keys, as `storable` lets the store hold them. */
export const usersArb = (storable: <V>(v: V) => V = (v) => v) =>
  fc.uniqueArray(
    userResourceArb.map(storable).filter((u) => typeof u.userName === 'string' && u.userName.trim() !== ''),
    { selector: (u) => foldKey(u.userName as string), minLength: 1, maxLength: 5 },
  )

export const cmp = (path: AttrPath, op: CompareOp, value: Literal): Filter => ({ kind: 'compare', path, op, value })
export const OPS: CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']

/** Group filters: displayName, members.value / members[…] / members.type / members.display, over these ids. */
function groupFilterArb(ids: string[]): fc.Arbitrary<Filter> {
  const lit = fc.oneof(trickyStringArb, fc.constantFrom(...ids, ...ids.map((i) => i.toUpperCase()), 'User', 'group', '0000'))
  const op = fc.constantFrom(...OPS)
  const memberSub = fc.constantFrom('value', 'type', 'display', 'VALUE')
  const atom = fc.oneof(
    fc.tuple(fc.constantFrom('displayName', 'DISPLAYNAME', 'externalId', 'id'), op, lit).map(([a, o, v]) => cmp({ attr: a }, o, v)),
    fc.tuple(memberSub, op, lit).map(([s, o, v]) => cmp({ attr: 'members', sub: s }, o, v)),
    fc.tuple(op, lit).map(([o, v]) => cmp({ attr: 'members' }, o, v)),
    fc.constantFrom<Filter>(
      { kind: 'present', path: { attr: 'members' } },
      { kind: 'present', path: { attr: 'members', sub: 'display' } },
      cmp({ attr: 'members' }, 'eq', null),
      cmp({ attr: 'externalId' }, 'ne', null),
    ),
    fc
      .tuple(fc.array(fc.tuple(memberSub, op, lit), { minLength: 1, maxLength: 2 }), fc.boolean())
      .map(([cs, neg]): Filter => {
        let inner: Filter = cs.map(([s, o, v]) => cmp({ attr: s }, o, v)).reduce((l, r) => ({ kind: 'and', left: l, right: r }))
        if (neg) inner = { kind: 'not', filter: inner }
        return { kind: 'valuePath', path: { attr: 'members' }, filter: inner }
      }),
  )
  const { f } = fc.letrec<{ f: Filter }>((tie) => ({
    f: fc.oneof(
      { maxDepth: 3, depthSize: 'small' },
      atom,
      fc.record({ kind: fc.constant('and' as const), left: tie('f'), right: tie('f') }),
      fc.record({ kind: fc.constant('or' as const), left: tie('f'), right: tie('f') }),
      fc.record({ kind: fc.constant('not' as const), filter: tie('f') }),
    ),
  }))
  return f
}

/** Inserts the users (ids userId(0…)); returns their ids. */
export async function insertUsers(dir: FilterDirectory, users: Record<string, unknown>[]): Promise<string[]> {
  const ids = users.map((_, i) => userId(i))
  for (const [i, u] of users.entries()) await dir.insert('User', storedUser(u, ids[i]))
  return ids
}

/** a few seconds here; room for a loaded 2-core CI machine (on PostgreSQL every query is a loopback round trip) */
export const SLOW = 60_000

export interface DifferentialOptions {
  /** prefix of the describe names ('' for SQLite, 'pg ' for PostgreSQL) */
  label: string
  skip?: boolean
  /** the store, opened by the caller (it may be async, in beforeAll) */
  dir: () => FilterDirectory
  filterToSql: (ctx: FilterSqlContext, filter: Filter) => SQL
  /** generated data → what the store can hold */
  storable?: <V>(v: V) => V
}

/** The three differential properties: random users and filters; random groups with members; User groups. */
export function describeFilterDifferential(o: DifferentialOptions): void {
  const storable = o.storable ?? (<V>(v: V) => v)
  const users = usersArb(storable)

  async function agree(kind: Kind, filters: Filter[]): Promise<void> {
    const dir = o.dir()
    const resolve = filterResolver(ctxOf(kind))
    const all = await dir.renderAll(kind, registry)
    for (const f of filters) {
      const bySql = (await dir.select(kind, o.filterToSql(ctxOf(kind), f))).sort()
      const byEvaluator = all.filter((r) => evaluateFilter(f, r.resource, resolve)).map((r) => r.id).sort()
      expect({ f, ids: bySql }).toEqual({ f, ids: byEvaluator })
    }
  }

  describe.skipIf(Boolean(o.skip))(`${o.label}filterToSql ≡ evaluateFilter (Users)`, () => {
    test('random users, random filters', async () => {
      await fc.assert(
        fc.asyncProperty(users, fc.array(filterArb, { minLength: 1, maxLength: 4 }), async (us, filters) => {
          await o.dir().reset()
          await insertUsers(o.dir(), us)
          await agree('User', filters)
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 250) },
      )
    }, SLOW)
  })

  describe.skipIf(Boolean(o.skip))(`${o.label}filterToSql ≡ evaluateFilter (Groups)`, () => {
    test('random groups with members, random filters', async () => {
      const scenario = fc
        .record({
          users,
          groups: fc.array(
            fc.record({
              displayName: trickyStringArb.map(storable).filter((s) => s.trim() !== ''),
              externalId: fc.option(trickyStringArb.map(storable), { nil: undefined }),
              pick: fc.array(fc.nat(9), { maxLength: 4 }),
            }),
            { minLength: 1, maxLength: 4 },
          ),
        })
        .chain((s) => {
          const ids = [...s.users.map((_, i) => userId(i)), ...s.groups.map((_, i) => groupId(i))]
          return fc.tuple(fc.constant(s), fc.array(groupFilterArb(ids), { minLength: 1, maxLength: 5 }))
        })
      await fc.assert(
        fc.asyncProperty(scenario, async ([s, filters]) => {
          const dir = o.dir()
          await dir.reset()
          const userIds = await insertUsers(dir, s.users)
          const groupIds: string[] = []
          for (const [i, g] of s.groups.entries()) {
            const body: Record<string, unknown> = { displayName: g.displayName }
            if (g.externalId !== undefined) body.externalId = g.externalId
            const id = groupId(i)
            await dir.insert('Group', storedGroup(id, body, new Date(1_700_000_000_000 + i).toISOString()))
            // members: users and earlier groups
            const pool: { id: string; type: Kind }[] = [
              ...userIds.map((u) => ({ id: u, type: 'User' as const })),
              ...groupIds.map((x) => ({ id: x, type: 'Group' as const })),
            ]
            const members = [...new Set(g.pick.map((k) => k % Math.max(pool.length, 1)))].flatMap((k) => (pool[k] ? [pool[k]] : []))
            await dir.addMembers(id, members)
            groupIds.push(id)
          }
          await agree('Group', filters)
        }),
        { numRuns: 150 },
      )
    }, SLOW)

    test('User groups.value / groups[display …] against rendered groups', async () => {
      await fc.assert(
        fc.asyncProperty(users, fc.array(fc.nat(4), { maxLength: 5 }), trickyStringArb, fc.constantFrom(...OPS), async (us, picks, lit, op) => {
          const dir = o.dir()
          await dir.reset()
          const userIds = await insertUsers(dir, us)
          const gid = groupId(0)
          await dir.insert('Group', storedGroup(gid, { displayName: 'Admins' }, new Date(0).toISOString()))
          await dir.addMembers(gid, [...new Set(picks)].flatMap((i) => (userIds[i] ? [{ id: userIds[i], type: 'User' as const }] : [])))
          await agree('User', [
            cmp({ attr: 'groups', sub: 'value' }, 'eq', gid),
            cmp({ attr: 'groups' }, op, lit),
            cmp({ attr: 'groups', sub: 'display' }, op, lit),
            { kind: 'valuePath', path: { attr: 'groups' }, filter: cmp({ attr: 'display' }, op, 'admins') },
            { kind: 'not', filter: { kind: 'present', path: { attr: 'groups' } } },
            cmp({ attr: 'groups', sub: 'type' }, 'eq', 'DIRECT'),
          ])
        }),
        { numRuns: 60 },
      )
    }, SLOW)
  })
}
