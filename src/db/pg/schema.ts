/**
 * The PostgreSQL store's tables: src/db/schema.ts (SQLite) table by table, with the same table, column and index
 * names, so that one reading of the model serves both. Migrations: `bun run db:generate:pg` → drizzle/postgres.
 *
 * Differences, and why:
 * - Text is `text COLLATE "C"` (the `ctext` type below) in every column: comparisons and ORDER BY are code-point
 *   order (bytes of UTF-8), exactly SQLite's BINARY collation and scim/filter/evaluate.ts compareCodePoints,
 *   whatever the database's default collation is. Declared per column rather than by requiring a database created
 *   with LC_COLLATE=C, because scimd is handed a DATABASE_URL and often cannot choose how the database was made
 *   (managed services default to en_US.UTF-8 or ICU). Text read out of `data` (jsonb ->> …) carries the database
 *   default collation, so src/db/pg/filter-sql.ts writes `collate "C"` where it orders such text.
 *   Equality does not depend on the collation (deterministic collations compare equal only byte-identical text).
 * - Case-insensitive matching: the *_key columns hold foldKey() output (NFKC + case folding done in JS,
 *   scim/text.ts), and the filter folds its literal the same way, so plain b-tree indexes on (tenant_id, *_key)
 *   serve `eq`, ranges and sorting; no index on lower(…) is needed, and lower() is never used for these keys
 *   (PostgreSQL's lower() depends on the collation and would not agree with foldKey).
 * - `data` and tenants.`auth` are jsonb (`jsonObject` below: the value goes to the driver as an object, see there).
 *   jsonb keeps no key order (it stores keys by length, then bytes) and no duplicate keys: a resource read back
 *   lists its attributes in that order, not the client's.
 * - Booleans are boolean, versions integer, timestamps stay text (toISOString() output, as in SQLite), so that both
 *   stores render identical meta and compare timestamps as text the same way.
 * - history.seq and group_members.seq are bigint identities. group_members.seq exists only here: SQLite keeps
 *   member rows in insertion order by its implicit rowid (repo.listMembers orders by m.rowid); PostgreSQL has no
 *   stable row order (ctid moves on update and vacuum), so the order needs a column. int8 comes back from Bun's
 *   SQL client as a string unless `bigint: true`; mode 'number' here only types it.
 * - history before/after/changed/members stay text holding JSON, as in SQLite (written and read as strings).
 * - settings.created defaults to the same ISO text as SQLite's strftime default.
 */
import { sql } from 'drizzle-orm'
import { bigint, boolean, customType, index, integer, pgTable, primaryKey, smallint, uniqueIndex } from 'drizzle-orm/pg-core'

/** text COLLATE "C": code-point ordering in every database. */
const ctext = customType<{ data: string; driverData: string }>({
  dataType: () => 'text COLLATE "C"',
})

/**
 * A JSON object in a jsonb column. Bun's SQL client encodes a parameter of type jsonb itself: given a JS object it
 * sends the object's JSON, but given a string (what drizzle's own `jsonb()` sends, JSON.stringify'd) it stores a
 * jsonb *string* holding the JSON text, which drizzle parses back on read, so the round trip looks right while every
 * jsonb operator in SQL sees a string. So the object goes to the driver as is, and a string coming back (the
 * driver returning json text) is parsed.
 */
const jsonObject = customType<{ data: Record<string, unknown>; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (v) => v,
  fromDriver: (v) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>,
})

export const users = pgTable(
  'users',
  {
    id: ctext('id').primaryKey(),
    tenantId: ctext('tenant_id').notNull().default('default'),
    userNameKey: ctext('user_name_key').notNull(),
    externalId: ctext('external_id'),
    displayNameKey: ctext('display_name_key'),
    active: boolean('active'),
    passwordHash: ctext('password_hash'),
    version: integer('version').notNull().default(1),
    created: ctext('created').notNull(),
    lastModified: ctext('last_modified').notNull(),
    data: jsonObject('data').notNull(),
  },
  (t) => [
    uniqueIndex('users_tenant_user_name_key_uq').on(t.tenantId, t.userNameKey),
    // an unfiltered list in id order, and its OFFSET, walk this index alone (no row is read before the page)
    index('users_tenant_id_idx').on(t.tenantId, t.id),
    index('users_tenant_external_id_idx').on(t.tenantId, t.externalId),
    index('users_tenant_display_name_key_idx').on(t.tenantId, t.displayNameKey),
    index('users_tenant_created_idx').on(t.tenantId, t.created),
    index('users_tenant_last_modified_idx').on(t.tenantId, t.lastModified),
  ],
)

