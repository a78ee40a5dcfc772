/**
 * The SQLite store: src/db/repo.ts behind the Repo interface, steps run synchronously (src/db/store.ts). Writes run
 * in one IMMEDIATE transaction (the write lock first, so two writers never deadlock upgrading a read lock);
 * snapshots in one DEFERRED transaction.
 */
import type { Db } from './client'
import * as repo from './repo'
import * as tenants from './tenants'
import { filterToSql, memberFilterToSql, sortToSql } from './filter-sql'
import { runSync, type Repo, type Step, type Store } from './store'
import { serviceUnavailable } from '../scim/errors'

function sqliteRepo(db: Db): Repo {
  const lookup = tenants.tenantLookup(db)
  // prepared on first use (only scimd import / export need them)
  let bulk: ReturnType<typeof repo.bulk> | undefined
  const b = () => (bulk ??= repo.bulk(db))
  return {
    getResource: (t, k, id) => repo.getResource(db, t, k, id),
    getUserWithGroups: (t, id) => repo.getUserWithGroups(db, t, id),
    getPasswordHash: (t, id) => repo.getPasswordHash(db, t, id),
    findUserIdByKey: (t, key) => repo.findUserIdByKey(db, t, key),
    insertUser: (t, r, cols) => repo.insertUser(db, t, r, cols),
    insertGroup: (t, r, cols) => repo.insertGroup(db, t, r, cols),
    // one writer at a time (IMMEDIATE): the version read at the start of the transaction is still the current one
    updateResource: (t, k, r, cols) => (repo.updateResource(db, t, k, r, cols), true),
    touchResource: (t, k, id, ts) => repo.touchResource(db, t, k, id, ts),
    deleteResource: (t, k, id) => repo.deleteResource(db, t, k, id),
    countAll: (t, k) => repo.countAll(db, t, k),
    listResources: (t, k, q) => repo.listResources(db, t, k, q),
    countParts: (t, parts) => repo.countParts(db, t, parts),
    listAcross: (t, parts, q) => repo.listAcross(db, t, parts, q),
    seekPage: (t, parts, q) => repo.seekPage(db, t, parts, q),
    listMembers: (g) => repo.listMembers(db, g),
    groupsOfMember: (t, id) => repo.groupsOfMember(db, t, id),
    groupsOfMembers: (t, ids) => repo.groupsOfMembers(db, t, ids),
    addMembers(g, members) {
      const out: string[] = []
      repo.addMembers(db, g, members, out)
      return out
    },
    removeMembers(g, ids) {
      const out: string[] = []
      repo.removeMembers(db, g, ids, out)
      return out
    },
    removeMembersWhere(g, where) {
      const out: string[] = []
      repo.removeMembersWhere(db, g, where, out)
      return out
    },
    resolveMemberIds: (t, ids) => repo.resolveMemberIds(db, t, ids),
    getSetting: (key) => repo.getSetting(db, key),
    putSettingOnce(key, value) {
      const current = repo.getSetting(db, key)
      if (current !== undefined) return current
      repo.putSetting(db, key, value)
      return value
    },
    putSetting: (key, value) => repo.putSetting(db, key, value),
    insertHistory: (row) => repo.insertHistory(db, row),
    listHistory: (q) => repo.listHistory(db, q),
    pruneHistory: (before, batch) => repo.pruneHistory(db, before, batch),
    membersPage: (g, offset, limit) => repo.membersPage(db, g, offset, limit),
    getTenant: (id) => lookup(id),
    listTenants: () => tenants.listTenants(db),
    insertTenant: (row) => tenants.insertTenant(db, row),
    updateTenant: (id, patch) => tenants.updateTenant(db, id, patch),
    deleteTenant: (id) => tenants.deleteTenant(db, id),
    tenantCounts: (id) => tenants.countOf(db, id),
    // bulk import / export: repo.bulk()'s single-row statements in a loop (in-process, microseconds each)
    findUsersByKeys: (t, keys) => b().findUsersByKeys(t, keys),
    findGroupsByIds: (t, ids) => b().findGroupsByIds(t, ids),
    findGroupsByKeys: (t, keys) => b().findGroupsByKeys(t, keys),
    takenIds: (ids) => b().takenIds(ids),
    insertUsers: (t, ts, rows) => b().insertUsers(t, ts, rows),
    updateUsers: (t, ts, rows) => b().updateUsers(t, ts, rows),
    insertGroups: (t, ts, rows) => b().insertGroups(t, ts, rows),
    updateGroups: (t, ts, rows) => b().updateGroups(t, ts, rows),
    bumpCount: (t, k, delta) => b().bumpCount(t, k, delta),
    addMemberships: (rows) => b().addMemberships(rows),
    touchGroups: (t, ids, ts) => b().touchGroups(t, ids, ts),
    resourcesAfter: (t, k, after, limit) => b().resourcesAfter(t, k, after, limit),
    memberGroups: (t, ids) => b().memberGroups(t, ids),
    // ANALYZE where the tables changed enough since the last one (SQLite's own rule)
    analyze: () => void db.$client.exec('PRAGMA optimize'),
  }
}

