/**
 * Two scimd processes (the compiled binary) on ONE PostgreSQL database, over real loopback HTTP, as behind a load
 * balancer: both start at the same moment (the migration runs under an advisory lock, src/db/pg/migrate.ts), then
 * uniqueness, If-Match, lost updates, memberships, cursors and the change history are checked across them, and one
 * of them is SIGKILLed under a write load with nothing acknowledged lost. Skipped like the other PostgreSQL tests
 * (test/helpers/pg.ts: SCIMD_TEST_PG=required makes a missing PostgreSQL an error).
 *
 * Replica A is called with bearer token #1 and replica B with token #2, so the change history (which records the
 * principal label) says which replica each write went through.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'
import { buildBinary, startBinary, type Running } from '../helpers/binary'
import { dropDatabase, freshDatabase, PG_SKIP_MESSAGE, pgUrl } from '../helpers/pg'

const serverUrl = await pgUrl()
if (!serverUrl) console.warn(PG_SKIP_MESSAGE)

const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const TOKENS = ['replica-token-a-0123456789', 'replica-token-b-0123456789']
const ADMIN = 'replica-admin-token-0123456789'
const root = mkdtempSync(join(tmpdir(), 'scimd-replicas-'))

interface Replica {
  name: 'A' | 'B'
  token: string
  srv: Running
  cwd: string
}

interface Answer {
  status: number
  json: any
  etag: string | null
}

async function send(r: Replica, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${r.srv.base}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/scim+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : undefined, etag: res.headers.get('etag') }
}

const version = (etag: string | null | undefined) => Number(/^W\/"(\d+)"$/.exec(etag ?? '')?.[1] ?? NaN)
const tally = (statuses: number[]) => {
  const out: Record<number, number> = {}
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1
  return out
}
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_URN], Operations })
/** figures for the report, printed once at the end */
const figures: string[] = []

