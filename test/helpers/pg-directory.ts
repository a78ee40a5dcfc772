/**
 * The smallest PostgreSQL directory the filter tests need, until the PostgreSQL repo exists: a fresh database
 * (test/helpers/pg.ts) migrated with drizzle/postgres, rows written the way the SQLite repo writes them (data as
 * jsonb, the indexed key columns from service.columnsOf), and resources rendered as the API would (service.render,
 * with members and groups read the way repo.listMembers / repo.groupsOfMember read them).
 */
import { sql, type SQL } from 'drizzle-orm'
import { drizzle, type BunSQLDatabase } from 'drizzle-orm/bun-sql'
import { migrate } from 'drizzle-orm/bun-sql/migrator'
import { SQL as BunSQL } from 'bun'
import { migrationsFolder } from '../../src/db/migrate'
import type { Kind, StoredResource } from '../../src/db/repo'
import { columnsOf, renderWith, type ServiceDeps } from '../../src/resources/service'
import type { SchemaRegistry } from '../../src/scim/schema/registry'
import { dropDatabase, freshDatabase } from './pg'

export const TENANT = 'default'
const origin = { origin: 'http://localhost', baseUrl: 'http://localhost/scim/v2' }

export interface PgDirectory {
  db: BunSQLDatabase
  client: BunSQL
  reset(): Promise<void>
  insert(kind: Kind, r: StoredResource): Promise<void>
  addMembers(groupId: string, members: { id: string; type: Kind }[]): Promise<void>
  /** ids of kind's rows matching `where` (over alias r), in `orderBy` order (then id) or sorted by id */
  select(kind: Kind, where?: SQL, orderBy?: SQL, descending?: boolean): Promise<string[]>
  /** every row of kind as the API renders it (members, groups included) */
  renderAll(kind: Kind, registry: SchemaRegistry): Promise<{ id: string; resource: Record<string, unknown> }[]>
  close(): Promise<void>
}

const table = (kind: Kind) => sql.raw(kind === 'User' ? 'users' : 'groups')

export async function openPgDirectory(): Promise<PgDirectory> {
  const url = await freshDatabase()
  const client = new BunSQL(url, { max: 2 })
  const db = drizzle({ client })
  await migrate(db, { migrationsFolder: migrationsFolder('postgres') })
  const rows = (q: SQL) => db.execute(q) as unknown as Promise<Record<string, unknown>[]>

  return {
    db,
    client,
    async reset() {
      await client.unsafe('delete from group_members; delete from groups; delete from users; delete from counters')
    },
    async insert(kind, r) {
      const c = columnsOf(kind, r.data) as unknown as Record<string, unknown>
      if (kind === 'User')
        await client`insert into users (id, tenant_id, version, created, last_modified, data, user_name_key, external_id, display_name_key, active)
          values (${r.id}, ${TENANT}, ${r.version}, ${r.created}, ${r.lastModified}, ${r.data}, ${c.userNameKey}, ${c.externalId}, ${c.displayNameKey}, ${c.active})`
      else
        await client`insert into groups (id, tenant_id, version, created, last_modified, data, display_name_key, external_id)
          values (${r.id}, ${TENANT}, ${r.version}, ${r.created}, ${r.lastModified}, ${r.data}, ${c.displayNameKey}, ${c.externalId})`
    },
    async addMembers(groupId, members) {
      for (const m of members)
        await client`insert into group_members (group_id, member_id, member_type) values (${groupId}, ${m.id}, ${m.type}) on conflict do nothing`
    },
    async select(kind, where, orderBy, descending) {
      const cond = where ? sql`r.tenant_id = ${TENANT} and (${where})` : sql`r.tenant_id = ${TENANT}`
      const dir = sql.raw(descending ? 'desc' : 'asc')
      const order = orderBy ? sql`${orderBy} ${dir} ${sql.raw(descending ? 'nulls first' : 'nulls last')}, r.id ${dir}` : sql`r.id`
      return (await rows(sql`select r.id from ${table(kind)} r where ${cond} order by ${order}`)).map((x) => x.id as string)
    },
    async renderAll(kind, registry) {
      const all = await rows(sql`select id, version, created, last_modified, data from ${table(kind)} where tenant_id = ${TENANT} order by id`)
      const groupsOf = new Map<string, { id: string; display: string }[]>()
      for (const g of await rows(
        sql`select m.member_id, g.id, g.data ->> 'displayName' as display from group_members m join groups g on g.id = m.group_id
            where g.tenant_id = ${TENANT} order by m.member_id, g.id`,
      )) {
        const list = groupsOf.get(g.member_id as string) ?? []
        list.push({ id: g.id as string, display: g.display as string })
        groupsOf.set(g.member_id as string, list)
      }
      const deps = { db: undefined as never, registry, strict: false, tenant: TENANT, now: () => new Date() } satisfies ServiceDeps
      const out: { id: string; resource: Record<string, unknown> }[] = []
      for (const r of all) {
        const stored: StoredResource = {
          id: r.id as string,
          version: r.version as number,
          created: r.created as string,
          lastModified: r.last_modified as string,
          data: r.data as Record<string, unknown>,
        }
        const resource = renderWith(deps, kind, stored, origin, { members: false, groups: true, groupsOf })
        if (kind === 'Group') {
          const members = await rows(sql`
            select m.member_id, m.member_type,
              coalesce(u.data ->> 'displayName', u.data ->> 'userName', g.data ->> 'displayName') as display
            from group_members m
            left join users u on m.member_type = 'User' and u.id = m.member_id
            left join groups g on m.member_type = 'Group' and g.id = m.member_id
            where m.group_id = ${stored.id} order by m.seq`)
          resource.members = members.map((m) => {
            const member: Record<string, unknown> = {
              value: m.member_id,
              $ref: `${origin.baseUrl}/${m.member_type === 'User' ? 'Users' : 'Groups'}/${m.member_id}`,
              type: m.member_type,
            }
            if (m.display !== null) member.display = m.display
            return member
          })
        }
        out.push({ id: stored.id, resource })
      }
      return out
    },
    async close() {
      await client.close()
      await dropDatabase(url)
    },
  }
}
