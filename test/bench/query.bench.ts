/**
 * Query benchmark (issue 3, Performance): filter look-ups stay flat from 10,000 to 1,000,000 users, a sorted page
 * stays under 20 ms, group membership look-ups use the index, and an unfiltered totalResults is a counter read.
 *
 *   bun test/bench/query.bench.ts            (or: bun run bench:query)
 *   BENCH_SCALES=10000,100000 BENCH_ITERS=500 bun test/bench/query.bench.ts
 *
 * Set-up per scale: a temporary SQLite file with the server's own pragmas (assemble()), users seeded through
 * src/db/repo.ts insertUser in 50,000-row transactions, plus 1 group per 1,000 users with 100 members each.
 * Measured in process — the services (listPage / cursorPage, i.e. filter → SQL → rows → no HTTP) and a few
 * requests through app.handle — as p50/p99 over a bounded number of iterations on random existing values.
 * Then, in the same run, a Bun.serve hello-world on loopback as a baseline and scimd's `userName eq` look-up
 * (in process via app.handle, and over loopback HTTP) as throughput ratios to it. EXPLAIN QUERY PLAN of the hot
 * statements is printed at the largest scale. Every loop is bounded in iterations and time.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql, type SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { DEFAULTS, type Config } from '../../src/config'
import { sqliteStore } from '../../src/db/sqlite-store'
import { settled, type Step } from '../../src/db/store'
import * as repo from '../../src/db/repo'
import { filterToSql, sortToSql } from '../../src/db/filter-sql'
import { silentLogger } from '../../src/log'
import { assemble, closeAll } from '../../src/server'
import { cursorPage, cursorSecret, listPage, typedParts } from '../../src/resources/list-service'
import type { ServiceDeps } from '../../src/resources/service'
import { parseAttrPath } from '../../src/scim/attr-path'
import { parseFilter } from '../../src/scim/filter/parser'
import { parseListParams } from '../../src/scim/list'
import { defaultRegistry } from '../../src/scim/schema/registry'
import { foldKey } from '../../src/scim/text'

const SCALES = (process.env.BENCH_SCALES ?? '10000,1000000').split(',').map(Number)
const ITERS = Number(process.env.BENCH_ITERS ?? 1000)
const SERIES_LIMIT_MS = Number(process.env.BENCH_SERIES_MS ?? 5000)
const TOKEN = 'bench-token-0123456789'
const TENANT = 'default'
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'

const runStart = performance.now()
const load = () => (require('node:os') as typeof import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')
console.log(`query bench: bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, load average at start ${load()}`)

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

/** A deterministic spread so userName order ≠ insertion (id) order. */
const userNameOf = (i: number) => `${((i * 2654435761) >>> 0).toString(36)}.u${i}@example.com`
const externalIdOf = (i: number) => `ext-${((i * 40503) >>> 0).toString(16)}-${i}`

interface Stats {
  n: number
  p50: number
  p99: number
  perSec: number
}
function measure(fn: (i: number) => unknown, iters = ITERS): Stats {
  const times: number[] = []
  const t0 = performance.now()
  for (let i = 0; i < iters; i++) {
    const s = performance.now()
    fn(i)
    times.push(performance.now() - s)
    if (performance.now() - t0 > SERIES_LIMIT_MS) break
  }
  const total = performance.now() - t0
  times.sort((a, b) => a - b)
  return { n: times.length, p50: times[Math.floor(times.length * 0.5)], p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))], perSec: times.length / (total / 1000) }
}
async function measureAsync(fn: (i: number) => Promise<unknown>, iters = ITERS): Promise<Stats> {
  const times: number[] = []
  const t0 = performance.now()
  for (let i = 0; i < iters; i++) {
    const s = performance.now()
    await fn(i)
    times.push(performance.now() - s)
    if (performance.now() - t0 > SERIES_LIMIT_MS) break
  }
  const total = performance.now() - t0
  times.sort((a, b) => a - b)
  return { n: times.length, p50: times[Math.floor(times.length * 0.5)], p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))], perSec: times.length / (total / 1000) }
}
/** Requests per second with `concurrency` loops, bounded by count and time. */
async function throughput(send: (i: number) => Promise<unknown>, total: number, concurrency: number): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && performance.now() - t0 < SERIES_LIMIT_MS) await send(next++)
    }),
  )
  return next / ((performance.now() - t0) / 1000)
}
const ms = (x: number) => (x < 1 ? x.toFixed(3) : x.toFixed(2))
const rnd = (n: number, i: number) => ((i * 7919 + 13) * 104729) % n

