/**
 * All SQL of the SQLite store lives here (and in filter-sql.ts): the one place that knows the dialect.
 * Functions take the db first and are synchronous (bun:sqlite); the services call them inside db.transaction().
 */
import { and, eq, sql, type SQL } from 'drizzle-orm'
import type { Statement } from 'bun:sqlite'
import type { Db } from './client'
import { cachedAll, cachedRun } from './statements'
import { changedColumnNames, COLUMN_NAMES } from './store'
import { mergedOrder, seekArm, seekPlan } from './keyset'
import { counters, groupMembers, groups, settings, users } from './schema'

export type Kind = 'User' | 'Group'

export interface StoredResource {
  id: string
  version: number
  created: string
  lastModified: string
  data: Record<string, unknown>
}

/** Indexed copies of attributes, derived from `data` by the resource kind. */
export interface UserColumns {
  userNameKey: string
  externalId: string | null
  displayNameKey: string | null
  active: boolean | null
  passwordHash?: string | null
}
export interface GroupColumns {
  displayNameKey: string
  externalId: string | null
}

export interface MemberRow {
  memberId: string
  memberType: string
  display: string | null
}

const table = (kind: Kind) => (kind === 'User' ? users : groups)
const tableName = (kind: Kind) => (kind === 'User' ? 'users' : 'groups')

function makePrepared(db: Db) {
  // Reads by id are the hottest statement: raw, prepared once, run with .all() so the statement always steps to
  // its end and resets (a .get() left mid-way would keep a read snapshot open and stall WAL checkpoints).
  const byId = (table: 'users' | 'groups') => {
    const stmt = db.$client.prepare<{ id: string; version: number; created: string; lastModified: string; data: string }, [string, string]>(
      `select id, version, created, last_modified as lastModified, data from ${table} where tenant_id = ? and id = ?`,
    )
    return {
      get({ tenant, id }: { tenant: string; id: string }): StoredResource | undefined {
        const row = stmt.all(tenant, id)[0]
        return row && { id: row.id, version: row.version, created: row.created, lastModified: row.lastModified, data: JSON.parse(row.data) }
      },
    }
  }
  // Inserts are raw statements prepared once: a drizzle insert built per call costs ~250 µs on this kind of machine,
  // a drizzle prepared one ~45 µs of mapping on top of SQLite's own work, the raw statement only the latter.
  const c = db.$client
  const insertUser = c.prepare(
    `insert into users (id, tenant_id, version, created, last_modified, data, user_name_key, external_id, display_name_key, active, password_hash)
     values ($id, $tenant, $version, $created, $lastModified, $data, $userNameKey, $externalId, $displayNameKey, $active, $passwordHash)`,
  )
  const insertGroup = c.prepare(
    `insert into groups (id, tenant_id, version, created, last_modified, data, display_name_key, external_id)
     values ($id, $tenant, $version, $created, $lastModified, $data, $displayNameKey, $externalId)`,
  )
  const bump = c.prepare(
    `insert into counters (tenant_id, resource_type, count) values ($tenant, $kind, $delta)
     on conflict (tenant_id, resource_type) do update set count = count + excluded.count`,
  )
  // a user's derived `groups`, rendered on every GET of a user: prepared once (cross join: member index first)
  const groupsOf = c.prepare<{ id: string; display: string }, [string, string]>(
    `select g.id as id, json_extract(g.data, '$.displayName') as display
     from group_members m cross join groups g on g.id = m.group_id
     where m.member_id = ? and g.tenant_id = ? order by g.id`,
  )
  // the groups of a page of users: ids as one JSON array, prepared once
  const groupsOfMany = c.prepare<{ memberId: string; id: string; display: string }, [string, string]>(
    `select m.member_id as memberId, g.id as id, json_extract(g.data, '$.displayName') as display
     from group_members m cross join groups g on g.id = m.group_id
     where m.member_id in (select value from json_each(?)) and g.tenant_id = ?
     order by m.member_id, g.id`,
  )
  // most users are in no group: this single-index probe (~2 µs) skips the join (~15 µs even when empty)
  const inAnyGroup = c.prepare<{ n: number }, [string]>('select 1 as n from group_members where member_id = ? limit 1')
  // GET of a user: the row and its groups in one statement (one read transaction instead of two or three)
  const userWithGroups = c.prepare<
    { id: string; version: number; created: string; lastModified: string; data: string; groups: string },
    [string, string]
  >(
    `select u.id, u.version, u.created, u.last_modified as lastModified, u.data,
       (select json_group_array(json_array(x.id, x.display)) from
         (select g.id as id, json_extract(g.data, '$.displayName') as display
          from group_members m cross join groups g on g.id = m.group_id
          where m.member_id = u.id and g.tenant_id = u.tenant_id order by g.id) x) as groups
     from users u where u.tenant_id = ? and u.id = ?`,
  )
  // the statements of every write, prepared once: drizzle's query builder prepared each anew (~100 µs per write)
  const touch = (t: string) => c.prepare<unknown, [string, string, string]>(`update ${t} set version = version + 1, last_modified = ? where tenant_id = ? and id = ?`)
  const del = (t: string) => c.prepare<unknown, [string, string]>(`delete from ${t} where tenant_id = ? and id = ?`)
  const userIdByKey = c.prepare<{ id: string }, [string, string]>('select id from users where tenant_id = ? and user_name_key = ?')
  const passwordOf = c.prepare<{ h: string | null }, [string, string]>('select password_hash as h from users where tenant_id = ? and id = ?')
  const unlinkMember = c.prepare<unknown, [string]>('delete from group_members where member_id = ?')
  const count = c.prepare<{ n: number }, [string, string]>('select count as n from counters where tenant_id = ? and resource_type = ?')
  // members as one JSON array of [id, type] pairs: one statement whatever their number
  const addMembers = c.prepare<{ id: string }, [string, string]>(
    `insert into group_members (group_id, member_id, member_type)
     select ?1, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]') from json_each(?2) j where true
     on conflict do nothing returning member_id as id`,
  )
  return {
    userById: byId('users'),
    groupById: byId('groups'),
    insertUser,
    insertGroup,
    bump,
    groupsOf,
    groupsOfMany,
    inAnyGroup,
    userWithGroups,
    // UPDATE of a resource, one per set of changed columns (updateResource)
    updates: new Map<string, Statement>(),
    touchUser: touch('users'),
    touchGroup: touch('groups'),
    deleteUser: del('users'),
    deleteGroup: del('groups'),
    userIdByKey,
    passwordOf,
    unlinkMember,
    count,
    addMembers,
  }
}
const cache = new WeakMap<Db, ReturnType<typeof makePrepared>>()
function prepared(db: Db) {
  let p = cache.get(db)
  if (!p) cache.set(db, (p = makePrepared(db)))
  return p
}

