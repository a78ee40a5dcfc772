/** RFC 9865 cursor pagination over HTTP: walking, stability under writes, errors, discovery, restarts. */
import { q } from '../../src/db/store'
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ERROR_URN, makeTestApp, user } from '../helpers/app'
import { cursorCodec, queryBinding } from '../../src/scim/cursor'
import { closeAll } from '../../src/server'

type T = ReturnType<typeof makeTestApp>

async function seedUsers(t: T, names: string[]) {
  const ids: string[] = []
  for (const n of names) {
    const r = await t.req('POST', '/Users', user(n))
    expect(r.status).toBe(201)
    ids.push(r.json.id)
  }
  return ids
}

/** Follows nextCursor from the first page; returns every page's body. */
async function walk(t: T, path: string, maxPages = 100) {
  const pages: any[] = []
  let url = path + (path.includes('?') ? '&' : '?') + 'cursor'
  for (let i = 0; i < maxPages; i++) {
    const r = await t.req('GET', url)
    expect(r.status).toBe(200)
    pages.push(r.json)
    if (!r.json.nextCursor) break
    url = path + (path.includes('?') ? '&' : '?') + 'cursor=' + r.json.nextCursor
  }
  return pages
}

const tmpDirs: string[] = []
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true })
})

describe('cursor pagination (RFC 9865)', () => {
  test('walks every user exactly once; nextCursor absent on the last page, previousCursor absent on the first', async () => {
    const t = makeTestApp()
    const ids = await seedUsers(t, Array.from({ length: 10 }, (_, i) => `u${i}@example.com`))
    const pages = await walk(t, '/Users?count=3')
    expect(pages.map((p) => p.itemsPerPage)).toEqual([3, 3, 3, 1])
    expect(pages.map((p) => 'nextCursor' in p)).toEqual([true, true, true, false])
    expect(pages.map((p) => 'previousCursor' in p)).toEqual([false, true, true, true])
    for (const p of pages) {
      expect(p.totalResults).toBe(10)
      expect(p.startIndex).toBeUndefined()
      expect(p.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse'])
      for (const c of [p.nextCursor, p.previousCursor]) if (c) expect(c).toMatch(/^[A-Za-z0-9\-._~]+$/) // RFC 3986 unreserved
    }
    expect(pages.flatMap((p) => p.Resources.map((r: any) => r.id))).toEqual(ids) // default order: id = creation order
  })

  test('sorted descending by userName, forwards then backwards with previousCursor', async () => {
    const t = makeTestApp()
    const names = ['delta', 'Alpha', 'echo', 'bravo', 'charlie', 'foxtrot', 'golf']
    await seedUsers(t, names)
    const q = '/Users?sortBy=userName&sortOrder=descending&count=2&attributes=userName'
    const pages = await walk(t, q)
    const order = pages.flatMap((p) => p.Resources.map((r: any) => r.userName))
    expect(order).toEqual(['golf', 'foxtrot', 'echo', 'delta', 'charlie', 'bravo', 'Alpha'])
    // back from the last page
    let cur = pages[pages.length - 1]
    const back: string[][] = [cur.Resources.map((r: any) => r.userName)]
    while (cur.previousCursor) {
      const r = await t.req('GET', `${q}&cursor=${cur.previousCursor}`)
      expect(r.status).toBe(200)
      cur = r.json
      back.unshift(cur.Resources.map((x: any) => x.userName))
    }
    expect(back).toEqual(pages.map((p) => p.Resources.map((r: any) => r.userName)))
    expect(cur.previousCursor).toBeUndefined() // back at the first page
  })

  test('never repeats or skips under concurrent inserts and deletes (keyset, not OFFSET)', async () => {
    const t = makeTestApp()
    const names = Array.from({ length: 30 }, (_, i) => `m${String(i).padStart(2, '0')}`)
    const ids = await seedUsers(t, names)
    const byName = new Map(names.map((n, i) => [n, ids[i]]))
    const deleted = new Set<string>()
    const q = '/Users?sortBy=userName&count=4&attributes=userName'
    const seen: string[] = []
    let url = q + '&cursor'
    for (let page = 0; page < 50; page++) {
      const r = await t.req('GET', url)
      expect(r.status).toBe(200)
      seen.push(...r.json.Resources.map((x: any) => x.userName))
      // writes between pages: users sorting before and after the current position, and deletes ahead of it
      await t.req('POST', '/Users', user(`a-before-${page}`))
      await t.req('POST', '/Users', user(`z-after-${page}`))
      const ahead = names.find((n) => !seen.includes(n) && !deleted.has(n) && n > seen[seen.length - 1] && n.endsWith('7'))
      if (ahead) {
        expect((await t.req('DELETE', `/Users/${byName.get(ahead)}`)).status).toBe(204)
        deleted.add(ahead)
      }
      if (!r.json.nextCursor) break
      url = `${q}&cursor=${r.json.nextCursor}`
    }
    expect(new Set(seen).size).toBe(seen.length) // nothing twice
    const survivors = names.filter((n) => !deleted.has(n))
    expect(deleted.size).toBeGreaterThan(0)
    for (const n of survivors) expect(seen).toContain(n) // nothing that existed throughout was skipped
    for (const n of deleted) expect(seen).not.toContain(n)
    expect(seen).toEqual([...seen].sort()) // still in order
  })

  test('POST /Users/.search takes cursor and count in the body', async () => {
    const t = makeTestApp()
    await seedUsers(t, ['a1', 'a2', 'a3', 'b1'])
    const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "a"', cursor: '', count: 2 }
    const p1 = await t.req('POST', '/Users/.search', body)
    expect(p1.status).toBe(200)
    expect(p1.json.totalResults).toBe(3)
    expect(p1.json.Resources.map((r: any) => r.userName)).toEqual(['a1', 'a2'])
    const p2 = await t.req('POST', '/Users/.search', { ...body, cursor: p1.json.nextCursor })
    expect(p2.json.Resources.map((r: any) => r.userName)).toEqual(['a3'])
    expect(p2.json.nextCursor).toBeUndefined()
    expect(p2.json.previousCursor).toEqual(expect.any(String))
  })

  test('count=0 returns totalResults only', async () => {
    const t = makeTestApp()
    await seedUsers(t, ['x', 'y'])
    const r = await t.req('GET', '/Users?cursor&count=0')
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 2, itemsPerPage: 0, Resources: [] })
  })

  describe('errors', () => {
    const expectScim = (r: { status: number; json: any }, scimType: string) => {
      expect(r.status).toBe(400)
      expect(r.json).toEqual({ schemas: [ERROR_URN], status: '400', scimType, detail: expect.any(String) })
    }

    test('garbled, forged and truncated cursors → 400 invalidCursor', async () => {
      const t = makeTestApp()
      await seedUsers(t, ['a', 'b', 'c'])
      const first = await t.req('GET', '/Users?cursor=&count=1')
      const good: string = first.json.nextCursor
      expect((await t.req('GET', `/Users?count=1&cursor=${good}`)).status).toBe(200)
      const [body, mac] = good.split('.')
      const flipped = body.slice(0, -2) + (body.at(-2) === 'A' ? 'B' : 'A') + body.at(-1)
      for (const bad of ['garbage', 'a.b', good.slice(0, -1), `${flipped}.${mac}`, `${body}.${mac.replace(/^./, (c) => (c === 'x' ? 'y' : 'x'))}`, '%00', 'x'.repeat(20_000)])
        expectScim(await t.req('GET', `/Users?count=1&cursor=${encodeURIComponent(bad)}`), 'invalidCursor')
      // a cursor signed with another server's secret
      const other = cursorCodec(new Uint8Array(32), 3600).encode({ dir: 'next', key: null, id: 'x' }, queryBinding({ scope: 'User', sortOrder: 'ascending' }), Date.now())
      expectScim(await t.req('GET', `/Users?count=1&cursor=${other}`), 'invalidCursor')
      expectScim(await t.req('POST', '/Users/.search', { cursor: 42 }), 'invalidCursor')
    })

    test('a cursor used with a different query or endpoint → 400 invalidCursor', async () => {
      const t = makeTestApp()
      await seedUsers(t, ['a', 'b', 'c'])
      await t.req('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'g1' })
      await t.req('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'g2' })
      const c = (await t.req('GET', '/Users?cursor&count=1&filter=' + encodeURIComponent('userName pr'))).json.nextCursor
      expect(c).toEqual(expect.any(String))
      expect((await t.req('GET', `/Users?count=1&cursor=${c}&filter=` + encodeURIComponent('userName  PR'))).status).toBe(200) // same filter
      expectScim(await t.req('GET', `/Users?count=1&cursor=${c}`), 'invalidCursor') // filter dropped
      expectScim(await t.req('GET', `/Users?count=1&cursor=${c}&filter=` + encodeURIComponent('userName sw "a"')), 'invalidCursor')
      expectScim(await t.req('GET', `/Users?count=1&cursor=${c}&filter=userName%20pr&sortBy=userName`), 'invalidCursor')
      const g = (await t.req('GET', '/Groups?cursor&count=1')).json.nextCursor
      expectScim(await t.req('GET', `/Users?count=1&cursor=${g}`), 'invalidCursor')
      // a different count is fine: the cursor is a place, not an offset
      expect((await t.req('GET', `/Users?count=2&cursor=${c}&filter=userName%20pr`)).status).toBe(200)
    })

    test('an expired cursor → 400 expiredCursor', async () => {
      const t = makeTestApp({ cursorTtl: 60 })
      await seedUsers(t, ['a', 'b'])
      const fresh = (await t.req('GET', '/Users?cursor&count=1')).json.nextCursor
      expect(fresh).toEqual(expect.any(String))
      // the same cursor, issued with the server's own secret two minutes ago
      const stored = await (await t.ready).store.read(q((r) => r.getSetting('cursor.hmac_secret')))
      const secret = new Uint8Array(Buffer.from(stored!, 'base64url'))
      const old = cursorCodec(secret, 60).encode(
        { dir: 'next', key: null, id: '00000000-0000-7000-8000-000000000000' },
        queryBinding({ scope: 'User', sortOrder: 'ascending' }),
        Date.now() - 120_000,
      )
      expectScim(await t.req('GET', `/Users?count=1&cursor=${old}`), 'expiredCursor')
    })

    test('startIndex together with cursor → 400 invalidValue', async () => {
      const t = makeTestApp()
      expectScim(await t.req('GET', '/Users?startIndex=1&cursor'), 'invalidValue')
      expectScim(await t.req('POST', '/Users/.search', { startIndex: 2, cursor: '' }), 'invalidValue')
    })
  })

  test('ServiceProviderConfig advertises both methods, index by default, and the cursor lifetime', async () => {
    const t = makeTestApp({ cursorTtl: 900 })
    const r = await t.req('GET', '/ServiceProviderConfig')
    expect(r.json.pagination).toEqual({
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: r.json.filter.maxResults,
      maxPageSize: r.json.filter.maxResults,
      cursorTimeout: 900,
    })
    // without cursor or startIndex: index paging (no nextCursor), as advertised
    const list = await t.req('GET', '/Users')
    expect(list.json.startIndex).toBe(1)
    expect(list.json.nextCursor).toBeUndefined()
  })

  test('the signing secret is kept in the database: cursors survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimd-cursor-'))
    tmpDirs.push(dir)
    const databaseUrl = join(dir, 'db.sqlite')
    const a = makeTestApp({ databaseUrl })
    await seedUsers(a, ['a', 'b', 'c'])
    const c = (await a.req('GET', '/Users?cursor&count=1')).json.nextCursor
    closeAll(a)
    const b = makeTestApp({ databaseUrl })
    const r = await b.req('GET', `/Users?count=5&cursor=${c}`)
    expect(r.status).toBe(200)
    expect(r.json.Resources.map((x: any) => x.userName)).toEqual(['b', 'c'])
    closeAll(b)
  })
})
