/** Hostile input: each case gets its expected SCIM answer, never a 500 or a crash. */
import { afterAll, describe, expect, test } from 'bun:test'
import { listenTestApp } from '../helpers/server'
import { makeTestApp, PATCH_URN, user } from '../helpers/app'

const srv = listenTestApp()
afterAll(() => srv.close())

const scimError = (r: { status: number; json: any; headers: Headers }, status: number, scimType?: string) => {
  expect(r.status).toBe(status)
  expect(r.headers.get('content-type')).toStartWith('application/scim+json')
  expect(r.json.status).toBe(String(status))
  if (scimType) expect(r.json.scimType).toBe(scimType)
}

describe('hostile bodies', () => {
  test('JSON nested 1,000 deep → 400, not a crash', async () => {
    const deep = '{"userName":"deep@example.com","title":' + '['.repeat(1000) + ']'.repeat(1000) + '}'
    scimError(await srv.send('POST', '/Users', deep), 400, 'invalidValue')
    const deepObj = '{"userName":"deep2@example.com","name":' + '{"a":'.repeat(1000) + '1' + '}'.repeat(1000) + '}'
    const r = await srv.send('POST', '/Users', deepObj)
    expect(r.status).toBeLessThan(500)
  })

  test('an array of 100,000 elements → a quick 400', async () => {
    const emails = Array.from({ length: 100_000 }, (_, i) => ({ value: `e${i}@x.com`, primary: true }))
    const started = performance.now()
    const r = await srv.send('POST', '/Users', { userName: 'wide@example.com', emails })
    scimError(r, 400, 'invalidValue') // more than one primary
    expect(performance.now() - started).toBeLessThan(2000)
    const members = await srv.send('POST', '/Groups', { displayName: 'wide', members: Array.from({ length: 100_000 }, (_, i) => ({ value: `nobody-${i}` })) })
    scimError(members, 400, 'invalidValue')
  })

  test('a NUL byte in userName (or any string) is refused with 400 invalidValue — PostgreSQL cannot store it, so neither store does', async () => {
    scimError(await srv.send('POST', '/Users', { userName: 'nul\u0000byte@example.com' }), 400, 'invalidValue')
    scimError(await srv.send('POST', '/Users', { userName: 'ok@example.com', name: { givenName: 'a\u0000' } }), 400, 'invalidValue')
    scimError(await srv.send('POST', '/Users', { userName: 'ok2@example.com', 'urn:x:ext': { ['k\u0000']: 1 } }), 400, 'invalidValue')
    // a literal backslash followed by u0000 is an ordinary string
    const r = await srv.send('POST', '/Users', { userName: 'back\\u0000slash@example.com' })
    expect(r.status).toBe(201)
    expect(r.json.userName).toBe('back\\u0000slash@example.com')
  })

  test('__proto__ and constructor keys in bodies and PATCH paths pollute nothing', async () => {
    const body = JSON.parse('{"userName":"proto@example.com","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"name":{"__proto__":{"polluted":true}}}')
    const r = await srv.send('POST', '/Users', body)
    expect(r.status).toBe(201)
    expect(({} as any).polluted).toBeUndefined()
    expect(r.json.polluted).toBeUndefined()
    for (const path of ['__proto__', '__proto__.polluted', 'constructor.prototype', 'name.__proto__']) {
      const p = await srv.send('PATCH', `/Users/${r.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path, value: { polluted: true } }] })
      scimError(p, 400, 'invalidPath')
    }
    const v = await srv.send('PATCH', `/Users/${r.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', value: JSON.parse('{"__proto__":{"polluted":true}}') }] })
    expect(v.status).toBeLessThan(500)
    expect(({} as any).polluted).toBeUndefined()
  })
})

describe('Unicode case tricks in userName (NFKC + case folding, see README)', () => {
  test.each([
    ['straße@example.com', 'STRASSE@example.com'],
    ['ınstanbul@example.com', 'INSTANBUL@example.com'],
    ['ａdmin@example.com', 'admin@example.com'],
    ['Ǆemal@example.com', 'ǆemal@example.com'],
  ])('%s and %s are the same userName', async (a, b) => {
    const t = makeTestApp()
    expect((await t.req('POST', '/Users', user(a))).status).toBe(201)
    scimError(await t.req('POST', '/Users', user(b)), 409, 'uniqueness')
    const f = await t.req('GET', `/Users?filter=${encodeURIComponent(`userName eq "${b}"`)}`)
    expect(f.json.totalResults).toBe(1)
    expect(f.json.Resources[0].userName).toBe(a)
  })

  test('İ (dotted capital I) is not i', async () => {
    const t = makeTestApp()
    expect((await t.req('POST', '/Users', user('İlker@example.com'))).status).toBe(201)
    expect((await t.req('POST', '/Users', user('ilker@example.com'))).status).toBe(201)
  })
})

describe('hostile URLs and headers', () => {
  test.each(['/Users/..%2F..%2Fetc%2Fpasswd', '/Users/%2e%2e', '/Users/..%5C..%5Cwindows', "/Users/1'%20or%20'1'='1", '/Users/%00'])('id %s → 404 SCIM error', async (path) => {
    scimError(await srv.send('GET', path), 404)
  })

  test('huge headers are refused by the HTTP layer or answered; the server keeps serving', async () => {
    const r = await fetch(srv.base + '/Users', { headers: { authorization: 'Bearer test-token-0123456789', 'x-big': 'x'.repeat(200_000) } }).catch(() => undefined)
    if (r) expect(r.status).toBeLessThan(500)
    expect((await srv.send('GET', '/Users?count=1')).status).toBe(200)
  })

  test('CRLF in header values cannot be sent, and nothing we echo carries it', async () => {
    await expect(fetch(srv.base + '/Users', { headers: { 'x-evil': 'a\r\nSet-Cookie: x=1' } })).rejects.toThrow()
    // a filter value with CR/LF is data, not a header: Location/ETag never contain user input
    const r = await srv.send('POST', '/Users', { userName: 'crlf\r\nSet-Cookie: x=1@example.com' })
    expect(r.status).toBe(201)
    expect(r.headers.get('set-cookie')).toBeNull()
    expect(r.headers.get('location')).not.toContain('\n')
  })
})
