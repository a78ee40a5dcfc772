/**
 * All SQL of the PostgreSQL store (with src/db/pg/filter-sql.ts): the `Repo` of src/db/store.ts over Bun's SQL
 * client, statement for statement the twin of src/db/repo.ts (SQLite) — same ordering rules, same "a page that is
 * not full needs no count" rule, the same tenant scoping, counters and history.
 *
 * How it runs SQL: fixed statements are written here as text with `$n` parameters; dynamic ones (a filter's WHERE,
 * a sortBy's ORDER BY) are drizzle `sql` fragments rendered by PgDialect to text + parameters. Both go through
 * `client.unsafe(text, params)`: never a value in the text, and Bun prepares each distinct text once per connection.
 *
 * Differences from SQLite, and why:
 * - A repo is made per unit of work (src/db/pg/store.ts): `mode` says whether it runs in a write transaction. There,
 *   reads of the resource about to change lock its row (`FOR NO KEY UPDATE`: the strength UPDATE itself takes, so
 *   two writers of one resource queue up while foreign-key checks of member inserts, which take KEY SHARE, do not
 *   wait), and resolveMemberIds takes KEY SHARE on the members it found, so a concurrent DELETE of such a member
 *   waits for this transaction and then also deletes the membership row it adds (no member pointing at nothing).
 *   updateResource puts `version = expectVersion` in the UPDATE's WHERE (If-Match in the statement itself).
 * - Row order of group members is group_members.seq (SQLite: rowid). DELETE … RETURNING gives no promised order,
 *   so removed ids come back in seq order (insertion order).
 * - `ORDER BY null` is an error in PostgreSQL ("non-integer constant"), and sortToSql yields `null` for an unknown
 *   attribute: such a sort key is dropped from ORDER BY (every row's key is NULL, so the order is the id's anyway).
 * - Keyset/merged pages are `(arm) union all (arm)` without wrapping each arm, so that an arm's untyped `null`
 *   sort key takes the other arm's type; an index page wraps the whole union (`select * from (…) as u order by …`),
 *   since a lone parenthesised arm followed by ORDER BY is a syntax error.
 * - An insert and its counter bump are one statement (a data-modifying CTE), a delete and its counter too: one
 *   round trip each (the memberships of a deleted resource are a second statement: see deleteSql).
 * - count(*) and bigint come back from Bun as strings: cast to int in SQL (counts) or Number() (seq).
 */
