/** Opens the SQLite store: WAL, foreign keys on, a busy timeout, a cache sized for a directory. */
import { Database } from 'bun:sqlite'
import { drizzle, type BunSQLiteDatabase } from 'drizzle-orm/bun-sqlite'
import * as schema from './schema'

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database }

export interface DbOptions {
  /** PRAGMA cache_size in KiB (negative form is used). */
  cacheSizeKiB?: number
  /** PRAGMA mmap_size in bytes. */
  mmapSize?: number
  busyTimeoutMs?: number
}

export function openDatabase(path: string, opts: DbOptions = {}): Db {
  const sqlite = new Database(path, { create: true, strict: true })
  sqlite.exec('PRAGMA journal_mode = WAL')
  sqlite.exec('PRAGMA synchronous = NORMAL')
  sqlite.exec('PRAGMA foreign_keys = ON')
  sqlite.exec(`PRAGMA busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`)
  sqlite.exec(`PRAGMA cache_size = -${Math.trunc(opts.cacheSizeKiB ?? 16384)}`)
  sqlite.exec(`PRAGMA mmap_size = ${Math.trunc(opts.mmapSize ?? 0)}`)
  sqlite.exec('PRAGMA temp_store = MEMORY')
  return drizzle({ client: sqlite, schema }) as Db
}

export function closeDatabase(db: Db): void {
  try {
    db.$client.exec('PRAGMA optimize')
  } catch {}
  db.$client.close()
}