describe.skipIf(!serverUrl)('two scimd replicas on one PostgreSQL', () => {
  let bin: string
  let dbUrl: string
  let env: Record<string, string>
  let A: Replica
  let B: Replica
  const both = () => [A, B]

  beforeAll(async () => {
    bin = buildBinary()
    dbUrl = await freshDatabase()
    env = { DATABASE_URL: dbUrl, SCIMD_BEARER_TOKENS: TOKENS.join(','), SCIMD_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn', SCIMD_PG_POOL: '8' }
    const cwdA = mkdtempSync(join(root, 'a-'))
    const cwdB = mkdtempSync(join(root, 'b-'))
    // the same moment: both race for the migration lock on an empty database
    const [a, b] = await Promise.all([startBinary(bin, cwdA, env), startBinary(bin, cwdB, env)])
    A = { name: 'A', token: TOKENS[0], srv: a, cwd: cwdA }
    B = { name: 'B', token: TOKENS[1], srv: b, cwd: cwdB }
  }, 30_000)

  afterAll(async () => {
    for (const r of [A, B]) if (r && r.srv.proc.exitCode === null && !r.srv.proc.killed) await r.srv.stop()
    if (dbUrl) await dropDatabase(dbUrl)
    rmSync(root, { recursive: true, force: true })
    if (figures.length) console.log(`replicas: ${figures.join('; ')}`)
  })

  test('started together on an empty database: every migration applied once, nothing on local disk', async () => {
    const journal = JSON.parse(readFileSync(join(import.meta.dir, '..', '..', 'drizzle', 'postgres', 'meta', '_journal.json'), 'utf8'))
    const sql = new SQL(dbUrl, { max: 1 })
    try {
      const [row] = (await sql.unsafe('select count(*)::int as n from drizzle.__drizzle_migrations')) as { n: number }[]
      expect(row.n).toBe(journal.entries.length)
    } finally {
      await sql.close()
    }
    for (const r of both()) expect(readdirSync(r.cwd)).toEqual([]) // no SQLite file made on the side
    for (const r of both()) expect((await send(r, 'GET', '/Users?count=0')).json.totalResults).toBe(0)
  })

  test('(a) 40 concurrent creates of one userName, 20 through each replica → one 201, 39 × 409 uniqueness', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => send(i % 2 ? B : A, 'POST', '/Users', { userName: i % 3 ? 'Twin@Example.com' : 'twin@example.com' })),
    )
    const statuses = results.map((r) => r.status)
    figures.push(`(a) 40 creates → ${JSON.stringify(tally(statuses))}`)
    expect(statuses.filter((s) => s === 201)).toHaveLength(1)
    expect(statuses.filter((s) => s === 409)).toHaveLength(39)
    for (const r of results.filter((r) => r.status === 409)) {
      expect(r.json.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
      expect(r.json.scimType).toBe('uniqueness')
    }
    // the 409s came from both replicas
    expect(results.filter((r, i) => r.status === 409 && i % 2 === 0).length).toBeGreaterThan(0)
    expect(results.filter((r, i) => r.status === 409 && i % 2 === 1).length).toBeGreaterThan(0)
    const filter = `/Users?filter=${encodeURIComponent('userName eq "twin@example.com"')}`
    for (const r of both()) expect((await send(r, 'GET', filter)).json.totalResults).toBe(1)
  })

  test('(b) If-Match with one ETag from both replicas → one 200, the rest 412; without If-Match no update is lost', async () => {
    const made = await send(A, 'POST', '/Users', { userName: 'contended@example.com', displayName: 'start' })
    expect(made.status).toBe(201)
    const id = made.json.id
    const etag = (await send(B, 'GET', `/Users/${id}`)).etag!
    expect(etag).toBe(made.etag!)

    const guarded = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send(i % 2 ? B : A, 'PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: `guarded-${i}` }), { 'if-match': etag }),
      ),
    )
    const gs = guarded.map((r) => r.status)
    figures.push(`(b) 20 If-Match PATCHes → ${JSON.stringify(tally(gs))}`)
    expect(gs.filter((s) => s === 200)).toHaveLength(1)
    expect(gs.filter((s) => s === 412)).toHaveLength(19)
    for (const r of guarded.filter((r) => r.status === 412)) expect(r.json.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
    const winner = guarded.findIndex((r) => r.status === 200)
    for (const r of both()) {
      const now = await send(r, 'GET', `/Users/${id}`)
      expect(now.json.displayName).toBe(`guarded-${winner}`)
      expect(version(now.etag)).toBe(version(etag) + 1)
    }

    // no If-Match: all of them apply, one after the other (each adds its own email too: none may go missing)
    const v0 = version((await send(A, 'GET', `/Users/${id}`)).etag)
    const N = 30
    const free = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        send(
          i % 2 ? B : A,
          'PATCH',
          `/Users/${id}`,
          patch({ op: 'replace', path: 'displayName', value: `free-${i}` }, { op: 'add', path: 'emails', value: [{ value: `free-${i}@example.com`, type: 'work' }] }),
        ),
      ),
    )
    const fs = free.map((r) => r.status)
    const oks = free.filter((r) => r.status === 200)
    figures.push(`(b) ${N} PATCHes without If-Match → ${JSON.stringify(tally(fs))}`)
    expect(oks.length).toBe(N) // nothing to refuse them for: they queue on the row lock
    // every 200 got its own version: v0+1 … v0+N
    expect(oks.map((r) => version(r.etag)).sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => v0 + 1 + i))
    const finals = await Promise.all(both().map((r) => send(r, 'GET', `/Users/${id}`)))
    for (const f of finals) {
      expect(version(f.etag)).toBe(v0 + oks.length)
      expect(f.json.displayName).toMatch(/^free-\d+$/)
      // the last write wins: the displayName of the response that got the highest version
      const last = free.find((r) => version(r.etag) === v0 + N)!
      expect(f.json.displayName).toBe(last.json.displayName)
      const emails = new Set((f.json.emails as { value: string }[]).map((e) => e.value))
      for (let i = 0; i < N; i++) expect(emails.has(`free-${i}@example.com`)).toBe(true)
    }
    expect(finals[0].etag).toBe(finals[1].etag)
  })

  test('(c) 50 member adds to one group, alternating replicas, all in flight together → all present on both', async () => {
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => send(i % 2 ? B : A, 'POST', '/Users', { userName: `member-${i}@example.com` })))
    expect(users.every((u) => u.status === 201)).toBe(true)
    const g = await send(B, 'POST', '/Groups', { displayName: 'Shared crowd' })
    expect(g.status).toBe(201)
    const adds = await Promise.all(
      users.map((u, i) => send(i % 2 ? A : B, 'PATCH', `/Groups/${g.json.id}`, patch({ op: 'add', path: 'members', value: [{ value: u.json.id }] }))),
    )
    const as = adds.map((r) => r.status)
    figures.push(`(c) 50 member adds → ${JSON.stringify(tally(as))}`)
    expect(as.every((s) => s === 200 || s === 204)).toBe(true)
    const seen = await Promise.all(both().map((r) => send(r, 'GET', `/Groups/${g.json.id}`)))
    const want = users.map((u) => u.json.id).sort()
    for (const s of seen) {
      expect(s.status).toBe(200)
      expect((s.json.members as { value: string }[]).map((m) => m.value).sort()).toEqual(want)
    }
    expect(seen[0].etag).toBe(seen[1].etag)
    figures.push(`(c) group version ${version(g.etag)} → ${version(seen[0].etag)}`)
    // each user sees the group from either replica
    for (const [i, u] of users.slice(0, 4).entries()) {
      const back = await send(i % 2 ? A : B, 'GET', `/Users/${u.json.id}`)
      expect((back.json.groups as { value: string }[]).map((x) => x.value)).toEqual([g.json.id])
    }
  })

  test('(d) a cursor from A continues on B; writes are visible across at once; the history shows both replicas', async () => {
    const made = await Promise.all(Array.from({ length: 12 }, (_, i) => send(A, 'POST', '/Users', { userName: `walk-${String(i).padStart(2, '0')}@example.com` })))
    expect(made.every((m) => m.status === 201)).toBe(true)
    const filter = encodeURIComponent('userName sw "walk-"')
    // the walk on A alone, for comparison
    const alone: string[] = []
    let cursor = ''
    for (let pages = 0; pages < 5; pages++) {
      const page = await send(A, 'GET', `/Users?filter=${filter}&count=5&cursor=${cursor}`)
      expect(page.status).toBe(200)
      alone.push(...page.json.Resources.map((r: { id: string }) => r.id))
      if (!page.json.nextCursor) break
      cursor = page.json.nextCursor
    }
    expect(alone.length).toBe(12)
    // the same walk, alternating replicas page by page (A issues, B continues, A continues B's)
    const mixed: string[] = []
    const hops: string[] = []
    cursor = ''
    for (let pages = 0; pages < 5; pages++) {
      const r = pages % 2 ? B : A
      const page = await send(r, 'GET', `/Users?filter=${filter}&count=5&cursor=${cursor}`)
      expect(page.status).toBe(200)
      expect(page.json.totalResults).toBe(12)
      hops.push(r.name)
      mixed.push(...page.json.Resources.map((x: { id: string }) => x.id))
      if (!page.json.nextCursor) break
      cursor = page.json.nextCursor
    }
    expect(hops).toEqual(['A', 'B', 'A'])
    expect(mixed).toEqual(alone)
    expect(new Set(mixed).size).toBe(12)
    // a forged cursor is refused by the other replica too (same key, still a signature check)
    const bad = await send(B, 'GET', `/Users?filter=${filter}&count=5&cursor=${cursor.slice(0, -2)}xx`)
    expect(bad.status).toBe(400)

    // read-your-write across replicas: a write on A is there on B on the very next request, and back
    const u = await send(A, 'POST', '/Users', { userName: 'seen-everywhere@example.com', displayName: 'one' })
    expect((await send(B, 'GET', `/Users/${u.json.id}`)).json.displayName).toBe('one')
    expect((await send(A, 'PATCH', `/Users/${u.json.id}`, patch({ op: 'replace', path: 'displayName', value: 'two' }))).status).toBe(200)
    expect((await send(B, 'GET', `/Users/${u.json.id}`)).json.displayName).toBe('two')
    expect((await send(B, 'PATCH', `/Users/${u.json.id}`, patch({ op: 'replace', path: 'displayName', value: 'three' }))).status).toBe(200)
    expect((await send(A, 'GET', `/Users/${u.json.id}`)).json.displayName).toBe('three')

    // the change history is shared: read through either replica, it lists the writes of both
    const histories = await Promise.all(
      both().map(async (r) => {
        const res = await fetch(`${r.srv.base}/admin/resources/${u.json.id}/history?order=oldest`, { headers: { authorization: `Bearer ${ADMIN}` } })
        expect(res.status).toBe(200)
        return (await res.json()) as { totalResults: number; entries: { seq: number; op: string; principal: string; after: { displayName?: string }; inInspector: boolean }[] }
      }),
    )
    for (const h of histories) {
      expect(h.totalResults).toBe(3)
      expect(h.entries.map((e) => [e.op, e.after.displayName, e.principal])).toEqual([
        ['create', 'one', expect.stringContaining('token #1')],
        ['patch', 'two', expect.stringContaining('token #1')],
        ['patch', 'three', expect.stringContaining('token #2')],
      ])
    }
    expect(histories[0].entries.map((e) => e.seq)).toEqual(histories[1].entries.map((e) => e.seq))
    // the inspector is per process: each replica holds only the requests it served itself
    expect(histories[0].entries.map((e) => e.inInspector)).toEqual([true, true, false])
    expect(histories[1].entries.map((e) => e.inInspector)).toEqual([false, false, true])
  })

  test('(e) B SIGKILLed under a write load over both: nothing acknowledged is lost, A never fails, B serves again', async () => {
    // what each resource must look like afterwards: `acked` is the last acknowledged state; `pending` a state
    // whose request got no answer (B died with it in flight: it may or may not have been committed)
    type UserState = { exists: boolean; displayName?: string; grouped?: boolean }
    const users = new Map<string, { userName: string; acked: UserState; pending?: UserState }>()
    const groups = new Map<string, { acked: Set<string>; pending: Set<string> }>()
    const errors = { A: [] as string[], B: [] as string[] }
    const counts = { A: 0, B: 0, acked: 0 }
    let killed = false
    let stop = false
    let ops = 0

    const worker = async (w: number) => {
      let r = w % 2 ? B : A
      const mine: string[] = [] // live users of this worker
      const g = await send(r, 'POST', '/Groups', { displayName: `load-group-${w}` })
      expect(g.status).toBe(201)
      groups.set(g.json.id, { acked: new Set(), pending: new Set() })
      for (let i = 0; !stop && i < 2000 && ops++ < 4000; i++) {
        const kind = mine.length < 3 ? 0 : i % 5
        let apply: (a: Answer) => void
        let request: [string, string, unknown?]
        let pendingMark: () => void
        if (kind <= 1) {
          const userName = `load-${w}-${i}@example.com`
          request = ['POST', '/Users', { userName }]
          pendingMark = () => {} // an unanswered create: its id is unknown, nothing to check
          apply = (a) => {
            expect(a.status).toBe(201)
            users.set(a.json.id, { userName, acked: { exists: true } })
            mine.push(a.json.id)
          }
        } else if (kind === 2) {
          const id = mine[i % mine.length]
          const u = users.get(id)!
          const displayName = `d-${w}-${i}`
          request = ['PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: displayName })]
          pendingMark = () => (u.pending = { ...u.acked, displayName })
          apply = (a) => {
            expect(a.status).toBe(200)
            u.acked = { ...u.acked, displayName }
          }
        } else if (kind === 3) {
          const id = mine[mine.length - 1]
          const grp = groups.get(g.json.id)!
          request = ['PATCH', `/Groups/${g.json.id}`, patch({ op: 'add', path: 'members', value: [{ value: id }] })]
          pendingMark = () => grp.pending.add(id)
          apply = (a) => {
            expect([200, 204]).toContain(a.status)
            grp.acked.add(id)
            users.get(id)!.acked.grouped = true
          }
          mine.pop() // grouped users are neither patched nor deleted any more: their state is settled
        } else {
          const id = mine.shift()!
          const u = users.get(id)!
          request = ['DELETE', `/Users/${id}`]
          pendingMark = () => (u.pending = { exists: false })
          apply = (a) => {
            expect(a.status).toBe(204)
            u.acked = { exists: false }
          }
        }
        const via = r
        let a: Answer
        try {
          a = await send(via, ...request)
        } catch (e) {
          // no answer at all (connection refused or reset): only B's requests in flight when it died may end so
          errors[via.name].push(`${request[0]} ${request[1]}: ${(e as Error).message}`)
          pendingMark()
          if (via === B && killed) {
            r = A // the load balancer takes B out: the rest goes to A
            continue
          }
          throw e
        }
        counts[via.name]++
        apply(a) // an answer other than the expected success fails the test, from either replica
        counts.acked++
      }
    }

    const workers = Array.from({ length: 8 }, (_, w) => worker(w))
    const all = Promise.all(workers)
    all.catch(() => (stop = true)) // a failing worker stops the others; the failure is reported below
    await Bun.sleep(700)
    killed = true
    B.srv.proc.kill('SIGKILL')
    const atKill = counts.acked
    await B.srv.proc.exited
    await Bun.sleep(700) // A carries the whole load for a while
    stop = true
    await all
    const afterKill = counts.acked - atKill
    figures.push(
      `(e) ${counts.acked} acknowledged writes (${atKill} before the kill, ${afterKill} after; via A ${counts.A}, via B ${counts.B}); errors A ${errors.A.length}, B ${errors.B.length} (in flight at the kill)`,
    )
    expect(errors.A).toEqual([]) // the survivor never failed
    expect(errors.B.length).toBeLessThanOrEqual(4) // one in flight per B worker at most
    expect(atKill).toBeGreaterThan(20)
    expect(afterKill).toBeGreaterThan(20)

    // every acknowledged write is there, read through the survivor
    let checked = 0
    for (const [id, u] of users) {
      const now = await send(A, 'GET', `/Users/${id}`)
      const states = [u.acked, ...(u.pending ? [u.pending] : [])]
      const actual: UserState = now.status === 200 ? { exists: true, displayName: now.json.displayName } : { exists: false }
      if (now.status !== 200) expect(now.status).toBe(404)
      else expect(now.json.userName).toBe(u.userName)
      const ok = states.some((s) => s.exists === actual.exists && (!s.exists || (s.displayName ?? undefined) === (actual.displayName ?? undefined)))
      if (!ok) throw new Error(`user ${id}: ${JSON.stringify(actual)} is none of ${JSON.stringify(states)}`)
      checked++
    }
    for (const [id, grp] of groups) {
      const now = await send(A, 'GET', `/Groups/${id}`)
      expect(now.status).toBe(200)
      const members = new Set(((now.json.members ?? []) as { value: string }[]).map((m) => m.value))
      for (const m of grp.acked) expect(members.has(m)).toBe(true)
      for (const m of members) expect(grp.acked.has(m) || grp.pending.has(m)).toBe(true)
    }
    expect(checked).toBe(users.size)

    // B again, same configuration: it serves, and sees what A wrote while it was down
    const again = await startBinary(bin, B.cwd, env)
    B = { ...B, srv: again }
    const fresh = await send(B, 'POST', '/Users', { userName: 'after-the-kill@example.com' })
    expect(fresh.status).toBe(201)
    expect((await send(A, 'GET', `/Users/${fresh.json.id}`)).status).toBe(200)
    const totals = await Promise.all(both().map((r) => send(r, 'GET', '/Users?count=0')))
    expect(totals[0].json.totalResults).toBe(totals[1].json.totalResults)
  }, 20_000)
})
