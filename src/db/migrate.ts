/**
 * Applies drizzle-kit's migrations. From source they sit in ./drizzle at the project root; in the compiled
 * binary they are embedded with `--asset drizzle` and appear beside the bundle root (import.meta.dir).
 * Foreign keys are switched off on the connection around migrate(): drizzle runs all migrations in one
 * transaction, where the `PRAGMA foreign_keys=OFF` of table-rebuild migrations is a no-op and a DROP TABLE
 * would cascade into child tables.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import type { Db } from './client'

export function migrationsFolder(): string {
  const candidates = [
    join(import.meta.dir, 'drizzle'), // compiled: /$bunfs/root/drizzle
    join(import.meta.dir, '..', '..', 'drizzle'), // source: src/db → ./drizzle
  ]
  for (const dir of candidates) if (existsSync(join(dir, 'meta', '_journal.json'))) return dir
  throw new Error(`migrations not found (looked in ${candidates.join(', ')})`)
}

export function runMigrations(db: Db): void {
  const client = db.$client
  client.exec('PRAGMA foreign_keys = OFF')
  try {
    migrate(db, { migrationsFolder: migrationsFolder() })
    const broken = client.query('PRAGMA foreign_key_check').all()
    if (broken.length > 0) throw new Error(`migration left ${broken.length} broken foreign key(s)`)
  } finally {
    client.exec('PRAGMA foreign_keys = ON')
  }
}