export function getResource(db: Db, tenant: string, kind: Kind, id: string): StoredResource | undefined {
  const p = prepared(db)
  return (kind === 'User' ? p.userById : p.groupById).get({ tenant, id })
}

/** A user and the groups it is a direct member of (its `groups`), read in one statement. */
export function getUserWithGroups(
  db: Db,
  tenant: string,
  id: string,
): { stored: StoredResource; groups: { id: string; display: string }[] } | undefined {
  const row = prepared(db).userWithGroups.all(tenant, id)[0]
  if (!row) return undefined
  const pairs = JSON.parse(row.groups) as [string, string][]
  return {
    stored: { id: row.id, version: row.version, created: row.created, lastModified: row.lastModified, data: JSON.parse(row.data) },
    groups: pairs.map(([gid, display]) => ({ id: gid, display })),
  }
}

export function getPasswordHash(db: Db, tenant: string, id: string): string | null {
  return prepared(db).passwordOf.all(tenant, id)[0]?.h ?? null
}

/** id of the user holding this userName key, if any. */
export function findUserIdByKey(db: Db, tenant: string, userNameKey: string): string | undefined {
  return prepared(db).userIdByKey.all(tenant, userNameKey)[0]?.id
}

const rowParams = (tenant: string, r: StoredResource) => ({
  id: r.id,
  tenant,
  version: r.version,
  created: r.created,
  lastModified: r.lastModified,
  data: JSON.stringify(r.data),
})

export function insertUser(db: Db, tenant: string, r: StoredResource, cols: UserColumns): void {
  const p = prepared(db)
  p.insertUser.run({
    ...rowParams(tenant, r),
    userNameKey: cols.userNameKey,
    externalId: cols.externalId,
    displayNameKey: cols.displayNameKey,
    active: cols.active === null ? null : cols.active ? 1 : 0,
    passwordHash: cols.passwordHash ?? null,
  })
  p.bump.run({ tenant, kind: 'User', delta: 1 })
}

export function insertGroup(db: Db, tenant: string, r: StoredResource, cols: GroupColumns): void {
  const p = prepared(db)
  p.insertGroup.run({ ...rowParams(tenant, r), displayNameKey: cols.displayNameKey, externalId: cols.externalId })
  p.bump.run({ tenant, kind: 'Group', delta: 1 })
}

