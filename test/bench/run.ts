#!/usr/bin/env bun
/**
 * `bun run bench`: the end-to-end benchmark of the compiled binary (not part of `bun test`).
 *
 * 1. builds dist/scimd (package.json's build; `--no-build` reuses it), measures its size and cold start
 *    (spawn → first healthy /healthz; median of 20, on an empty database and on the seeded one);
 * 2. seeds 100,000 users through `scimd import` (JSON Lines; users 1–10,000 in group "Big", 10,001–20,000 in
 *    "Grow"), timing the import;
 * 3. starts the binary and, in the same run, a Bun.serve hello-world baseline, each pinned to CPU 0 (taskset),
 *    and drives both with wrk (Debian package `wrk`) pinned to CPU 1: one thread, bounded by duration and by a
 *    request count (the Lua script stops the thread);
 * 4. prints per workload RPS, p50, p99 and the ratio to the baseline, the RSS of the scimd process, and checks
 *    the targets. `--markdown` also prints the table as Markdown for the README.
 *
 * PostgreSQL column: whenever PostgreSQL's binaries are installed (/usr/lib/postgresql/<v>/bin, Debian's
 * `postgresql` package; .ci/pg-install), the same run also starts a throwaway cluster (test/helpers/pg.ts
 * privateCluster) with PostgreSQL's durable defaults — fsync, synchronous_commit and full_page_writes on, default
 * shared_buffers — seeds the same file through `scimd import` with DATABASE_URL=postgres://…, starts a second scimd
 * on it (pinned to CPU 0 with every postgres process of the cluster) and runs each workload against both stores
 * right after the same baseline run; a floor server over PostgreSQL (floor-pg.ts) gives the floor rows their
 * PostgreSQL column. `--no-pg` leaves it out; `--pg` makes a missing PostgreSQL an error.
 *
 * Options: --no-build, --duration S (default 10), --connections N (default 16), --users N (default 100000),
 * --keep (leave the temp dir), --pg / --no-pg.
 */
import { spawn, spawnSync, SQL, type Subprocess } from 'bun'
import { Database } from 'bun:sqlite'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { privateCluster, type PrivateCluster } from '../helpers/pg'

const ROOT = resolve(import.meta.dir, '..', '..')
const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const DURATION = opt('--duration', 10)
const CONNECTIONS = opt('--connections', 16)
const USERS = opt('--users', 100_000)
const TOKEN = 'bench-token-0123456789abcdef'
const BIN = join(ROOT, 'dist', 'scimd')
const hasTaskset = spawnSync(['sh', '-c', 'command -v taskset']).exitCode === 0 && cpus().length >= 2
const pin = (cpu: number, cmd: string[]) => (hasTaskset ? ['taskset', '-c', String(cpu), ...cmd] : cmd)
const log = (s: string) => process.stderr.write(s + '\n')
const scimdEnv = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('SCIMD_') && v !== undefined)) as Record<string, string>

if (spawnSync(['sh', '-c', 'command -v wrk']).exitCode !== 0) {
  log('bench: wrk is not installed (apt-get install -y wrk)')
  process.exit(2)
}
const PG_WANTED = !flag('--no-pg')
const hasPgBinaries = existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')))
if (flag('--pg') && !hasPgBinaries) {
  log('bench: --pg needs PostgreSQL (bash .ci/pg-install, or apt-get install -y postgresql)')
  process.exit(2)
}
const WITH_PG = PG_WANTED && hasPgBinaries
if (PG_WANTED && !WITH_PG) log('bench: no PostgreSQL binaries found: SQLite only (bash .ci/pg-install adds the PostgreSQL column)')