export const groups = pgTable(
  'groups',
  {
    id: ctext('id').primaryKey(),
    tenantId: ctext('tenant_id').notNull().default('default'),
    displayNameKey: ctext('display_name_key').notNull(),
    externalId: ctext('external_id'),
    version: integer('version').notNull().default(1),
    created: ctext('created').notNull(),
    lastModified: ctext('last_modified').notNull(),
    data: jsonObject('data').notNull(),
  },
  (t) => [
    index('groups_tenant_id_idx').on(t.tenantId, t.id),
    index('groups_tenant_display_name_key_idx').on(t.tenantId, t.displayNameKey),
    index('groups_tenant_external_id_idx').on(t.tenantId, t.externalId),
    index('groups_tenant_created_idx').on(t.tenantId, t.created),
    index('groups_tenant_last_modified_idx').on(t.tenantId, t.lastModified),
  ],
)

/** One row per (group, member), in insertion order by seq. A member row goes when either side goes. */
export const groupMembers = pgTable(
  'group_members',
  {
    groupId: ctext('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    memberId: ctext('member_id').notNull(),
    memberType: ctext('member_type').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull().generatedByDefaultAsIdentity(),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.memberId] }),
    index('group_members_member_id_idx').on(t.memberId),
    index('group_members_group_id_seq_idx').on(t.groupId, t.seq),
  ],
)

/** Row counts per tenant and resource type, maintained on insert/delete: an unfiltered list's totalResults. */
export const counters = pgTable(
  'counters',
  {
    tenantId: ctext('tenant_id').notNull(),
    resourceType: ctext('resource_type').notNull(),
    /**
     * One of 16 rows per tenant and type, picked at random by each insert and delete; a count is their sum. With
     * one row, concurrent creates (several replicas, an import) queued on its row lock until each commit was on disk.
     */
    slot: smallint('slot').notNull().default(0),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.resourceType, t.slot] })],
)

/** Server state that must survive restarts: the generated bearer token, signing keys, … */
export const settings = pgTable('settings', {
  key: ctext('key').primaryKey(),
  value: ctext('value').notNull(),
  created: ctext('created')
    .notNull()
    .default(sql`to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`),
})

/** The change history (issue 10): see src/db/schema.ts. */
export const history = pgTable(
  'history',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    tenantId: ctext('tenant_id').notNull(),
    time: ctext('time').notNull(),
    op: ctext('op').notNull(),
    resourceType: ctext('resource_type').notNull(),
    resourceId: ctext('resource_id').notNull(),
    requestId: ctext('request_id'),
    principal: ctext('principal'),
    before: ctext('before'),
    after: ctext('after'),
    changed: ctext('changed'),
    members: ctext('members'),
  },
  (t) => [
    index('history_tenant_resource_idx').on(t.tenantId, t.resourceId, t.seq),
    index('history_tenant_time_idx').on(t.tenantId, t.time),
    index('history_time_idx').on(t.time),
  ],
)

/** Named tenants (issue 9): see src/db/schema.ts. */
export const tenants = pgTable('tenants', {
  id: ctext('id').primaryKey(),
  created: ctext('created').notNull(),
  /** okta | entra | strict; null = the server's profile */
  profile: ctext('profile'),
  tokenHash: ctext('token_hash'),
  basicUser: ctext('basic_user'),
  basicPasswordHash: ctext('basic_password_hash'),
  rotated: ctext('rotated'),
  /** OAuth settings (JWT, introspection, required scopes); null = static token/Basic only (src/tenants/auth.ts) */
  auth: jsonObject('auth'),
})
