/**
 * The floor of `bun run bench`: what this machine allows a SQLite-backed SCIM read and write to cost, with none of
 * scimd's work (no Elysia, auth, validation, projection, tenants, toolkit). Bun.serve on PORT over a copy of the
 * seeded database (DATABASE_URL), with scimd's own pragmas:
 *   GET   /Users/{id} → one read by primary key, JSON.parse of the row's data, JSON.stringify of the answer;
 *   PATCH /Users/{id} → BEGIN IMMEDIATE; UPDATE the row (active, version, last_modified); INSERT a history row
 *                       (before/after JSON, as scimd records every write); COMMIT; the row as JSON.
 * scimd's share of the baseline is read against this floor's: the gap between the two is scimd's own cost.
 */
import { Database } from 'bun:sqlite'
import { serveFloor, type FloorRow } from './floor-http'

const db = new Database(process.env.DATABASE_URL!, { strict: true })
db.exec('PRAGMA journal_mode = WAL')
db.exec('PRAGMA synchronous = NORMAL')
db.exec('PRAGMA cache_size = -16384')
db.exec('PRAGMA mmap_size = 0')
const read = db.prepare<{ id: string; version: number; created: string; last_modified: string; data: string }, [string]>(
  "select id, version, created, last_modified, data from users where tenant_id = 'default' and id = ?",
)
const update = db.prepare<unknown, [number, string, string]>(
  "update users set active = ?, version = version + 1, last_modified = ? where tenant_id = 'default' and id = ?",
)
const history = db.prepare<unknown, [string, string, string, string]>(
  `insert into history (tenant_id, time, op, resource_type, resource_id, before, after, changed)
   values ('default', ?, 'patch', 'User', ?, ?, ?, '["active"]')`,
)
const row = (r: { id: string; version: number; created: string; last_modified: string; data: string }): FloorRow => ({
  id: r.id,
  version: r.version,
  created: r.created,
  lastModified: r.last_modified,
  data: JSON.parse(r.data),
})

serveFloor({
  read: (id) => {
    const r = read.all(id)[0]
    return r && row(r)
  },
  setActive(id, active, time) {
    db.exec('BEGIN IMMEDIATE')
    try {
      const before = read.all(id)[0]
      update.run(active ? 1 : 0, time, id)
      const after = row(read.all(id)[0])
      after.data.active = active
      history.run(time, id, before.data, JSON.stringify(after.data))
      db.exec('COMMIT')
      return after
    } catch (e) {
      db.exec('ROLLBACK')
      throw e
    }
  },
})
