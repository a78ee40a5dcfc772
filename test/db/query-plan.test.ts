/**
 * EXPLAIN QUERY PLAN for the filters IdPs send most: they must use indexes, not scan tables.
 * (Entra/Okta: userName eq, externalId eq; group membership checks: members[value eq "id"].)
 */
import { describe, expect, test } from 'bun:test'
import { sql, type SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { openDatabase } from '../../src/db/client'
import { filterToSql } from '../../src/db/filter-sql'
import { runMigrations } from '../../src/db/migrate'
import { parseFilter } from '../../src/scim/filter/parser'
import { defaultRegistry } from '../../src/scim/schema/registry'

const registry = defaultRegistry()
const db = openDatabase(':memory:')
runMigrations(db)
const dialect = new SQLiteSyncDialect()

/** The plan of the statement repo.listResources runs for this filter. */
function plan(kind: 'User' | 'Group', text: string): string[] {
  const where = filterToSql({ registry, rt: registry.resourceType(kind)!, kind, strict: false }, parseFilter(text))
  const table = sql.raw(kind === 'User' ? 'users' : 'groups')
  const stmt: SQL = sql`select r.id from ${table} r where r.tenant_id = ${'default'} and (${where}) order by r.id limit 100`
  const q = dialect.sqlToQuery(stmt)
  return db.$client
    .query<{ detail: string }, never[]>(`explain query plan ${q.sql}`)
    .all(...(q.params as never[]))
    .map((r) => r.detail)
}

describe('query plans', () => {
  test('userName eq uses the unique (tenant, user_name_key) index', () => {
    const p = plan('User', 'userName eq "bjensen@example.com"')
    expect(p.join('\n')).toContain('users_tenant_user_name_key_uq')
    expect(p.some((d) => /^SCAN r\b/.test(d))).toBe(false)
  })

  test('externalId eq uses the (tenant, external_id) index', () => {
    const p = plan('User', 'externalId eq "00aa"')
    expect(p.join('\n')).toContain('users_tenant_external_id_idx')
    expect(p.some((d) => /^SCAN r\b/.test(d))).toBe(false)
  })

  test('members[value eq "id"] finds the member rows by index, never scanning group_members', () => {
    for (const text of ['members[value eq "0190c0de-0000-7000-8000-000000000001"]', 'members.value eq "0190c0de-0000-7000-8000-000000000001"']) {
      const p = plan('Group', text)
      const joined = p.join('\n')
      expect(joined).toMatch(/group_members_member_id_idx|PRIMARY KEY/)
      expect(p.some((d) => /^SCAN m\d*\b/.test(d) && !/USING (COVERING )?INDEX|PRIMARY KEY/.test(d))).toBe(false)
      expect(p.some((d) => /SCAN (group_members|m\d*)$/.test(d))).toBe(false)
    }
  })

  test('User groups[value eq "id"] uses the group_members primary key', () => {
    const p = plan('User', 'groups[value eq "0190c0de-0000-7000-9000-000000000001"]')
    expect(p.join('\n')).toMatch(/PRIMARY KEY|group_members_member_id_idx|sqlite_autoindex_group_members/)
    expect(p.some((d) => /SCAN (group_members|m\d*)$/.test(d))).toBe(false)
  })
})
