/**
 * Storage. `data` holds the resource as the client's attributes (minus id, meta, password, members and groups):
 * the one source of truth. The other columns are indexed copies of what is filtered and sorted often.
 * Case-insensitive keys (`*_key`) hold the caseless form of userName / displayName computed by scim/text.ts
 * (foldKey), so uniqueness and `eq` use a plain b-tree index and Unicode folding stays in one place.
 * Group members live in their own table; every row carries its tenant.
 */
import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull().default('default'),
    userNameKey: text('user_name_key').notNull(),
    externalId: text('external_id'),
    displayNameKey: text('display_name_key'),
    active: integer('active', { mode: 'boolean' }),
    passwordHash: text('password_hash'),
    version: integer('version').notNull().default(1),
    created: text('created').notNull(),
    lastModified: text('last_modified').notNull(),
    data: text('data', { mode: 'json' }).notNull().$type<Record<string, unknown>>(),
  },
  (t) => [
    uniqueIndex('users_tenant_user_name_key_uq').on(t.tenantId, t.userNameKey),
    // an unfiltered list in id order walks this index (repo.ts, idOrderFrom): the tenant of each id is in it, so
    // the rows an OFFSET skips are index entries only
    index('users_id_tenant_idx').on(t.id, t.tenantId),
    index('users_tenant_external_id_idx').on(t.tenantId, t.externalId),
    index('users_tenant_display_name_key_idx').on(t.tenantId, t.displayNameKey),
    index('users_tenant_created_idx').on(t.tenantId, t.created),
    index('users_tenant_last_modified_idx').on(t.tenantId, t.lastModified),
  ],
)

export const groups = sqliteTable(
  'groups',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull().default('default'),
    displayNameKey: text('display_name_key').notNull(),
    externalId: text('external_id'),
    version: integer('version').notNull().default(1),
    created: text('created').notNull(),
    lastModified: text('last_modified').notNull(),
    data: text('data', { mode: 'json' }).notNull().$type<Record<string, unknown>>(),
  },
  (t) => [
    index('groups_id_tenant_idx').on(t.id, t.tenantId),
    index('groups_tenant_display_name_key_idx').on(t.tenantId, t.displayNameKey),
    index('groups_tenant_external_id_idx').on(t.tenantId, t.externalId),
    index('groups_tenant_created_idx').on(t.tenantId, t.created),
    index('groups_tenant_last_modified_idx').on(t.tenantId, t.lastModified),
  ],
)

/** One row per (group, member). Members are users or groups; a member row goes when either side goes. */
export const groupMembers = sqliteTable(
  'group_members',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    memberId: text('member_id').notNull(),
    memberType: text('member_type').notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.memberId] }), index('group_members_member_id_idx').on(t.memberId)],
)

/** Row counts per tenant and resource type, maintained on insert/delete: an unfiltered list's totalResults. */
export const counters = sqliteTable(
  'counters',
  {
    tenantId: text('tenant_id').notNull(),
    resourceType: text('resource_type').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.resourceType] })],
)

/** Server state that must survive restarts: the generated bearer token, signing keys, … */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  created: text('created')
    .notNull()
    .default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
})

/**
 * The change history (issue 10): one row per write to a user or group, written inside the write's transaction.
 * op: create | replace | patch | delete | member_add | member_remove. `before`/`after` are the stored attributes
 * (never a password: the stored data never holds one); `changed` the top-level attributes that differ (JSON array);
 * `members` for member_add/member_remove: {"count": n, "ids": [first 100…], "truncated": bool}.
 * Pruned by age (SCIMD_HISTORY_DAYS) in small batches: history_time_idx.
 */
export const history = sqliteTable(
  'history',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    tenantId: text('tenant_id').notNull(),
    time: text('time').notNull(),
    op: text('op').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    requestId: text('request_id'),
    principal: text('principal'),
    before: text('before'),
    after: text('after'),
    changed: text('changed'),
    members: text('members'),
  },
  (t) => [
    index('history_tenant_resource_idx').on(t.tenantId, t.resourceId, t.seq),
    index('history_tenant_time_idx').on(t.tenantId, t.time),
    index('history_time_idx').on(t.time),
  ],
)

/**
 * Named tenants (issue 9): each has its own base path /t/{id}/scim/v2, its own users and groups (their tenant_id),
 * its own credentials and an optional IdP profile. Secrets are stored as SHA-256 hex digests only (the token and
 * the Basic password are random 256-bit values scimd generates, so an unsalted digest is enough); they are shown
 * once, when created or rotated. The default tenant is not a row: it uses the server's own credentials.
 */
export const tenants = sqliteTable('tenants', {
  id: text('id').primaryKey(),
  created: text('created').notNull(),
  /** okta | entra | strict; null = the server's profile */
  profile: text('profile'),
  tokenHash: text('token_hash'),
  basicUser: text('basic_user'),
  basicPasswordHash: text('basic_password_hash'),
  rotated: text('rotated'),
  /** OAuth settings (JWT, introspection, required scopes) as JSON; null = static token/Basic only (src/tenants/auth.ts) */
  auth: text('auth', { mode: 'json' }).$type<Record<string, unknown>>(),
})
