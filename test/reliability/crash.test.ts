/** SIGKILL the compiled binary in the middle of a write load: every acknowledged write survives. */
import { afterAll, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary, startBinary } from '../helpers/binary'

const TOKEN = 'crash-test-token'
const dir = mkdtempSync(join(tmpdir(), 'scimd-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('acknowledged writes survive SIGKILL; integrity_check ok; it serves again', async () => {
  const bin = buildBinary()
  const env = { SCIMD_BEARER_TOKENS: TOKEN }
  let srv = await startBinary(bin, dir, env)
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' }
  const acked = new Map<string, string>() // id → userName
  const groupAcks: string[] = []
  let stop = false
  let n = 0
  const worker = async (w: number) => {
    while (!stop && n < 5000) {
      const i = n++
      try {
        const r = await fetch(`${srv.base}/scim/v2/Users`, { method: 'POST', headers, body: JSON.stringify({ userName: `crash-${w}-${i}@example.com` }) })
        if (r.status === 201) {
          const j = await r.json()
          acked.set(j.id, j.userName)
          if (i % 10 === 0) {
            const g = await fetch(`${srv.base}/scim/v2/Groups`, { method: 'POST', headers, body: JSON.stringify({ displayName: `g${i}`, members: [{ value: j.id }] }) })
            if (g.status === 201) groupAcks.push((await g.json()).id)
          }
        }
      } catch {
        return // the server died under us
      }
    }
  }
  const workers = Array.from({ length: 8 }, (_, w) => worker(w))
  await Bun.sleep(800)
  srv.proc.kill('SIGKILL')
  stop = true
  await Promise.all(workers)
  await srv.proc.exited
  expect(acked.size).toBeGreaterThan(20)

  const db = new Database(join(dir, 'scimd.sqlite'))
  expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
  db.close()

  srv = await startBinary(bin, dir, env)
  try {
    for (const [id, userName] of acked) {
      const r = await fetch(`${srv.base}/scim/v2/Users/${id}`, { headers })
      expect(r.status).toBe(200)
      expect((await r.json()).userName).toBe(userName)
    }
    for (const id of groupAcks) expect((await fetch(`${srv.base}/scim/v2/Groups/${id}`, { headers })).status).toBe(200)
    const c = await fetch(`${srv.base}/scim/v2/Users`, { method: 'POST', headers, body: JSON.stringify({ userName: 'after-crash@example.com' }) })
    expect(c.status).toBe(201)
  } finally {
    await srv.stop()
  }
})