// ── build, size ───────────────────────────────────────────────────────────────────────────────────────────
if (!flag('--no-build') || !existsSync(BIN)) {
  log('building dist/scimd …')
  const r = spawnSync(['bun', 'run', 'build'], { cwd: ROOT, stdout: 'ignore', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(r.stderr.toString())
}
const binSize = statSync(BIN).size
const work = mkdtempSync(join(tmpdir(), 'scimd-bench-'))
const freePort = () => 20000 + Math.floor(Math.random() * 20000)

async function waitHealthy(url: string, proc: Subprocess, timeoutMs = 15_000): Promise<number> {
  const t0 = performance.now()
  for (;;) {
    try {
      if ((await fetch(url)).ok) return performance.now() - t0
    } catch {}
    if (proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode}`)
    if (performance.now() - t0 > timeoutMs) throw new Error(`${url} not healthy after ${timeoutMs} ms`)
    await Bun.sleep(2)
  }
}

function startScimd(db: string, port: number, cpu?: number) {
  return spawn(cpu === undefined ? [BIN] : pin(cpu, [BIN]), {
    cwd: work,
    // SCIMD_* variables of the bench's own environment reach the server (e.g. to compare SCIMD_SQLITE_CACHE settings)
    env: { ...scimdEnv, PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: db, SCIMD_BEARER_TOKENS: TOKEN, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
}

async function coldStart(db: () => string, runs = 20): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const port = freePort()
    const t0 = performance.now()
    const p = startScimd(db(), port)
    await waitHealthy(`http://127.0.0.1:${port}/healthz`, p)
    times.push(performance.now() - t0)
    p.kill('SIGTERM')
    await p.exited
  }
  return times.sort((a, b) => a - b)
}
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]

// ── seed through `scimd import` ─────────────────────────────────────────────────────────────────────────
const dbPath = join(work, 'bench.sqlite')
const seedFile = join(work, 'users.jsonl')
{
  const parts: string[] = []
  for (let i = 1; i <= USERS; i++) {
    const u: Record<string, unknown> = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `user${i}@example.com`,
      externalId: `ext-${i}`,
      name: { givenName: `Given${i}`, familyName: `Family${i}` },
      displayName: `User ${i}`,
      emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }],
      active: true,
    }
    if (i <= 10_000) u.groups = ['Big']
    else if (i <= 20_000) u.groups = ['Grow']
    parts.push(JSON.stringify(u))
  }
  await Bun.write(seedFile, parts.join('\n') + '\n')
}
/** Seeds a database (SQLite file or postgres:// URL) with `scimd import`; the seconds it took. */
function seed(databaseUrl: string, label: string): number {
  log(`seeding ${USERS.toLocaleString('en-US')} users with scimd import (${label}) …`)
  const started = performance.now()
  const imp = spawnSync([BIN, 'import', seedFile], { cwd: work, env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl }, stdout: 'pipe', stderr: 'pipe' })
  const seconds = (performance.now() - started) / 1000
  if (imp.exitCode !== 0) throw new Error(`import failed (${imp.exitCode}): ${imp.stdout}${imp.stderr}`)
  log(imp.stdout.toString().trim())
  return seconds
}

/** What the workloads of one store need: every user id (in userName order) and the two groups. */
interface Dataset {
  userIds: string[]
  big: string
  grow: string
}

const coldEmpty = await coldStart(() => join(mkdtempSync(join(work, 'empty-')), 'db.sqlite'))
const importSeconds = seed(dbPath, 'SQLite')
const dbSize = statSync(dbPath).size
const coldSeeded = await coldStart(() => dbPath)

// ids for the workloads
let lite: Dataset
{
  const ro = new Database(dbPath, { readonly: true })
  const groupId = (name: string) => ro.query<{ id: string }, [string]>('select id from groups where display_name_key = ?').get(name)!.id
  lite = {
    userIds: ro.query<{ id: string }, []>(`select id from users order by cast(substr(user_name_key, 5) as integer)`).all().map((r) => r.id),
    big: groupId('big'),
    grow: groupId('grow'),
  }
  ro.close()
}

// ── the same on PostgreSQL ──────────────────────────────────────────────────────────────────────────────
interface PgSide {
  cluster: PrivateCluster
  url: string
  floorUrl: string
  data: Dataset
  importSeconds: number
  dbSize: number
  coldSeeded: number[]
  settings: string
  postmaster: number
}

