/**
 * Differential test for PostgreSQL: src/db/pg/filter-sql.ts selects exactly the resources the in-memory reference
 * (evaluateFilter with filterResolver) matches, on random users/groups and random filters — the twin of
 * filter-sql.differential.test.ts (SQLite), with the same properties (test/helpers/filter-differential.ts). The
 * evaluator sees each resource as read back from PostgreSQL and rendered as the API would
 * (test/helpers/pg-directory.ts). Then: sortBy orders like the SQLite store, on the same stored rows.
 *
 * PostgreSQL cannot store U+0000, so stored strings have their NULs replaced by U+0001 (the store refuses NUL with
 * a 400); filter literals keep them. Skipped without PostgreSQL (test/helpers/pg.ts explains the policy).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { sortToSql as liteSortToSql } from '../../src/db/filter-sql'
import { filterToSql, sortToSql } from '../../src/db/pg/filter-sql'
import { parseAttrPath } from '../../src/scim/attr-path'
import { CUSTOM_URN } from '../scim/filter/arbitrary'
import {
  ctxOf,
  describeFilterDifferential,
  groupId,
  openSqliteDirectory,
  SLOW,
  storedGroup,
  storedUser,
  userId,
  usersArb,
} from '../helpers/filter-differential'
import { PG_SKIP_MESSAGE, pgUrl } from '../helpers/pg'
import { openPgDirectory, type PgDirectory } from '../helpers/pg-directory'

const url = await pgUrl()
if (!url) console.warn(PG_SKIP_MESSAGE)

let dir: PgDirectory
beforeAll(async () => {
  if (url) dir = await openPgDirectory()
})
afterAll(async () => {
  await dir?.close()
})

/** What PostgreSQL can store: every U+0000 in a string becomes U+0001 (keys included). */
function noNul<V>(v: V): V {
  if (typeof v === 'string') return v.replaceAll('\u0000', '\u0001') as V
  if (Array.isArray(v)) return v.map(noNul) as V
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [noNul(k), noNul(x)])) as V
  return v
}

describeFilterDifferential({ label: 'pg ', skip: !url, dir: () => dir, filterToSql, storable: noNul })

// ── sortBy: the same order as the SQLite store ───────────────────────────────────────────────────────────────

const SORT_PATHS = [
  'userName', 'displayName', 'title', 'name.familyName', 'name.givenName', 'emails', 'emails.value', 'emails.type',
  'emails.primary', 'active', 'meta.created', 'meta.lastModified', 'meta.version', 'meta.resourceType', 'externalId',
  'id', 'loginCount', `${CUSTOM_URN}:loginCount`, 'nickName', 'groups.value', 'groups.display', 'schemas',
]

describe.skipIf(!url)('pg sortToSql ≡ SQLite sortToSql', () => {
  test('random users in two groups, every sortable attribute, both directions', async () => {
    const lite = openSqliteDirectory()
    await fc.assert(
      fc.asyncProperty(
        usersArb(noNul),
        fc.array(fc.nat(4), { maxLength: 5 }),
        fc.constantFrom(...SORT_PATHS),
        fc.boolean(),
        async (users, picks, by, descending) => {
          await dir.reset()
          await lite.reset()
          const ids = users.map((_, i) => userId(i))
          for (const [i, u] of users.entries()) {
            await dir.insert('User', storedUser(u, ids[i]))
            // the row as PostgreSQL holds it (jsonb orders keys its own way), stored in SQLite too
            const row = (await dir.client`select id, version, created, last_modified, data from users where id = ${ids[i]}`)[0]
            await lite.insert('User', { id: row.id, version: row.version, created: row.created, lastModified: row.last_modified, data: row.data })
          }
          for (const [g, name] of ['Admins', 'bé'].entries()) {
            const group = storedGroup(groupId(g), { displayName: name }, new Date(0).toISOString())
            const members = [...new Set(picks.map((p) => (p + g) % 5))].flatMap((i) => (ids[i] ? [{ id: ids[i], type: 'User' as const }] : []))
            for (const store of [dir, lite]) {
              await store.insert('Group', group)
              await store.addMembers(group.id, members)
            }
          }
          const path = parseAttrPath(by)!
          const inSqlite = await lite.select('User', undefined, liteSortToSql(ctxOf('User'), path), descending)
          const inPg = await dir.select('User', undefined, sortToSql(ctxOf('User'), path), descending)
          expect({ by, descending, ids: inPg }).toEqual({ by, descending, ids: inSqlite })
        },
      ),
      { numRuns: 150 },
    )
  }, SLOW)
})
