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
 * Options: --no-build, --duration S (default 10), --connections N (default 16), --users N (default 100000),
 * --keep (leave the temp dir).
 */
import { spawn, spawnSync, type Subprocess } from 'bun'
import { Database } from 'bun:sqlite'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join, resolve } from 'node:path'

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
const coldEmpty = await coldStart(() => join(mkdtempSync(join(work, 'empty-')), 'db.sqlite'))
log(`seeding ${USERS.toLocaleString('en-US')} users with scimd import …`)
const importStarted = performance.now()
const imp = spawnSync([BIN, 'import', seedFile], { cwd: work, env: { PATH: process.env.PATH ?? '', DATABASE_URL: dbPath }, stdout: 'pipe', stderr: 'pipe' })
const importSeconds = (performance.now() - importStarted) / 1000
if (imp.exitCode !== 0) throw new Error(`import failed (${imp.exitCode}): ${imp.stdout}${imp.stderr}`)
log(imp.stdout.toString().trim())
const dbSize = statSync(dbPath).size
const coldSeeded = await coldStart(() => dbPath)

// ids for the workloads
const ro = new Database(dbPath, { readonly: true })
const userIds = ro.query<{ id: string }, []>(`select id from users order by cast(substr(user_name_key, 5) as integer)`).all().map((r) => r.id)
const groupId = (name: string) => ro.query<{ id: string }, [string]>('select id from groups where display_name_key = ?').get(name)!.id
const big = groupId('big')
const grow = groupId('grow')
ro.close()

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
const addIds = userIds.slice(20_000)
const workloads: Workload[] = [
  {
    name: 'create user',
    lua: `request = function() n = n + 1
  return wrk.format("POST", "${base}/Users", nil, '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench-${runId}-' .. n .. '@example.com","name":{"givenName":"B","familyName":"' .. n .. '"},"emails":[{"value":"b' .. n .. '@example.com","type":"work"}],"active":true}')
end`,
    target: { ratio: 0.15 },
  },
  { name: 'get user by id', lua: `request = function() return wrk.format("GET", "${base}/Users/" .. pick()) end`, target: { ratio: 0.4 } },
  {
    name: 'floor: Bun.serve + one SQLite read by primary key (no scimd)',
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
    name: 'floor: Bun.serve + one SQLite write transaction (update + history row; no scimd)',
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

// baseline
const helloPort = freePort()
const hello = spawn(pin(0, ['bun', join(import.meta.dir, 'hello.ts')]), { env: { ...process.env, PORT: String(helloPort) }, stdout: 'ignore', stderr: 'inherit' })
const scimdPort = freePort()
const scimd = startScimd(dbPath, scimdPort, 0)
// the floor server reads and writes its own copy of the seeded database
const floorDb = join(work, 'floor.sqlite')
{
  const src = new Database(dbPath, { readonly: true })
  src.exec(`vacuum into '${floorDb.replaceAll("'", "''")}'`)
  src.close()
}
const floorPort = freePort()
const floor = spawn(pin(0, ['bun', join(import.meta.dir, 'floor.ts')]), {
  env: { PATH: process.env.PATH ?? '', PORT: String(floorPort), DATABASE_URL: floorDb },
  stdout: 'ignore',
  stderr: 'inherit',
})
const results: Result[] = []
const baselines: number[] = []
let rss = { rss: 0, peak: 0 }
let rssIdle = { rss: 0, peak: 0 }
try {
  await waitHealthy(`http://127.0.0.1:${helloPort}/`, hello)
  await waitHealthy(`http://127.0.0.1:${scimdPort}/healthz`, scimd)
  await waitHealthy(`http://127.0.0.1:${floorPort}/Users/none`, floor).catch(() => {})
  rssIdle = rssOf(scimd.pid)
  const helloLua = COMMON + `request = function() return wrk.format("GET", "/") end`
  log(`baseline: Bun.serve hello world …`)
  const baseline = await runWrk(`http://127.0.0.1:${helloPort}/`, helloLua, {}, 'baseline: Bun.serve hello world')
  results.push(baseline)
  // a short warm-up so the JIT has seen the routes
  await runWrk(`http://127.0.0.1:${scimdPort}/`, AUTH + COMMON + workloads[1].lua, { maxRequests: 2000, ids: userIds.slice(0, 1000) }, 'warm-up')
  await runWrk(`http://127.0.0.1:${floorPort}/`, COMMON + workloads[1].lua, { maxRequests: 2000, ids: userIds.slice(0, 1000) }, 'warm-up')
  baselines.push(baseline.rps)
  for (const w of workloads) {
    // this machine's speed drifts (shared cores): each workload is compared with a baseline run just before it
    const near = await runWrk(`http://127.0.0.1:${helloPort}/`, helloLua, {}, 'baseline (again)')
    baselines.push(near.rps)
    log(`${w.name} … (baseline just before: ${Math.round(near.rps)} RPS)`)
    const url = w.floor ? `http://127.0.0.1:${floorPort}/` : `http://127.0.0.1:${scimdPort}/`
    const r = await runWrk(url, AUTH + COMMON + w.lua, { ...w, ids: w.ids ?? (/pick\(\)/.test(w.lua) ? userIds : []) }, w.name)
    r.ratio = r.rps / near.rps
    r.target = w.target
    if (w.target?.ratio) r.ok = r.ratio >= w.target.ratio
    if (w.target?.rps) r.ok = r.rps >= w.target.rps
    if (w.target?.p50Ms) r.ok = r.p50 < w.target.p50Ms
    results.push(r)
  }
  rss = rssOf(scimd.pid)
} finally {
  scimd.kill('SIGTERM')
  hello.kill('SIGTERM')
  floor.kill('SIGTERM')
  await Promise.all([scimd.exited, hello.exited, floor.exited])
  if (!flag('--keep')) rmSync(work, { recursive: true, force: true })
  else log(`kept ${work}`)
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────────────
const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const targetText = (t?: Workload['target']) => (!t ? '' : t.ratio ? `≥ ${t.ratio * 100}% of baseline` : t.rps ? `≥ ${fmt(t.rps)} RPS` : `p50 < ${t.p50Ms} ms`)
const rows = results.map((r) => [
  r.name,
  fmt(r.rps),
  fmt(r.p50, 2),
  fmt(r.p99, 2),
  r.ratio === undefined ? '—' : `${fmt(r.ratio * 100)}%`,
  targetText(r.target),
  r.ok === undefined ? '' : r.ok ? 'met' : 'MISSED',
  r.errors ? `${r.errors} errors` : '',
])
const header = ['workload', 'RPS', 'p50 ms', 'p99 ms', 'vs baseline', 'target', '', '']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
const mem = `RSS of scimd with ${fmt(USERS)} users: ${fmt(rss.rss)} MB after the run (peak ${fmt(rss.peak)} MB; ${fmt(rssIdle.rss)} MB before it) — target < 150 MB: ${rss.peak < 150 ? 'met' : 'MISSED'}`
const facts = [
  `binary: ${fmt(binSize / 1e6, 1)} MB; database with ${fmt(USERS)} users: ${fmt(dbSize / 1e6, 1)} MB`,
  `cold start to a healthy /healthz (median of 20): ${fmt(median(coldEmpty), 1)} ms on a new database, ${fmt(median(coldSeeded), 1)} ms with ${fmt(USERS)} users (min ${fmt(coldSeeded[0], 1)}, max ${fmt(coldSeeded[coldSeeded.length - 1], 1)})`,
  `scimd import of ${fmt(USERS)} users (JSON Lines, 20,000 memberships): ${fmt(importSeconds, 2)} s`,
  `baseline (Bun.serve hello world) measured before every workload, each ratio against the one just before it: ${fmt(Math.min(...baselines))}–${fmt(Math.max(...baselines))} RPS`,
  `wrk: 1 thread, ${CONNECTIONS} connections (1 for the membership workload), ${DURATION} s per workload; ${hasTaskset ? 'servers pinned to CPU 0, wrk to CPU 1' : 'no CPU pinning'}; ${cpus().length} CPUs, load average before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
]
console.log('\n' + line(header) + '\n' + rows.map(line).join('\n') + '\n\n' + mem + '\n' + facts.join('\n'))
if (flag('--markdown')) {
  console.log('\n| workload | RPS | p50 ms | p99 ms | vs baseline | target |\n|---|--:|--:|--:|--:|---|')
  for (const r of rows) console.log(`| ${r[0]} | ${r[1]} | ${r[2]} | ${r[3]} | ${r[4]} | ${r[5]}${r[6] ? ` (${r[6]})` : ''} |`)
  console.log(`\n${mem}\n\n${facts.map((f) => `- ${f}`).join('\n')}`)
}
