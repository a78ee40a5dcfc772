/**
 * Differential test: the SQL back end (filterToSql through repo.listResources) selects exactly the resources the
 * in-memory reference (evaluateFilter with filterResolver) matches, on random users/groups and random filters.
 * The evaluator sees each resource as the API renders it (service.render: data + id + meta, members, groups).
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { openDatabase } from '../../src/db/client'
import { runMigrations } from '../../src/db/migrate'
import * as repo from '../../src/db/repo'
import { filterResolver, filterToSql, type FilterSqlContext } from '../../src/db/filter-sql'
import { columnsOf, render, type ServiceDeps } from '../../src/resources/service'
import type { AttrPath, CompareOp, Filter, Literal } from '../../src/scim/filter/ast'
import { evaluateFilter, parseDateTime } from '../../src/scim/filter/evaluate'
import { loadSchemaExtensions } from '../../src/scim/schema/extensions'
import { defaultRegistry } from '../../src/scim/schema/registry'
import { validateResource } from '../../src/scim/schema/validate'
import { foldKey } from '../../src/scim/text'
import { CUSTOM_URN, filterArb, trickyStringArb, userResourceArb } from '../scim/filter/arbitrary'

const registry = defaultRegistry(
  loadSchemaExtensions({
    schemas: [{ id: CUSTOM_URN, attributes: [{ name: 'loginCount', type: 'integer' }] }],
    resourceTypes: { User: [CUSTOM_URN] },
  }),
)
const db = openDatabase(':memory:')
runMigrations(db)
const TENANT = 'default'
const deps: ServiceDeps = { db, registry, strict: false, tenant: TENANT, now: () => new Date() }
const origin = { origin: 'http://localhost', baseUrl: 'http://localhost/scim/v2' }
const ctxOf = (kind: 'User' | 'Group'): FilterSqlContext => ({ registry, rt: registry.resourceType(kind)!, kind, strict: false })

function reset() {
  db.$client.exec('delete from group_members; delete from groups; delete from users; delete from counters')
}

let seq = 0
/** Server-style ids: lower-case, unique. */
const nextId = () => `${(++seq).toString(16).padStart(8, '0')}-0000-7000-8000-000000000000`
const iso = (s: string) => new Date(parseDateTime(s)!).toISOString()

/** Inserts a random user the way createResource would (validated, canonical); returns its id. */
function insertUser(u: Record<string, unknown>): string {
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
  const id = nextId()
  repo.insertUser(db, TENANT, { id, version: 1, created: iso(meta.created), lastModified: iso(meta.lastModified), data }, columnsOf('User', data) as repo.UserColumns)
  return id
}

function selectedBySql(kind: 'User' | 'Group', f: Filter): string[] {
  const where = filterToSql(ctxOf(kind), f)
  return repo.listResources(db, TENANT, kind, { where, offset: 0, limit: 10_000 }).rows.map((r) => r.id).sort()
}

function selectedByEvaluator(kind: 'User' | 'Group', f: Filter): string[] {
  const resolve = filterResolver(ctxOf(kind))
  const all = repo.listResources(db, TENANT, kind, { offset: 0, limit: 10_000 }).rows
  return all
    .filter((r) => evaluateFilter(f, render(deps, kind, r, origin, { members: true, groups: true }) as Record<string, unknown>, resolve))
    .map((r) => r.id)
    .sort()
}

const usersArb = fc.uniqueArray(
  userResourceArb.filter((u) => typeof u.userName === 'string' && u.userName.trim() !== ''),
  { selector: (u) => foldKey(u.userName as string), minLength: 1, maxLength: 5 },
)

