/**
 * Soak: mixed Okta-shaped traffic at a fixed rate against the compiled binary, sampling RSS and p99 every 10 s.
 *   bun test/bench/soak.ts [--minutes 10] [--warmup 5] [--rate 50] [--population 1000]
 * Loopback only; bounded in time and request count. The same traffic runs `--warmup` minutes first (SQLite's page
 * cache fills up to SCIMD_SQLITE_CACHE as the change history grows the file, and the JIT settles), then `--minutes`
 * minutes are measured. Prints one line per sample (warm-up samples marked) and a verdict on the measured window:
 * errors, and the slope of RSS and p99 (an upward trend is a leak or a slowdown).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary, startBinary } from '../helpers/binary'

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const minutes = arg('minutes', 10)
const warmup = arg('warmup', 5)
const rate = arg('rate', 50) // requests per second
const POPULATION = arg('population', 1000) // users kept; the oldest is deleted when a new one is created
const TOKEN = 'soak-token'
const dir = mkdtempSync(join(tmpdir(), 'scimd-soak-'))
// SCIMD_* variables of this process reach the server (e.g. SCIMD_SQLITE_MMAP=0 to compare memory settings)
const passThrough = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('SCIMD_') && v !== undefined)) as Record<string, string>
const srv = await startBinary(buildBinary(), dir, { ...passThrough, SCIMD_BEARER_TOKENS: TOKEN, LOG_LEVEL: 'warn' })
const base = `${srv.base}/scim/v2`
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json', 'user-agent': 'Okta SCIM Client 1.0.0' }
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

const rss = () => {
  const status = readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

const userIds: string[] = []
let groupId = ''
let seq = 0
let errors = 0
let latencies: number[] = []

const deleted = new Set<string>()
async function call(method: string, path: string, body?: unknown) {
  const t0 = performance.now()
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await r.text()
  latencies.push(performance.now() - t0)
  // 404 on a user this soak deleted meanwhile is the expected race, not a failure
  const gone = r.status === 404 && [...deleted].some((id) => path.includes(id))
  if (r.status >= 400 && r.status !== 409 && !gone) {
    errors++
    if (errors < 5) console.error(method, path, r.status, text.slice(0, 200))
  }
  return text ? JSON.parse(text) : undefined
}

/** One step of an Okta-like conversation, chosen round-robin. */
async function step() {
  const i = seq++
  const k = i % 10
  if (k === 0 || userIds.length < 5) {
    // a stable population (Okta deprovisions as it provisions), so a rising RSS means a leak, not a growing database
    if (userIds.length >= POPULATION) {
      const old = userIds.shift()!
      deleted.add(old)
      if (deleted.size > 200) deleted.delete(deleted.values().next().value!)
      await call('DELETE', `/Users/${old}`)
    }
    const userName = `soak-${i}@example.com`
    await call('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`)
    const u = await call('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, name: { givenName: 'S', familyName: String(i) }, emails: [{ primary: true, value: userName, type: 'work' }], active: true })
    if (u?.id) userIds.push(u.id)
    return
  }
  const id = userIds[i % userIds.length]
  if (k <= 3) await call('GET', `/Users/${id}`)
  else if (k === 4) await call('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: i % 20 < 10 } }] })
  else if (k === 5) await call('GET', `/Users?startIndex=${1 + (i % 50) * 10}&count=100`)
  else if (k === 6) {
    if (!groupId) groupId = (await call('POST', '/Groups', { displayName: 'Soak', members: [] })).id
    await call('PATCH', `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] })
  } else if (k === 7 && groupId) await call('PATCH', `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] })
  else if (k === 8) await call('GET', `/Groups?excludedAttributes=members`)
  else {
    const u = await call('GET', `/Users/${id}`)
    if (u?.id) await call('PUT', `/Users/${id}`, { ...u, title: `t${i}` })
  }
}

const samples: { t: number; rss: number; p99: number; n: number }[] = []
const started = Date.now()
const measureFrom = started + warmup * 60_000
const end = measureFrom + minutes * 60_000
const maxRequests = Math.ceil(rate * (minutes + warmup) * 60 * 1.1)
let errorsAtWindow = 0
let sent = 0
let nextSample = started + 10_000
const inflight = new Set<Promise<void>>()
while (Date.now() < end && sent < maxRequests) {
  const p: Promise<void> = step().catch(() => void errors++).finally(() => inflight.delete(p))
  inflight.add(p)
  sent++
  if (Date.now() >= nextSample) {
    const sorted = latencies.sort((a, b) => a - b)
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0
    const inWindow = Date.now() >= measureFrom
    if (!inWindow) errorsAtWindow = errors
    else samples.push({ t: Math.round((Date.now() - started) / 1000), rss: rss(), p99, n: sorted.length })
    const shown = { t: Math.round((Date.now() - started) / 1000), rss: rss(), p99 }
    console.log(`${inWindow ? '' : 'warm-up '}t=${shown.t}s rss=${shown.rss.toFixed(1)}MB p99=${p99.toFixed(1)}ms requests=${sorted.length} errors=${errors}`)
    latencies = []
    nextSample += 10_000
  }
  await Bun.sleep(1000 / rate)
}
await Promise.all(inflight)
await srv.stop()
rmSync(dir, { recursive: true, force: true })

/** Least-squares slope per minute of a metric over some samples. */
function slope(of: typeof samples, metric: (s: (typeof samples)[number]) => number) {
  const xs = of.map((s) => s.t / 60)
  const ys = of.map(metric)
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0)
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0)
  return den ? num / den : 0
}
const thirds = (i: number) => samples.slice(Math.floor((samples.length * i) / 3), Math.floor((samples.length * (i + 1)) / 3))
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
console.log(
  `soak: ${warmup} min warm-up, then ${minutes} min measured at ${rate}/s; ${sent} steps in all; errors=${errors} (${errors - errorsAtWindow} in the measured window)\n` +
    `  measured window: RSS ${samples[0]?.rss.toFixed(1)} → ${samples.at(-1)?.rss.toFixed(1)} MB (min ${Math.min(...samples.map((s) => s.rss)).toFixed(1)}, max ${Math.max(...samples.map((s) => s.rss)).toFixed(1)}), ` +
    `slope ${slope(samples, (s) => s.rss).toFixed(2)} MB/min; mean RSS by third ${[0, 1, 2].map((i) => mean(thirds(i).map((s) => s.rss)).toFixed(1)).join(' / ')} MB\n` +
    `  p99 median ${[...samples.map((s) => s.p99)].sort((a, b) => a - b)[Math.floor(samples.length / 2)]?.toFixed(1)} ms, max ${Math.max(...samples.map((s) => s.p99)).toFixed(1)} ms, slope ${slope(samples, (s) => s.p99).toFixed(2)} ms/min`,
)
process.exit(errors ? 1 : 0)
