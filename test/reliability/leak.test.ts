/**
 * No leak per request: the soak's mix (Okta-shaped: lookups, creates with a bounded population, GETs, PATCH
 * active, PUT, member adds and removes, pages) run in process, with a full GC between rounds. After a warm-up, the
 * number of live JS objects and the heap must stay flat: a leak of one object per request would add a thousand per
 * round. (RSS is the soak's business, test/bench/soak.ts: it also counts SQLite's page cache filling up.)
 */
import { expect, test } from 'bun:test'
import { heapStats } from 'bun:jsc'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTestApp, PATCH_URN } from '../helpers/app'

test('live objects and heap stay flat over rounds of Okta-shaped traffic (after a warm-up)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-leak-'))
  const t = makeTestApp({ databaseUrl: join(dir, 'db.sqlite'), sqliteCacheKiB: 4096 })
  const call = async (m: string, p: string, b?: unknown) => (await t.req(m, p, b)).json
  const ids: string[] = []
  const group = (await call('POST', '/Groups', { displayName: 'L' })).id as string
  let n = 0
  const round = async (steps: number) => {
    for (let i = 0; i < steps; i++, n++) {
      const k = n % 10
      if (k === 0 || ids.length < 5) {
        if (ids.length >= 300) await call('DELETE', `/Users/${ids.shift()}`)
        await call('GET', '/Users?filter=' + encodeURIComponent(`userName eq "u${n}@example.com"`) + '&startIndex=1&count=100')
        ids.push((await call('POST', '/Users', { userName: `u${n}@example.com`, name: { givenName: 'L', familyName: String(n) }, emails: [{ value: `u${n}@example.com`, type: 'work', primary: true }], active: true })).id)
        continue
      }
      const id = ids[n % ids.length]
      if (k <= 3) await call('GET', `/Users/${id}`)
      else if (k === 4) await call('PATCH', `/Users/${id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: n % 2 === 0 } }] })
      else if (k === 5) await call('GET', '/Users?startIndex=1&count=50')
      else if (k === 6) await call('PATCH', `/Groups/${group}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] })
      else if (k === 7) await call('PATCH', `/Groups/${group}`, { schemas: [PATCH_URN], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] })
      else if (k === 8) await call('GET', '/Groups?excludedAttributes=members')
      else {
        const u = await call('GET', `/Users/${id}`)
        await call('PUT', `/Users/${id}`, { ...u, title: `t${n}` })
      }
    }
    Bun.gc(true)
    return { objects: heapStats().objectCount, heap: process.memoryUsage().heapUsed }
  }
  try {
    for (let i = 0; i < 3; i++) await round(800) // warm-up: JIT, statement caches, the population reaches its size
    const samples = []
    for (let i = 0; i < 4; i++) samples.push(await round(800))
    const objects = samples.map((s) => s.objects)
    const heap = samples.map((s) => s.heap)
    // 3,200 requests measured: one leaked object per request would be +3,200
    expect(objects[objects.length - 1] - objects[0]).toBeLessThan(1500)
    expect(Math.max(...objects) - Math.min(...objects)).toBeLessThan(0.05 * Math.min(...objects))
    expect(Math.max(...heap) / Math.min(...heap)).toBeLessThan(1.15)
  } finally {
    t.db.$client.close()
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)
