/**
 * Dynamic SQL built with drizzle's `sql` template, run through a bounded cache of prepared statements.
 * drizzle's db.all(sql) prepares a new statement on every call (~50–100 µs); the same filter shape always yields
 * the same SQL text (values are bound parameters), so a cache keyed by that text turns repeat queries into a bind
 * and a step. The cache is an LRU of at most 256 statements per connection, so arbitrary filters cannot grow it.
 */
import type { Database, Statement } from 'bun:sqlite'
import type { SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import type { Db } from './client'
import { renderSql } from './render-sql'

const dialect = new SQLiteSyncDialect()
const toQuery = (q: SQL) => renderSql(q, () => '?', (x) => dialect.sqlToQuery(x))
const MAX_STATEMENTS = 256
const caches = new WeakMap<Database, Map<string, Statement>>()

function statement(db: Db, text: string): Statement {
  const client = db.$client
  let cache = caches.get(client)
  if (!cache) caches.set(client, (cache = new Map()))
  let stmt = cache.get(text)
  if (stmt) {
    cache.delete(text) // re-insert: most recently used last
  } else {
    stmt = client.prepare(text)
    if (cache.size >= MAX_STATEMENTS) {
      const [oldest, old] = cache.entries().next().value as [string, Statement]
      cache.delete(oldest)
      old.finalize()
    }
  }
  cache.set(text, stmt)
  return stmt
}

export function cachedAll<T>(db: Db, query: SQL): T[] {
  const q = toQuery(query)
  return statement(db, q.sql).all(...(q.params as any[])) as T[]
}

export function cachedRun(db: Db, query: SQL): { changes: number } {
  const q = toQuery(query)
  return statement(db, q.sql).run(...(q.params as any[])) as { changes: number }
}
