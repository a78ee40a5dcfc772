/**
 * EXPLAIN QUERY PLAN of the paging statements repo.ts runs: a page in id order (GET /Users, Okta's import) or sorted
 * by userName must walk an index and stop at LIMIT — never sort the whole table — and a keyset page must start
 * with an index range. The statements are captured from repo itself, not rebuilt here.
 */
import { describe, expect, test } from 'bun:test'
import { openDatabase } from '../../src/db/client'
import { runMigrations } from '../../src/db/migrate'
import * as repo from '../../src/db/repo'
import { filterToSql, sortToSql } from '../../src/db/filter-sql'
import { parseFilter } from '../../src/scim/filter/parser'
import { parseAttrPath } from '../../src/scim/attr-path'
import { defaultRegistry } from '../../src/scim/schema/registry'

const registry = defaultRegistry()
const db = openDatabase(':memory:')
runMigrations(db)
const ctx = { registry, rt: registry.resourceType('User')!, kind: 'User' as const, strict: false }
// repo prepares its fixed statements on first use: do that now, so plans() sees only what a page prepares
repo.countAll(db, 'default', 'User')

/** Plans of the row-reading statements `run` makes (counter reads left out). */
function plans(run: () => void): string[] {
  const seen: string[] = []
  const client = db.$client as unknown as { prepare: (s: string) => unknown; query: (s: string) => unknown }
  const [prep, query] = [client.prepare, client.query]
  client.prepare = function (s: string) {
    seen.push(s)
    return prep.call(this, s)
  }
  client.query = function (s: string) {
    seen.push(s)
    return query.call(this, s)
  }
  try {
    run()
  } finally {
    client.prepare = prep
    client.query = query
  }
  return seen
    .filter((s) => /^\s*select/i.test(s) && !/\bcounters\b/.test(s))
    .map((s) =>
      db.$client
        .query<{ detail: string }, never[]>(`explain query plan ${s}`)
        .all(...(Array.from({ length: (s.match(/\?/g) ?? []).length }, () => 'x') as never[]))
        .map((r) => r.detail)
        .join(' | '),
    )
}

const userName = () => sortToSql(ctx, parseAttrPath('userName')!)

describe('paging plans', () => {
  test('default order (id): the (id, tenant_id) index, no sort, the tenant checked in the index', () => {
    const p = plans(() => {
      repo.listResources(db, 'default', 'User', { offset: 100, limit: 100 })
      repo.seekPage(db, 'default', [{ kind: 'User' }], { descending: false, after: { key: null, id: 'x' }, limit: 101 })
      repo.seekPage(db, 'default', [{ kind: 'User' }], { descending: true, after: { key: null, id: 'x' }, limit: 101 })
    })
    expect(p).toHaveLength(3)
    for (const d of p) {
      expect(d).toContain('users_id_tenant_idx')
      expect(d).not.toContain('TEMP B-TREE')
    }
  })

  test('sortBy=userName: the (tenant, user_name_key) index, no sort; keyset starts with a range', () => {
    const p = plans(() => {
      repo.listResources(db, 'default', 'User', { orderBy: userName(), offset: 0, limit: 100 })
      repo.listResources(db, 'default', 'User', { orderBy: userName(), descending: true, offset: 0, limit: 100 })
      repo.seekPage(db, 'default', [{ kind: 'User', orderBy: userName() }], { descending: false, after: { key: 'm', id: 'x' }, limit: 101 })
    })
    expect(p.length).toBeGreaterThanOrEqual(3)
    for (const d of p.slice(0, 3)) {
      expect(d).toContain('users_tenant_user_name_key_uq')
      expect(d).not.toContain('TEMP B-TREE FOR ORDER BY')
    }
    expect(p[2]).toContain('user_name_key>?')
  })

  test('filters keep their own index (the id-order rewrite applies only to unfiltered lists)', () => {
    const p = plans(() => {
      repo.listResources(db, 'default', 'User', { where: filterToSql(ctx, parseFilter('externalId eq "x"')), offset: 0, limit: 100 })
    })
    expect(p[0]).toContain('users_tenant_external_id_idx')
  })

  test("a User's groups: member rows by index first, then each group by primary key", () => {
    const fresh = openDatabase(':memory:') // repo prepares this statement on first use of a database
    runMigrations(fresh)
    const seen: string[] = []
    const client = fresh.$client as unknown as { prepare: (s: string) => unknown }
    const prep = client.prepare
    client.prepare = function (s: string) {
      seen.push(s)
      return prep.call(this, s)
    }
    repo.groupsOfMember(fresh, 'default', '0190c0de-0000-7000-8000-000000000001')
    client.prepare = prep
    // a user's groups (GET), a page's (json_each of the ids) and a user with its groups: each starts at the member index
    const stmts = seen.filter((s) => /group_members m cross join groups g/.test(s))
    expect(stmts.length).toBe(3)
    for (const stmt of stmts) {
      const p = fresh.$client
        .query<{ detail: string }, never[]>(`explain query plan ${stmt}`)
        .all(...(Array.from({ length: (stmt.match(/\?/g) ?? []).length }, (_, i) => (i === 0 ? 'x' : 'default')) as never[]))
        .map((r) => r.detail)
        .join(' | ')
      expect(p).toMatch(/SEARCH m USING (COVERING )?INDEX group_members_member_id_idx \(member_id=\?\)( \| LIST SUBQUERY \d+ \| SCAN json_each VIRTUAL TABLE INDEX \d+:)?( \| BLOOM FILTER ON g \(id=\? AND tenant_id=\?\))? \| SEARCH g USING INDEX (sqlite_autoindex_groups_1 \(id=\?\)|groups_id_tenant_idx \(id=\? AND tenant_id=\?\))/)
    }
  })
})