describe('filterToSql ≡ evaluateFilter (Users)', () => {
  test('random users, random filters', () => {
    fc.assert(
      fc.property(usersArb, fc.array(filterArb, { minLength: 1, maxLength: 4 }), (users, filters) => {
        reset()
        for (const u of users) insertUser(u)
        for (const f of filters) expect({ f, ids: selectedBySql('User', f) }).toEqual({ f, ids: selectedByEvaluator('User', f) })
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 250) },
    )
  })
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

describe('filterToSql ≡ evaluateFilter (Groups)', () => {
  test('random groups with members, random filters', () => {
    const scenario = fc
      .record({
        users: usersArb,
        groups: fc.array(
          fc.record({
            displayName: trickyStringArb.filter((s) => s.trim() !== ''),
            externalId: fc.option(trickyStringArb, { nil: undefined }),
            pick: fc.array(fc.nat(9), { maxLength: 4 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
      })
      .chain((s) => {
        reset()
        const userIds = s.users.map(insertUser)
        const groupIds: string[] = []
        const gt = registry.resourceType('Group')!
        for (const g of s.groups) {
          const body: Record<string, unknown> = { displayName: g.displayName }
          if (g.externalId !== undefined) body.externalId = g.externalId
          const data = validateResource(registry, gt, body, { strict: false })
          const id = nextId()
          const ts = new Date(1_700_000_000_000 + seq).toISOString()
          repo.insertGroup(db, TENANT, { id, version: 1, created: ts, lastModified: ts, data }, columnsOf('Group', data) as repo.GroupColumns)
          // members: users and earlier groups
          const pool: { id: string; type: 'User' | 'Group' }[] = [
            ...userIds.map((u) => ({ id: u, type: 'User' as const })),
            ...groupIds.map((x) => ({ id: x, type: 'Group' as const })),
          ]
          const members = [...new Set(g.pick.map((i) => i % Math.max(pool.length, 1)))].flatMap((i) => (pool[i] ? [pool[i]] : []))
          repo.addMembers(db, id, members)
          groupIds.push(id)
        }
        return fc.tuple(fc.constant(s), fc.array(groupFilterArb([...userIds, ...groupIds]), { minLength: 1, maxLength: 5 }))
      })
    fc.assert(
      fc.property(scenario, ([, filters]) => {
        for (const f of filters) expect({ f, ids: selectedBySql('Group', f) }).toEqual({ f, ids: selectedByEvaluator('Group', f) })
      }),
      { numRuns: 150 },
    )
  })

  test('User groups.value / groups[display …] against rendered groups', () => {
    fc.assert(
      fc.property(usersArb, fc.array(fc.nat(4), { maxLength: 5 }), trickyStringArb, fc.constantFrom(...OPS), (users, picks, lit, op) => {
        reset()
        const userIds = users.map(insertUser)
        const gt = registry.resourceType('Group')!
        const data = validateResource(registry, gt, { displayName: 'Admins' }, { strict: false })
        const gid = nextId()
        const ts = new Date(0).toISOString()
        repo.insertGroup(db, TENANT, { id: gid, version: 1, created: ts, lastModified: ts, data }, columnsOf('Group', data) as repo.GroupColumns)
        repo.addMembers(db, gid, [...new Set(picks)].flatMap((i) => (userIds[i] ? [{ id: userIds[i], type: 'User' as const }] : [])))
        const filters: Filter[] = [
          cmp({ attr: 'groups', sub: 'value' }, 'eq', gid),
          cmp({ attr: 'groups' }, op, lit),
          cmp({ attr: 'groups', sub: 'display' }, op, lit),
          { kind: 'valuePath', path: { attr: 'groups' }, filter: cmp({ attr: 'display' }, op, 'admins') },
          { kind: 'not', filter: { kind: 'present', path: { attr: 'groups' } } },
          cmp({ attr: 'groups', sub: 'type' }, 'eq', 'DIRECT'),
        ]
        for (const f of filters) expect({ f, ids: selectedBySql('User', f) }).toEqual({ f, ids: selectedByEvaluator('User', f) })
      }),
      { numRuns: 60 },
    )
  })
})