export function updateResource(
  db: Db,
  tenant: string,
  kind: Kind,
  r: StoredResource,
  cols: Partial<UserColumns> | Partial<GroupColumns>,
): void {
  const set = changedColumnNames(cols)
  const updates = prepared(db).updates
  const key = `${kind} ${set.join(' ')}`
  let stmt = updates.get(key)
  if (!stmt) {
    const assign = set.map((k) => `, ${COLUMN_NAMES[k]} = ?`).join('')
    stmt = db.$client.prepare(`update ${tableName(kind)} set version = ?, last_modified = ?, data = ?${assign} where tenant_id = ? and id = ?`)
    updates.set(key, stmt)
  }
  const values = set.map((k) => {
    const v = (cols as Record<string, unknown>)[k]
    return typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null)
  })
  stmt.run(r.version, r.lastModified, JSON.stringify(r.data), ...(values as (string | number | null)[]), tenant, r.id)
}

/** Bumps version and lastModified without touching data (membership changes). */
export function touchResource(db: Db, tenant: string, kind: Kind, id: string, lastModified: string): void {
  const p = prepared(db)
  ;(kind === 'User' ? p.touchUser : p.touchGroup).run(lastModified, tenant, id)
}

export function deleteResource(db: Db, tenant: string, kind: Kind, id: string): boolean {
  const p = prepared(db)
  const n = (kind === 'User' ? p.deleteUser : p.deleteGroup).run(tenant, id).changes
  if (n > 0) {
    bumpCounter(db, tenant, kind, -n)
    // memberships where this resource is the member; its own member rows go by ON DELETE CASCADE
    p.unlinkMember.run(id)
  }
  return n > 0
}

function bumpCounter(db: Db, tenant: string, kind: Kind, delta: number) {
  prepared(db).bump.run({ tenant, kind, delta })
}

export function countAll(db: Db, tenant: string, kind: Kind): number {
  return prepared(db).count.all(tenant, kind)[0]?.n ?? 0
}

export interface ListQuery {
  where?: SQL
  orderBy?: SQL
  descending?: boolean
  offset: number
  limit: number
}

const nullsPlace = (descending: boolean) => sql.raw(descending ? 'nulls first' : 'nulls last')

/**
 * The source of a list: `<table> r`. An unfiltered list in id order (GET /Users, Okta's import) names the
 * (id, tenant_id) index: SQLite walks it in id order and stops at LIMIT, checking each row's tenant in the index
 * itself, so the rows an OFFSET skips are index entries only and no table row is read before the page (OFFSET
 * 50,000 of 100,000 users: ~12 ms through the primary-key index, which had to read each skipped row for its tenant;
 * ~3.5 ms through this one). Named (INDEXED BY), not left to the planner: without statistics it prefers the
 * primary-key index, and a (tenant_id, id) index instead would lure filtered queries away from their own indexes.
 * Filtered and sorted lists leave the choice to the planner, with `r.tenant_id = ?` the prefix of their indexes.
 */
const fromTable = (kind: Kind, idOrder: boolean) => sql.raw(idOrder ? `${tableName(kind)} r indexed by ${tableName(kind)}_id_tenant_idx` : `${tableName(kind)} r`)

/** The page and the number of matches. `where` and `orderBy` come from filter-sql.ts. */
export function listResources(db: Db, tenant: string, kind: Kind, q: ListQuery): { total: number; rows: StoredResource[] } {
  const tn = sql.raw(tableName(kind))
  const cond = q.where ? sql`r.tenant_id = ${tenant} and (${q.where})` : sql`r.tenant_id = ${tenant}`
  const count = () =>
    q.where ? (cachedAll<{ n: number }>(db, sql`select count(*) as n from ${tn} r where ${cond}`)[0]?.n ?? 0) : countAll(db, tenant, kind)
  if (q.limit <= 0) return { total: count(), rows: [] }
  const dir = sql.raw(q.descending ? 'desc' : 'asc')
  // RFC 7644 §3.4.2.3: missing values sort last ascending, first descending; ties broken by id so pages are stable.
  // Written as NULLS LAST/FIRST (not `x is null, x`) so that an index on the sort column serves the ORDER BY.
  const order = q.orderBy ? sql`${q.orderBy} ${dir} ${nullsPlace(Boolean(q.descending))}, r.id ${dir}` : sql`r.id asc`
  const rows = cachedAll<{ id: string; version: number; created: string; last_modified: string; data: string }>(
    db,
    sql`select r.id, r.version, r.created, r.last_modified, r.data from ${fromTable(kind, !q.where && !q.orderBy)} where ${cond} order by ${order} limit ${q.limit} offset ${q.offset}`,
  )
  // A page that is not full ends the matches, so their number is known without a count query (Okta's and Entra's
  // look-ups by userName, externalId or displayName always end here). An empty page past the first proves nothing.
  const total = rows.length < q.limit && (q.offset === 0 || rows.length > 0) ? q.offset + rows.length : count()
  return {
    total,
    rows: rows.map((r) => ({ id: r.id, version: r.version, created: r.created, lastModified: r.last_modified, data: JSON.parse(r.data) })),
  }
}