const dialect = new SQLiteSyncDialect()
function plan(db: ReturnType<typeof assemble>['db'], stmt: SQL): string {
  const q = dialect.sqlToQuery(stmt)
  return db.$client
    .query<{ detail: string }, never[]>(`explain query plan ${q.sql}`)
    .all(...(q.params as never[]))
    .map((r) => r.detail)
    .join(' | ')
}

// ── one scale ───────────────────────────────────────────────────────────────────────────────────────────────

interface ScaleResult {
  users: number
  seedSec: number
  dbMiB: number
  userNameEq: Stats
  externalIdEq: Stats
  sortedFirstPage: Stats
  sortedCursorPage: Stats
  sortedIndexPageDeep: Stats
  membersValue: Stats
  unfilteredTotal: Stats
  defaultCursorPage: Stats
  httpUserNameEq: Stats
  httpSortedPage: Stats
  plans?: Record<string, string>
}

async function runScale(users: number, withPlans: boolean): Promise<ScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-bench-query-'))
  const config: Config = { ...DEFAULTS, databaseUrl: join(dir, 'bench.sqlite'), bearerTokens: [TOKEN], logLevel: 'silent' }
  const started = assemble(config, silentLogger)
  const { app, db } = started
  const deps: ServiceDeps = { db, registry: defaultRegistry(), strict: false, tenant: TENANT, now: () => new Date() }
  try {
    // seed (with a 1 GiB page cache while writing: the six indexes of 1M users do not fit the default 64 MiB and
    // random inserts would thrash it; the queries below run with the server's default cache again)
    db.$client.exec('PRAGMA cache_size = -1048576')
    const t0 = performance.now()
    const ids: string[] = new Array(users)
    const created = new Date('2024-01-01T00:00:00Z').getTime()
    const BATCH = 50_000
    for (let start = 0; start < users; start += BATCH) {
      db.transaction(() => {
        for (let i = start; i < Math.min(users, start + BATCH); i++) {
          const id = Bun.randomUUIDv7()
          ids[i] = id
          const userName = userNameOf(i)
          const ts = new Date(created + i * 1000).toISOString()
          const data = {
            schemas: [USER_URN],
            userName,
            externalId: externalIdOf(i),
            name: { givenName: 'Given' + (i % 1000), familyName: 'Family' + (i % 5000) },
            displayName: `User ${i}`,
            active: i % 10 !== 0,
            emails: [{ value: userName, type: 'work', primary: true }],
          }
          repo.insertUser(db, TENANT, { id, version: 1, created: ts, lastModified: ts, data }, {
            userNameKey: foldKey(userName),
            externalId: data.externalId,
            displayNameKey: foldKey(data.displayName),
            active: data.active,
          })
        }
      })
    }
    const groups = Math.max(10, Math.floor(users / 1000))
    const memberOf: string[] = []
    db.transaction(() => {
      for (let g = 0; g < groups; g++) {
        const id = Bun.randomUUIDv7()
        const ts = new Date(created).toISOString()
        repo.insertGroup(db, TENANT, { id, version: 1, created: ts, lastModified: ts, data: { schemas: [GROUP_URN], displayName: `Group ${g}` } }, { displayNameKey: foldKey(`Group ${g}`), externalId: `grp-${g}` })
        const members = Array.from({ length: 100 }, (_, k) => ({ id: ids[(g * 100 + k) % users], type: 'User' as const }))
        repo.addMembers(db, id, members)
        memberOf.push(members[0].id)
      }
    })
    db.$client.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    const seedSec = (performance.now() - t0) / 1000
    db.$client.exec(`PRAGMA cache_size = -${config.sqliteCacheKiB}`)
    const dbMiB = (Bun.file(join(dir, 'bench.sqlite')).size + Bun.file(join(dir, 'bench.sqlite-wal')).size) / 2 ** 20
    console.log(`  seeded ${users.toLocaleString('en')} users + ${groups} groups in ${seedSec.toFixed(1)} s (${dbMiB.toFixed(0)} MiB), load ${load()}`)

    // services, in process (steps run on the SQLite store, synchronously)
    const run = <T>(step: Step<T>): T => sqliteStore(db).read(step) as T
    const params = (raw: Parameters<typeof parseListParams>[0]) => parseListParams(raw)
    const userNameEq = measure((i) => {
      const n = rnd(users, i)
      const r = run(listPage(deps, 'User', params({ filter: `userName eq "${userNameOf(n)}"` })))
      if (r.rows.length !== 1) throw new Error('userName eq: expected one row')
    })
    const externalIdEq = measure((i) => {
      const n = rnd(users, i)
      const r = run(listPage(deps, 'User', params({ filter: `externalId eq "${externalIdOf(n)}"` })))
      if (r.rows.length !== 1) throw new Error('externalId eq: expected one row')
    })
    const sortedFirstPage = measure(() => {
      const r = run(listPage(deps, 'User', params({ sortBy: 'userName', count: '100' })))
      if (r.rows.length !== 100 || r.total !== users) throw new Error('sorted page')
    }, 300)
    // a cursor page from a random place in userName order (keyset: no OFFSET whatever the depth)
    const sortedCursorPage = measure((i) => {
      const key = foldKey(userNameOf(rnd(users, i)))
      const p = params({ sortBy: 'userName', count: '100' })
      const rows = repo.seekPage(db, TENANT, typedParts(deps, 'User', p), { descending: false, after: { key, id: '' }, limit: 100 })
      if (rows.length === 0 && users > 1000) throw new Error('cursor page empty')
    }, 300)
    // index paging deep into the same order (OFFSET: grows with depth; for comparison)
    const sortedIndexPageDeep = measure(() => {
      run(listPage(deps, 'User', params({ sortBy: 'userName', count: '100', startIndex: String(Math.floor(users / 2)) })))
    }, 20)
    const membersValue = measure((i) => {
      const r = run(listPage(deps, 'Group', params({ filter: `members[value eq "${memberOf[i % memberOf.length]}"]`, excludedAttributes: 'members' })))
      if (r.rows.length < 1) throw new Error('members[value eq]: no group')
    })
    const unfilteredTotal = measure(() => {
      const r = run(listPage(deps, 'User', params({ count: '0' })))
      if (r.total !== users) throw new Error('total')
    })
    const defaultCursorPage = measure(() => {
      const r = run(cursorPage(deps, settled(cursorSecret(deps)), 'User', typedParts(deps, 'User', params({ count: '100' })), params({ count: '100', cursor: '' }), 3600))
      if (r.rows.length !== 100) throw new Error('default cursor page')
    }, 300)

    // through the whole HTTP pipeline, in process
    const get = (path: string) => app.handle(new Request(`http://localhost/scim/v2${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }))
    const httpUserNameEq = await measureAsync(async (i) => {
      const res = await get(`/Users?filter=${encodeURIComponent(`userName eq "${userNameOf(rnd(users, i))}"`)}`)
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
      await res.arrayBuffer()
    }, Math.min(ITERS, 1000))
    const httpSortedPage = await measureAsync(async () => {
      const res = await get('/Users?sortBy=userName&count=100')
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
      await res.arrayBuffer()
    }, 100)

    let plans: Record<string, string> | undefined
    if (withPlans) {
      const reg = deps.registry
      const c = (kind: 'User' | 'Group') => ({ registry: reg, rt: reg.resourceType(kind)!, kind, strict: false })
      const w = (kind: 'User' | 'Group', f: string) => filterToSql(c(kind), parseFilter(f))
      const ob = sortToSql(c('User'), parseAttrPath('userName')!)
      plans = {
        'userName eq': plan(db, sql`select r.id from users r where r.tenant_id = ${TENANT} and (${w('User', 'userName eq "x"')}) order by r.id limit 100`),
        'externalId eq': plan(db, sql`select r.id from users r where r.tenant_id = ${TENANT} and (${w('User', 'externalId eq "x"')}) order by r.id limit 100`),
        'members[value eq]': plan(db, sql`select r.id from groups r where r.tenant_id = ${TENANT} and (${w('Group', `members[value eq "${memberOf[0]}"]`)}) order by r.id limit 100`),
        'sortBy=userName page': plan(db, sql`select r.id from users r where r.tenant_id = ${TENANT} order by ${ob} asc nulls last, r.id asc limit 100 offset 0`),
        'keyset after userName': plan(db, sql`select r.id from users r where r.tenant_id = ${TENANT} and ${ob} is not null and ${ob} >= ${'m'} and (${ob} > ${'m'} or r.id > ${''}) order by ${ob} asc, r.id asc limit 101`),
        'default list (id order)': plan(db, sql`select r.id from users r where +r.tenant_id = ${TENANT} order by r.id asc limit 100 offset 0`),
      }
    }
    return { users, seedSec, dbMiB, userNameEq, externalIdEq, sortedFirstPage, sortedCursorPage, sortedIndexPageDeep, membersValue, unfilteredTotal, defaultCursorPage, httpUserNameEq, httpSortedPage, plans }
  } finally {
    closeAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

// ── baseline and ratios ─────────────────────────────────────────────────────────────────────────────────────

async function ratios(users: number) {
  // a small store for the HTTP comparison (the look-up cost itself is measured above per scale)
  const dir = mkdtempSync(join(tmpdir(), 'scimd-bench-query-http-'))
  const config: Config = { ...DEFAULTS, databaseUrl: join(dir, 'bench.sqlite'), bearerTokens: [TOKEN], logLevel: 'silent' }
  const started = assemble(config, silentLogger)
  const hello = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('hello') })
  const scimd = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => started.app.handle(req) })
  try {
    started.db.transaction(() => {
      for (let i = 0; i < users; i++) {
        const id = Bun.randomUUIDv7()
        const userName = userNameOf(i)
        const ts = new Date().toISOString()
        repo.insertUser(started.db, TENANT, { id, version: 1, created: ts, lastModified: ts, data: { schemas: [USER_URN], userName } }, { userNameKey: foldKey(userName), externalId: null, displayNameKey: null, active: null })
      }
    })
    const headers = { authorization: `Bearer ${TOKEN}` }
    const path = (i: number) => `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userNameOf(rnd(users, i))}"`)}`
    const N = 4000
    const C = 8
    const helloRps = await throughput(async () => (await fetch(`http://127.0.0.1:${hello.port}/`)).arrayBuffer(), N, C)
    const inProcessRps = await throughput(async (i) => (await started.app.handle(new Request(`http://localhost${path(i)}`, { headers }))).arrayBuffer(), N, C)
    const loopbackRps = await throughput(async (i) => (await fetch(`http://127.0.0.1:${scimd.port}${path(i)}`, { headers })).arrayBuffer(), N, C)
    return { helloRps, inProcessRps, loopbackRps }
  } finally {
    hello.stop(true)
    scimd.stop(true)
    closeAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

// ── run ─────────────────────────────────────────────────────────────────────────────────────────────────────

const results: ScaleResult[] = []
for (const [i, n] of SCALES.entries()) {
  console.log(`scale ${n.toLocaleString('en')}:`)
  results.push(await runScale(n, i === SCALES.length - 1))
}
const r = await ratios(10_000)

const rows: [string, (s: ScaleResult) => Stats][] = [
  ['userName eq (service)', (s) => s.userNameEq],
  ['externalId eq (service)', (s) => s.externalIdEq],
  ['members[value eq] on Groups (service)', (s) => s.membersValue],
  ['sortBy=userName, first 100 (service)', (s) => s.sortedFirstPage],
  ['sortBy=userName, cursor page of 100 at a random place', (s) => s.sortedCursorPage],
  ['sortBy=userName, startIndex=N/2 count=100 (OFFSET)', (s) => s.sortedIndexPageDeep],
  ['unfiltered totalResults, count=0 (service)', (s) => s.unfilteredTotal],
  ['default order, first cursor page of 100 (service)', (s) => s.defaultCursorPage],
  ['GET /Users?filter=userName eq (app.handle)', (s) => s.httpUserNameEq],
  ['GET /Users?sortBy=userName&count=100 (app.handle)', (s) => s.httpSortedPage],
]
const head = ['query', ...results.flatMap((s) => [`p50 ms @${s.users / 1000}k`, `p99 ms @${s.users / 1000}k`])]
if (results.length > 1) head.push(`p50 ratio ${results.at(-1)!.users / 1000}k/${results[0].users / 1000}k`)
const table = rows.map(([name, f]) => {
  const cells = [name, ...results.flatMap((s) => [ms(f(s).p50), ms(f(s).p99)])]
  if (results.length > 1) cells.push((f(results.at(-1)!).p50 / f(results[0]).p50).toFixed(2) + '×')
  return cells
})
const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)))
const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |'
console.log('\n' + line(head))
console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 1) + ':').replace(/^-/, '-')).join('|') + '|')
for (const row of table) console.log(line(row))
console.log(`\nseeding: ${results.map((s) => `${s.users.toLocaleString('en')} users in ${s.seedSec.toFixed(1)} s (${Math.round(s.users / s.seedSec).toLocaleString('en')}/s, ${s.dbMiB.toFixed(0)} MiB)`).join('; ')}`)
console.log(
  `throughput (8 concurrent, 10k users): Bun.serve hello-world over loopback ${Math.round(r.helloRps).toLocaleString('en')} req/s; ` +
    `scimd userName eq in process (app.handle) ${Math.round(r.inProcessRps).toLocaleString('en')} req/s = ${(r.inProcessRps / r.helloRps).toFixed(2)}× the baseline; ` +
    `over loopback ${Math.round(r.loopbackRps).toLocaleString('en')} req/s = ${(r.loopbackRps / r.helloRps).toFixed(2)}×`,
)
const last = results.at(-1)!
if (last.plans) {
  console.log(`\nquery plans at ${last.users.toLocaleString('en')} users:`)
  for (const [k, v] of Object.entries(last.plans)) console.log(`  ${k}: ${v}`)
}
const first = results[0]
const checks = [
  ['userName eq within 2× of the smallest scale', last.userNameEq.p50 <= 2 * first.userNameEq.p50],
  ['externalId eq within 2× of the smallest scale', last.externalIdEq.p50 <= 2 * first.externalIdEq.p50],
  ['page of 100 sorted by userName < 20 ms (p50)', last.sortedFirstPage.p50 < 20],
  ['members[value eq] uses an index', !last.plans || /group_members_member_id_idx|PRIMARY KEY|autoindex_group_members/.test(last.plans['members[value eq]'])],
] as const
console.log('\ntargets:')
for (const [name, ok] of checks) console.log(`  ${ok ? 'met ' : 'MISSED'} ${name}`)
console.log(`\nwhole run ${((performance.now() - runStart) / 1000).toFixed(0)} s, load average at end ${load()}`)
console.log(JSON.stringify({ results: results.map(({ plans, ...x }) => x), ratios: r }))
