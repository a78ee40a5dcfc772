/**
 * Membership benchmark (issue 4 §7): adding or removing 100 members costs about the same on a 100-member group
 * as on a 100,000-member group, because a PATCH touches only the member rows it names.
 *
 *   bun test/bench/membership.bench.ts            (or: bun run bench:membership)
 *   BENCH_ROUNDS=50 BENCH_BIG=100000 bun test/bench/membership.bench.ts
 *
 * Set-up: a temporary SQLite file (WAL, the server's own pragmas), 100,000 + 200 users and the group rows seeded
 * through src/db/repo.ts in large transactions. Measured through app.handle (in process, the full SCIM pipeline:
 * auth, body parsing, PATCH engine, SQL, rendering):
 *   - PATCH add 100 members, then PATCH remove those 100 (`members[value eq … or …]`), per round, on each group;
 *     answered with `excludedAttributes=members` and also without it (RFC 7644 §3.5.2: the whole resource);
 *   - GET of the group with `excludedAttributes=members` (Entra's lookup).
 * Then the same PATCH over loopback HTTP next to a Bun.serve hello-world, for the ratio. Every loop is bounded in
 * rounds and in time. Prints a table and one JSON line (for the README).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULTS, type Config } from '../../src/config'
import * as repo from '../../src/db/repo'
import { silentLogger } from '../../src/log'
import { assemble, closeAll } from '../../src/server'
import { foldKey } from '../../src/scim/text'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40)
const BIG = Number(process.env.BENCH_BIG ?? 100_000)
const SMALL = 100
const BATCH = 100
const TIME_LIMIT_MS = Number(process.env.BENCH_TIME_LIMIT_MS ?? 60_000) // per measured series
const TOKEN = 'bench-token-0123456789'
const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

const dir = mkdtempSync(join(tmpdir(), 'scimd-bench-membership-'))
const config: Config = { ...DEFAULTS, databaseUrl: join(dir, 'bench.sqlite'), bearerTokens: [TOKEN], logLevel: 'silent' }
const started = assemble(config, silentLogger)
const { app } = started
const db = started.db!
const TENANT = 'default'

// ── seed ───────────────────────────────────────────────────────────────────────────────────────────────────
const t0 = performance.now()
const ts = new Date().toISOString()
const userIds: string[] = []
const TOTAL_USERS = BIG + SMALL + BATCH
const CHUNK = 20_000
for (let start = 0; start < TOTAL_USERS; start += CHUNK) {
  db.transaction(() => {
    for (let i = start; i < Math.min(TOTAL_USERS, start + CHUNK); i++) {
      const id = Bun.randomUUIDv7()
      const userName = `user${i}@example.com`
      repo.insertUser(db, TENANT, { id, version: 1, created: ts, lastModified: ts, data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, displayName: `User ${i}` } }, { userNameKey: foldKey(userName), externalId: null, displayNameKey: foldKey(`User ${i}`), active: true })
      userIds.push(id)
    }
  })
}
function seedGroup(name: string, members: string[]): string {
  const id = Bun.randomUUIDv7()
  db.transaction(() => {
    repo.insertGroup(db, TENANT, { id, version: 1, created: ts, lastModified: ts, data: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name } }, { displayNameKey: foldKey(name), externalId: null })
    for (let i = 0; i < members.length; i += CHUNK) repo.addMembers(db, id, members.slice(i, i + CHUNK).map((m) => ({ id: m, type: 'User' as const })))
  })
  return id
}
const bigGroup = seedGroup('Big', userIds.slice(0, BIG))
const smallGroup = seedGroup('Small', userIds.slice(BIG, BIG + SMALL))
const pool = userIds.slice(BIG + SMALL) // BATCH users in neither group
db.$client.exec('PRAGMA wal_checkpoint(TRUNCATE); ANALYZE')
const seedMs = performance.now() - t0

// ── helpers ────────────────────────────────────────────────────────────────────────────────────────────────
const base = 'http://localhost' + config.basePath
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' }
const addBody = JSON.stringify({ schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: pool.map((value) => ({ value })) }] })
const removeBody = JSON.stringify({ schemas: [PATCH_URN], Operations: [{ op: 'remove', path: `members[${pool.map((v) => `value eq "${v}"`).join(' or ')}]` }] })

type Send = (method: string, path: string, body?: string) => Promise<Response>
const inProcess: Send = (method, path, body) => app.handle(new Request(base + path, { method, headers, body }))

async function expectOk(res: Response, what: string) {
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`)
  return text.length
}

const memberCount = (g: string) => (db.$client.query('select count(*) as n from group_members where group_id = ?').get(g) as { n: number }).n

interface Stats {
  n: number
  p50: number
  p99: number
  mean: number
}
function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]
  return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length }
}

/** add 100 then remove those 100, ROUNDS times (bounded by TIME_LIMIT_MS); returns both series. */
async function addRemove(send: Send, group: string, query: string) {
  const add: number[] = []
  const remove: number[] = []
  let bytes = 0
  const before = memberCount(group)
  const deadline = performance.now() + TIME_LIMIT_MS
  for (let i = 0; i < ROUNDS && performance.now() < deadline; i++) {
    let s = performance.now()
    bytes = await expectOk(await send('PATCH', `/Groups/${group}${query}`, addBody), 'PATCH add')
    add.push(performance.now() - s)
    if (memberCount(group) !== before + BATCH) throw new Error('add did not add 100 members')
    s = performance.now()
    await expectOk(await send('PATCH', `/Groups/${group}${query}`, removeBody), 'PATCH remove')
    remove.push(performance.now() - s)
    if (memberCount(group) !== before) throw new Error('remove did not remove 100 members')
  }
  return { add: stats(add), remove: stats(remove), responseBytes: bytes }
}

