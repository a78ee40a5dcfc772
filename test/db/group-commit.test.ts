/**
 * Group commit (src/db/sqlite-store.ts, groupCommitStore): the server's SQLite writes that arrive together share one
 * transaction. What must hold: many concurrent writes take fewer commits than writes; a write that fails in a batch
 * leaves the others alone; nothing is answered before it is committed; a reader never sees an uncommitted write; a
 * commit that fails answers every write of its batch 503 and keeps none of them.
 */
import { describe, expect, test } from 'bun:test'
import { openDatabase } from '../../src/db/client'
import { runMigrations } from '../../src/db/migrate'
import { groupCommitStore } from '../../src/db/sqlite-store'
import { q, type Step } from '../../src/db/store'
import { ScimError } from '../../src/scim/errors'
import { SCIM, TOKEN } from '../helpers/app'
import { listenTestApp } from '../helpers/server'

const user = (userName: string) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName })

function fresh() {
  const db = openDatabase(':memory:')
  runMigrations(db)
  db.$client.exec('create table t (id integer primary key, v text not null)')
  return { db, store: groupCommitStore(db) }
}

/** A write step that inserts one row of t (the op closes over the test's db, as a Repo method would). */
const insert = (db: ReturnType<typeof fresh>['db'], v: string): Step<string> =>
  q(() => {
    db.$client.query('insert into t (v) values (?)').run(v)
    return v
  })
const rows = (db: ReturnType<typeof fresh>['db']) => db.$client.query<{ v: string }, []>('select v from t order by id').all().map((r) => r.v)

describe('group commit', () => {
  test('writes issued together share one commit, each answered only once committed', async () => {
    const { db, store } = fresh()
    const answered: string[] = []
    const all = Array.from({ length: 10 }, (_, i) => (store.write(insert(db, `w${i}`)) as Promise<string>).then((v) => (answered.push(v), v)))
    // the batch is open: nothing is answered and another connection sees nothing yet
    expect(answered).toEqual([])
    expect(db.$client.inTransaction).toBe(true)
    expect(await Promise.all(all)).toEqual(Array.from({ length: 10 }, (_, i) => `w${i}`))
    expect(store.stats).toEqual({ writes: 10, commits: 1 })
    expect(db.$client.inTransaction).toBe(false)
    expect(rows(db)).toHaveLength(10)
  })

  test('a failing write rolls back to its savepoint and throws at once; the rest of the batch commits', async () => {
    const { db, store } = fresh()
    const a = store.write(insert(db, 'a'))
    const bad = function* (): Step<never> {
      yield* insert(db, 'half-done')
      throw new ScimError(409, 'taken')
    }
    expect(() => store.write(bad())).toThrow('taken')
    const c = store.write(insert(db, 'c'))
    expect(await Promise.all([a, c])).toEqual(['a', 'c'])
    expect(rows(db)).toEqual(['a', 'c'])
    expect(store.stats.commits).toBe(1)
  })

  test('a read commits the open batch first: it sees the write, and the write is answered', async () => {
    const { db, store } = fresh()
    let done = false
    const w = (store.write(insert(db, 'x')) as Promise<string>).then(() => (done = true))
    expect(db.$client.inTransaction).toBe(true)
    const seen = store.read(q(() => rows(db)))
    expect(seen).toEqual(['x'])
    expect(db.$client.inTransaction).toBe(false)
    await w
    expect(done).toBe(true)
  })

  test('a write commits even if the immediate queue stalls: the timer scheduled with it commits the batch', async () => {
    const { db, store } = fresh()
    const realImmediate = globalThis.setImmediate
    // an immediate that never runs (the case the timer is there for)
    globalThis.setImmediate = (() => ({})) as unknown as typeof setImmediate
    let w: Promise<string>
    try {
      w = store.write(insert(db, 'late')) as Promise<string>
    } finally {
      globalThis.setImmediate = realImmediate
    }
    const t0 = performance.now()
    expect(await w).toBe('late')
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(store.stats.commits).toBe(1)
    expect(db.$client.inTransaction).toBe(false)
  })

  test('maxBatch writes commit at once, without waiting for the turn of the event loop', async () => {
    const db = openDatabase(':memory:')
    runMigrations(db)
    db.$client.exec('create table t (id integer primary key, v text not null)')
    const store = groupCommitStore(db, { maxBatch: 4 })
    const all = Array.from({ length: 9 }, (_, i) => store.write(insert(db, `w${i}`)))
    expect(store.stats.commits).toBe(2)
    await Promise.all(all)
    expect(store.stats).toEqual({ writes: 9, commits: 3 })
  })

  test('a commit that fails answers every write of its batch 503 and keeps none of them', async () => {
    const { db, store } = fresh()
    // a deferred foreign key is checked at COMMIT: one orphan row makes the whole commit fail
    db.$client.exec('create table parent (id integer primary key)')
    db.$client.exec('create table child (id integer primary key, p integer references parent (id) deferrable initially deferred)')
    const before = rows(db)
    const writes = [
      store.write(insert(db, 'ok-1')),
      store.write(q(() => db.$client.exec('insert into child (p) values (42)'))),
      store.write(insert(db, 'ok-2')),
    ]
    const settled = await Promise.allSettled(writes)
    for (const s of settled) {
      expect(s.status).toBe('rejected')
      const e = (s as PromiseRejectedResult).reason as ScimError
      expect(e).toBeInstanceOf(ScimError)
      expect(e.status).toBe(503)
      expect(e.headers['Retry-After']).toBe('1')
    }
    expect(rows(db)).toEqual(before)
    expect(db.$client.query('select count(*) as n from child').get()).toEqual({ n: 0 })
    // and the store goes on: the next batch commits
    expect(await store.write(insert(db, 'after'))).toBe('after')
    expect(rows(db)).toEqual(['after'])
  })
})

describe('group commit over HTTP', () => {
  test('concurrent creates share commits; a duplicate in the batch is 409 and the others are all stored', async () => {
    const t = listenTestApp()
    await t.listening
    try {
      const names = Array.from({ length: 30 }, (_, i) => `gc${i}@example.com`)
      names.push('gc7@example.com') // the same userName twice in the same burst
      const answers = await Promise.all(
        names.map((n) =>
          fetch(`${t.base}/Users`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': SCIM },
            body: JSON.stringify(user(n)),
          }),
        ),
      )
      const statuses = answers.map((r) => r.status).sort()
      expect(statuses.filter((s) => s === 201)).toHaveLength(30)
      expect(statuses.filter((s) => s === 409)).toHaveLength(1)
      const stats = (t.store as ReturnType<typeof groupCommitStore>).stats
      expect(stats.writes).toBe(30)
      expect(stats.commits).toBeLessThan(30)
      // every acknowledged create is readable, and the list's total agrees
      const created = await Promise.all(answers.filter((r) => r.status === 201).map((r) => r.json() as Promise<{ id: string }>))
      for (const c of created) expect((await t.req('GET', `/Users/${c.id}`)).status).toBe(200)
      expect((await t.req('GET', '/Users?count=0')).json.totalResults).toBe(30)
    } finally {
      await t.close()
    }
  })
})
