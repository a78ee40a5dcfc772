/**
 * Issue 4 §6: meta.version changes on every write (POST, PUT, PATCH, membership change), the ETag header mirrors
 * it, If-Match on PUT/PATCH/DELETE → 412 on a mismatch (RFC 7644 §3.14; RFC 7232 §3.1), If-None-Match on GET →
 * 304 when unchanged (RFC 7232 §3.2).
 */
import { describe, expect, test } from 'bun:test'
import { ERROR_URN, makeTestApp, PATCH_URN, SCIM, user } from '../helpers/app'

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_URN], Operations })

/** RFC 7644 §3.12 has no scimType for 412: the body is a SCIM error with status "412" and no scimType. */
function expect412(r: { status: number; headers: Headers; json: any }) {
  expect(r.status).toBe(412)
  expect(r.headers.get('content-type')).toStartWith(SCIM)
  expect(r.json.schemas).toEqual([ERROR_URN])
  expect(r.json.status).toBe('412')
  expect(r.json.scimType).toBeUndefined()
  expect(r.json.detail.length).toBeGreaterThan(0)
}

async function setup() {
  const t = makeTestApp()
  const c = await t.req('POST', '/Users', user('alice@example.com'))
  return { t, id: c.json.id as string, c }
}

describe('versions and ETags', () => {
  test('POST answers ETag = meta.version; GET, PUT and PATCH change it each time, and the ETag follows', async () => {
    const { t, id, c } = await setup()
    const seen = new Set<string>()
    const check = (r: { status: number; headers: Headers; json: any }) => {
      expect(r.status).toBeLessThan(300)
      const etag = r.headers.get('etag')!
      expect(etag).toMatch(/^W\/".+"$/)
      expect(r.json.meta.version).toBe(etag)
      return etag
    }
    seen.add(check(c))
    const g = await t.req('GET', `/Users/${id}`)
    expect(check(g)).toBe(c.headers.get('etag')!) // a read does not change it
    const writes = [
      () => t.req('PUT', `/Users/${id}`, user('alice@example.com', { displayName: 'A' })),
      () => t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'B' })),
      () => t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'B' })),
      () => t.req('PUT', `/Users/${id}`, user('alice@example.com', { displayName: 'B' })),
    ]
    for (const write of writes) {
      const e = check(await write())
      expect(seen.has(e)).toBe(false)
      seen.add(e)
      expect((await t.req('GET', `/Users/${id}`)).headers.get('etag')).toBe(e)
    }
  })

  test('a membership change (PATCH add/remove, PUT members) changes the group version', async () => {
    const { t, id } = await setup()
    const g = await t.req('POST', '/Groups', { displayName: 'G' })
    const versions = [g.json.meta.version]
    const step = async (r: { status: number; json: any; headers: Headers }) => {
      expect(r.status).toBe(200)
      expect(versions).not.toContain(r.json.meta.version)
      expect(r.headers.get('etag')).toBe(r.json.meta.version)
      versions.push(r.json.meta.version)
    }
    await step(await t.req('PATCH', `/Groups/${g.json.id}`, patch({ op: 'add', path: 'members', value: [{ value: id }] })))
    await step(await t.req('PATCH', `/Groups/${g.json.id}`, patch({ op: 'remove', path: `members[value eq "${id}"]` })))
    await step(await t.req('PUT', `/Groups/${g.json.id}`, { displayName: 'G', members: [{ value: id }] }))
    expect((await t.req('GET', `/Groups/${g.json.id}`)).json.meta.version).toBe(versions.at(-1))
  })

  test('list results carry meta.version too', async () => {
    const { t, c } = await setup()
    const l = await t.req('GET', '/Users')
    expect(l.json.Resources[0].meta.version).toBe(c.json.meta.version)
  })
})

