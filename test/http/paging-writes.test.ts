/**
 * Index paging (startIndex/count) while users are being created: the default order is by id, ids are UUIDv7
 * (time-ordered, and Bun.randomUUIDv7 is monotonic within one millisecond — checked below), so new users land
 * after every existing one and a walk like Okta's import never repeats or skips a user that existed when it began.
 * (Deletes during such a walk do shift later positions — README "Paging"; cursors are immune, see cursor.test.ts.)
 */
import { describe, expect, test } from 'bun:test'
import { makeTestApp, user } from '../helpers/app'

describe('stable index paging under concurrent inserts', () => {
  test('Bun.randomUUIDv7 is strictly increasing, also within one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => Bun.randomUUIDv7())
    let sameMs = 0
    for (let i = 1; i < ids.length; i++) {
      expect(ids[i] > ids[i - 1]).toBe(true)
      if (ids[i].slice(0, 13) === ids[i - 1].slice(0, 13)) sameMs++
    }
    expect(sameMs).toBeGreaterThan(1000) // the property was exercised inside single milliseconds
  })

  test('GET /Users?startIndex&count walks every pre-existing user exactly once while inserts run', async () => {
    const t = makeTestApp()
    const initial: string[] = []
    for (let i = 0; i < 60; i++) initial.push((await t.req('POST', '/Users', user(`seed-${i}`))).json.id)

    let inserted = 0
    let walking = true
    const insertsSeenByWalker: number[] = []
    const inserter = (async () => {
      for (let i = 0; i < 200 && walking; i++) {
        const r = await t.req('POST', '/Users', user(`new-${i}`))
        expect(r.status).toBe(201)
        inserted++
      }
    })()
    const seen: string[] = []
    const walker = (async () => {
      const count = 7
      for (let start = 1; start <= 10_000; start += count) {
        const r = await t.req('GET', `/Users?startIndex=${start}&count=${count}&attributes=id`)
        expect(r.status).toBe(200)
        expect(r.json.itemsPerPage).toBe(r.json.Resources.length)
        insertsSeenByWalker.push(inserted)
        seen.push(...r.json.Resources.map((x: any) => x.id))
        if (seen.length >= initial.length) break
      }
      walking = false
    })()
    await Promise.all([walker, inserter])

    expect(new Set(insertsSeenByWalker).size).toBeGreaterThan(3) // writes really happened between pages
    expect(seen.slice(0, initial.length)).toEqual(initial) // in order, none skipped, none repeated
    expect(new Set(seen).size).toBe(seen.length)
  })
})