async function gets(send: Send, group: string, query: string) {
  const ms: number[] = []
  let bytes = 0
  const deadline = performance.now() + TIME_LIMIT_MS
  for (let i = 0; i < ROUNDS * 5 && performance.now() < deadline; i++) {
    const s = performance.now()
    bytes = await expectOk(await send('GET', `/Groups/${group}${query}`), 'GET')
    ms.push(performance.now() - s)
  }
  return { ...stats(ms), responseBytes: bytes }
}

const f = (x: number) => x.toFixed(2)
const rows: string[][] = []
const row = (what: string, s: Stats, bytes?: number) => rows.push([what, String(s.n), f(s.p50), f(s.p99), f(s.mean), bytes === undefined ? '' : String(bytes)])

// ── measure, in process ────────────────────────────────────────────────────────────────────────────────────
// warm-up: JIT, statement caches
await addRemove(inProcess, smallGroup, '?excludedAttributes=members')

const lean = '?excludedAttributes=members'
const smallLean = await addRemove(inProcess, smallGroup, lean)
const bigLean = await addRemove(inProcess, bigGroup, lean)
const smallFull = await addRemove(inProcess, smallGroup, '')
const bigFull = await addRemove(inProcess, bigGroup, '')
const getSmall = await gets(inProcess, smallGroup, lean)
const getBig = await gets(inProcess, bigGroup, lean)

row(`PATCH add ${BATCH}, ${SMALL}-member group (excludedAttributes=members)`, smallLean.add, smallLean.responseBytes)
row(`PATCH add ${BATCH}, ${BIG}-member group (excludedAttributes=members)`, bigLean.add, bigLean.responseBytes)
row(`PATCH remove ${BATCH}, ${SMALL}-member group (excludedAttributes=members)`, smallLean.remove)
row(`PATCH remove ${BATCH}, ${BIG}-member group (excludedAttributes=members)`, bigLean.remove)
row(`PATCH add ${BATCH}, ${SMALL}-member group (full answer)`, smallFull.add, smallFull.responseBytes)
row(`PATCH add ${BATCH}, ${BIG}-member group (full answer)`, bigFull.add, bigFull.responseBytes)
row(`PATCH remove ${BATCH}, ${SMALL}-member group (full answer)`, smallFull.remove)
row(`PATCH remove ${BATCH}, ${BIG}-member group (full answer)`, bigFull.remove)
row(`GET ${SMALL}-member group ?excludedAttributes=members`, getSmall, getSmall.responseBytes)
row(`GET ${BIG}-member group ?excludedAttributes=members`, getBig, getBig.responseBytes)

