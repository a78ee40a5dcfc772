/**
 * `scimd import`, `scimd export` and `scimd history` on both stores: the same files, the same summaries and exit
 * codes, on SQLite (a file) and on PostgreSQL (a fresh database of the test cluster; skipped without one, see
 * test/helpers/pg.ts). Through importMain/exportMain/historyMain in-process, the real command line once on
 * PostgreSQL, a file exported by one store imported by the other, and (PostgreSQL) a batch that loses a race for a
 * userName to a concurrent writer and is run again.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULTS, type Config } from '../../src/config'
import { exportMain, importMain, openCliStore } from '../../src/cli/data'
import { historyMain } from '../../src/cli/history'
import { importRecords } from '../../src/cli/import'
import { readJsonLines } from '../../src/cli/records'
import { defaultRegistry } from '../../src/scim/schema/registry'
import { q } from '../../src/db/store'
import { silentLogger } from '../../src/log'
import { assembleAny, closeAll } from '../../src/server'
import { dropDatabase, freshDatabase, PG_SKIP_MESSAGE, pgUrl } from '../helpers/pg'

const pg = await pgUrl()
if (!pg) console.warn(PG_SKIP_MESSAGE)

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const TOKEN = 'data-stores-token-0123456789'
const ROOT = join(import.meta.dir, '../..')

const dir = mkdtempSync(join(tmpdir(), 'scimd-data-stores-'))
const pgDatabases: string[] = []
afterAll(async () => {
  for (const url of pgDatabases) await dropDatabase(url).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
})

type Kind = 'sqlite' | 'postgres'
let n = 0
async function newDatabase(kind: Kind): Promise<string> {
  if (kind === 'sqlite') return join(dir, `db-${++n}.sqlite`)
  const url = await freshDatabase()
  pgDatabases.push(url)
  return url
}

const configOf = (databaseUrl: string): Config => ({ ...DEFAULTS, databaseUrl, bearerTokens: [TOKEN], pgPool: 2, pgIdleTimeout: 1 })

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), isTTY: false }, out: () => out.join(''), err: () => err.join('') }
}

async function importFile(config: Config, file: string, ...flags: string[]) {
  const c = capture()
  const code = await importMain(config, [file, ...flags], c.io)
  return { code, out: c.out(), err: c.err() }
}

async function exportFile(config: Config, file: string) {
  const c = capture()
  const code = await exportMain(config, ['--out', file], c.io)
  return { code, err: c.err(), text: await Bun.file(file).text() }
}

/** The app on that database, for what the API sees after an import (and to write history). */
async function api(config: Config) {
  const started = await assembleAny(config, silentLogger)
  const req = async (method: string, path: string, body?: unknown) => {
    const res = await started.app.handle(
      new Request(`http://localhost/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/scim+json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    )
    return { status: res.status, json: (await res.json().catch(() => undefined)) as any }
  }
  return { req, close: () => closeAll(started) }
}

const line = (v: unknown) => JSON.stringify(v)
/** users across two batches (batch size 2): a row repeated with a change, a kept id, a rejected row, groups by name and id */
const SEED = [
  line({ schemas: [USER], userName: 'ann@example.com', id: 'ann-kept-id', name: { givenName: 'Ann' }, groups: ['Staff', 'Admins'] }),
  line({ schemas: [USER], userName: 'bob@example.com', active: true, groups: [{ display: 'Staff' }] }),
  line({ schemas: [USER], name: { givenName: 'no userName' } }),
  line({ schemas: [USER], userName: 'BOB@example.com', active: false, title: 'Boss', groups: ['Staff'] }),
  line({ schemas: [GROUP], displayName: 'Admins', externalId: 'okta-admins' }),
  line({ schemas: [GROUP], displayName: 'Everyone', id: 'everyone-id', members: [{ value: 'ann-kept-id' }], groups: ['Staff'] }),
  line({ schemas: [USER], userName: 'cy@example.com', emails: [{ value: 'cy@example.com', type: 'work' }], groups: [{ value: 'everyone-id' }] }),
].join('\n')

for (const kind of ['sqlite', 'postgres'] as const) {
  describe.skipIf(kind === 'postgres' && !pg)(`on ${kind}`, () => {
    test('import → export → import is idempotent, and the export recreates the directory in an empty database', async () => {
      const config = configOf(await newDatabase(kind))
      const seed = join(dir, `seed-${kind}.jsonl`)
      await Bun.write(seed, SEED + '\n')

      const first = await importFile(config, seed, '--batch-size', '2')
      expect(first.code).toBe(3) // one row rejected
      expect(first.out).toContain('7 rows')
      expect(first.out).toContain('users:       3 created, 1 updated, 0 unchanged')
      expect(first.out).toContain('groups:      3 created, 0 updated, 0 unchanged') // Admins, Everyone; Staff by name
      expect(first.out).toContain('memberships: 6 added, 1 already present, 0 rejected') // bob's two rows both name Staff
      expect(first.out).toContain("line 3: Attribute 'userName' is required")
      expect(first.err).toContain('import: 7 rows (100%), 1 rejected')

      const a = await exportFile(config, join(dir, `a-${kind}.jsonl`))
      expect(a.code).toBe(0)
      expect(a.err).toMatch(/^scimd export: 3 users, 3 groups, 6 memberships to .* in [\d.]+ s\n$/)
      const lines = a.text.trim().split('\n').map((l) => JSON.parse(l))
      // users, then groups, each in id order (UUIDv7 ids sort before the kept ids, and by creation time)
      expect(lines.map((l) => l.userName ?? l.displayName)).toEqual(['BOB@example.com', 'cy@example.com', 'ann@example.com', 'Admins', 'Staff', 'Everyone'])
      const ann = lines.find((l) => l.userName === 'ann@example.com')
      expect(ann.id).toBe('ann-kept-id')
      expect(ann.groups.map((g: any) => g.display)).toEqual(['Admins', 'Everyone', 'Staff']) // by displayName
      expect(lines.find((l) => l.userName === 'BOB@example.com')).toMatchObject({ active: false, title: 'Boss' })
      expect(lines.find((l) => l.displayName === 'Everyone').groups.map((g: any) => g.display)).toEqual(['Staff'])

      // the same file again: nothing changes, not even a version
      const api1 = await api(config)
      const bobBefore = (await api1.req('GET', `/Users?filter=${encodeURIComponent('userName eq "bob@example.com"')}`)).json.Resources[0]
      await api1.close()
      const again = await importFile(config, join(dir, `a-${kind}.jsonl`))
      expect(again.code).toBe(0)
      expect(again.out).toContain('users:       0 created, 0 updated, 3 unchanged')
      expect(again.out).toContain('groups:      0 created, 0 updated, 3 unchanged')
      expect(again.out).toContain('memberships: 0 added, 6 already present, 0 rejected')
      expect((await exportFile(config, join(dir, `a2-${kind}.jsonl`))).text).toBe(a.text)

      // into an empty database of the same kind: the same export, byte for byte
      const config2 = configOf(await newDatabase(kind))
      const into = await importFile(config2, join(dir, `a-${kind}.jsonl`))
      expect(into.code).toBe(0)
      expect(into.out).toContain('users:       3 created, 0 updated, 0 unchanged')
      expect((await exportFile(config2, join(dir, `b-${kind}.jsonl`))).text).toBe(a.text)

      // what the API sees: the same users, versions, memberships and totals
      const api2 = await api(config2)
      try {
        const list = (await api2.req('GET', '/Users')).json
        expect(list.totalResults).toBe(3)
        const bob = (await api2.req('GET', `/Users?filter=${encodeURIComponent('userName eq "bob@example.com"')}`)).json.Resources[0]
        expect(bob.id).toBe(bobBefore.id)
        expect(bob.groups.map((g: any) => g.display)).toEqual(['Staff'])
        expect((await api2.req('GET', '/Groups')).json.totalResults).toBe(3)
        const everyone = (await api2.req('GET', '/Groups/everyone-id')).json
        // members in the order the export listed them (cy's line comes before ann's: id order)
        expect(everyone.members.map((m: any) => m.value)).toEqual([lines.find((l) => l.userName === 'cy@example.com').id, 'ann-kept-id'])
        expect(everyone.meta.version).toBe('W/"2"') // created, then its members changed once
      } finally {
        await api2.close()
      }
    }, 30_000)

    test('rows of one batch see the rows before them (the batch is decided in memory, written at once)', async () => {
      const config = configOf(await newDatabase(kind))
      const { store, close } = await openCliStore(config)
      try {
        const deps = { store, registry: defaultRegistry(), strict: false, tenant: 'default', now: () => new Date() }
        const run = (lines: unknown[]) =>
          importRecords(deps, readJsonLines(new Blob([lines.map(line).join('\n')]).stream() as ReadableStream<Uint8Array>), 'jsonl', { batchSize: 100 })
        const s = await run([
          { schemas: [USER], userName: 'twice@example.com', title: 'one' },
          { schemas: [USER], userName: 'TWICE@example.com', title: 'two' }, // the same user: an update of the row above
          { schemas: [USER], userName: 'TWICE@example.com', title: 'two' }, // identical to it now: unchanged
          { schemas: [USER], userName: 'x@example.com', id: 'same-id' },
          { schemas: [USER], userName: 'y@example.com', id: 'same-id' }, // that id was just taken
          { schemas: [GROUP], displayName: 'Old name', id: 'g1' },
          { schemas: [GROUP], displayName: 'New name', id: 'g1', externalId: 'e1' }, // renames g1
          { schemas: [GROUP], displayName: 'new NAME', externalId: 'e2' }, // by name: g1 under its new name
          { schemas: [GROUP], displayName: 'old name' }, // the old name is free again: a new group
        ])
        expect(s.users).toEqual({ created: 2, updated: 1, unchanged: 1 })
        expect(s.groups).toEqual({ created: 2, updated: 2, unchanged: 0 })
        expect(s.rejected).toEqual([{ line: 5, reason: "id 'same-id' is already used by another resource" }])
        const page = await store.read(
          (function* () {
            return yield* q((r) => r.findUsersByKeys('default', ['twice@example.com']))
          })(),
        )
        expect(page.map((u) => [u.version, u.data.title, u.data.userName])).toEqual([[2, 'two', 'TWICE@example.com']])
        const groups = await store.read(
          (function* () {
            return yield* q((r) => r.findGroupsByKeys('default', ['old name', 'new name']))
          })(),
        )
        expect(groups.map((g) => [g.id === 'g1' ? 'g1' : 'new', g.key, g.version, g.data.externalId ?? null]).sort()).toEqual([
          ['g1', 'new name', 3, 'e2'],
          ['new', 'old name', 1, null],
        ])
        expect(await store.read(q((r) => r.countAll('default', 'Group')))).toBe(2)
      } finally {
        await close()
      }
    })

    test('scimd history reads the changes the API made', async () => {
      const config = configOf(await newDatabase(kind))
      const app = await api(config)
      let id: string
      try {
        const c = await app.req('POST', '/Users', { schemas: [USER], userName: `hist.${kind}`, password: 'Secret-Passw0rd-xyz' })
        expect(c.status).toBe(201)
        id = c.json.id
        expect((await app.req('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] })).status).toBe(200)
        expect((await app.req('POST', '/Groups', { schemas: [GROUP], displayName: 'G', members: [{ value: id }] })).status).toBe(201)
      } finally {
        await app.close()
      }
      let cap = capture()
      expect(await historyMain(config, ['--since', '1h'], cap.io)).toBe(0)
      const out = cap.out().trim().split('\n')
      expect(out.length).toBe(4)
      expect(out[0]).toContain(`User ${id} "hist.${kind}"`)
      expect(out[1]).toContain('deactivated (active → false)')
      expect(out[2]).toMatch(/create +Group .* "G"/)
      expect(out[3]).toContain(`member_add     Group`)
      expect(out[3]).toContain(`1 member added: ${id}`)
      expect(out.join('\n')).not.toContain('Secret-Passw0rd-xyz')

      cap = capture()
      expect(await historyMain(config, ['--type', 'User', '--op', 'patch', '--json'], cap.io)).toBe(0)
      const entries = cap.out().trim().split('\n').map((l) => JSON.parse(l))
      expect(entries.map((e) => [e.op, e.resourceId, e.after.active])).toEqual([['patch', id, false]])

      cap = capture()
      expect(await historyMain(config, ['--limit', '1'], cap.io)).toBe(0)
      expect(cap.out().trim().split('\n')).toEqual([out[3]]) // the newest

      cap = capture()
      expect(await historyMain(config, ['--since', 'soon'], cap.io)).toBe(2)
      expect(cap.err()).toStartWith('scimd history: ')
    }, 30_000)
  })
}

describe.skipIf(!pg)('PostgreSQL specifics', () => {
  test('the real command line: import, export and history with DATABASE_URL=postgres://…', async () => {
    const url = await newDatabase('postgres')
    const seed = join(dir, 'cli-seed.csv')
    await Bun.write(seed, 'userName,groups\na@example.com,Staff\nb@example.com,\n,\n')
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCIMD_') && k !== 'DATABASE_URL')), DATABASE_URL: url }
    const run = (...args: string[]) => {
      const p = Bun.spawnSync(['bun', join(ROOT, 'src/index.ts'), ...args], { cwd: dir, env })
      return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() }
    }
    const imp = run('import', seed)
    expect(imp.code).toBe(3)
    expect(imp.out).toContain('users:       2 created, 0 updated, 0 unchanged')
    expect(imp.out).toContain("line 4: Attribute 'userName' is required")
    const exp = run('export')
    expect(exp.code).toBe(0)
    expect(exp.out.trim().split('\n').map((l) => JSON.parse(l).userName ?? JSON.parse(l).displayName)).toEqual(['a@example.com', 'b@example.com', 'Staff'])
    const hist = run('history')
    expect(hist.code).toBe(0) // the import writes no history (it is not a SCIM client's change)
    expect(hist.err).toContain('no changes match')
    const bad = run('export', '--database-url', url.replace(/\/t_[0-9a-f]+$/, '/no_such_database'))
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('scimd export: cannot open the PostgreSQL database')
  }, 30_000)

  test('a file exported from SQLite imports into PostgreSQL with the same content (and back)', async () => {
    const lite = configOf(await newDatabase('sqlite'))
    const seed = join(dir, 'cross-seed.jsonl')
    await Bun.write(seed, SEED + '\n')
    expect((await importFile(lite, seed)).code).toBe(3)
    const fromLite = await exportFile(lite, join(dir, 'cross-lite.jsonl'))
    const pgConfig = configOf(await newDatabase('postgres'))
    const r = await importFile(pgConfig, join(dir, 'cross-lite.jsonl'))
    expect(r.code).toBe(0)
    const fromPg = await exportFile(pgConfig, join(dir, 'cross-pg.jsonl'))
    const parse = (t: string) => t.trim().split('\n').map((l) => JSON.parse(l))
    // the same lines (jsonb keeps no key order: compared as values)
    expect(parse(fromPg.text)).toEqual(parse(fromLite.text))
    const back = configOf(await newDatabase('sqlite'))
    expect((await importFile(back, join(dir, 'cross-pg.jsonl'))).code).toBe(0)
    expect(parse((await exportFile(back, join(dir, 'cross-back.jsonl'))).text)).toEqual(parse(fromLite.text))
  }, 30_000)

  test('an import ends by refreshing the planner statistics of what it wrote (ANALYZE)', async () => {
    const url = await newDatabase('postgres')
    const seed = join(dir, 'analyze-seed.jsonl')
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ userName: `an${i}@example.com`, groups: i < 50 ? ['Analyzed'] : [] }))
    await Bun.write(seed, lines.join('\n') + '\n')
    expect((await importFile(configOf(url), seed)).code).toBe(0)
    const db = new SQL(url, { max: 1 })
    try {
      // reltuples is -1 until a table is first analyzed; ANALYZE of a small table counts every row
      const rows = (await db.unsafe(
        `select relname, reltuples::int as n from pg_class where relname in ('users', 'groups', 'group_members') order by relname`,
      )) as { relname: string; n: number }[]
      expect(rows).toEqual([
        { relname: 'group_members', n: 50 },
        { relname: 'groups', n: 1 },
        { relname: 'users', n: 300 },
      ])
    } finally {
      await db.close()
    }
  })

  test('a batch that loses a userName to a concurrent writer runs again and updates that user', async () => {
    const url = await newDatabase('postgres')
    const config = configOf(url)
    const { store, close } = await openCliStore(config) // migrates
    const other = new SQL(url, { max: 1 })
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let inserted!: () => void
    const rowIn = new Promise<void>((r) => (inserted = r))
    // another writer inserts race@example.com and keeps its transaction open
    const tx = other.begin(async (t) => {
      await t.unsafe(
        `insert into users (id, tenant_id, user_name_key, version, created, last_modified, data)
         values ('racer', 'default', 'race@example.com', 1, 'now', 'now', $1::text::jsonb)`,
        [JSON.stringify({ schemas: [USER], userName: 'race@example.com' })],
      )
      inserted()
      await held
    })
    await rowIn
    try {
      const deps = { store, registry: defaultRegistry(), strict: false, tenant: 'default', now: () => new Date() }
      const text = [line({ schemas: [USER], userName: 'race@example.com', title: 'from the file' }), line({ schemas: [USER], userName: 'calm@example.com' })].join('\n')
      const importing = importRecords(deps, readJsonLines(new Blob([text]).stream() as ReadableStream<Uint8Array>), 'jsonl')
      // the batch's insert waits on the unique index for the other transaction (a lock not granted); then that one
      // commits, the batch fails on the index (23505), and runs again
      const watcher = new SQL(url, { max: 1 })
      try {
        for (let i = 0; i < 100; i++) {
          const [w] = (await watcher.unsafe('select count(*)::int as n from pg_locks where not granted')) as { n: number }[]
          if (w.n > 0) break
          await Bun.sleep(50)
        }
        const [w] = (await watcher.unsafe('select count(*)::int as n from pg_locks where not granted')) as { n: number }[]
        expect(w.n).toBeGreaterThan(0)
      } finally {
        await watcher.close()
      }
      release()
      await tx
      const s = await importing
      expect(s.rejected).toEqual([])
      expect(s.users).toEqual({ created: 1, updated: 1, unchanged: 0 })
      const rows = (await other.unsafe(`select id, version, data ->> 'title' as title from users order by user_name_key`)) as any[]
      expect(rows.map((r) => [r.id === 'racer' ? 'racer' : 'new', r.version, r.title])).toEqual([
        ['new', 1, null],
        ['racer', 2, 'from the file'],
      ])
      // calm@ was inserted once: the first run of the batch was rolled back with it
      expect(((await other.unsafe(`select sum(count)::int as count from counters where resource_type = 'User'`)) as any[])[0].count).toBe(1)
    } finally {
      release()
      await tx.catch(() => {})
      await other.close()
      await close()
    }
  }, 30_000)
})