// ── keyset paging and listing across resource types ────────────────────────────────────────────────────

/** One resource type's share of a query: its condition (from filter-sql.ts) and sort expression, if any. */
export interface QueryPart {
  kind: Kind
  where?: SQL
  orderBy?: SQL
}

/** A resource as a page row: which type, and its sort key (what a cursor remembers). */
export interface PageRow extends StoredResource {
  kind: Kind
  sortKey: string | number | null
}

/** A place in the order: just after the row with this sort key (NULL = no value) and id. */
export interface SeekPosition {
  key: string | number | null
  id: string
}

type RawRow = { kind: Kind; id: string; version: number; created: string; last_modified: string; data: string; sk: string | number | null }

const toPageRow = (r: RawRow): PageRow => ({
  kind: r.kind,
  id: r.id,
  version: r.version,
  created: r.created,
  lastModified: r.last_modified,
  data: JSON.parse(r.data),
  sortKey: r.sk,
})

function partCond(tenant: string, part: QueryPart): SQL {
  return part.where ? sql`r.tenant_id = ${tenant} and (${part.where})` : sql`r.tenant_id = ${tenant}`
}

function armSelect(tenant: string, part: QueryPart, extra?: SQL): SQL {
  const sk = part.orderBy ? sql`(${part.orderBy})` : sql`null`
  const base = partCond(tenant, part)
  const cond = extra ? sql`${base} and ${extra}` : base
  return sql`select ${part.kind} as kind, r.id as id, r.version as version, r.created as created, r.last_modified as last_modified, r.data as data, ${sk} as sk from ${fromTable(part.kind, !part.where && !part.orderBy)} where ${cond}`
}

/** Number of matches over all parts (the counters table when a part has no filter). */
export function countParts(db: Db, tenant: string, parts: QueryPart[]): number {
  let n = 0
  for (const part of parts) {
    n += part.where
      ? (cachedAll<{ n: number }>(db, sql`select count(*) as n from ${sql.raw(tableName(part.kind))} r where ${partCond(tenant, part)}`)[0]?.n ?? 0)
      : countAll(db, tenant, part.kind)
  }
  return n
}

/**
 * Index paging (startIndex/count) over one or more resource types merged into one order: sort key (missing values
 * last ascending, first descending — RFC 7644 §3.4.2.3), then id. Ids are UUIDv7 text, unique across types, so the
 * order is total and stable. Each arm is cut to offset+limit rows before the merge.
 */
export function listAcross(
  db: Db,
  tenant: string,
  parts: QueryPart[],
  q: { descending: boolean; offset: number; limit: number },
): PageRow[] {
  if (q.limit <= 0 || parts.length === 0) return []
  const dir = sql.raw(q.descending ? 'desc' : 'asc')
  const hasSort = parts.some((p) => p.orderBy)
  const order = (sk: SQL, id: SQL) => (hasSort ? sql`${sk} ${dir} ${nullsPlace(q.descending)}, ${id} ${dir}` : sql`${id} asc`)
  const cap = q.offset + q.limit
  const arms = parts.map(
    (p) => sql`select * from (${armSelect(tenant, p)} order by ${order(p.orderBy ? sql`(${p.orderBy})` : sql`null`, sql`r.id`)} limit ${cap})`,
  )
  const rows = cachedAll<RawRow>(db, 
    sql`select * from (${sql.join(arms, sql` union all `)}) order by ${order(sql`sk`, sql`id`)} limit ${q.limit} offset ${q.offset}`,
  )
  return rows.map(toPageRow)
}

/**
 * Keyset paging: up to `limit` rows strictly after `after` (or from the start) in the order of `descending`
 * (see listAcross; without an orderBy the order is id ascending, or descending when `descending`, which is how a
 * backward page is read). Never uses OFFSET: each step is an index range from the last row seen, so rows inserted
 * or deleted elsewhere never shift a page. The segments and their conditions: src/db/keyset.ts.
 */
