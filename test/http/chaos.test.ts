/**
 * The troubleshooting toolkit over real loopback HTTP: delays measured by a real client, faults as fetch sees them,
 * repeatable probabilities, redaction (inspector, JSON Lines log), the admin API's auth, and the console line.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listenTestApp } from '../helpers/server'
import { DEFAULTS, type Config } from '../../src/config'
import { assemble } from '../../src/server'
import { createLogger } from '../../src/log'
import { parseDelayRules } from '../../src/toolkit/rules'
import { TOKEN, user, GROUP_URN, PATCH_URN } from '../helpers/app'

const ADMIN = 'admin-token-for-the-chaos-tests'
const dir = mkdtempSync(join(tmpdir(), 'scimd-chaos-'))
const logFile = join(dir, 'requests.jsonl')

let t: ReturnType<typeof listenTestApp>
const admin = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${t.port}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } })
const putChaos = async (body: unknown) => {
  const res = await admin('/admin/chaos', { method: 'PUT', body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as any }
}
const clear = () => putChaos({ delay: null, delayRules: '', faults: '' })
const timed = async <T>(f: () => Promise<T>) => {
  const t0 = performance.now()
  const value = await f()
  return { value, ms: performance.now() - t0, end: performance.now() }
}

beforeAll(() => {
  t = listenTestApp({
    adminToken: ADMIN,
    requestLog: logFile,
    seed: 1234,
    delayRules: parseDelayRules('GET /Users?filter=*=600ms; PATCH /Groups/* op=remove=400ms'),
  })
})
afterAll(async () => {
  t.app.toolkit.close()
  await t.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('latency injection', () => {
  test('a delay rule is measured by the client; a concurrent request on another route is not held up', async () => {
    const created = await t.send('POST', '/Users', user('delayed.alice'))
    expect(created.status).toBe(201)
    const slow = timed(() => t.send('GET', '/Users?filter=' + encodeURIComponent('userName eq "delayed.alice"')))
    await Bun.sleep(20)
    const fast = await timed(() => t.send('GET', `/Users/${created.json.id}`))
    const write = await timed(() => t.send('POST', '/Users', user('delayed.bob')))
    const s = await slow
    expect(s.value.status).toBe(200)
    expect(s.value.json.totalResults).toBe(1)
    expect(s.ms).toBeGreaterThanOrEqual(600)
    expect(s.value.headers.get('x-scimd-injected')).toBe('delay=600ms; rule="GET /Users?filter=*=600ms"')
    expect(fast.value.status).toBe(200)
    expect(fast.value.headers.get('x-scimd-injected')).toBeNull()
    expect(fast.ms).toBeLessThan(300)
    expect(fast.end).toBeLessThan(s.end - 200)
    // a write while the delayed request waits: the delay holds no transaction
    expect(write.value.status).toBe(201)
    expect(write.ms).toBeLessThan(300)
  })

  test('PATCH op= rules: remove is delayed, add is not', async () => {
    const u = await t.send('POST', '/Users', user('member.carol'))
    const g = await t.send('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'delayed-group' })
    const add = await timed(() => t.send('PATCH', `/Groups/${g.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: u.json.id }] }] }))
    expect(add.value.status).toBe(200)
    expect(add.ms).toBeLessThan(300)
    const remove = await timed(() => t.send('PATCH', `/Groups/${g.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: `members[value eq "${u.json.id}"]` }] }))
    expect(remove.value.status).toBe(200)
    expect(remove.ms).toBeGreaterThanOrEqual(400)
    expect(remove.value.headers.get('x-scimd-injected')).toBe('delay=400ms; rule="PATCH /Groups/* op=remove=400ms"')
  })

  test('SCIMD_DELAY (set at run time) applies to requests no rule matches', async () => {
    expect((await putChaos({ delay: '250ms' })).status).toBe(200)
    const r = await timed(() => t.send('GET', '/ServiceProviderConfig'))
    expect(r.ms).toBeGreaterThanOrEqual(250)
    expect(r.value.headers.get('x-scimd-injected')).toBe('delay=250ms; rule="SCIMD_DELAY"')
    expect((await putChaos({ delay: null })).json.delay).toBeNull()
    const after = await timed(() => t.send('GET', '/ServiceProviderConfig'))
    expect(after.value.headers.get('x-scimd-injected')).toBeNull()
  })
})

describe('fault injection', () => {
  test('p=0.3 over 300 requests lands between 20% and 40%, and the same seed gives the same sequence', async () => {
    const run = async () => {
      expect((await putChaos({ delayRules: '', faults: 'GET /ServiceProviderConfig=503 p=0.3 retry-after=2', seed: 777 })).status).toBe(200)
      let seq = ''
      for (let i = 0; i < 300; i++) {
        const res = await fetch(t.base + '/ServiceProviderConfig', { headers: { authorization: `Bearer ${TOKEN}` } })
        await res.arrayBuffer()
        seq += res.status === 503 ? 'x' : res.status === 200 ? '.' : '?'
      }
      return seq
    }
    const first = await run()
    const hits = [...first].filter((c) => c === 'x').length
    expect(first).not.toContain('?')
    expect(hits).toBeGreaterThanOrEqual(60)
    expect(hits).toBeLessThanOrEqual(120)
    expect(await run()).toBe(first)
    await clear()
  })

  test('every=3 fires on exactly every third matching request', async () => {
    await putChaos({ faults: 'GET /ResourceTypes=500 every=3' })
    const statuses: number[] = []
    for (let i = 0; i < 9; i++) statuses.push((await t.send('GET', '/ResourceTypes')).status)
    expect(statuses).toEqual([200, 200, 500, 200, 200, 500, 200, 200, 500])
    await clear()
  })

  test.each([
    ['429', 429, '7'],
    ['500', 500, null],
    ['502', 502, null],
    ['503', 503, '3'],
  ])('%s: status, Retry-After and a SCIM error body', async (kind, status, retryAfter) => {
    const extra = retryAfter ? ` retry-after=${retryAfter}` : ''
    await putChaos({ faults: `POST /Users=${kind}${extra}` })
    const res = await fetch(t.base + '/Users', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' }, body: JSON.stringify(user(`fault.${kind}`)) })
    expect(res.status).toBe(status)
    expect(res.headers.get('retry-after')).toBe(retryAfter)
    expect(res.headers.get('content-type')).toStartWith('application/scim+json')
    expect(res.headers.get('x-scimd-injected')).toBe(`fault=${kind}; rule="POST /Users=${kind}${extra}"`)
    const body = (await res.json()) as any
    expect(body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status) })
    // nothing was written
    const list = await t.send('GET', '/Users?filter=' + encodeURIComponent(`userName eq "fault.${kind}"`))
    expect(list.json.totalResults).toBe(0)
    await clear()
  })

  test('429 without retry-after still tells the client when to retry', async () => {
    await putChaos({ faults: 'GET /Schemas=429' })
    const res = await fetch(t.base + '/Schemas', { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('1')
    await clear()
  })

  test('hang: the client gives up (AbortSignal.timeout); the inspector records it', async () => {
    await putChaos({ faults: 'GET /Groups=hang' })
    const t0 = performance.now()
    let err: unknown
    try {
      await fetch(t.base + '/Groups', { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(400) })
    } catch (e) {
      err = e
    }
    expect((err as Error)?.name).toBe('TimeoutError')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390)
    await clear()
    let entry: any
    for (let i = 0; i < 50 && !entry; i++) {
      await Bun.sleep(20)
      const list = (await (await admin('/admin/requests?method=GET&path=' + encodeURIComponent('/Groups') + '&full=true')).json()) as any
      entry = list.entries.find((e: any) => e.outcome === 'hang')
    }
    expect(entry).toMatchObject({ status: null, outcome: 'hang', injected: 'fault=hang; rule="GET /Groups=hang"' })
    expect(entry.outcomeDetail).toContain('client gave up')
  })

  test('drop: fetch rejects with a network error', async () => {
    await putChaos({ faults: '* /Groups=drop' })
    let err: unknown
    try {
      await fetch(t.base + '/Groups', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' }, body: JSON.stringify({ schemas: [GROUP_URN], displayName: 'dropped' }) })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(TypeError)
    await clear()
    const list = await t.send('GET', '/Groups?filter=' + encodeURIComponent('displayName eq "dropped"'))
    expect(list.json.totalResults).toBe(0)
  })

  test('truncate: valid headers, the body is cut mid-JSON; badjson: a body that is not JSON', async () => {
    await putChaos({ faults: 'GET /Users=truncate; GET /Groups=badjson' })
    const cut = await fetch(t.base + '/Users', { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(cut.status).toBe(200)
    expect(cut.headers.get('content-type')).toStartWith('application/scim+json')
    const bad = await fetch(t.base + '/Groups', { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(bad.status).toBe(200)
    await clear()
    const whole = await (await fetch(t.base + '/Users', { headers: { authorization: `Bearer ${TOKEN}` } })).text()
    const cutText = await cut.clone().text()
    expect(cutText.length).toBeGreaterThan(0)
    expect(cutText.length).toBeLessThan(whole.length)
    expect(whole.startsWith(cutText.slice(0, 40))).toBe(true)
    await expect(cut.json()).rejects.toThrow()
    await expect(bad.json()).rejects.toThrow()
  })

  test('a rule that does not parse → 400 SCIM error quoting it; nothing changes', async () => {
    await putChaos({ faults: 'GET /Schemas=503' })
    const r = await putChaos({ faults: 'GET /Users=500; POST /Users=404 p=2' })
    expect(r.status).toBe(400)
    expect(r.json).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidValue' })
    expect(r.json.detail).toContain("'POST /Users=404 p=2'")
    expect((await (await admin('/admin/chaos')).json() as any).faults).toEqual(['GET /Schemas=503'])
    await clear()
  })
})

describe('inspector', () => {
  test('exchanges are recorded with secrets redacted, in the buffer and in SCIMD_REQUEST_LOG', async () => {
    const secretPassword = 'S3cret-Passw0rd!'
    const queryToken = 'leaky-query-token-123'
    const created = await t.send('POST', '/Users', user('redact.dave', { password: secretPassword }), { cookie: 'session=cookie-secret-xyz', 'x-api-key': 'apikey-secret-xyz' })
    expect(created.status).toBe(201)
    expect(created.headers.get('x-scimd-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const patched = await t.send('PATCH', `/Users/${created.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'password', value: secretPassword }, { op: 'replace', path: 'displayName', value: 'Dave R' }] })
    expect(patched.status).toBe(200)
    const refused = await fetch(`${t.base}/Users?access_token=${queryToken}`)
    expect(refused.status).toBe(401)
    await Bun.sleep(50)

    const list = (await (await admin('/admin/requests?limit=10&full=true')).json()) as any
    const text = JSON.stringify(list)
    for (const secret of [TOKEN, secretPassword, queryToken, 'cookie-secret-xyz', 'apikey-secret-xyz']) expect(text).not.toContain(secret)
    const post = list.entries.find((e: any) => e.id === created.headers.get('x-scimd-request-id'))
    expect(post).toMatchObject({
      method: 'POST',
      status: 201,
      authMode: 'bearer',
      authSubject: 'token #1',
      tenant: 'default',
      resource: { type: 'User', id: created.json.id },
      before: null,
    })
    expect(post.requestHeaders.authorization).toBe('Bearer [REDACTED]')
    expect(post.requestHeaders.cookie).toBe('[REDACTED]')
    expect(JSON.parse(post.requestBody).password).toBe('[REDACTED]')
    expect(post.after.userName).toBe('redact.dave')
    const patch = list.entries.find((e: any) => e.method === 'PATCH')
    expect(patch.before.displayName).toBeUndefined()
    expect(patch.after.displayName).toBe('Dave R')
    expect(JSON.parse(patch.requestBody).Operations[0].value).toBe('[REDACTED]')
    const denied = list.entries.find((e: any) => e.status === 401)
    expect(denied.url).toBe('/scim/v2/Users?access_token=[REDACTED]')
    expect(denied.authMode).toBe('none')

    const one = (await (await admin(`/admin/requests/${post.id}`)).json()) as any
    expect(one.id).toBe(post.id)
    expect((await admin('/admin/requests/nope')).status).toBe(404)

    const filtered = (await (await admin('/admin/requests?method=patch&status=2xx&path=' + encodeURIComponent('/Users/*'))).json()) as any
    expect(filtered.entries.length).toBeGreaterThanOrEqual(1)
    expect(filtered.entries.every((e: any) => e.method === 'PATCH' && e.status >= 200 && e.status < 300)).toBe(true)
    expect(filtered.entries[0].requestBody).toBeUndefined() // summaries unless full=true

    const file = readFileSync(logFile, 'utf8')
    for (const secret of [TOKEN, secretPassword, queryToken, 'cookie-secret-xyz']) expect(file).not.toContain(secret)
    const lines = file.trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.some((l) => l.id === post.id && l.requestHeaders.authorization === 'Bearer [REDACTED]')).toBe(true)
  })

  test('a PATCH of the password with capitalised Path/Value (accepted like path/value) is redacted too, also inside /Bulk', async () => {
    const secret = 'Capitalised-Path-Secret-42'
    const u = await t.send('POST', '/Users', user('redact.erin'))
    const patch = await t.send('PATCH', `/Users/${u.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'Replace', Path: 'Password', Value: secret + '1' }] })
    expect(patch.status).toBe(200)
    const bulk = await t.send('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [{ method: 'PATCH', path: `/Users/${u.json.id}`, data: { schemas: [PATCH_URN], Operations: [{ op: 'replace', PATH: 'password', VALUE: secret + '2' }] } }],
    })
    expect(bulk.json.Operations[0].status).toBe('200')
    const ids = [patch.headers.get('x-scimd-request-id'), bulk.headers.get('x-scimd-request-id')]
    for (const id of ids) {
      const one = await (await admin(`/admin/requests/${id}`)).text()
      expect(one).toContain('[REDACTED]')
      expect(one).not.toContain(secret)
    }
    expect(readFileSync(logFile, 'utf8')).not.toContain(secret)
  })

  test('the SSE stream delivers each new exchange', async () => {
    const ctl = new AbortController()
    const res = await admin('/admin/requests/stream', { signal: ctl.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/event-stream')
    const reader = res.body!.getReader()
    const sent = await t.send('GET', '/Users?count=1')
    const id = sent.headers.get('x-scimd-request-id')!
    let buf = ''
    const deadline = Date.now() + 3000
    while (!buf.includes(id) && Date.now() < deadline) {
      const { value, done } = await Promise.race([reader.read(), Bun.sleep(3000).then(() => ({ value: undefined, done: true }))])
      if (done) break
      buf += new TextDecoder().decode(value)
    }
    ctl.abort()
    expect(buf).toContain('event: exchange')
    const data = buf.split('\n').find((l) => l.startsWith('data: ') && l.includes(id))!
    expect(JSON.parse(data.slice(6))).toMatchObject({ id, method: 'GET', status: 200, url: '/scim/v2/Users?count=1' })
  })
})

describe('admin API auth', () => {
  test('no token → 401, wrong → 401, right → 200; the page logs in with a cookie', async () => {
    const url = `http://127.0.0.1:${t.port}/admin/chaos`
    const none = await fetch(url)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toContain('Bearer')
    expect(((await none.json()) as any).schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-admin-token-123456' } })).status).toBe(401)
    expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401) // the SCIM token is not the admin token
    expect((await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200)
    for (const p of ['/admin/requests', '/admin/requests/stream', '/admin/requests/x']) expect((await fetch(`http://127.0.0.1:${t.port}${p}`)).status).toBe(401)

    const page = await fetch(`http://127.0.0.1:${t.port}/admin`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(await page.text()).toContain('/admin/assets/admin.js')
    expect((await fetch(`http://127.0.0.1:${t.port}/admin/assets/admin.js`)).headers.get('content-type')).toStartWith('text/javascript')

    const login = (token: string) => fetch(`http://127.0.0.1:${t.port}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })
    expect((await login('not-the-admin-token')).status).toBe(401)
    const ok = await login(ADMIN)
    expect(ok.status).toBe(204)
    const setCookie = ok.headers.get('set-cookie')!
    expect(setCookie).toMatch(/^scimd_admin=[A-Za-z0-9_-]{43}; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=43200$/)
    const cookie = setCookie.split(';')[0]
    expect((await fetch(url, { headers: { cookie } })).status).toBe(200)
    expect((await fetch(url, { headers: { cookie: 'scimd_admin=forged' } })).status).toBe(401)
    await fetch(`http://127.0.0.1:${t.port}/admin/logout`, { method: 'POST', headers: { cookie } })
    expect((await fetch(url, { headers: { cookie } })).status).toBe(401)
  })

  test('the admin routes are documented in /docs under Admin', async () => {
    const spec = (await (await fetch(`http://127.0.0.1:${t.port}/docs/json`)).json()) as any
    for (const p of ['/admin/chaos', '/admin/requests', '/admin/requests/stream', '/admin/requests/{id}', '/admin/login']) {
      const ops = spec.paths[p]
      expect(ops).toBeDefined()
      for (const op of Object.values(ops) as any[]) expect(op.tags).toEqual(['Admin'])
    }
    expect(spec.paths['/admin/chaos'].put).toBeDefined()
    expect(spec.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' })
  })

  test('without SCIMD_ADMIN_TOKEN, /admin is off (404) and nothing is recorded', async () => {
    const off = listenTestApp({})
    try {
      for (const p of ['/admin', '/admin/chaos', '/admin/requests'])
        expect((await fetch(`http://127.0.0.1:${off.port}${p}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404)
      await off.send('GET', '/Users')
      expect(off.app.toolkit.inspector.list()).toHaveLength(0)
    } finally {
      await off.close()
    }
  })
})

describe('console line', () => {
  test('one JSON line per request: method, path without secrets, status, duration, what was injected', async () => {
    const lines: string[] = []
    const config: Config = { ...DEFAULTS, databaseUrl: ':memory:', bearerTokens: [TOKEN], delayRules: parseDelayRules('GET /Groups=50ms') }
    const s = assemble(config, createLogger('info', 'json', (l) => lines.push(l)))
    await s.app.handle(new Request('http://localhost/scim/v2/Groups?access_token=qs-secret-456', { headers: { authorization: `Bearer ${TOKEN}` } }))
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request')
    expect(line).toMatchObject({ level: 'info', method: 'GET', path: '/scim/v2/Groups?access_token=[REDACTED]', status: 401, injected: 'delay=50ms; rule="GET /Groups=50ms"' })
    expect(line.ms).toBeGreaterThanOrEqual(50)
    expect(lines.join('\n')).not.toContain('qs-secret-456')
    expect(lines.join('\n')).not.toContain(TOKEN)
    s.app.toolkit.close()
  })
})
