/**
 * The PostgreSQL store: src/db/pg/repo.ts behind the Store of src/db/store.ts, over one pool of Bun's SQL client
 * shared by every request of this process (and the database shared by every replica).
 *
 * - read: each operation on any pooled connection, autocommit.
 * - snapshot: one REPEATABLE READ READ ONLY transaction, so that a page and its total (and a user and its groups)
 *   come from one snapshot, as they do in SQLite's deferred transaction.
 * - write: one READ COMMITTED transaction. The repo locks the rows it reads for change (FOR NO KEY UPDATE), so two
 *   writers of one resource queue up on its row lock, the second reads the first's committed version, and
 *   updateResource's `version = expectVersion` condition catches whatever slipped through (If-Match in the UPDATE).
 *   READ COMMITTED rather than SERIALIZABLE: conflicts are decided by row locks and the unique index (a second
 *   create of one userName waits for the first and then fails 23505 → 409), not by aborting whole transactions
 *   under load. A deadlock (40P01) or serialization failure (40001; only under a server default stricter than
 *   ours) reruns the whole step, up to 3 more times, when the step is given as a function that makes it (a
 *   generator already started cannot be rerun; the error then goes to the caller, a 503 with Retry-After).
 * - Pool: `max` connections (default 10), idle ones closed after `idleTimeoutS` (default 60 s), connecting bounded
 *   by `connectTimeoutS` (default 5 s), and `statement_timeout` (default 15 s) and
 *   `idle_in_transaction_session_timeout` (the same, at least 10 s) sent as connection parameters, so a stuck
 *   statement or a replica frozen mid-transaction cannot hold rows locked for long. Bun reconnects lazily: after the
 *   server comes back, the next query opens a new connection (no restart needed).
 * - migratePg (src/db/pg/migrate.ts) is separate: run it once before opening the store.
 */
import { SQL } from 'bun'
import type { Logger } from '../../log'
import { runAsync, type Step, type Store } from '../store'
import { filterToSql, memberFilterToSql, sortToSql } from './filter-sql'
import { PgRepo } from './repo'
import { RETRYABLE_STATES, sqlState } from './errors'

export { migratePg } from './migrate'

export interface PgStoreOptions {
  /** pool size (default 10) */
  max?: number
  /** seconds an idle connection stays open (default 60; 0 = forever) */
  idleTimeoutS?: number
  /** seconds to wait for a connection to open (default 5) */
  connectTimeoutS?: number
  /** statement_timeout of every connection, in ms (default 15000; 0 = none) */
  statementTimeoutMs?: number
  log?: Logger
}

/** A step, or a function making a fresh one: only the latter can be rerun after a deadlock. */
export type StepSource<T> = Step<T> | (() => Step<T>)

export interface PgStore extends Store {
  readonly dialect: 'postgres'
  read<T>(step: Step<T>): Promise<T>
  snapshot<T>(step: Step<T>): Promise<T>
  write<T>(step: StepSource<T>): Promise<T>
  close(): Promise<void>
  /** true when the database answers `select 1` within the connect timeout */
  ping(): Promise<boolean>
  /** the pool, for tests and tools */
  readonly client: SQL
}

/** How often a deadlocked or serialization-failed write is run again. */
export const WRITE_RETRIES = 3

export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<PgStore> {
  const statementTimeoutMs = Math.max(0, Math.trunc(opts.statementTimeoutMs ?? 15_000))
  const connectTimeoutS = opts.connectTimeoutS ?? 5
  const log = opts.log
  const connection: Record<string, string | number> = { application_name: 'scimd', statement_timeout: statementTimeoutMs }
  if (statementTimeoutMs > 0) connection.idle_in_transaction_session_timeout = Math.max(statementTimeoutMs, 10_000)
  let closed = false
  // a lost or refused connection is worth a line, but not one per request during an outage: at most one per 10 s
  let lastWarn = 0
  let quiet = 0
  const onclose = (err: Error | null) => {
    const code = (err as { code?: string } | null)?.code ?? 'unknown'
    if (closed || code === 'ERR_POSTGRES_IDLE_TIMEOUT' || code === 'ERR_POSTGRES_LIFETIME_TIMEOUT') return
    const now = Date.now()
    if (now - lastWarn < 10_000) return void quiet++
    log?.warn('database connection closed or refused', { code, sqlState: sqlState(err), alsoSince: quiet })
    lastWarn = now
    quiet = 0
  }
  const client = new SQL(url, {
    max: opts.max ?? 10,
    idleTimeout: opts.idleTimeoutS ?? 60,
    connectionTimeout: connectTimeoutS,
    connection,
    onclose,
  })
  const pooled = new PgRepo(client, 'read')

  async function writeOnce<T>(step: Step<T>): Promise<T> {
    return (await client.begin('isolation level read committed read write', (tx) => runAsync(step, new PgRepo(tx, 'write')))) as T
  }

  const store: PgStore = {
    dialect: 'postgres',
    sql: { filterToSql, sortToSql, memberFilterToSql },
    client,
    read: <T>(step: Step<T>) => runAsync(step, pooled),
    snapshot: async <T>(step: Step<T>) =>
      (await client.begin('isolation level repeatable read read only', (tx) => runAsync(step, new PgRepo(tx, 'snapshot')))) as T,
    async write<T>(source: StepSource<T>): Promise<T> {
      if (typeof source !== 'function') return writeOnce(source)
      for (let attempt = 0; ; attempt++) {
        try {
          return await writeOnce(source())
        } catch (e) {
          const state = sqlState(e)
          if (!state || !RETRYABLE_STATES.has(state) || attempt >= WRITE_RETRIES) throw e
          log?.debug('write retried', { sqlState: state, attempt: attempt + 1 })
          await Bun.sleep(2 + Math.random() * 8 * (attempt + 1))
        }
      }
    },
    async close() {
      if (closed) return
      closed = true
      await client.close({ timeout: 5 })
    },
    async ping() {
      let timer: Timer | undefined
      try {
        const answer = client.unsafe('select 1 as ok')
        answer.catch(() => {}) // settled late after a timeout: nobody waits for it
        const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('ping timed out')), connectTimeoutS * 1000 + 1000)))
        await Promise.race([answer, late])
        return true
      } catch {
        return false
      } finally {
        clearTimeout(timer)
      }
    },
  }
  return store
}