export function seekPage(
  db: Db,
  tenant: string,
  parts: QueryPart[],
  q: { descending: boolean; after?: SeekPosition; limit: number },
): PageRow[] {
  if (q.limit <= 0 || parts.length === 0) return []
  const plan = seekPlan(parts.some((p) => p.orderBy), q)
  const out: PageRow[] = []
  for (let i = plan.start; i < plan.segments.length && out.length < q.limit; i++) {
    const seg = plan.segments[i]
    const from = i === plan.start ? q.after : undefined
    const need = q.limit - out.length
    const live: SQL[] = []
    for (const p of parts) {
      const arm = seekArm(plan, seg, p.orderBy ? sql`(${p.orderBy})` : undefined, from)
      if (arm) live.push(sql`${armSelect(tenant, p, arm.extra)} order by ${arm.order} limit ${need}`)
    }
    if (live.length === 0) continue
    const merged =
      live.length === 1
        ? live[0]
        : sql`select * from (${sql.join(
            live.map((a) => sql`select * from (${a})`),
            sql` union all `,
          )}) order by ${mergedOrder(plan, seg)} limit ${need}`
    for (const r of cachedAll<RawRow>(db, merged)) out.push(toPageRow(r))
  }
  return out
}

// ── members ──────────────────────────────────────────────────────────────────────────────────────────────

/** A group's member rows with their display (a user's displayName, else userName; a group's displayName), in insertion order. */
const membersOf = (groupId: string) => sql`
    select m.member_id as memberId, m.member_type as memberType,
      coalesce(json_extract(u.data, '$.displayName'), json_extract(u.data, '$.userName'), json_extract(g.data, '$.displayName')) as display
    from group_members m
    left join users u on m.member_type = 'User' and u.id = m.member_id
    left join groups g on m.member_type = 'Group' and g.id = m.member_id
    where m.group_id = ${groupId}
    order by m.rowid`

export function listMembers(db: Db, groupId: string): MemberRow[] {
  return cachedAll<MemberRow>(db, membersOf(groupId))
}

/**
 * The groups a resource is a direct member of (a User's `groups`). CROSS JOIN fixes the join order — member rows by
 * group_members_member_id_idx first, then each group by primary key: without statistics SQLite otherwise walks every
 * group of the tenant and probes it (measured: 3 ms per user rendered at 1,000 groups, 136 ms for a page of 100).
 */
export function groupsOfMember(db: Db, tenant: string, memberId: string): { id: string; display: string }[] {
  const p = prepared(db)
  return p.inAnyGroup.get(memberId) ? p.groupsOf.all(memberId, tenant) : []
}

/** groupsOfMember for a whole page of members in one statement: member id → its groups (absent when none). */
export function groupsOfMembers(db: Db, tenant: string, memberIds: string[]): Map<string, { id: string; display: string }[]> {
  const out = new Map<string, { id: string; display: string }[]>()
  if (memberIds.length === 0) return out
  const p = prepared(db)
  // one member (a look-up by userName or externalId): the probe that skips the join for a user in no group
  if (memberIds.length === 1) {
    const gs = groupsOfMember(db, tenant, memberIds[0])
    if (gs.length) out.set(memberIds[0], gs)
    return out
  }
  const rows = p.groupsOfMany.all(JSON.stringify(memberIds), tenant)
  for (const r of rows) {
    const list = out.get(r.memberId)
    if (list) list.push({ id: r.id, display: r.display })
    else out.set(r.memberId, [{ id: r.id, display: r.display }])
  }
  return out
}

/**
 * Adds members, skipping ones already present. Returns how many rows were inserted; `out` (the change history)
 * receives the ids actually inserted.
 */
export function addMembers(db: Db, groupId: string, members: { id: string; type: Kind }[], out?: string[]): number {
  if (members.length === 0) return 0
  const rows = prepared(db).addMembers.all(groupId, JSON.stringify(members.map((m) => [m.id, m.type])))
  if (out) for (const r of rows) out.push(r.id)
  return rows.length
}

/** Runs a delete; with `out`, as DELETE … RETURNING member_id, collecting the removed ids. */
function deleteMembers(db: Db, stmt: SQL, out?: string[]): number {
  if (!out) return cachedRun(db, stmt).changes
  const rows = cachedAll<{ id: string }>(db, sql`${stmt} returning member_id as id`)
  for (const r of rows) out.push(r.id)
  return rows.length
}

export function removeMembers(db: Db, groupId: string, memberIds: string[], out?: string[]): number {
  let n = 0
  for (let i = 0; i < memberIds.length; i += 500) {
    const chunk = memberIds.slice(i, i + 500)
    n += deleteMembers(
      db,
      sql`delete from group_members where group_id = ${groupId} and member_id in (${sql.join(
        chunk.map((c) => sql`${c}`),
        sql`, `,
      )})`,
      out,
    )
  }
  return n
}

