/**
 * SQL of the tenants table (issue 9). Kept apart from repo.ts so that the tenant feature is one place; the same
 * conventions (db first, synchronous, drizzle).
 */
import { eq } from 'drizzle-orm'
import type { Db } from './client'
import { counters, groups, history, tenants, users } from './schema'

export type TenantRow = typeof tenants.$inferSelect

export function getTenant(db: Db, id: string): TenantRow | undefined {
  return db.select().from(tenants).where(eq(tenants.id, id)).get()
}

/**
 * A lookup by id prepared once (the tenant router runs it on every /t/… request): a raw statement costs a few µs,
 * a drizzle query built per call ~100 µs. No cache, so a rotation or deletion made by another process (`scimd
 * tenant`) takes effect on the next request.
 */
export function tenantLookup(db: Db): (id: string) => TenantRow | undefined {
  const stmt = db.$client.prepare<{ id: string; created: string; profile: string | null; token_hash: string | null; basic_user: string | null; basic_password_hash: string | null; rotated: string | null; auth: string | null }, [string]>(
    'select id, created, profile, token_hash, basic_user, basic_password_hash, rotated, auth from tenants where id = ?',
  )
  return (id) => {
    const r = stmt.all(id)[0]
    return r && { id: r.id, created: r.created, profile: r.profile, tokenHash: r.token_hash, basicUser: r.basic_user, basicPasswordHash: r.basic_password_hash, rotated: r.rotated, auth: r.auth === null ? null : JSON.parse(r.auth) }
  }
}

export function listTenants(db: Db): TenantRow[] {
  return db.select().from(tenants).orderBy(tenants.id).all()
}

export function insertTenant(db: Db, row: TenantRow): void {
  db.insert(tenants).values(row).run()
}

/** Changes a tenant's credentials (rotation) or its profile and OAuth settings (src/tenants/auth.ts). */
export function updateTenant(db: Db, id: string, c: Partial<Omit<TenantRow, 'id' | 'created'>>): void {
  db.update(tenants).set(c).where(eq(tenants.id, id)).run()
}

/** Deletes the tenant and every row of its data (membership rows go with its groups: ON DELETE CASCADE). */
export function deleteTenant(db: Db, id: string): { users: number; groups: number } | undefined {
  // runs inside the store's write transaction (src/db/sqlite-store.ts)
  if (!getTenant(db, id)) return undefined
  const before = countOf(db, id)
  db.delete(groups).where(eq(groups.tenantId, id)).run()
  db.delete(users).where(eq(users.tenantId, id)).run()
  db.delete(counters).where(eq(counters.tenantId, id)).run()
  db.delete(history).where(eq(history.tenantId, id)).run()
  db.delete(tenants).where(eq(tenants.id, id)).run()
  return before
}

export function countOf(db: Db, tenant: string): { users: number; groups: number } {
  const c = db.select().from(counters).where(eq(counters.tenantId, tenant)).all()
  return { users: c.find((r) => r.resourceType === 'User')?.count ?? 0, groups: c.find((r) => r.resourceType === 'Group')?.count ?? 0 }
}
