/**
 * src/db/render-sql.ts renders scimd's drizzle templates itself: it must give exactly what drizzle's dialects give
 * (SQLite `?`, PostgreSQL `$n`) for every filter, sort and list query the compilers make, and hand anything else to
 * drizzle. Property-based over generated filters (test/scim/filter/arbitrary.ts) on both dialects.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { sql, type SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { PgDialect } from 'drizzle-orm/pg-core'
import * as lite from '../../src/db/filter-sql'
import * as pg from '../../src/db/pg/filter-sql'
import { renderSql } from '../../src/db/render-sql'
import { users } from '../../src/db/schema'
import { parseAttrPath } from '../../src/scim/attr-path'
import { ctxOf } from '../helpers/filter-differential'
import { filterArb, USER_PATHS } from '../scim/filter/arbitrary'

const dialects = [
  { name: 'sqlite', compiler: lite, placeholder: () => '?', drizzle: new SQLiteSyncDialect() },
  { name: 'postgres', compiler: pg, placeholder: (n: number) => `$${n}`, drizzle: new PgDialect() },
] as const

for (const d of dialects) {
  const ours = (q: SQL) => {
    const r = renderSql(q, d.placeholder, (x) => d.drizzle.sqlToQuery(x))
    return { sql: r.sql, params: r.params }
  }
  const theirs = (q: SQL) => {
    const r = d.drizzle.sqlToQuery(q)
    return { sql: r.sql, params: r.params }
  }
  /** a list query around a condition and an order, shaped as the repos shape theirs */
  const listQuery = (where: SQL | undefined, orderBy: SQL | undefined) =>
    sql`select r.id, r.data from ${sql.raw('users r')} where r.tenant_id = ${'default'}${where ? sql` and (${where})` : sql``} order by ${
      orderBy ? sql`${orderBy} asc nulls last, r.id asc` : sql`r.id asc`
    } limit ${100} offset ${0}`

  describe(`renderSql: ${d.name}`, () => {
    test('generated filters, alone and inside a list query, render as drizzle renders them', () => {
      const ctx = ctxOf('User')
      let compiled = 0
      fc.assert(
        fc.property(filterArb, (f) => {
          let where: SQL
          try {
            where = d.compiler.filterToSql(ctx, f)
          } catch {
            return // a filter the compiler refuses (400) renders nothing
          }
          compiled++
          expect(ours(where)).toEqual(theirs(where))
          const q = listQuery(where, undefined)
          expect(ours(q)).toEqual(theirs(q))
        }),
        { numRuns: 400 },
      )
      expect(compiled).toBeGreaterThan(200)
    })

    test('every sort path, in a list query with a filter', () => {
      const ctx = ctxOf('User')
      const where = d.compiler.filterToSql(ctx, { op: 'eq', path: parseAttrPath('userName')!, value: 'a' } as never)
      let sorted = 0
      for (const path of USER_PATHS.flatMap((p) => fc.sample(p.path, 5))) {
        let orderBy: SQL
        try {
          orderBy = d.compiler.sortToSql(ctx, path)
        } catch {
          continue
        }
        const q = listQuery(where, orderBy)
        expect(ours(q)).toEqual(theirs(q))
        sorted++
      }
      expect(sorted).toBeGreaterThan(20)
    })

    test('values of every kind become parameters; what it does not render goes to drizzle, unchanged', () => {
      const q = sql`select ${'s'}, ${1}, ${2.5}, ${10n}, ${true}, ${null}, ${undefined} ${sql.raw('x')}${sql.empty()}`
      const r = ours(q)
      expect(r).toEqual(theirs(q))
      expect(r.params).toEqual(['s', 1, 2.5, 10n, true, null])
      // a column, an array, inlined parameters: drizzle's renderer
      for (const other of [sql`select ${users.id} from users where id = ${'x'}`, sql`select 1 where x in ${['a', 'b']}`, sql`select ${'y'}`.inlineParams()])
        expect(ours(other)).toEqual(theirs(other))
    })
  })
}
