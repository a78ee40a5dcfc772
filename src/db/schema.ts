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