/** Removes the members matching a condition over (member_id, member_type, display); all when `where` is absent. */
export function removeMembersWhere(db: Db, groupId: string, where?: SQL, out?: string[]): number {
  return deleteMembers(
    db,
    where
      ? sql`delete from group_members as m where m.group_id = ${groupId} and (${where})`
      : sql`delete from group_members where group_id = ${groupId}`,
    out,
  )
}

/** Which of these ids exist in the tenant, and as what (one query, however many ids). */
export function resolveMemberIds(db: Db, tenant: string, ids: string[]): Map<string, Kind> {
  const found = new Map<string, Kind>()
  if (ids.length === 0) return found
  const rows = cachedAll<{ id: string; kind: Kind | null }>(db, sql`
    select j.value as id, case when u.id is not null then 'User' when g.id is not null then 'Group' end as kind
    from json_each(${JSON.stringify(ids)}) j
    left join users u on u.id = j.value and u.tenant_id = ${tenant}
    left join groups g on g.id = j.value and g.tenant_id = ${tenant}`)
  for (const r of rows) if (r.kind) found.set(r.id, r.kind)
  return found
}

// ── settings ─────────────────────────────────────────────────────────────────────────────────────────────

export function getSetting(db: Db, key: string): string | undefined {
  return db.select({ v: settings.value }).from(settings).where(eq(settings.key, key)).get()?.v
}

export function putSetting(db: Db, key: string, value: string): void {
  db.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run()
}

// ── bulk import / export (scimd import, scimd export) ───────────────────────────────────────────────────────
// Raw prepared statements: the import writes 100,000 rows in seconds only if no query is built per row. The import
// runs them through the store (src/db/sqlite-store.ts: the batch methods of Repo loop over these single-row
// statements, cheap in-process), one IMMEDIATE transaction per batch.

/** A resource as the import finds it: `key` is its userName key (users) or displayName key (groups). */
export interface BulkResource {
  id: string
  version: number
  key: string
  data: Record<string, unknown>
}
/** A user or group row the import writes, with its version (1 for a new one). */
export interface BulkUser {
  id: string
  version: number
  data: Record<string, unknown>
  /** passwordHash: null or absent keeps the stored one on update */
  cols: UserColumns
}
export interface BulkGroup {
  id: string
  version: number
  data: Record<string, unknown>
  cols: GroupColumns
}
export interface BulkMembership {
  groupId: string
  memberId: string
  type: Kind
}

interface BulkRow {
  id: string
  version: number
  key: string
  data: string
}

