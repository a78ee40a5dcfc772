/**
 * The storage seam: one service logic over two stores (SQLite, synchronous, embedded; PostgreSQL, asynchronous,
 * shared by replicas).
 *
 * Services are written as generator functions (`Step<T>`) that yield storage operations — `yield* q((r) =>
 * r.getResource(tenant, kind, id))` — and never see a database. A store runs a step:
 *  - SQLite runs it synchronously, inside `db.transaction()` for writes: each yielded operation returns its value at
 *    once, nothing else runs in between, and a request's answer costs no extra promise;
 *  - PostgreSQL awaits each operation on one pooled connection, inside a transaction for writes.
 * So the PATCH engine, validation, uniqueness, ETags and the change history are the same code on both, and only
 * `Repo` — every SQL statement — has one implementation per dialect (src/db/repo.ts and src/db/pg/repo.ts).
 *
 * `Repo` methods return their value (SQLite) or a promise of it (PostgreSQL); steps only ever see the value.
 */
import type { SQL } from 'drizzle-orm'
import type { TenantRow } from './tenants'
import type {
  BulkGroup,
  BulkMembership,
  BulkResource,
  BulkUser,
  Kind,
  ListQuery,
  MemberRow,
  PageRow,
  QueryPart,
  SeekPosition,
  StoredResource,
  UserColumns,
  GroupColumns,
  HistoryRow,
  HistoryQuery,
} from './repo'

/** The table column of each indexed copy (UserColumns, GroupColumns). */
export const COLUMN_NAMES: Record<keyof UserColumns | keyof GroupColumns, string> = {
  userNameKey: 'user_name_key',
  externalId: 'external_id',
  displayNameKey: 'display_name_key',
  active: 'active',
  passwordHash: 'password_hash',
}

/**
 * The columns an update sets, in a fixed order: the keys present in `cols` (the ones whose value changes; see
 * Repo.updateResource). Columns left alone are not rewritten, nor are their indexes.
 */
export function changedColumnNames(cols: Partial<UserColumns> | Partial<GroupColumns>): (keyof typeof COLUMN_NAMES)[] {
  return (Object.keys(COLUMN_NAMES) as (keyof typeof COLUMN_NAMES)[]).filter((k) => k in cols)
}

export type Maybe<T> = T | Promise<T>
export type Dialect = 'sqlite' | 'postgres'

/** Every statement the services run, per dialect. `tenant` scopes every resource read and write. */
export interface Repo {
  getResource(tenant: string, kind: Kind, id: string): Maybe<StoredResource | undefined>
  /** a user and its direct groups in one round trip */
  getUserWithGroups(tenant: string, id: string): Maybe<{ stored: StoredResource; groups: { id: string; display: string }[] } | undefined>
  getPasswordHash(tenant: string, id: string): Maybe<string | null>
  findUserIdByKey(tenant: string, userNameKey: string): Maybe<string | undefined>
  insertUser(tenant: string, r: StoredResource, cols: UserColumns): Maybe<void>
  insertGroup(tenant: string, r: StoredResource, cols: GroupColumns): Maybe<void>
  /**
   * Writes a new version: version, lastModified and data, and of the indexed columns only those in `cols` — the ones
   * whose value changes (service.ts writeVersion), so that an unchanged column's index is not rewritten. A
   * `passwordHash` key sets the password hash (null clears it). `expectVersion`: the version read at the start of
   * the write; the UPDATE carries it in its WHERE clause and returns false when another writer got there first
   * (PostgreSQL: no lost update across replicas).
   */
  updateResource(tenant: string, kind: Kind, r: StoredResource, cols: Partial<UserColumns> | Partial<GroupColumns>, expectVersion?: number): Maybe<boolean>
  touchResource(tenant: string, kind: Kind, id: string, lastModified: string): Maybe<void>
  deleteResource(tenant: string, kind: Kind, id: string): Maybe<boolean>
  countAll(tenant: string, kind: Kind): Maybe<number>
  listResources(tenant: string, kind: Kind, q: ListQuery): Maybe<{ total: number; rows: StoredResource[] }>
  countParts(tenant: string, parts: QueryPart[]): Maybe<number>
  listAcross(tenant: string, parts: QueryPart[], q: { descending: boolean; offset: number; limit: number }): Maybe<PageRow[]>
  seekPage(tenant: string, parts: QueryPart[], q: { descending: boolean; after?: SeekPosition; limit: number }): Maybe<PageRow[]>
  listMembers(groupId: string): Maybe<MemberRow[]>
  groupsOfMember(tenant: string, memberId: string): Maybe<{ id: string; display: string }[]>
  groupsOfMembers(tenant: string, memberIds: string[]): Maybe<Map<string, { id: string; display: string }[]>>
  /** inserts the members not yet present; returns the ids inserted */
  addMembers(groupId: string, members: { id: string; type: Kind }[]): Maybe<string[]>
  /** removes these members; returns the ids removed */
  removeMembers(groupId: string, memberIds: string[]): Maybe<string[]>
  /** removes the members matching a condition (memberFilterToSql), all when absent; returns the ids removed */
  removeMembersWhere(groupId: string, where?: SQL): Maybe<string[]>
  resolveMemberIds(tenant: string, ids: string[]): Maybe<Map<string, Kind>>
  getSetting(key: string): Maybe<string | undefined>
  /** stores a setting unless one exists; returns the value kept (the first writer wins across processes) */
  putSettingOnce(key: string, value: string): Maybe<string>
  putSetting(key: string, value: string): Maybe<void>
  insertHistory(row: Omit<HistoryRow, 'seq'>): Maybe<void>
  listHistory(q: HistoryQuery): Maybe<{ total: number; rows: HistoryRow[] }>
  pruneHistory(before: string, batch: number): Maybe<number>
  membersPage(groupId: string, offset: number, limit: number): Maybe<{ total: number; rows: MemberRow[] }>
  // tenants (issue 9): the tenants table, shared by every replica
  getTenant(id: string): Maybe<TenantRow | undefined>
  listTenants(): Maybe<TenantRow[]>
  insertTenant(row: TenantRow): Maybe<void>
  updateTenant(id: string, patch: Partial<Omit<TenantRow, 'id' | 'created'>>): Maybe<void>
  /** deletes the tenant and all its data; undefined when there is no such tenant */
  deleteTenant(id: string): Maybe<{ users: number; groups: number } | undefined>
  tenantCounts(id: string): Maybe<{ users: number; groups: number }>
  // bulk import and export (scimd import / export, src/cli/import.ts and export.ts): a batch of rows per call, so
  // that PostgreSQL takes one round trip per batch, not per row. In a write, rows found are locked for change.
  /** the users holding these userName keys (`key`: the userName key) */
  findUsersByKeys(tenant: string, keys: string[]): Maybe<BulkResource[]>
  /** the groups of the tenant with these ids (`key`: the displayName key) */
  findGroupsByIds(tenant: string, ids: string[]): Maybe<BulkResource[]>
  /** every group of the tenant holding one of these displayName keys */
  findGroupsByKeys(tenant: string, keys: string[]): Maybe<BulkResource[]>
  /** which of these ids a user or group already has, in any tenant */
  takenIds(ids: string[]): Maybe<string[]>
  /** inserts new users (created = lastModified = ts); the counters are the caller's (bumpCount) */
  insertUsers(tenant: string, ts: string, rows: BulkUser[]): Maybe<void>
  /** rewrites users with the given version; a null passwordHash keeps the stored one */
  updateUsers(tenant: string, ts: string, rows: BulkUser[]): Maybe<void>
  insertGroups(tenant: string, ts: string, rows: BulkGroup[]): Maybe<void>
  updateGroups(tenant: string, ts: string, rows: BulkGroup[]): Maybe<void>
  /** adds to a resource type's row counter */
  bumpCount(tenant: string, kind: Kind, delta: number): Maybe<void>
  /** inserts the memberships not yet present; returns the positions (in `rows`) of those inserted */
  addMemberships(rows: BulkMembership[]): Maybe<number[]>
  /** a new version and lastModified for each of these groups (their members changed) */
  touchGroups(tenant: string, ids: string[], ts: string): Maybe<void>
  /** up to `limit` resources with ids after `afterId`, in id order (code-point order) */
  resourcesAfter(tenant: string, kind: Kind, afterId: string, limit: number): Maybe<{ id: string; data: Record<string, unknown> }[]>
  /** the groups of each of these members, ordered by displayName key then id (display: the group's displayName) */
  memberGroups(tenant: string, memberIds: string[]): Maybe<Map<string, { id: string; display: string | null }[]>>
  /**
   * refreshes the query planner's statistics of the resource tables, after a bulk import: right after 100,000 users
   * went in, PostgreSQL (before autovacuum gets to them) planned a page as a sort of every row (230 ms instead of 25).
   * Outside any transaction (PostgreSQL runs VACUUM ANALYZE; SQLite PRAGMA optimize).
   */
  analyze(): Maybe<void>
}

