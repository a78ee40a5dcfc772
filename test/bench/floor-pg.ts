/**
 * The PostgreSQL floor of `bun run bench` (the twin of floor.ts): what this machine allows a PostgreSQL-backed SCIM
 * read and write to cost, with none of scimd's work. Bun.serve on PORT over the seeded database (DATABASE_URL, a
 * postgres:// URL), through Bun's SQL client with a pool of 10 (scimd's default SCIMD_PG_POOL):
 *   GET   /Users/{id} → one read by primary key, the row's jsonb parsed by the driver, JSON.stringify of the answer;
 *   PATCH /Users/{id} → BEGIN; SELECT … FOR NO KEY UPDATE; UPDATE the row (active, version, last_modified);
 *                       INSERT a history row (before/after JSON); COMMIT; the row as JSON (scimd's write, bare).
 * It works on its own copy of the data (another database of the same cluster), so scimd's numbers are unaffected.
 */
import { SQL } from 'bun'
import { serveFloor, type FloorRow } from './floor-http'

const db = new SQL(process.env.DATABASE_URL!, { max: 10 })
type Row = { id: string; version: number; created: string; last_modified: string; data: Record<string, unknown> }
const READ = `select id, version, created, last_modified, data from users where tenant_id = 'default' and id = $1`
const row = (r: Row): FloorRow => ({ id: r.id, version: r.version, created: r.created, lastModified: r.last_modified, data: r.data })

serveFloor({
  async read(id) {
    const [r] = (await db.unsafe(READ, [id])) as Row[]
    return r && row(r)
  },
  setActive: (id, active, time) =>
    db.begin(async (tx) => {
      const [before] = (await tx.unsafe(`${READ} for no key update`, [id])) as Row[]
      const data = { ...before.data, active }
      const [after] = (await tx.unsafe(
        `update users set active = $2, data = $3::text::jsonb, version = version + 1, last_modified = $4 where tenant_id = 'default' and id = $1
         returning id, version, created, last_modified, data`,
        [id, active, JSON.stringify(data), time],
      )) as Row[]
      await tx.unsafe(
        `insert into history (tenant_id, time, op, resource_type, resource_id, before, after, changed)
         values ('default', $1, 'patch', 'User', $2, $3, $4, '["active"]')`,
        [time, id, JSON.stringify(before.data), JSON.stringify(data)],
      )
      return row(after)
    }),
})
