/** The compiled binary, started in an empty folder, over real HTTP. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary, startBinary, type Running } from '../helpers/binary'

const TOKEN = 'binary-test-token-42'
let bin: string
let dir: string
let srv: Running

const scim = (path: string, init: RequestInit & { token?: string | null } = {}) => {
  const headers = new Headers(init.headers)
  if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? TOKEN}`)
  if (init.body) headers.set('content-type', 'application/scim+json')
  return fetch(`${srv.base}/scim/v2${path}`, { ...init, headers })
}

beforeAll(async () => {
  bin = buildBinary()
  dir = mkdtempSync(join(tmpdir(), 'scimd-empty-'))
  srv = await startBinary(bin, dir, { SCIMD_BEARER_TOKENS: TOKEN })
})

afterAll(async () => {
  if (srv && srv.proc.exitCode === null) await srv.stop('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

describe('compiled binary', () => {
  test('creates its database in the empty working folder', () => {
    expect(existsSync(join(dir, 'scimd.sqlite'))).toBe(true)
  })

  test('SCIM round trip: create, read back, filter', async () => {
    const c = await scim('/Users', { method: 'POST', body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bin@example.com' }) })
    expect(c.status).toBe(201)
    expect(c.headers.get('content-type')).toStartWith('application/scim+json')
    const created = await c.json()
    expect(c.headers.get('location')).toBe(`${srv.base}/scim/v2/Users/${created.id}`)
    const g = await scim(`/Users/${created.id}`)
    expect(g.status).toBe(200)
    expect((await g.json()).userName).toBe('bin@example.com')
    const l = await scim(`/Users?filter=${encodeURIComponent('userName eq "BIN@example.com"')}`)
    expect((await l.json()).totalResults).toBe(1)
  })

  test.each([
    ['malformed JSON', 'POST', '/Users', '{"userName":', 400, 'invalidSyntax'],
    ['missing userName', 'POST', '/Users', '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}', 400, 'invalidValue'],
    ['wrong type', 'POST', '/Users', '{"userName":42}', 400, 'invalidValue'],
    ['missing displayName', 'POST', '/Groups', '{"members":[]}', 400, 'invalidValue'],
    ['a body that is not an object', 'POST', '/Users', '[1,2]', 400, 'invalidSyntax'],
    ['unknown id', 'GET', '/Users/nope', undefined, 404, undefined],
    ['unknown route', 'GET', '/Nope', undefined, 404, undefined],
    ['unsupported method', 'DELETE', '/Users', undefined, 405, undefined],
    ['bad filter', 'GET', '/Users?filter=userName%20eq', undefined, 400, 'invalidFilter'],
  ])('%s → SCIM error', async (...[, method, path, body, status, scimType]) => {
    const r = await scim(path as string, { method: method as string, body: body as string | undefined })
    expect(r.status).toBe(status as number)
    expect(r.headers.get('content-type')).toStartWith('application/scim+json')
    const j = await r.json()
    expect(j.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
    expect(j.status).toBe(String(status))
    expect(j.scimType).toBe(scimType as string | undefined)
  })

  test('duplicate userName → 409 uniqueness; no token → 401 with WWW-Authenticate', async () => {
    const body = JSON.stringify({ userName: 'dup-bin@example.com' })
    expect((await scim('/Users', { method: 'POST', body })).status).toBe(201)
    const d = await scim('/Users', { method: 'POST', body })
    expect(d.status).toBe(409)
    expect((await d.json()).scimType).toBe('uniqueness')
    const u = await scim('/Users', { token: null })
    expect(u.status).toBe(401)
    expect(u.headers.get('www-authenticate')).toContain('Bearer')
  })

  test('body over SCIMD_MAX_BODY → 413 SCIM error', async () => {
    const r = await scim('/Users', { method: 'POST', body: JSON.stringify({ userName: 'x', title: 'y'.repeat(11 * 1024 * 1024) }) })
    expect(r.status).toBe(413)
    expect((await r.json()).status).toBe('413')
  })

  test('a chunked body (no Content-Length) over the limit → 413 SCIM error', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(1024 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 12) c.enqueue(chunk)
        else c.close()
      },
    })
    const r = await fetch(`${srv.base}/scim/v2/Users`, {
      method: 'POST',
      body: stream,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      duplex: 'half',
    } as RequestInit)
    expect(r.status).toBe(413)
    expect((await r.json()).status).toBe('413')
  })

  test('serves /docs and /docs/json', async () => {
    const html = await fetch(`${srv.base}/docs`)
    expect(html.status).toBe(200)
    expect(html.headers.get('content-type')).toContain('text/html')
    const spec = await (await fetch(`${srv.base}/docs/json`)).json()
    expect(Object.keys(spec.paths)).toContain('/scim/v2/Users')
    expect(Object.keys(spec.paths)).toContain('/scim/v2/Groups/{id}')
  })

  test('keeps its data across a restart; SIGTERM exits 0', async () => {
    const c = await scim('/Users', { method: 'POST', body: JSON.stringify({ userName: 'persist@example.com' }) })
    const id = (await c.json()).id
    expect(await srv.stop('SIGTERM')).toBe(0)
    srv = await startBinary(bin, dir, { SCIMD_BEARER_TOKENS: TOKEN })
    const g = await scim(`/Users/${id}`)
    expect(g.status).toBe(200)
    expect((await g.json()).userName).toBe('persist@example.com')
  })

  test('--version, --help, and a bad setting exits 2 with one line naming it', () => {
    const v = Bun.spawnSync([bin, '--version'])
    expect(v.exitCode).toBe(0)
    expect(v.stdout.toString()).toMatch(/^scimd \d+\.\d+\.\d+\n$/)
    const h = Bun.spawnSync([bin, '--help'])
    expect(h.stdout.toString()).toContain('SCIMD_BEARER_TOKENS')
    const bad = Bun.spawnSync([bin], { env: { PORT: 'eighty', PATH: process.env.PATH ?? '' }, cwd: dir })
    expect(bad.exitCode).toBe(2)
    const lines = bad.stderr.toString().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('PORT')
  })

  test('first start without auth prints a generated token that works', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'scimd-gen-'))
    const s = await startBinary(bin, d2)
    try {
      await Bun.sleep(100)
      const m = /Bearer (scimd_[A-Za-z0-9_-]+)/.exec(s.output())
      expect(m).not.toBeNull()
      const ok = await fetch(`${s.base}/scim/v2/Users`, { headers: { authorization: `Bearer ${m![1]}` } })
      expect(ok.status).toBe(200)
      expect((await fetch(`${s.base}/scim/v2/Users`)).status).toBe(401)
    } finally {
      await s.stop()
      rmSync(d2, { recursive: true, force: true })
    }
  })
})

describe('graceful shutdown', () => {
  test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const d = mkdtempSync(join(tmpdir(), 'scimd-term-'))
    const s = await startBinary(bin, d, { SCIMD_BEARER_TOKENS: TOKEN, SCIMD_DELAY_RULES: 'GET /Users=1500ms' })
    try {
      const started = performance.now()
      const inflight = fetch(`${s.base}/scim/v2/Users`, { headers: { authorization: `Bearer ${TOKEN}` } })
      await Bun.sleep(300)
      s.proc.kill('SIGTERM')
      const r = await inflight
      expect(r.status).toBe(200)
      expect((await r.json()).totalResults).toBe(0)
      expect(performance.now() - started).toBeGreaterThanOrEqual(1500)
      expect(await s.proc.exited).toBe(0)
      await expect(fetch(`${s.base}/healthz`)).rejects.toThrow()
    } finally {
      if (s.proc.exitCode === null) s.proc.kill('SIGKILL')
      rmSync(d, { recursive: true, force: true })
    }
  })
})