import { sql, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { mergedOrder, seekArm, seekPlan } from '../keyset'
import { renderSql } from '../render-sql'
import type { SQL as BunSQL } from 'bun'
import { changedColumnNames, COLUMN_NAMES, type Repo } from '../store'
import type {
  BulkGroup,
  BulkMembership,
  BulkResource,
  BulkUser,
  GroupColumns,
  HistoryQuery,
  HistoryRow,
  Kind,
  ListQuery,
  MemberRow,
  PageRow,
  QueryPart,
  SeekPosition,
  StoredResource,
  UserColumns,
} from '../repo'
import type { TenantRow } from '../tenants'

const dialect = new PgDialect()
const toQuery = (q: SQL) => renderSql(q, (n) => `$${n}`, (x) => dialect.sqlToQuery(x))

/** How a repo's reads behave: `write` locks the rows it reads for change (see the header). */
export type RepoMode = 'read' | 'snapshot' | 'write'

type Row = Record<string, unknown>
const tableName = (kind: Kind) => (kind === 'User' ? 'users' : 'groups')

/** jsonb comes back parsed; should a driver hand back text instead, parse it. */
const json = (v: unknown): Record<string, unknown> => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>

const toStored = (r: Row): StoredResource => ({
  id: r.id as string,
  version: r.version as number,
  created: r.created as string,
  lastModified: r.last_modified as string,
  data: json(r.data),
})

const toPageRow = (r: Row): PageRow => ({ ...toStored(r), kind: r.kind as Kind, sortKey: (r.sk ?? null) as string | number | null })

/** sortToSql's answer for an attribute nothing holds: a constant NULL, which PostgreSQL refuses in ORDER BY. */
function isNullLiteral(s: SQL | undefined): boolean {
  if (!s) return false
  const q = toQuery(s)
  return q.params.length === 0 && /^\(?\s*null\s*\)?$/i.test(q.sql.trim())
}

const nullsPlace = (descending: boolean) => sql.raw(descending ? 'nulls first' : 'nulls last')

function partCond(tenant: string, part: QueryPart): SQL {
  return part.where ? sql`r.tenant_id = ${tenant} and (${part.where})` : sql`r.tenant_id = ${tenant}`
}

/** The select list of one arm of a page query; `sk` the sort key, `null` (untyped) without one. */
function armSelect(tenant: string, part: QueryPart, sortExpr: SQL | undefined, extra?: SQL): SQL {
  const sk = sortExpr ? sql`(${sortExpr})` : sql`null`
  const base = partCond(tenant, part)
  const cond = extra ? sql`${base} and ${extra}` : base
  return sql`select ${part.kind}::text as kind, r.id, r.version, r.created, r.last_modified, r.data, ${sk} as sk from ${sql.raw(tableName(part.kind))} r where ${cond}`
}

/**
 * Counters are sharded: each change lands on one of COUNTER_SLOTS rows picked at random (schema.ts `counters.slot`),
 * so concurrent inserts rarely wait on one row lock; a count is the sum of the tenant's rows.
 */
const COUNTER_SLOTS = 16
const SLOT = `floor(random() * ${COUNTER_SLOTS})::smallint`
const ON_COUNTER = `on conflict (tenant_id, resource_type, slot) do update set count = counters.count + excluded.count`

/** The counter bump that rides along an insert (one statement, one round trip; the CTE runs unreferenced). */
const bump = (kind: Kind) => `insert into counters (tenant_id, resource_type, slot, count) values ($2, '${kind}', ${SLOT}, 1)
  ${ON_COUNTER}`

const INSERT_USER = `with ins as (
    insert into users (id, tenant_id, version, created, last_modified, data, user_name_key, external_id, display_name_key, active, password_hash)
    values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning 1)
  ${bump('User')}`
const INSERT_GROUP = `with ins as (
    insert into groups (id, tenant_id, version, created, last_modified, data, display_name_key, external_id)
    values ($1, $2, $3, $4, $5, $6, $7, $8) returning 1)
  ${bump('Group')}`

/**
 * A delete and its counter in one statement (the counter moves only when a row went). The memberships where the
 * resource is the member go in a second statement: under READ COMMITTED it takes a new snapshot, so it also sees a
 * membership that a concurrent transaction added (it held KEY SHARE on the member, so this DELETE waited for its
 * commit); inside the first statement its snapshot would predate that commit and leave the row behind. The
 * group's own member rows go by ON DELETE CASCADE.
 */
const deleteSql = (table: 'users' | 'groups', kind: Kind) => `with d as (delete from ${table} where tenant_id = $1 and id = $2 returning id),
  c as (insert into counters (tenant_id, resource_type, slot, count) select $1, '${kind}', ${SLOT}, -count(*) from d having count(*) > 0
        ${ON_COUNTER})
  select count(*)::int as n from d`
const DELETE_USER = deleteSql('users', 'User')
const DELETE_GROUP = deleteSql('groups', 'Group')

const MEMBERS_OF = `select m.member_id as "memberId", m.member_type as "memberType",
    coalesce(u.data ->> 'displayName', u.data ->> 'userName', g.data ->> 'displayName') as display
  from group_members m
  left join users u on m.member_type = 'User' and u.id = m.member_id
  left join groups g on m.member_type = 'Group' and g.id = m.member_id
  where m.group_id = $1
  order by m.seq`

const TENANT_COLUMNS = `id, created, profile, token_hash as "tokenHash", basic_user as "basicUser", basic_password_hash as "basicPasswordHash", rotated, auth`
/** TenantRow field → tenants column, for updateTenant */
const TENANT_FIELDS: Record<string, string> = {
  profile: 'profile',
  tokenHash: 'token_hash',
  basicUser: 'basic_user',
  basicPasswordHash: 'basic_password_hash',
  rotated: 'rotated',
  auth: 'auth',
}
const toTenant = (r: Row): TenantRow => ({ ...(r as unknown as TenantRow), auth: r.auth === null || r.auth === undefined ? null : json(r.auth) })

const HISTORY_COLUMNS = sql.raw(
  `seq, tenant_id as tenant, time, op, resource_type as "resourceType", resource_id as "resourceId", request_id as "requestId", principal, before, after, changed, members`,
)

export class PgRepo implements Repo {
  /** `FOR NO KEY UPDATE` on reads of a resource inside a write transaction */
  private readonly lock: string

  constructor(
    private readonly c: BunSQL,
    readonly mode: RepoMode,
  ) {
    this.lock = mode === 'write' ? ' for no key update' : ''
  }

  private rows(text: string, params: unknown[]): Promise<Row[]> {
    return this.c.unsafe(text, params) as unknown as Promise<Row[]>
  }

  private async count(text: string, params: unknown[]): Promise<number> {
    return ((await this.c.unsafe(text, params)) as unknown as { count: number }).count
  }

  private all(q: SQL): Promise<Row[]> {
    const { sql: text, params } = toQuery(q)
    return this.c.unsafe(text, params) as unknown as Promise<Row[]>
  }

  // ── resources ──────────────────────────────────────────────────────────────────────────────────────────

  async getResource(tenant: string, kind: Kind, id: string): Promise<StoredResource | undefined> {
    const rows = await this.rows(`select id, version, created, last_modified, data from ${tableName(kind)} where tenant_id = $1 and id = $2${this.lock}`, [
      tenant,
      id,
    ])
    return rows[0] && toStored(rows[0])
  }

  async getUserWithGroups(tenant: string, id: string): Promise<{ stored: StoredResource; groups: { id: string; display: string }[] } | undefined> {
    const rows = await this.rows(
      `select u.id, u.version, u.created, u.last_modified, u.data,
         (select coalesce(json_agg(json_build_array(g.id, g.data ->> 'displayName') order by g.id), '[]'::json)
          from group_members m join groups g on g.id = m.group_id
          where m.member_id = u.id and g.tenant_id = u.tenant_id) as groups
       from users u where u.tenant_id = $1 and u.id = $2${this.lock && `${this.lock} of u`}`,
      [tenant, id],
    )
    const row = rows[0]
    if (!row) return undefined
    const pairs = (typeof row.groups === 'string' ? JSON.parse(row.groups) : row.groups) as [string, string][]
    return { stored: toStored(row), groups: pairs.map(([gid, display]) => ({ id: gid, display })) }
  }

  async getPasswordHash(tenant: string, id: string): Promise<string | null> {
    const rows = await this.rows('select password_hash as h from users where tenant_id = $1 and id = $2', [tenant, id])
    return (rows[0]?.h as string | null | undefined) ?? null
  }

  async findUserIdByKey(tenant: string, userNameKey: string): Promise<string | undefined> {
    const rows = await this.rows('select id from users where tenant_id = $1 and user_name_key = $2', [tenant, userNameKey])
    return rows[0]?.id as string | undefined
  }

  async insertUser(tenant: string, r: StoredResource, cols: UserColumns): Promise<void> {
    await this.c.unsafe(INSERT_USER, [
      r.id,
      tenant,
      r.version,
      r.created,
      r.lastModified,
      r.data,
      cols.userNameKey,
      cols.externalId,
      cols.displayNameKey,
      cols.active,
      cols.passwordHash ?? null,
    ])
  }

  async insertGroup(tenant: string, r: StoredResource, cols: GroupColumns): Promise<void> {
    await this.c.unsafe(INSERT_GROUP, [r.id, tenant, r.version, r.created, r.lastModified, r.data, cols.displayNameKey, cols.externalId])
  }

  async updateResource(
    tenant: string,
    kind: Kind,
    r: StoredResource,
    cols: Partial<UserColumns> | Partial<GroupColumns>,
    expectVersion?: number,
  ): Promise<boolean> {
    const set = changedColumnNames(cols)
    const params: unknown[] = [tenant, r.id, r.version, r.lastModified, r.data, ...set.map((k) => (cols as Record<string, unknown>)[k] ?? null)]
    let text = `update ${tableName(kind)} set version = $3, last_modified = $4, data = $5${set.map((k, i) => `, ${COLUMN_NAMES[k]} = $${i + 6}`).join('')}
      where tenant_id = $1 and id = $2`
    // If-Match in the statement: the row is written only if it still has the version the caller read
    if (expectVersion !== undefined) {
      params.push(expectVersion)
      text += ` and version = $${params.length}`
    }
    const n = await this.count(text, params)
    // without expectVersion, as SQLite: the caller holds the row (read FOR NO KEY UPDATE in this transaction)
    return expectVersion === undefined || n > 0
  }

  async touchResource(tenant: string, kind: Kind, id: string, lastModified: string): Promise<void> {
    await this.c.unsafe(`update ${tableName(kind)} set version = version + 1, last_modified = $3 where tenant_id = $1 and id = $2`, [tenant, id, lastModified])
  }

  async deleteResource(tenant: string, kind: Kind, id: string): Promise<boolean> {
    const rows = await this.rows(kind === 'User' ? DELETE_USER : DELETE_GROUP, [tenant, id])
    const gone = (rows[0]?.n as number) > 0
    if (gone) await this.c.unsafe('delete from group_members where member_id = $1', [id])
    return gone
  }

  async countAll(tenant: string, kind: Kind): Promise<number> {
    const rows = await this.rows('select coalesce(sum(count), 0)::int as count from counters where tenant_id = $1 and resource_type = $2', [tenant, kind])
    return (rows[0]?.count as number | undefined) ?? 0
  }

  async listResources(tenant: string, kind: Kind, q: ListQuery): Promise<{ total: number; rows: StoredResource[] }> {
    const tn = sql.raw(tableName(kind))
    const cond = q.where ? sql`r.tenant_id = ${tenant} and (${q.where})` : sql`r.tenant_id = ${tenant}`
    const count = async () =>
      q.where ? (((await this.all(sql`select count(*)::int as n from ${tn} r where ${cond}`))[0]?.n as number) ?? 0) : this.countAll(tenant, kind)
    if (q.limit <= 0) return { total: await count(), rows: [] }
    const dir = sql.raw(q.descending ? 'desc' : 'asc')
    // RFC 7644 §3.4.2.3: missing values last ascending, first descending; ties by id (src/db/repo.ts)
    const sortExpr = isNullLiteral(q.orderBy) ? undefined : q.orderBy
    const order = sortExpr ? sql`${sortExpr} ${dir} ${nullsPlace(Boolean(q.descending))}, r.id ${dir}` : q.orderBy ? sql`r.id ${dir}` : sql`r.id asc`
    // An unfiltered page in id order past the start: the ids by an index-only scan of (tenant_id, id), then those rows.
    // A plain OFFSET is planned as a walk of the primary key reading every skipped row from the heap for its tenant
    // (OFFSET 50,000 of 100,000 users: 29 ms; this way 12 ms).
    const deep = !q.where && !q.orderBy && q.offset > 0
    const rows = await this.all(
      deep
        ? sql`select r.id, r.version, r.created, r.last_modified, r.data from ${tn} r where r.tenant_id = ${tenant} and r.id in
            (select id from ${tn} where tenant_id = ${tenant} order by id limit ${q.limit} offset ${q.offset}) order by r.id asc`
        : sql`select r.id, r.version, r.created, r.last_modified, r.data from ${tn} r where ${cond} order by ${order} limit ${q.limit} offset ${q.offset}`,
    )
    // a page that is not full ends the matches (src/db/repo.ts); an empty page past the first proves nothing
    const total = rows.length < q.limit && (q.offset === 0 || rows.length > 0) ? q.offset + rows.length : await count()
    return { total, rows: rows.map(toStored) }
  }

  async countParts(tenant: string, parts: QueryPart[]): Promise<number> {
    let n = 0
    for (const part of parts) {
      n += part.where
        ? (((await this.all(sql`select count(*)::int as n from ${sql.raw(tableName(part.kind))} r where ${partCond(tenant, part)}`))[0]?.n as number) ?? 0)
        : await this.countAll(tenant, part.kind)
    }
    return n
  }

  /** Index paging over one or more resource types merged into one order (src/db/repo.ts listAcross). */
  async listAcross(tenant: string, parts: QueryPart[], q: { descending: boolean; offset: number; limit: number }): Promise<PageRow[]> {
    if (q.limit <= 0 || parts.length === 0) return []
    const dir = sql.raw(q.descending ? 'desc' : 'asc')
    const hasSort = parts.some((p) => p.orderBy)
    const cap = q.offset + q.limit
    const arms = parts.map((p) => {
      const e = isNullLiteral(p.orderBy) ? undefined : p.orderBy
      const order = !hasSort ? sql`r.id asc` : e ? sql`(${e}) ${dir} ${nullsPlace(q.descending)}, r.id ${dir}` : sql`r.id ${dir}`
      return sql`(${armSelect(tenant, p, e)} order by ${order} limit ${cap})`
    })
    const order = hasSort ? sql`sk ${dir} ${nullsPlace(q.descending)}, id ${dir}` : sql`id asc`
    // wrapped (with an alias): a single parenthesised arm followed by ORDER BY is a syntax error in PostgreSQL
    const rows = await this.all(sql`select * from (${sql.join(arms, sql` union all `)}) as u order by ${order} limit ${q.limit} offset ${q.offset}`)
    return rows.map(toPageRow)
  }

  /** Keyset paging (src/db/repo.ts seekPage; the segments and their conditions: src/db/keyset.ts), no OFFSET. */
  async seekPage(tenant: string, parts: QueryPart[], q: { descending: boolean; after?: SeekPosition; limit: number }): Promise<PageRow[]> {
    if (q.limit <= 0 || parts.length === 0) return []
    const plan = seekPlan(parts.some((p) => p.orderBy), q)
    const out: PageRow[] = []
    for (let i = plan.start; i < plan.segments.length && out.length < q.limit; i++) {
      const seg = plan.segments[i]
      const from = i === plan.start ? q.after : undefined
      const need = q.limit - out.length
      const arms: SQL[] = []
      for (const p of parts) {
        const e = p.orderBy && !isNullLiteral(p.orderBy) ? sql`(${p.orderBy})` : undefined
        const arm = seekArm(plan, seg, e, from)
        if (arm) arms.push(sql`(${armSelect(tenant, p, e, arm.extra)} order by ${arm.order} limit ${need})`)
      }
      if (arms.length === 0) continue
      const merged = arms.length === 1 ? arms[0] : sql`${sql.join(arms, sql` union all `)} order by ${mergedOrder(plan, seg)} limit ${need}`
      for (const r of await this.all(merged)) out.push(toPageRow(r))
    }
    return out
  }

  // ── members ──────────────────────────────────────────────────────────────────────────────────────────────

  async listMembers(groupId: string): Promise<MemberRow[]> {
    return (await this.rows(MEMBERS_OF, [groupId])) as unknown as MemberRow[]
  }

  async groupsOfMember(tenant: string, memberId: string): Promise<{ id: string; display: string }[]> {
    return (await this.rows(
      `select g.id, g.data ->> 'displayName' as display from group_members m join groups g on g.id = m.group_id
       where m.member_id = $1 and g.tenant_id = $2 order by g.id`,
      [memberId, tenant],
    )) as unknown as { id: string; display: string }[]
  }

  async groupsOfMembers(tenant: string, memberIds: string[]): Promise<Map<string, { id: string; display: string }[]>> {
    const out = new Map<string, { id: string; display: string }[]>()
    if (memberIds.length === 0) return out
    const rows = await this.rows(
      `select m.member_id as "memberId", g.id, g.data ->> 'displayName' as display
       from group_members m join groups g on g.id = m.group_id
       where m.member_id = any($1::text[]) and g.tenant_id = $2
       order by m.member_id, g.id`,
      [memberIds, tenant],
    )
    for (const r of rows) {
      const entry = { id: r.id as string, display: r.display as string }
      const list = out.get(r.memberId as string)
      if (list) list.push(entry)
      else out.set(r.memberId as string, [entry])
    }
    return out
  }

  /** Inserts the members not yet present, in the given order (their seq); returns the ids inserted. */
  async addMembers(groupId: string, members: { id: string; type: Kind }[]): Promise<string[]> {
    if (members.length === 0) return []
    const rows = await this.rows(
      `insert into group_members (group_id, member_id, member_type)
       select $1, x.id, x.type from unnest($2::text[], $3::text[]) with ordinality as x(id, type, n) order by x.n
       on conflict do nothing returning member_id as id`,
      [groupId, members.map((m) => m.id), members.map((m) => m.type)],
    )
    return rows.map((r) => r.id as string)
  }

  async removeMembers(groupId: string, memberIds: string[]): Promise<string[]> {
    if (memberIds.length === 0) return []
    const rows = await this.rows(
      `with d as (delete from group_members where group_id = $1 and member_id = any($2::text[]) returning member_id, seq)
       select member_id as id from d order by seq`,
      [groupId, memberIds],
    )
    return rows.map((r) => r.id as string)
  }

  async removeMembersWhere(groupId: string, where?: SQL): Promise<string[]> {
    const cond = where ? sql`m.group_id = ${groupId} and (${where})` : sql`m.group_id = ${groupId}`
    const rows = await this.all(
      sql`with d as (delete from group_members as m where ${cond} returning m.member_id, m.seq) select member_id as id from d order by seq`,
    )
    return rows.map((r) => r.id as string)
  }

  /** Which of these ids exist in the tenant, and as what; in a write, the found rows are KEY SHARE locked (header). */
  async resolveMemberIds(tenant: string, ids: string[]): Promise<Map<string, Kind>> {
    const found = new Map<string, Kind>()
    if (ids.length === 0) return found
    const lock = this.mode === 'write' ? ' for key share' : ''
    const rows = await this.rows(
      `with u as (select id from users where tenant_id = $1 and id = any($2::text[])${lock}),
            g as (select id from groups where tenant_id = $1 and id = any($2::text[])${lock})
       select id, 'User' as kind from u union all select id, 'Group' as kind from g`,
      [tenant, ids],
    )
    for (const r of rows) if (!found.has(r.id as string)) found.set(r.id as string, r.kind as Kind)
    return found
  }

  // ── settings ─────────────────────────────────────────────────────────────────────────────────────────────

  async getSetting(key: string): Promise<string | undefined> {
    const rows = await this.rows('select value from settings where key = $1', [key])
    return rows[0]?.value as string | undefined
  }

  /** Stores the value unless a row exists; the value kept. A second statement sees a row a concurrent writer added. */
  async putSettingOnce(key: string, value: string): Promise<string> {
    const ins = await this.rows('insert into settings (key, value) values ($1, $2) on conflict (key) do nothing returning value', [key, value])
    if (ins.length > 0) return value
    const current = await this.getSetting(key)
    if (current === undefined) throw new Error(`setting ${key} neither inserted nor found`)
    return current
  }

  async putSetting(key: string, value: string): Promise<void> {
    await this.c.unsafe('insert into settings (key, value) values ($1, $2) on conflict (key) do update set value = excluded.value', [key, value])
  }

  // ── change history ───────────────────────────────────────────────────────────────────────────────────────

  async insertHistory(row: Omit<HistoryRow, 'seq'>): Promise<void> {
    await this.c.unsafe(
      `insert into history (tenant_id, time, op, resource_type, resource_id, request_id, principal, before, after, changed, members)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [row.tenant, row.time, row.op, row.resourceType, row.resourceId, row.requestId, row.principal, row.before, row.after, row.changed, row.members],
    )
  }

  async listHistory(q: HistoryQuery): Promise<{ total: number; rows: HistoryRow[] }> {
    const conds: SQL[] = []
    if (q.tenant !== undefined) conds.push(sql`tenant_id = ${q.tenant}`)
    if (q.resourceId !== undefined) conds.push(sql`resource_id = ${q.resourceId}`)
    if (q.resourceType !== undefined) conds.push(sql`resource_type = ${q.resourceType}`)
    if (q.op?.length) conds.push(sql`op = any(${sql.param(q.op)}::text[])`)
    if (q.since !== undefined) conds.push(sql`time >= ${q.since}`)
    if (q.until !== undefined) conds.push(sql`time < ${q.until}`)
    const where = conds.length ? sql`where ${sql.join(conds, sql` and `)}` : sql``
    const total = ((await this.all(sql`select count(*)::int as n from history ${where}`))[0]?.n as number) ?? 0
    if (q.limit <= 0) return { total, rows: [] }
    const dir = sql.raw(q.ascending ? 'asc' : 'desc')
    const rows = await this.all(sql`select ${HISTORY_COLUMNS} from history ${where} order by seq ${dir} limit ${q.limit} offset ${q.offset}`)
    return { total, rows: rows.map((r) => ({ ...r, seq: Number(r.seq) }) as HistoryRow) }
  }

  async pruneHistory(before: string, batch: number): Promise<number> {
    return this.count('delete from history where seq in (select seq from history where time < $1 order by time limit $2)', [before, batch])
  }

  async membersPage(groupId: string, offset: number, limit: number): Promise<{ total: number; rows: MemberRow[] }> {
    const total = ((await this.rows('select count(*)::int as n from group_members where group_id = $1', [groupId]))[0]?.n as number) ?? 0
    const rows = (await this.rows(`${MEMBERS_OF} limit $2 offset $3`, [groupId, limit, offset])) as unknown as MemberRow[]
    return { total, rows }
  }
  // ── tenants (issue 9; src/db/tenants.ts) ──────────────────────────────────────────────────────────────────────

  async getTenant(id: string): Promise<TenantRow | undefined> {
    const rows = await this.rows(`select ${TENANT_COLUMNS} from tenants where id = $1${this.lock}`, [id])
    return rows[0] && toTenant(rows[0])
  }

  async listTenants(): Promise<TenantRow[]> {
    return (await this.rows(`select ${TENANT_COLUMNS} from tenants order by id`, [])).map(toTenant)
  }

  async insertTenant(row: TenantRow): Promise<void> {
    await this.c.unsafe(
      `insert into tenants (id, created, profile, token_hash, basic_user, basic_password_hash, rotated, auth) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [row.id, row.created, row.profile ?? null, row.tokenHash ?? null, row.basicUser ?? null, row.basicPasswordHash ?? null, row.rotated ?? null, row.auth ?? null],
    )
  }

  /** Sets the fields present in `patch` (credentials on rotation, profile, OAuth settings). */
  async updateTenant(id: string, patch: Partial<Omit<TenantRow, 'id' | 'created'>>): Promise<void> {
    const sets: SQL[] = []
    for (const [field, value] of Object.entries(patch)) {
      const column = TENANT_FIELDS[field]
      if (!column || value === undefined) continue
      sets.push(sql`${sql.raw(column)} = ${sql.param(value)}`)
    }
    if (sets.length === 0) return
    await this.all(sql`update tenants set ${sql.join(sets, sql`, `)} where id = ${id}`)
  }

  /** Deletes the tenant and all its data (member rows go with its groups by ON DELETE CASCADE); undefined when absent. */
  async deleteTenant(id: string): Promise<{ users: number; groups: number } | undefined> {
    if (!(await this.getTenant(id))) return undefined
    const before = await this.tenantCounts(id)
    await this.c.unsafe('delete from groups where tenant_id = $1', [id])
    await this.c.unsafe('delete from users where tenant_id = $1', [id])
    await this.c.unsafe('delete from counters where tenant_id = $1', [id])
    await this.c.unsafe('delete from history where tenant_id = $1', [id])
    await this.c.unsafe('delete from tenants where id = $1', [id])
    return before
  }

  async tenantCounts(id: string): Promise<{ users: number; groups: number }> {
    const rows = await this.rows('select resource_type, sum(count)::int as count from counters where tenant_id = $1 group by resource_type', [id])
    const of = (kind: Kind) => (rows.find((r) => r.resource_type === kind)?.count as number | undefined) ?? 0
    return { users: of('User'), groups: of('Group') }
  }

  // ── bulk import / export (scimd import, scimd export) ──────────────────────────────────────────────────────
  // One statement per batch, whatever its size: the rows travel as one JSON text parameter, unpacked by
  // jsonb_to_recordset (a batch of 1,000 users is one round trip, not 1,000). The lookups lock what they find in a
  // write (FOR NO KEY UPDATE), so that a concurrent API write of the same user waits for the batch, and the
  // version the import computes is still the current one when it writes.

  private async bulkResources(text: string, params: unknown[]): Promise<BulkResource[]> {
    const rows = await this.rows(text, params)
    return rows.map((r) => ({ id: r.id as string, version: r.version as number, key: r.key as string, data: json(r.data) }))
  }

  async findUsersByKeys(tenant: string, keys: string[]): Promise<BulkResource[]> {
    if (keys.length === 0) return []
    return this.bulkResources(
      `select id, version, user_name_key as key, data from users where tenant_id = $1 and user_name_key = any($2::text[])${this.lock}`,
      [tenant, keys],
    )
  }

  async findGroupsByIds(tenant: string, ids: string[]): Promise<BulkResource[]> {
    if (ids.length === 0) return []
    return this.bulkResources(`select id, version, display_name_key as key, data from groups where tenant_id = $1 and id = any($2::text[])${this.lock}`, [
      tenant,
      ids,
    ])
  }

  async findGroupsByKeys(tenant: string, keys: string[]): Promise<BulkResource[]> {
    if (keys.length === 0) return []
    return this.bulkResources(
      `select id, version, display_name_key as key, data from groups where tenant_id = $1 and display_name_key = any($2::text[]) order by id${this.lock}`,
      [tenant, keys],
    )
  }

  async takenIds(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return []
    const rows = await this.rows('select id from users where id = any($1::text[]) union select id from groups where id = any($1::text[])', [ids])
    return rows.map((r) => r.id as string)
  }

  async insertUsers(tenant: string, ts: string, rows: BulkUser[]): Promise<void> {
    if (rows.length === 0) return
    await this.c.unsafe(
      `insert into users (id, tenant_id, version, created, last_modified, data, user_name_key, external_id, display_name_key, active, password_hash)
       select x.id, $1::text, x.v, $2::text, $2::text, x.data, x.k, x.e, x.d, x.a, x.p
       from jsonb_to_recordset($3::text::jsonb) as x(id text, v int, data jsonb, k text, e text, d text, a boolean, p text)`,
      [tenant, ts, userRecords(rows)],
    )
  }

  async updateUsers(tenant: string, ts: string, rows: BulkUser[]): Promise<void> {
    if (rows.length === 0) return
    await this.c.unsafe(
      `update users u set version = x.v, last_modified = $2::text, data = x.data, user_name_key = x.k, external_id = x.e,
         display_name_key = x.d, active = x.a, password_hash = coalesce(x.p, u.password_hash)
       from jsonb_to_recordset($3::text::jsonb) as x(id text, v int, data jsonb, k text, e text, d text, a boolean, p text)
       where u.tenant_id = $1 and u.id = x.id`,
      [tenant, ts, userRecords(rows)],
    )
  }

  async insertGroups(tenant: string, ts: string, rows: BulkGroup[]): Promise<void> {
    if (rows.length === 0) return
    await this.c.unsafe(
      `insert into groups (id, tenant_id, version, created, last_modified, data, display_name_key, external_id)
       select x.id, $1::text, x.v, $2::text, $2::text, x.data, x.k, x.e
       from jsonb_to_recordset($3::text::jsonb) as x(id text, v int, data jsonb, k text, e text)`,
      [tenant, ts, groupRecords(rows)],
    )
  }

  async updateGroups(tenant: string, ts: string, rows: BulkGroup[]): Promise<void> {
    if (rows.length === 0) return
    await this.c.unsafe(
      `update groups g set version = x.v, last_modified = $2::text, data = x.data, display_name_key = x.k, external_id = x.e
       from jsonb_to_recordset($3::text::jsonb) as x(id text, v int, data jsonb, k text, e text)
       where g.tenant_id = $1 and g.id = x.id`,
      [tenant, ts, groupRecords(rows)],
    )
  }

  async bumpCount(tenant: string, kind: Kind, delta: number): Promise<void> {
    if (!delta) return
    await this.c.unsafe(
      `insert into counters (tenant_id, resource_type, slot, count) values ($1, $2, ${SLOT}, $3) ${ON_COUNTER}`,
      [tenant, kind, delta],
    )
  }

  /** In the given order (their seq), skipping pairs present; the positions of the pairs inserted. */
  async addMemberships(rows: BulkMembership[]): Promise<number[]> {
    if (rows.length === 0) return []
    const inserted = await this.rows(
      `insert into group_members (group_id, member_id, member_type)
       select x.g, x.m, x.t from unnest($1::text[], $2::text[], $3::text[]) with ordinality as x(g, m, t, n) order by x.n
       on conflict do nothing returning group_id, member_id`,
      [rows.map((r) => r.groupId), rows.map((r) => r.memberId), rows.map((r) => r.type)],
    )
    const at = new Map<string, number>()
    rows.forEach((r, i) => at.set(`${r.groupId}\u0000${r.memberId}`, i))
    return inserted.map((r) => at.get(`${r.group_id}\u0000${r.member_id}`)!).sort((a, b) => a - b)
  }

  async touchGroups(tenant: string, ids: string[], ts: string): Promise<void> {
    if (ids.length === 0) return
    await this.c.unsafe('update groups set version = version + 1, last_modified = $3 where tenant_id = $1 and id = any($2::text[])', [tenant, ids, ts])
  }

  async resourcesAfter(tenant: string, kind: Kind, afterId: string, limit: number): Promise<{ id: string; data: Record<string, unknown> }[]> {
    const rows = await this.rows(`select id, data from ${tableName(kind)} where tenant_id = $1 and id > $2 order by id limit $3`, [tenant, afterId, limit])
    return rows.map((r) => ({ id: r.id as string, data: json(r.data) }))
  }

  async analyze(): Promise<void> {
    // VACUUM as well: it marks the pages all-visible, so index-only scans (a deep page's ids) skip the heap at once
    await this.c.unsafe('vacuum (analyze) users, groups, group_members, counters')
  }

  async memberGroups(tenant: string, memberIds: string[]): Promise<Map<string, { id: string; display: string | null }[]>> {
    const out = new Map<string, { id: string; display: string | null }[]>()
    if (memberIds.length === 0) return out
    const rows = await this.rows(
      `select m.member_id, g.id, g.data ->> 'displayName' as display
       from group_members m join groups g on g.id = m.group_id
       where m.member_id = any($1::text[]) and g.tenant_id = $2
       order by m.member_id, g.display_name_key, g.id`,
      [memberIds, tenant],
    )
    for (const r of rows) {
      const entry = { id: r.id as string, display: (r.display ?? null) as string | null }
      const list = out.get(r.member_id as string)
      if (list) list.push(entry)
      else out.set(r.member_id as string, [entry])
    }
    return out
  }
}

/** Import rows as the JSON text jsonb_to_recordset unpacks (short keys: 100,000 rows are a lot of text). */
function userRecords(rows: BulkUser[]): string {
  return JSON.stringify(
    rows.map(({ id, version, data, cols }) => ({
      id,
      v: version,
      data,
      k: cols.userNameKey,
      e: cols.externalId,
      d: cols.displayNameKey,
      a: cols.active,
      p: cols.passwordHash ?? null,
    })),
  )
}

function groupRecords(rows: BulkGroup[]): string {
  return JSON.stringify(rows.map(({ id, version, data, cols }) => ({ id, v: version, data, k: cols.displayNameKey, e: cols.externalId })))
}