function makeBulk(db: Db) {
  const c = db.$client
  return {
    userByKey: c.prepare<BulkRow, [string, string]>('select id, version, user_name_key as key, data from users where tenant_id = ? and user_name_key = ?'),
    idTaken: c.prepare<{ n: number }, [string, string]>(
      'select (select count(*) from users where id = ?1) + (select count(*) from groups where id = ?2) as n',
    ),
    insertUser: c.prepare(
      `insert into users (id, tenant_id, user_name_key, external_id, display_name_key, active, password_hash, version, created, last_modified, data)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateUser: c.prepare(
      `update users set user_name_key = ?, external_id = ?, display_name_key = ?, active = ?, password_hash = coalesce(?, password_hash),
       version = ?, last_modified = ?, data = ? where tenant_id = ? and id = ?`,
    ),
    groupsByKey: c.prepare<BulkRow, [string, string]>('select id, version, display_name_key as key, data from groups where tenant_id = ? and display_name_key = ?'),
    groupById: c.prepare<BulkRow, [string, string]>('select id, version, display_name_key as key, data from groups where tenant_id = ? and id = ?'),
    insertGroup: c.prepare(
      `insert into groups (id, tenant_id, display_name_key, external_id, version, created, last_modified, data) values (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateGroup: c.prepare(
      `update groups set display_name_key = ?, external_id = ?, version = ?, last_modified = ?, data = ? where tenant_id = ? and id = ?`,
    ),
    touchGroup: c.prepare('update groups set version = version + 1, last_modified = ? where tenant_id = ? and id = ?'),
    addMember: c.prepare('insert or ignore into group_members (group_id, member_id, member_type) values (?, ?, ?)'),
    bump: c.prepare(
      `insert into counters (tenant_id, resource_type, count) values (?, ?, ?)
       on conflict (tenant_id, resource_type) do update set count = count + excluded.count`,
    ),
    usersAfter: c.prepare<{ id: string; data: string }, [string, string, number]>('select id, data from users where tenant_id = ? and id > ? order by id limit ?'),
    groupsAfter: c.prepare<{ id: string; data: string }, [string, string, number]>('select id, data from groups where tenant_id = ? and id > ? order by id limit ?'),
    memberGroups: c.prepare<{ member_id: string; group_id: string; display: string | null }, [string, string]>(
      `select m.member_id, m.group_id, json_extract(g.data, '$.displayName') as display
       from json_each(?1) j cross join group_members m on m.member_id = j.value join groups g on g.id = m.group_id
       where g.tenant_id = ?2 order by m.member_id, g.display_name_key, g.id`,
    ),
  }
}
const bulkCache = new WeakMap<Db, ReturnType<typeof makeBulk>>()

const toBulk = (r: BulkRow): BulkResource => ({ id: r.id, version: r.version, key: r.key, data: JSON.parse(r.data) })
const flag = (b: boolean | null) => (b === null ? null : b ? 1 : 0)

/** The bulk operations of import and export (src/cli/import.ts, src/cli/export.ts), behind Repo in sqlite-store.ts. */
export function bulk(db: Db) {
  let b = bulkCache.get(db)
  if (!b) bulkCache.set(db, (b = makeBulk(db)))
  const s = b
  return {
    findUsersByKeys(tenant: string, keys: string[]): BulkResource[] {
      const out: BulkResource[] = []
      for (const k of keys) for (const r of s.userByKey.all(tenant, k)) out.push(toBulk(r))
      return out
    },
    findGroupsByIds(tenant: string, ids: string[]): BulkResource[] {
      const out: BulkResource[] = []
      for (const id of ids) for (const r of s.groupById.all(tenant, id)) out.push(toBulk(r))
      return out
    },
    /** every group holding one of these displayName keys */
    findGroupsByKeys(tenant: string, keys: string[]): BulkResource[] {
      const out: BulkResource[] = []
      for (const k of keys) for (const r of s.groupsByKey.all(tenant, k)) out.push(toBulk(r))
      return out
    },
    takenIds: (ids: string[]) => ids.filter((id) => (s.idTaken.get(id, id)?.n ?? 0) > 0),
    insertUsers(tenant: string, ts: string, rows: BulkUser[]) {
      for (const { id, version, data, cols } of rows)
        s.insertUser.run(id, tenant, cols.userNameKey, cols.externalId, cols.displayNameKey, flag(cols.active), cols.passwordHash ?? null, version, ts, ts, JSON.stringify(data))
    },
    updateUsers(tenant: string, ts: string, rows: BulkUser[]) {
      for (const { id, version, data, cols } of rows)
        s.updateUser.run(cols.userNameKey, cols.externalId, cols.displayNameKey, flag(cols.active), cols.passwordHash ?? null, version, ts, JSON.stringify(data), tenant, id)
    },
    insertGroups(tenant: string, ts: string, rows: BulkGroup[]) {
      for (const { id, version, data, cols } of rows) s.insertGroup.run(id, tenant, cols.displayNameKey, cols.externalId, version, ts, ts, JSON.stringify(data))
    },
    updateGroups(tenant: string, ts: string, rows: BulkGroup[]) {
      for (const { id, version, data, cols } of rows) s.updateGroup.run(cols.displayNameKey, cols.externalId, version, ts, JSON.stringify(data), tenant, id)
    },
    touchGroups(tenant: string, ids: string[], ts: string) {
      for (const id of ids) s.touchGroup.run(ts, tenant, id)
    },
    /** the positions (in `rows`) of the memberships that were new */
    addMemberships(rows: BulkMembership[]): number[] {
      const added: number[] = []
      rows.forEach((m, i) => s.addMember.run(m.groupId, m.memberId, m.type).changes > 0 && added.push(i))
      return added
    },
    bumpCount: (tenant: string, kind: Kind, delta: number) => void (delta && s.bump.run(tenant, kind, delta)),
    /** a keyset page in id order (BINARY: code-point order of the ids) */
    resourcesAfter(tenant: string, kind: Kind, afterId: string, limit: number): { id: string; data: Record<string, unknown> }[] {
      return (kind === 'User' ? s.usersAfter : s.groupsAfter).all(tenant, afterId, limit).map((r) => ({ id: r.id, data: JSON.parse(r.data) }))
    },
    /** the groups of these members, by member, ordered by displayName key then id */
    memberGroups(tenant: string, memberIds: string[]): Map<string, { id: string; display: string | null }[]> {
      const out = new Map<string, { id: string; display: string | null }[]>()
      if (memberIds.length === 0) return out
      for (const r of s.memberGroups.all(JSON.stringify(memberIds), tenant)) {
        const entry = { id: r.group_id, display: r.display }
        const list = out.get(r.member_id)
        if (list) list.push(entry)
        else out.set(r.member_id, [entry])
      }
      return out
    },
  }
}

// ── change history (issue 10) ──────────────────────────────────────────────────────────────────────────────
// Written by the services inside the write's transaction (src/resources/history.ts); read by /admin and
// `scimd history`; pruned by age in small batches.

export interface HistoryRow {
  seq: number
  tenant: string
  time: string
  op: string
  resourceType: string
  resourceId: string
  requestId: string | null
  principal: string | null
  /** JSON text */
  before: string | null
  after: string | null
  changed: string | null
  members: string | null
}

export interface HistoryQuery {
  tenant?: string
  resourceId?: string
  resourceType?: string
  op?: string[]
  /** ISO times, inclusive since, exclusive until */
  since?: string
  until?: string
  /** newest first (default) or oldest first */
  ascending?: boolean
  offset: number
  limit: number
}

const HISTORY_COLUMNS = sql.raw(
  'seq, tenant_id as tenant, time, op, resource_type as resourceType, resource_id as resourceId, request_id as requestId, principal, before, after, changed, members',
)

function makeHistory(db: Db) {
  const c = db.$client
  return {
    insert: c.prepare(
      `insert into history (tenant_id, time, op, resource_type, resource_id, request_id, principal, before, after, changed, members)
       values ($tenant, $time, $op, $resourceType, $resourceId, $requestId, $principal, $before, $after, $changed, $members)`,
    ),
    prune: c.prepare<unknown, [string, number]>(
      'delete from history where seq in (select seq from history where time < ? order by time limit ?)',
    ),
  }
}
const historyCache = new WeakMap<Db, ReturnType<typeof makeHistory>>()
function historyStatements(db: Db) {
  let h = historyCache.get(db)
  if (!h) historyCache.set(db, (h = makeHistory(db)))
  return h
}

export function insertHistory(db: Db, row: Omit<HistoryRow, 'seq'>): void {
  historyStatements(db).insert.run({
    tenant: row.tenant,
    time: row.time,
    op: row.op,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    requestId: row.requestId,
    principal: row.principal,
    before: row.before,
    after: row.after,
    changed: row.changed,
    members: row.members,
  })
}

/** A page of history rows (newest first unless `ascending`) and how many match. */
export function listHistory(db: Db, q: HistoryQuery): { total: number; rows: HistoryRow[] } {
  const conds: SQL[] = []
  if (q.tenant !== undefined) conds.push(sql`tenant_id = ${q.tenant}`)
  if (q.resourceId !== undefined) conds.push(sql`resource_id = ${q.resourceId}`)
  if (q.resourceType !== undefined) conds.push(sql`resource_type = ${q.resourceType}`)
  if (q.op?.length) conds.push(sql`op in (${sql.join(q.op.map((o) => sql`${o}`), sql`, `)})`)
  if (q.since !== undefined) conds.push(sql`time >= ${q.since}`)
  if (q.until !== undefined) conds.push(sql`time < ${q.until}`)
  const where = conds.length ? sql`where ${sql.join(conds, sql` and `)}` : sql``
  const total = cachedAll<{ n: number }>(db, sql`select count(*) as n from history ${where}`)[0]?.n ?? 0
  if (q.limit <= 0) return { total, rows: [] }
  const dir = sql.raw(q.ascending ? 'asc' : 'desc')
  const rows = cachedAll<HistoryRow>(db, sql`select ${HISTORY_COLUMNS} from history ${where} order by seq ${dir} limit ${q.limit} offset ${q.offset}`)
  return { total, rows }
}

/** Deletes up to `batch` rows older than `before` (ISO time); returns how many went. */
export function pruneHistory(db: Db, before: string, batch: number): number {
  return (historyStatements(db).prune.run(before, batch) as unknown as { changes: number }).changes
}

/** A page of a group's members (in insertion order) and how many it has: the admin console's view of big groups. */
export function membersPage(db: Db, groupId: string, offset: number, limit: number): { total: number; rows: MemberRow[] } {
  const total = cachedAll<{ n: number }>(db, sql`select count(*) as n from group_members where group_id = ${groupId}`)[0]?.n ?? 0
  const rows = cachedAll<MemberRow>(db, sql`${membersOf(groupId)} limit ${limit} offset ${offset}`)
  return { total, rows }
}