/** The dialect's SQL for filters and sorting (src/db/filter-sql.ts, src/db/pg/filter-sql.ts). */
export interface FilterCompiler {
  filterToSql: typeof import('./filter-sql').filterToSql
  sortToSql: typeof import('./filter-sql').sortToSql
  memberFilterToSql: typeof import('./filter-sql').memberFilterToSql
}

type Op = (r: Repo) => unknown
export type Step<T> = Generator<Op, T, unknown>

/** One storage operation inside a step: `const row = yield* q((r) => r.getResource(t, 'User', id))`. */
export function* q<T>(op: (r: Repo) => Maybe<T>): Step<T> {
  return (yield op as Op) as T
}

/** A value as a step (for branches that need no storage). */
// eslint-disable-next-line require-yield
export function* pure<T>(value: T): Step<T> {
  return value
}

export interface Store {
  readonly dialect: Dialect
  readonly sql: FilterCompiler
  /** runs a step outside a transaction (reads) */
  read<T>(step: Step<T>): Maybe<T>
  /** runs a read-only step in one snapshot (a page and its total agree) */
  snapshot<T>(step: Step<T>): Maybe<T>
  /**
   * runs a step in one write transaction: all or nothing. Given a function making the step, a store may run it
   * again after a deadlock or serialization failure (PostgreSQL); a step itself runs once.
   */
  write<T>(step: Step<T> | (() => Step<T>)): Maybe<T>
  close(): Maybe<void>
}

/** Whether a value is a Store (and not, say, a SQLite Db: callers that take either). */
export function isStore(x: object): x is Store {
  return 'snapshot' in x && 'write' in x
}

/** The value of a synchronous store's answer (the SQLite store; CLI commands that open SQLite themselves). */
export function settled<T>(v: Maybe<T>): T {
  if (v instanceof Promise) throw new Error('expected a synchronous (SQLite) store')
  return v
}

/** Runs a step against a synchronous repo, each operation's value handed straight back. */
export function runSync<T>(step: Step<T>, repo: Repo): T {
  let r = step.next()
  while (!r.done) r = step.next(r.value(repo))
  return r.value
}

/** Runs a step against an asynchronous repo, awaiting each operation. */
export async function runAsync<T>(step: Step<T>, repo: Repo): Promise<T> {
  let r = step.next()
  while (!r.done) r = step.next(await r.value(repo))
  return r.value
}