/** Pins a process and all its descendants (every thread) to one CPU; processes forked later inherit it. */
function pinTree(root: number, cpu: number) {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)])
    } catch {}
  }
  const all: number[] = []
  const walk = (pid: number) => {
    all.push(pid)
    for (const c of children.get(pid) ?? []) walk(c)
  }
  walk(root)
  for (const pid of all) spawnSync(['taskset', '-a', '-p', '-c', String(cpu), String(pid)], { stdout: 'ignore', stderr: 'ignore' })
  return all.length
}

/** PSS (proportional set size: shared memory split among its users) of a process tree, in MB. */
function pssOfTree(root: number): number {
  let kb = 0
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (Number(name) !== root && ppid !== root) continue
      kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/smaps_rollup`, 'utf8'))?.[1] ?? 0)
    } catch {}
  }
  return kb / 1024
}

async function preparePg(): Promise<PgSide> {
  log('starting a throwaway PostgreSQL cluster (durable: fsync and synchronous_commit on) …')
  const cluster = await privateCluster({ durable: true })
  if (!cluster) throw new Error('PostgreSQL could not be started (SCIMD_TEST_PG=off?)')
  const at = (db: string) => {
    const u = new URL(cluster.url)
    u.pathname = `/${db}`
    return u.toString()
  }
  const admin = new SQL(cluster.url, { max: 1 })
  await admin.unsafe('create database scimd_bench')
  const url = at('scimd_bench')
  const seconds = seed(url, 'PostgreSQL')
  const coldSeeded = await coldStart(() => url)
  // the floor server's own copy, so that its writes do not touch scimd's data
  await admin.unsafe('create database scimd_floor template scimd_bench')
  const settings = (await admin.unsafe(
    `select current_setting('server_version') as v, current_setting('fsync') as f, current_setting('synchronous_commit') as s,
            current_setting('full_page_writes') as w, current_setting('shared_buffers') as b, pg_backend_pid() as pid`,
  )) as { v: string; f: string; s: string; w: string; b: string; pid: number }[]
  const st = settings[0]
  const postmaster = Number(readFileSync(`/proc/${st.pid}/stat`, 'utf8').split(') ')[1].split(' ')[1])
  await admin.close()
  const db = new SQL(url, { max: 1 })
  const size = ((await db.unsafe(`select pg_database_size(current_database())::float8 as n`)) as { n: number }[])[0].n
  const ids = (await db.unsafe(`select id from users order by regexp_replace(user_name_key, '\\D', '', 'g')::int`)) as { id: string }[]
  const groupId = async (name: string) => ((await db.unsafe('select id from groups where display_name_key = $1', [name])) as { id: string }[])[0].id
  const data = { userIds: ids.map((r) => r.id), big: await groupId('big'), grow: await groupId('grow') }
  await db.close()
  return {
    cluster,
    url,
    floorUrl: at('scimd_floor'),
    data,
    importSeconds: seconds,
    dbSize: size,
    coldSeeded,
    settings: `PostgreSQL ${st.v}: fsync=${st.f}, synchronous_commit=${st.s}, full_page_writes=${st.w}, shared_buffers=${st.b}`,
    postmaster,
  }
}
const pgSide = WITH_PG ? await preparePg() : undefined

// ── wrk workloads ───────────────────────────────────────────────────────────────────────────────────────
interface Workload {
  name: string
  /** run against the floor server (test/bench/floor.ts) instead of scimd */
  floor?: boolean
  /** Lua: must define `request = function() … end` (helpers: pick(), ids, n) */
  lua: string
  /** the ids the Lua `ids` table holds (default: every seeded user) */
  ids?: string[]
  maxRequests?: number
  connections?: number
  target?: { ratio?: number; rps?: number; p50Ms?: number }
}

const AUTH = `wrk.headers["Authorization"] = "Bearer ${TOKEN}"\nwrk.headers["Content-Type"] = "application/scim+json"\n`
const COMMON = `
local counter, max_requests = 0, tonumber(os.getenv("BENCH_MAX") or "0")
math.randomseed(os.time() + tonumber(os.getenv("BENCH_SEED") or "0"))
ids = {}
if os.getenv("BENCH_IDS") then for l in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = l end end
function pick() return ids[math.random(1, #ids)] end
n = 0
response = function(status, headers, body)
  counter = counter + 1
  if max_requests > 0 and counter >= max_requests then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"status_errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
`

const base = '/scim/v2'
const runId = Date.now().toString(36)
/** The workloads over one store's data (the same requests; the ids differ). */
const workloadsFor = ({ userIds, big, grow }: Dataset): Workload[] => {
  const addIds = userIds.slice(20_000)
  return [
    {
      name: 'create user',
      lua: `request = function() n = n + 1
  return wrk.format("POST", "${base}/Users", nil, '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench-${runId}-' .. n .. '@example.com","name":{"givenName":"B","familyName":"' .. n .. '"},"emails":[{"value":"b' .. n .. '@example.com","type":"work"}],"active":true}')
end`,
      target: { ratio: 0.15 },
    },
    { name: 'get user by id', lua: `request = function() return wrk.format("GET", "${base}/Users/" .. pick()) end`, target: { ratio: 0.4 } },
    {
      name: 'floor: Bun.serve + one read by primary key (no scimd)',
      floor: true,
      lua: `request = function() return wrk.format("GET", "${base}/Users/" .. pick()) end`,
    },
    {
      name: 'userName eq filter',
      lua: `request = function() return wrk.format("GET", "${base}/Users?filter=userName%20eq%20%22user" .. math.random(1, ${USERS}) .. "%40example.com%22") end`,
      target: { ratio: 0.4 },
    },
    {
      name: 'list a page of 100 (random startIndex)',
      lua: `request = function() return wrk.format("GET", "${base}/Users?startIndex=" .. math.random(1, ${USERS - 100}) .. "&count=100") end`,
      target: { rps: 2000 },
    },
    {
      // the same page size as Okta's import walks it: the first page of 100, in the default order
      name: 'list the first page of 100',
      lua: `request = function() return wrk.format("GET", "${base}/Users?startIndex=1&count=100") end`,
      target: { rps: 2000 },
    },
    {
      name: 'PATCH active',
      lua: `request = function() n = n + 1
  local v = (n % 2 == 0) and "true" or "false"
  return wrk.format("PATCH", "${base}/Users/" .. pick(), nil, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":' .. v .. '}]}')
end`,
      target: { ratio: 0.2 },
    },
    {
      name: 'floor: Bun.serve + one write transaction (update + history row; no scimd)',
      floor: true,
      lua: `request = function() n = n + 1
  local v = (n % 2 == 0) and "true" or "false"
  return wrk.format("PATCH", "${base}/Users/" .. pick(), nil, '{"Operations":[{"op":"replace","path":"active","value":' .. v .. '}]}')
end`,
    },
    {
      name: 'add 100 members to a 10,000-member group (PATCH ?excludedAttributes=members)',
      // each request adds the next 100 users that are not members yet; without excludedAttributes=members the
      // answer would list every member (RFC 7644 §3.5.2), which is what costs, not the change
      ids: addIds,
      lua: `request = function()
  local parts = {}
  for i = 1, 100 do parts[i] = '{"value":"' .. ids[(n * 100 + i - 1) % #ids + 1] .. '"}' end
  n = n + 1
  return wrk.format("PATCH", "${base}/Groups/${grow}?excludedAttributes=members", nil, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[' .. table.concat(parts, ",") .. ']}]}')
end`,
      maxRequests: Math.floor(addIds.length / 100),
      connections: 1,
      target: { p50Ms: 10 },
    },
    {
      name: 'GET 10,000-member group, excludedAttributes=members',
      lua: `request = function() return wrk.format("GET", "${base}/Groups/${big}?excludedAttributes=members") end`,
      target: { ratio: 0.4 },
    },
  ]
}
const workloads = workloadsFor(lite)
const pgWorkloads = pgSide ? workloadsFor(pgSide.data) : undefined

interface Result {
  name: string
  rps: number
  p50: number
  p99: number
  requests: number
  errors: number
  ratio?: number
  target?: Workload['target']
  ok?: boolean
}

async function runWrk(url: string, script: string, w: { maxRequests?: number; connections?: number; ids?: string[] }, name: string): Promise<Result> {
  const file = join(work, `w-${Math.random().toString(36).slice(2)}.lua`)
  await Bun.write(file, script)
  const idsFile = file.replace(/\.lua$/, '.ids')
  await Bun.write(idsFile, (w.ids ?? []).join('\n') + '\n')
  const conns = w.connections ?? CONNECTIONS
  const p = spawnSync(pin(1, ['wrk', '-t1', `-c${conns}`, `-d${DURATION}s`, '--timeout', '10s', '-s', file, url]), {
    env: { ...process.env, BENCH_IDS: idsFile, BENCH_MAX: String(w.maxRequests ?? 10_000_000), BENCH_SEED: String(Math.floor(Math.random() * 1e6)) },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const out = p.stdout.toString()
  const line = out.split('\n').find((l) => l.startsWith('BENCH '))
  if (!line) throw new Error(`wrk failed for ${name}: ${out}${p.stderr}`)
  const j = JSON.parse(line.slice(6))
  return {
    name,
    requests: j.requests,
    rps: j.requests / (j.duration_us / 1e6),
    p50: j.p50_us / 1000,
    p99: j.p99_us / 1000,
    errors: j.errors + j.status_errors,
  }
}

function rssOf(pid: number) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/** A store's servers: scimd and the floor, each pinned to CPU 0. */
interface Side {
  label: 'SQLite' | 'PostgreSQL'
  scimd: Subprocess
  scimdPort: number
  floor: Subprocess
  floorPort: number
  data: Dataset
  workloads: Workload[]
  rss: { rss: number; peak: number }
  rssIdle: { rss: number; peak: number }
}

// baseline
const helloPort = freePort()
const hello = spawn(pin(0, ['bun', join(import.meta.dir, 'hello.ts')]), { env: { ...process.env, PORT: String(helloPort) }, stdout: 'ignore', stderr: 'inherit' })
const sides: Side[] = []
{
  const scimdPort = freePort()
  const scimd = startScimd(dbPath, scimdPort, 0)
  // the floor server reads and writes its own copy of the seeded database
  const floorDb = join(work, 'floor.sqlite')
  const src = new Database(dbPath, { readonly: true })
  src.exec(`vacuum into '${floorDb.replaceAll("'", "''")}'`)
  src.close()
  const floorPort = freePort()
  const floor = spawn(pin(0, ['bun', join(import.meta.dir, 'floor.ts')]), {
    env: { PATH: process.env.PATH ?? '', PORT: String(floorPort), DATABASE_URL: floorDb },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  const none = { rss: 0, peak: 0 }
  sides.push({ label: 'SQLite', scimd, scimdPort, floor, floorPort, data: lite, workloads, rss: none, rssIdle: none })
  if (pgSide) {
    // every postgres process of the cluster on CPU 0 with the servers (backends forked later inherit it)
    if (hasTaskset) log(`pinned ${pinTree(pgSide.postmaster, 0)} postgres processes to CPU 0`)
    const scimdPort = freePort()
    const floorPort = freePort()
    sides.push({
      label: 'PostgreSQL',
      scimd: startScimd(pgSide.url, scimdPort, 0),
      scimdPort,
      floor: spawn(pin(0, ['bun', join(import.meta.dir, 'floor-pg.ts')]), {
        env: { PATH: process.env.PATH ?? '', PORT: String(floorPort), DATABASE_URL: pgSide.floorUrl },
        stdout: 'ignore',
        stderr: 'inherit',
      }),
      floorPort,
      data: pgSide.data,
      workloads: pgWorkloads!,
      rss: none,
      rssIdle: none,
    })
  }
}

/**
 * Waits (at most 30 s) until no query of the run just ended is still executing: a backend goes on with its
 * statement after wrk closes the connection (a deep OFFSET page takes a while), and would slow the next run.
 */
async function settlePg() {
  if (!pgSide) return
  const db = new SQL(pgSide.url, { max: 1 })
  try {
    for (let i = 0; i < 300; i++) {
      const [r] = (await db.unsafe(
        `select count(*)::int as n from pg_stat_activity where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid()`,
      )) as { n: number }[]
      if (r.n === 0) return
      await Bun.sleep(100)
    }
  } finally {
    await db.close()
  }
}

/** One row of the table: a workload on each store, against the baseline measured just before it. */
interface Row {
  name: string
  target?: Workload['target']
  results: (Result | undefined)[]
}
const rowsOut: Row[] = []
const baselines: number[] = []
let pgServerMb: { idle: number; after: number } | undefined
try {
  await waitHealthy(`http://127.0.0.1:${helloPort}/`, hello)
  for (const s of sides) {
    await waitHealthy(`http://127.0.0.1:${s.scimdPort}/healthz`, s.scimd)
    await waitHealthy(`http://127.0.0.1:${s.floorPort}/Users/none`, s.floor).catch(() => {})
    s.rssIdle = rssOf(s.scimd.pid)
  }
  if (pgSide) pgServerMb = { idle: pssOfTree(pgSide.postmaster), after: 0 }
  const helloLua = COMMON + `request = function() return wrk.format("GET", "/") end`
  log(`baseline: Bun.serve hello world …`)
  const baseline = await runWrk(`http://127.0.0.1:${helloPort}/`, helloLua, {}, 'baseline: Bun.serve hello world')
  rowsOut.push({ name: baseline.name, results: [baseline] })
  baselines.push(baseline.rps)
  // a short warm-up so the JIT has seen the routes (and PostgreSQL's pool is open)
  for (const s of sides) {
    const warm = { maxRequests: 2000, ids: s.data.userIds.slice(0, 1000) }
    await runWrk(`http://127.0.0.1:${s.scimdPort}/`, AUTH + COMMON + s.workloads[1].lua, warm, 'warm-up')
    await runWrk(`http://127.0.0.1:${s.floorPort}/`, COMMON + s.workloads[1].lua, warm, 'warm-up')
  }
  for (let i = 0; i < workloads.length; i++) {
    const w = workloads[i]
    // this machine's speed drifts (shared cores): each workload is compared with a baseline run just before it
    const near = await runWrk(`http://127.0.0.1:${helloPort}/`, helloLua, {}, 'baseline (again)')
    baselines.push(near.rps)
    const row: Row = { name: w.name, target: w.target, results: [] }
    for (const s of sides) {
      const sw = s.workloads[i]
      log(`${w.name} [${s.label}] … (baseline just before: ${Math.round(near.rps)} RPS)`)
      const url = sw.floor ? `http://127.0.0.1:${s.floorPort}/` : `http://127.0.0.1:${s.scimdPort}/`
      const r = await runWrk(url, AUTH + COMMON + sw.lua, { ...sw, ids: sw.ids ?? (/pick\(\)/.test(sw.lua) ? s.data.userIds : []) }, sw.name)
      r.ratio = r.rps / near.rps
      r.target = sw.target
      if (sw.target?.ratio) r.ok = r.ratio >= sw.target.ratio
      if (sw.target?.rps) r.ok = r.rps >= sw.target.rps
      if (sw.target?.p50Ms) r.ok = r.p50 < sw.target.p50Ms
      row.results.push(r)
      if (s.label === 'PostgreSQL') await settlePg()
    }
    rowsOut.push(row)
  }
  for (const s of sides) s.rss = rssOf(s.scimd.pid)
  if (pgSide && pgServerMb) pgServerMb.after = pssOfTree(pgSide.postmaster)
} finally {
  const procs = [hello, ...sides.flatMap((s) => [s.scimd, s.floor])]
  for (const p of procs) p.kill('SIGTERM')
  await Promise.all(procs.map((p) => p.exited))
  pgSide?.cluster.close()
  if (!flag('--keep')) rmSync(work, { recursive: true, force: true })
  else log(`kept ${work}`)
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────────────
const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const targetText = (t?: Workload['target']) => (!t ? '' : t.ratio ? `≥ ${t.ratio * 100}% of baseline` : t.rps ? `≥ ${fmt(t.rps)} RPS` : `p50 < ${t.p50Ms} ms`)
const cells = (r?: Result) => (!r ? ['', '', '', ''] : [fmt(r.rps), fmt(r.p50, 2), fmt(r.p99, 2), r.ratio === undefined ? '—' : `${fmt(r.ratio * 100)}%`])
const status = (r?: Result) => (r?.ok === undefined ? '' : r.ok ? 'met' : 'MISSED')
const labels = sides.map((s) => s.label)
const rows = rowsOut.map((row) => {
  const rs = labels.map((_, i) => row.results[i])
  const met = rs.map(status)
  const errors = rs.reduce((n, r) => n + (r?.errors ?? 0), 0)
  return [row.name, ...rs.flatMap(cells), targetText(row.target), met.some(Boolean) ? met.join(' / ') : '', errors ? `${errors} errors` : '']
})
const header = ['workload', ...labels.flatMap((l) => [`${l} RPS`, 'p50 ms', 'p99 ms', 'vs baseline']), 'target', labels.length > 1 ? labels.join(' / ') : '', '']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (cs: string[]) => cs.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
const mem = sides.map(
  (s) =>
    `RSS of scimd on ${s.label} with ${fmt(USERS)} users: ${fmt(s.rss.rss)} MB after the run (peak ${fmt(s.rss.peak)} MB; ${fmt(s.rssIdle.rss)} MB before it) — target < 150 MB: ${s.rss.peak < 150 ? 'met' : 'MISSED'}`,
)
if (pgServerMb) mem.push(`PostgreSQL server (all its processes, PSS: shared memory split among them): ${fmt(pgServerMb.idle)} MB before the run, ${fmt(pgServerMb.after)} MB after it`)
const facts = [
  `binary: ${fmt(binSize / 1e6, 1)} MB; database with ${fmt(USERS)} users: ${fmt(dbSize / 1e6, 1)} MB (SQLite)${pgSide ? `, ${fmt(pgSide.dbSize / 1e6, 1)} MB (PostgreSQL)` : ''}`,
  `cold start to a healthy /healthz (median of 20): ${fmt(median(coldEmpty), 1)} ms on a new database, ${fmt(median(coldSeeded), 1)} ms with ${fmt(USERS)} users (min ${fmt(coldSeeded[0], 1)}, max ${fmt(coldSeeded[coldSeeded.length - 1], 1)})` +
    (pgSide ? `; on PostgreSQL with ${fmt(USERS)} users: ${fmt(median(pgSide.coldSeeded), 1)} ms` : ''),
  `scimd import of ${fmt(USERS)} users (JSON Lines, 20,000 memberships): ${fmt(importSeconds, 2)} s into SQLite` + (pgSide ? `, ${fmt(pgSide.importSeconds, 2)} s into PostgreSQL` : ''),
  `baseline (Bun.serve hello world) measured before every workload, each ratio against the one just before it: ${fmt(Math.min(...baselines))}–${fmt(Math.max(...baselines))} RPS`,
  `wrk: 1 thread, ${CONNECTIONS} connections (1 for the membership workload), ${DURATION} s per workload; ${hasTaskset ? `servers${pgSide ? ' and PostgreSQL' : ''} pinned to CPU 0, wrk to CPU 1` : 'no CPU pinning'}; ${cpus().length} CPUs, load average before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
]
if (pgSide)
  facts.push(
    `${pgSide.settings}; scimd's pool: ${process.env.SCIMD_PG_POOL ?? 10} connections. Durability differs: PostgreSQL flushes the WAL to disk at every commit, SQLite (WAL, synchronous=NORMAL) at checkpoints only (a power cut can lose the last commits there, never corrupt the file)`,
  )
console.log('\n' + line(header) + '\n' + rows.map(line).join('\n') + '\n\n' + mem.join('\n') + '\n' + facts.join('\n'))
if (flag('--markdown')) {
  const mdHeader = ['workload', ...labels.flatMap((l) => [`${l} RPS`, 'p50 ms', 'p99 ms', 'vs baseline']), 'target']
  console.log(`\n| ${mdHeader.join(' | ')} |\n|---|${labels.map(() => '--:|--:|--:|--:|').join('')}---|`)
  for (const r of rows) {
    const n = 1 + labels.length * 4
    console.log(`| ${r.slice(0, n + 1).join(' | ')}${r[n + 1] ? ` (${r[n + 1]})` : ''} |`)
  }
  console.log(`\n${mem.map((m) => `- ${m}`).join('\n')}\n${facts.map((f) => `- ${f}`).join('\n')}`)
}
