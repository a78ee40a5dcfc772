/**
 * Differential test for PostgreSQL: src/db/pg/filter-sql.ts selects exactly the resources the in-memory reference
 * (evaluateFilter with filterResolver) matches, on random users/groups and random filters — the twin of
 * filter-sql.differential.test.ts (SQLite), with the same generators and numbers of runs. The evaluator sees each
 * resource as read back from PostgreSQL and rendered as the API would (test/helpers/pg-directory.ts).
 *
 * PostgreSQL cannot store U+0000, so stored strings have their NULs replaced by U+0001 (the store refuses NUL with
 * a 400); filter literals keep them. Skipped without PostgreSQL (test/helpers/pg.ts explains the policy).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { openDatabase } from '../../src/db/client'
import { filterResolver, sortToSql as liteSortToSql, type FilterSqlContext } from '../../src/db/filter-sql'
import { runMigrations } from '../../src/db/migrate'
import { filterToSql, sortToSql } from '../../src/db/pg/filter-sql'
import * as repo from '../../src/db/repo'
import { columnsOf } from '../../src/resources/service'
import { parseAttrPath } from '../../src/scim/attr-path'
import type { AttrPath, CompareOp, Filter, Literal } from '../../src/scim/filter/ast'
import { evaluateFilter, parseDateTime } from '../../src/scim/filter/evaluate'
import { loadSchemaExtensions } from '../../src/scim/schema/extensions'
import { defaultRegistry } from '../../src/scim/schema/registry'
import { validateResource } from '../../src/scim/schema/validate'
import { foldKey } from '../../src/scim/text'
import { CUSTOM_URN, filterArb, trickyStringArb, userResourceArb } from '../scim/filter/arbitrary'
import { PG_SKIP_MESSAGE, pgUrl } from '../helpers/pg'
import { openPgDirectory, type PgDirectory } from '../helpers/pg-directory'

const url = await pgUrl()
if (!url) console.warn(PG_SKIP_MESSAGE)
const TENANT = 'default'
/** a few seconds here; room for a loaded 2-core CI machine (every query is a loopback round trip) */
const SLOW = 60_000

const registry = defaultRegistry(
  loadSchemaExtensions({
    schemas: [{ id: CUSTOM_URN, attributes: [{ name: 'loginCount', type: 'integer' }] }],
    resourceTypes: { User: [CUSTOM_URN] },
  }),
)
const ctxOf = (kind: 'User' | 'Group'): FilterSqlContext => ({ registry, rt: registry.resourceType(kind)!, kind, strict: false })

let dir: PgDirectory
beforeAll(async () => {
  if (url) dir = await openPgDirectory()
})
afterAll(async () => {
  await dir?.close()
})

/** What PostgreSQL can store: every U+0000 in a string becomes U+0001 (keys included). */
function noNul<V>(v: V): V {
  if (typeof v === 'string') return v.replaceAll('\u0000', '\u0001') as V
  if (Array.isArray(v)) return v.map(noNul) as V
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [noNul(k), noNul(x)])) as V
  return v
}

const iso = (s: string) => new Date(parseDateTime(s)!).toISOString()
const userId = (i: number) => `${(i + 1).toString(16).padStart(8, '0')}-0000-7000-8000-000000000000`
const groupId = (i: number) => `${(i + 0x100).toString(16).padStart(8, '0')}-0000-7000-8000-000000000000`

/** Inserts a random user the way createResource would (validated, canonical). */
async function insertUser(u: Record<string, unknown>, id: string): Promise<void> {
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
  await dir.insert('User', { id, version: 1, created: iso(meta.created), lastModified: iso(meta.lastModified), data })
}

async function insertGroup(id: string, body: Record<string, unknown>, created: string): Promise<void> {
  const data = validateResource(registry, registry.resourceType('Group')!, body, { strict: false })
  await dir.insert('Group', { id, version: 1, created, lastModified: created, data })
}

async function selectedBySql(kind: 'User' | 'Group', f: Filter): Promise<string[]> {
  return (await dir.select(kind, filterToSql(ctxOf(kind), f))).sort()
}

async function selectedByEvaluator(kind: 'User' | 'Group', f: Filter): Promise<string[]> {
  const resolve = filterResolver(ctxOf(kind))
  return (await dir.renderAll(kind, registry))
    .filter((r) => evaluateFilter(f, r.resource, resolve))
    .map((r) => r.id)
    .sort()
}

async function agree(kind: 'User' | 'Group', filters: Filter[]): Promise<void> {
  for (const f of filters) expect({ f, ids: await selectedBySql(kind, f) }).toEqual({ f, ids: await selectedByEvaluator(kind, f) })
}

const usersArb = fc.uniqueArray(
  userResourceArb.map(noNul).filter((u) => typeof u.userName === 'string' && u.userName.trim() !== ''),
  { selector: (u) => foldKey(u.userName as string), minLength: 1, maxLength: 5 },
)

