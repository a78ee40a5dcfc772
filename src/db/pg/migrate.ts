/**
 * Applies drizzle/postgres (drizzle-kit's migrations for src/db/pg/schema.ts) to a PostgreSQL database.
 *
 * Replicas starting together must not race (two CREATE SCHEMA / CREATE TABLE at once fail on the catalog's unique
 * indexes): the migration runs under a session advisory lock held on one reserved connection, so the second
 * replica waits, then finds every migration applied and does nothing. The lock goes with the connection, also
 * when the process dies mid-migration; drizzle applies all pending migrations in one transaction.
 *
 * The database must be UTF8: scimd stores any Unicode text, and its ordering and matching assume UTF-8 bytes
 * (src/db/pg/schema.ts). Another encoding is refused with a message saying how to create a suitable database.
 */
import { SQL } from 'bun'
import { drizzle } from 'drizzle-orm/bun-sql'
import { migrate } from 'drizzle-orm/bun-sql/migrator'
import { migrationsFolder } from '../migrate'

/** pg_advisory_lock key of scimd's migrations (an arbitrary constant: "scimd" in ASCII, as an int8). */
export const MIGRATION_LOCK_KEY = 0x7363696d64

export class PgEncodingError extends Error {
  constructor(readonly encoding: string) {
    super(
      `the PostgreSQL database's encoding is ${encoding}; scimd needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)`,
    )
    this.name = 'PgEncodingError'
  }
}

export async function migratePg(url: string, opts: { connectTimeoutS?: number } = {}): Promise<void> {
  const client = new SQL(url, { max: 1, connectionTimeout: opts.connectTimeoutS ?? 10, connection: { application_name: 'scimd-migrate' } })
  try {
    const conn = await client.reserve()
    try {
      const [row] = (await conn.unsafe(`select current_setting('server_encoding') as enc`)) as { enc: string }[]
      if (row?.enc !== 'UTF8') throw new PgEncodingError(row?.enc ?? 'unknown')
      await conn.unsafe('select pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY])
      try {
        await migrate(drizzle({ client: conn }), { migrationsFolder: migrationsFolder('postgres') })
      } finally {
        await conn.unsafe('select pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => {})
      }
    } finally {
      conn.release()
    }
  } finally {
    await client.close({ timeout: 5 })
  }
}