describe('If-Match (PUT, PATCH, DELETE)', () => {
  test('a stale ETag → 412 and nothing changes; the current one, a list holding it, or * → success', async () => {
    const { t, id, c } = await setup()
    const stale = c.headers.get('etag')!
    const r1 = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'A' }), { headers: { 'if-match': stale } })
    expect(r1.status).toBe(200)
    const current = r1.headers.get('etag')!

    expect412(await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'X' }), { headers: { 'if-match': stale } }))
    expect412(await t.req('PUT', `/Users/${id}`, user('alice@example.com', { displayName: 'X' }), { headers: { 'if-match': stale } }))
    expect412(await t.req('DELETE', `/Users/${id}`, undefined, { headers: { 'if-match': stale } }))
    expect412(await t.req('PUT', `/Users/${id}`, user('alice@example.com'), { headers: { 'if-match': 'W/"no-such-version"' } }))
    const still = await t.req('GET', `/Users/${id}`)
    expect(still.json.displayName).toBe('A')
    expect(still.headers.get('etag')).toBe(current)

    const r2 = await t.req('PUT', `/Users/${id}`, user('alice@example.com', { displayName: 'B' }), { headers: { 'if-match': `${stale}, ${current}` } })
    expect(r2.status).toBe(200)
    const strong = r2.headers.get('etag')!.replace(/^W\//, '')
    const r3 = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'C' }), { headers: { 'if-match': strong } })
    expect(r3.status).toBe(200)
    const r4 = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'D' }), { headers: { 'if-match': '*' } })
    expect(r4.status).toBe(200)
    expect((await t.req('DELETE', `/Users/${id}`, undefined, { headers: { 'if-match': r4.headers.get('etag')! } })).status).toBe(204)
  })

  test('If-Match on a group membership PATCH: 412 leaves the member rows alone', async () => {
    const { t, id } = await setup()
    const g = await t.req('POST', '/Groups', { displayName: 'G' })
    const r = await t.req('PATCH', `/Groups/${g.json.id}`, patch({ op: 'add', path: 'members', value: [{ value: id }] }), { headers: { 'if-match': 'W/"41"' } })
    expect412(r)
    expect((await t.req('GET', `/Groups/${g.json.id}`)).json.members).toBeUndefined()
  })

  test('If-Match on an unknown id → 404, not 412', async () => {
    const { t } = await setup()
    const r = await t.req('DELETE', '/Users/nope', undefined, { headers: { 'if-match': 'W/"1"' } })
    expect(r.status).toBe(404)
  })
})

describe('If-None-Match (GET)', () => {
  test('the current ETag → 304 without a body but with the ETag; a stale one → 200', async () => {
    const { t, id, c } = await setup()
    const etag = c.headers.get('etag')!
    const r = await t.req('GET', `/Users/${id}`, undefined, { headers: { 'if-none-match': etag } })
    expect(r.status).toBe(304)
    expect(r.text).toBe('')
    expect(r.headers.get('etag')).toBe(etag)
    expect((await t.req('GET', `/Users/${id}`, undefined, { headers: { 'if-none-match': `W/"x", ${etag}` } })).status).toBe(304)
    expect((await t.req('GET', `/Users/${id}`, undefined, { headers: { 'if-none-match': '*' } })).status).toBe(304)
    await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Z' }))
    const after = await t.req('GET', `/Users/${id}`, undefined, { headers: { 'if-none-match': etag } })
    expect(after.status).toBe(200)
    expect(after.json.displayName).toBe('Z')
    expect(after.headers.get('etag')).not.toBe(etag)
  })

  test('If-None-Match on an unknown id → 404', async () => {
    const { t } = await setup()
    expect((await t.req('GET', '/Users/nope', undefined, { headers: { 'if-none-match': '*' } })).status).toBe(404)
  })

  test('ServiceProviderConfig advertises etag support', async () => {
    const { t } = await setup()
    expect((await t.req('GET', '/ServiceProviderConfig')).json.etag).toEqual({ supported: true })
  })
})