describe.skipIf(!url)('pg filterToSql ≡ evaluateFilter (Users)', () => {
  test('random users, random filters', async () => {
    await fc.assert(
      fc.asyncProperty(usersArb, fc.array(filterArb, { minLength: 1, maxLength: 4 }), async (users, filters) => {
        await dir.reset()
        for (const [i, u] of users.entries()) await insertUser(u, userId(i))
        await agree('User', filters)
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 250) },
    )
  }, SLOW)
})

// ── Groups: displayName, members.value / members[…] / members.type / members.display ──────────────────────────

const cmp = (path: AttrPath, op: CompareOp, value: Literal): Filter => ({ kind: 'compare', path, op, value })
const OPS: CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']

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

describe.skipIf(!url)('pg filterToSql ≡ evaluateFilter (Groups)', () => {
  test('random groups with members, random filters', async () => {
    const scenario = fc
      .record({
        users: usersArb,
        groups: fc.array(
          fc.record({
            displayName: trickyStringArb.map(noNul).filter((s) => s.trim() !== ''),
            externalId: fc.option(trickyStringArb.map(noNul), { nil: undefined }),
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
        await dir.reset()
        const userIds = s.users.map((_, i) => userId(i))
        for (const [i, u] of s.users.entries()) await insertUser(u, userIds[i])
        const groupIds: string[] = []
        for (const [i, g] of s.groups.entries()) {
          const body: Record<string, unknown> = { displayName: g.displayName }
          if (g.externalId !== undefined) body.externalId = g.externalId
          const id = groupId(i)
          await insertGroup(id, body, new Date(1_700_000_000_000 + i).toISOString())
          // members: users and earlier groups
          const pool: { id: string; type: 'User' | 'Group' }[] = [
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
      fc.asyncProperty(usersArb, fc.array(fc.nat(4), { maxLength: 5 }), trickyStringArb, fc.constantFrom(...OPS), async (users, picks, lit, op) => {
        await dir.reset()
        const userIds = users.map((_, i) => userId(i))
        for (const [i, u] of users.entries()) await insertUser(u, userIds[i])
        const gid = groupId(0)
        await insertGroup(gid, { displayName: 'Admins' }, new Date(0).toISOString())
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

// ── sortBy: the same order as the SQLite store ───────────────────────────────────────────────────────────────

const SORT_PATHS = [
  'userName', 'displayName', 'title', 'name.familyName', 'name.givenName', 'emails', 'emails.value', 'emails.type',
  'emails.primary', 'active', 'meta.created', 'meta.lastModified', 'meta.version', 'meta.resourceType', 'externalId',
  'id', 'loginCount', `${CUSTOM_URN}:loginCount`, 'nickName', 'groups.value', 'groups.display', 'schemas',
]

describe.skipIf(!url)('pg sortToSql ≡ SQLite sortToSql', () => {
  test('random users in two groups, every sortable attribute, both directions', async () => {
    const lite = openDatabase(':memory:')
    runMigrations(lite)
    await fc.assert(
      fc.asyncProperty(
        usersArb,
        fc.array(fc.nat(4), { maxLength: 5 }),
        fc.constantFrom(...SORT_PATHS),
        fc.boolean(),
        async (users, picks, by, descending) => {
          await dir.reset()
          lite.$client.exec('delete from group_members; delete from groups; delete from users; delete from counters')
          const ids = users.map((_, i) => userId(i))
          for (const [i, u] of users.entries()) {
            await insertUser(u, ids[i])
            const row = (await dir.client`select id, version, created, last_modified, data from users where id = ${ids[i]}`)[0]
            const stored = { id: row.id, version: row.version, created: row.created, lastModified: row.last_modified, data: row.data }
            repo.insertUser(lite, TENANT, stored, columnsOf('User', stored.data) as repo.UserColumns)
          }
          for (const [g, name] of ['Admins', 'bé'].entries()) {
            const gid = groupId(g)
            const created = new Date(0).toISOString()
            await insertGroup(gid, { displayName: name }, created)
            const data = validateResource(registry, registry.resourceType('Group')!, { displayName: name }, { strict: false })
            repo.insertGroup(lite, TENANT, { id: gid, version: 1, created, lastModified: created, data }, columnsOf('Group', data) as repo.GroupColumns)
            const members = [...new Set(picks.map((p) => (p + g) % 5))].flatMap((i) => (ids[i] ? [{ id: ids[i], type: 'User' as const }] : []))
            await dir.addMembers(gid, members)
            repo.addMembers(lite, gid, members)
          }
          const path = parseAttrPath(by)!
          const inSqlite = repo
            .listResources(lite, TENANT, 'User', { orderBy: liteSortToSql(ctxOf('User'), path), descending, offset: 0, limit: 100 })
            .rows.map((r) => r.id)
          expect({ by, descending, ids: await dir.select('User', undefined, sortToSql(ctxOf('User'), path), descending) }).toEqual({
            by,
            descending,
            ids: inSqlite,
          })
        },
      ),
      { numRuns: 150 },
    )
  }, SLOW)
})
