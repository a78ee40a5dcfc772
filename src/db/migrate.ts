/**
 * Applies drizzle-kit's migrations. Each dialect has its own folder: drizzle/sqlite and drizzle/postgres at the
 * project root from source; in the compiled binary they are embedded with `--asset drizzle` (the whole tree,
 * relative paths kept) and appear beside the bundle root (import.meta.dir), as drizzle/<dialect>.
 * Foreign keys are switched off on the connection around migrate(): drizzle runs all migrations in one
 * transaction, where the `PRAGMA foreign_keys=OFF` of table-rebuild migrations is a no-op and a DROP TABLE
 * would cascade into child tables.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import type { Db } from './client'

export type Dialect = 'sqlite' | 'postgres'

export function migrationsFolder(dialect: Dialect): string {
  const candidates = [
    join(import.meta.dir, 'drizzle', dialect), // compiled: /$bunfs/root/drizzle/<dialect>
    join(import.meta.dir, '..', '..', 'drizzle', dialect), // source: src/db → ./drizzle/<dialect>
  ]
  for (const dir of candidates) if (existsSync(join(dir, 'meta', '_journal.json'))) return dir
  throw new Error(`migrations not found (looked in ${candidates.join(', ')})`)
}

export function runMigrations(db: Db): void {
  const client = db.$client
  client.exec('PRAGMA foreign_keys = OFF')
  try {
    migrate(db, { migrationsFolder: migrationsFolder('sqlite') })
    const broken = client.query('PRAGMA foreign_key_check').all()
    if (broken.length > 0) throw new Error(`migration left ${broken.length} broken foreign key(s)`)
  } finally {
    client.exec('PRAGMA foreign_keys = ON')
  }
}