// ── loopback HTTP: scimd next to a Bun.serve hello-world ─────────────────────────────────────────────────────
const hello = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('hello') })
const scimd = app.listen({ port: 0, hostname: '127.0.0.1' })
const scimdUrl = `http://127.0.0.1:${scimd.server!.port}${config.basePath}`
const overHttp: Send = (method, path, body) => fetch(scimdUrl + path, { method, headers, body })
const helloMs: number[] = []
{
  const deadline = performance.now() + TIME_LIMIT_MS
  for (let i = 0; i < 50; i++) await (await fetch(hello.url)).text() // warm-up
  for (let i = 0; i < 2000 && performance.now() < deadline; i++) {
    const s = performance.now()
    await (await fetch(hello.url)).text()
    helloMs.push(performance.now() - s)
  }
}
const helloStats = stats(helloMs)
const httpBig = await addRemove(overHttp, bigGroup, lean)
const httpGetBig = await gets(overHttp, bigGroup, lean)
hello.stop(true)
await scimd.stop(true)
row('Bun.serve hello-world over loopback (baseline)', helloStats)
row(`loopback: PATCH add ${BATCH}, ${BIG}-member group`, httpBig.add)
row(`loopback: PATCH remove ${BATCH}, ${BIG}-member group`, httpBig.remove)
row(`loopback: GET ${BIG}-member group ?excludedAttributes=members`, httpGetBig)

closeAll(started)
rmSync(dir, { recursive: true, force: true })

// ── report ─────────────────────────────────────────────────────────────────────────────────────────────────
const header = ['measurement', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'answer bytes']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
console.log(`membership benchmark: bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, seed ${BIG + SMALL + BATCH} users + 2 groups in ${(seedMs / 1000).toFixed(1)} s`)
console.log(line(header))
for (const r of rows) console.log(line(r))
const ratio = (a: Stats, b: Stats) => (a.p50 / b.p50).toFixed(2)
console.log(`ratio ${BIG} vs ${SMALL} members (p50, excludedAttributes=members): add ${ratio(bigLean.add, smallLean.add)}x, remove ${ratio(bigLean.remove, smallLean.remove)}x, GET ${ratio(getBig, getSmall)}x`)
console.log(`ratio to the hello-world baseline (loopback p50): PATCH add ${ratio(httpBig.add, helloStats)}x, PATCH remove ${ratio(httpBig.remove, helloStats)}x, GET ${ratio(httpGetBig, helloStats)}x`)
console.log(
  JSON.stringify({
    bench: 'membership',
    big: BIG,
    small: SMALL,
    batch: BATCH,
    rounds: ROUNDS,
    p50ms: {
      addSmall: +f(smallLean.add.p50),
      addBig: +f(bigLean.add.p50),
      removeSmall: +f(smallLean.remove.p50),
      removeBig: +f(bigLean.remove.p50),
      addSmallFull: +f(smallFull.add.p50),
      addBigFull: +f(bigFull.add.p50),
      getSmall: +f(getSmall.p50),
      getBig: +f(getBig.p50),
      hello: +f(helloStats.p50),
      httpAddBig: +f(httpBig.add.p50),
      httpRemoveBig: +f(httpBig.remove.p50),
      httpGetBig: +f(httpGetBig.p50),
    },
  }),
)