const stores = new WeakMap<Db, Store>()
const repos = new WeakMap<Db, Repo>()
const repoOf = (db: Db) => {
  let r = repos.get(db)
  if (!r) repos.set(db, (r = sqliteRepo(db)))
  return r
}

/** The store of a SQLite database (one per connection). */
export function sqliteStore(db: Db): Store {
  let s = stores.get(db)
  if (s) return s
  const r = repoOf(db)
  s = {
    dialect: 'sqlite',
    sql: { filterToSql, sortToSql, memberFilterToSql },
    read: <T>(step: Step<T>) => runSync(step, r),
    snapshot: <T>(step: Step<T>) => db.$client.transaction(() => runSync(step, r)).deferred(),
    write: <T>(step: Step<T> | (() => Step<T>)) => db.$client.transaction(() => runSync(typeof step === 'function' ? step() : step, r)).immediate(),
    close: () => {},
  }
  stores.set(db, s)
  return s
}

/** Statistics of a group-committing store: how many write steps and how many transactions carried them. */
export interface GroupCommitStats {
  writes: number
  commits: number
}

/**
 * The server's SQLite store: group commit. Writes that arrive together share one transaction, each in its own
 * savepoint, and are committed once: a commit writes every page it changed to the WAL once (the history table's
 * last page and its indexes, the counters row) however many writes touched it, and takes the write lock, the
 * WAL-index update and the occasional checkpoint once per batch instead of once per request.
 *  - The first write opens the batch (BEGIN IMMEDIATE) and schedules its commit for the end of this turn of the event
 *    loop (setImmediate), so the requests that are already read by then join it; `maxBatch` writes commit at once.
 *  - A write's answer waits for the commit: nothing is acknowledged before it is in the database. A step that fails
 *    (409, 412, 400…) rolls back to its savepoint and throws at once; the others in the batch are not touched.
 *  - Reads and snapshots commit the open batch first, so no reader ever sees a write that is not committed.
 *  - If the commit fails (disk full, I/O error), or SQLite rolls back the whole transaction under a step, every write
 *    of the batch is answered 503 (retry) and none of them is kept.
 * One process's writes are serialized by the event loop anyway; this only changes how many share a commit. Other
 * processes (the CLI, a second server on the same file) see the batch when it commits, as with any transaction.
 */
export function groupCommitStore(db: Db, opts: { maxBatch?: number } = {}): Store & { stats: GroupCommitStats } {
  const base = sqliteStore(db)
  const r = repoOf(db)
  const c = db.$client
  const maxBatch = opts.maxBatch ?? 64
  const stats: GroupCommitStats = { writes: 0, commits: 0 }
  type Waiter = { resolve: (v: unknown) => void; reject: (e: unknown) => void; value: unknown }
  let batch: Waiter[] | undefined
  // the commit is scheduled twice: at the end of this turn of the event loop, and by a 2 ms timer, so that a write
  // never waits on the immediate queue alone (should it stall, the timer still wakes the loop); the first one wins
  let timer: ReturnType<typeof setTimeout> | undefined

  const lost = (e: unknown) => {
    const err = serviceUnavailable('The write could not be committed; retry it', 1)
    return Object.assign(err, { cause: e })
  }
  /** Closes the open batch (its commit no longer scheduled); its waiters, to answer. */
  function takeBatch(): Waiter[] {
    const waiters = batch!
    batch = undefined
    clearTimeout(timer)
    timer = undefined
    return waiters
  }
  function commit(): void {
    if (!batch) return // every read calls this: nothing else to do without an open batch
    const waiters = takeBatch()
    try {
      c.exec('COMMIT')
    } catch (e) {
      try {
        if (c.inTransaction) c.exec('ROLLBACK')
      } catch {}
      for (const w of waiters) w.reject(lost(e))
      return
    }
    stats.commits++
    for (const w of waiters) w.resolve(w.value)
  }

  return {
    dialect: base.dialect,
    sql: base.sql,
    stats,
    read<T>(step: Step<T>) {
      commit()
      return base.read(step)
    },
    snapshot<T>(step: Step<T>) {
      commit()
      return base.snapshot(step)
    },
    write<T>(step: Step<T> | (() => Step<T>)): Promise<T> {
      if (!batch) {
        c.exec('BEGIN IMMEDIATE')
        batch = []
        setImmediate(commit)
        timer = setTimeout(commit, 2)
      }
      const waiters = batch
      c.exec('SAVEPOINT w')
      let value: T
      try {
        value = runSync(typeof step === 'function' ? step() : step, r)
      } catch (e) {
        if (c.inTransaction) {
          c.exec('ROLLBACK TO w')
          c.exec('RELEASE w')
        } else {
          // SQLite ended the whole transaction (an I/O error, a full disk): the batch's earlier writes are gone too
          if (batch === waiters) takeBatch()
          for (const w of waiters) w.reject(lost(e))
        }
        throw e
      }
      c.exec('RELEASE w')
      stats.writes++
      const done = new Promise<T>((resolve, reject) => waiters.push({ resolve: resolve as (v: unknown) => void, reject, value }))
      if (waiters.length >= maxBatch) commit()
      return done
    },
    close() {
      commit()
      return base.close()
    },
  }
}
