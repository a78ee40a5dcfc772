import { expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTestApp } from '../helpers/app'
import { importRecords, type ImportSummary } from '../../src/cli/import'
import { exportAll } from '../../src/cli/export'
import { readCsv, readJsonLines, FormatError } from '../../src/cli/records'
import { defaultRegistry } from '../../src/scim/schema/registry'
import type { ServiceDeps } from '../../src/resources/service'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'

function setup() {
  const t = makeTestApp()
  const deps: ServiceDeps = { db: t.db, registry: defaultRegistry(), strict: false, tenant: 'default', now: () => new Date() }
  const streamOf = (text: string) => new Blob([text]).stream() as ReadableStream<Uint8Array>
  const jsonl = (lines: unknown[], batchSize = 2) =>
    importRecords(deps, readJsonLines(streamOf(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'))), 'jsonl', { batchSize })
  const csv = (text: string, batchSize = 1000) => importRecords(deps, readCsv(streamOf(text)), 'csv', { batchSize })
  const dump = async () => {
    let out = ''
    await exportAll(deps, (c) => void (out += c), 2)
    return out
  }
  const findUser = async (userName: string) => (await t.req('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).json.Resources[0]
  const findGroup = async (name: string) => (await t.req('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}`)).json.Resources[0]
  return { t, deps, jsonl, csv, dump, findUser, findGroup }
}

const counts = (s: ImportSummary) => ({ users: s.users, groups: s.groups, rejected: s.rejected.length })

test('JSON Lines: users, groups and memberships; a second import creates nothing and changes nothing', async () => {
  const s = setup()
  const lines = [
    { schemas: [USER], userName: 'alice@example.com', name: { givenName: 'Alice' }, groups: ['Admins', 'Sales'] },
    { schemas: [USER], userName: 'bob@example.com', active: 'True', groups: [{ display: 'Sales' }] },
    { schemas: [GROUP], displayName: 'Admins', externalId: 'okta-admins' },
    { schemas: [GROUP], displayName: 'Everyone', groups: ['Sales'] }, // a group inside a group
  ]
  const first = await s.jsonl(lines)
  expect(counts(first)).toEqual({ users: { created: 2, updated: 0, unchanged: 0 }, groups: { created: 3, updated: 0, unchanged: 0 }, rejected: 0 })
  expect(first.memberships).toEqual({ added: 4, existing: 0 })
  const sales = await s.findGroup('Sales')
  expect(sales.members.map((m: any) => m.display).sort()).toEqual(['Everyone', 'alice@example.com', 'bob@example.com'])
  expect((await s.findGroup('Admins')).externalId).toBe('okta-admins')
  const bob = await s.findUser('bob@example.com')
  expect(bob.active).toBe(true) // the API's tolerance: "True" from Entra is a boolean
  const before = await s.dump()

  const again = await s.jsonl(lines)
  expect(counts(again)).toEqual({ users: { created: 0, updated: 0, unchanged: 2 }, groups: { created: 0, updated: 0, unchanged: 2 }, rejected: 0 })
  expect(again.memberships).toEqual({ added: 0, existing: 4 })
  expect(await s.dump()).toBe(before)
  expect((await s.findUser('bob@example.com')).meta.version).toBe(bob.meta.version)

  // a changed row replaces the user (like PUT) and bumps its version
  const changed = await s.jsonl([{ schemas: [USER], userName: 'BOB@example.com', active: false, title: 'Boss' }])
  expect(changed.users).toEqual({ created: 0, updated: 1, unchanged: 0 })
  const bob2 = await s.findUser('bob@example.com')
  expect(bob2.id).toBe(bob.id)
  expect([bob2.active, bob2.title, bob2.userName]).toEqual([false, 'Boss', 'BOB@example.com'])
  expect(bob2.meta.version).not.toBe(bob.meta.version)
})

test('imported users are stored exactly as the API stores the same body', async () => {
  const s = setup()
  const body = (userName: string) => ({
    schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
    UserName: userName,
    name: { GivenName: 'Ann', familyName: 'Lee' },
    emails: { value: 'ann@example.com', type: 'work' }, // single value for a multi-valued attribute
    department: 'R&D', // extension attribute without its URN (Okta)
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '42' },
    unknownThing: 1,
    active: 'false',
  })
  expect((await s.t.req('POST', '/Users', body('api@example.com'))).status).toBe(201)
  const r = await s.jsonl([body('file@example.com')])
  expect(r.rejected).toEqual([])
  const strip = ({ id, meta, userName, ...rest }: any) => rest
  expect(strip(await s.findUser('file@example.com'))).toEqual(strip(await s.findUser('api@example.com')))
})

test('rejected rows are reported with line numbers and reasons, and the rest of the batch is stored', async () => {
  const s = setup()
  const r = await s.jsonl(
    [
      { schemas: [USER], userName: 'ok1' },
      '{"schemas": [',
      { schemas: [USER], name: { givenName: 'no userName' } },
      '[1,2]',
      { schemas: [USER], userName: 'ok2', emails: 'x', id: 'bad id/with slash' },
      { schemas: [USER], userName: 'ok3', active: 12 },
      '',
      { schemas: [USER], userName: 'ok4', groups: [{ nothing: true }] },
      { schemas: [USER], userName: 'ok5' },
    ],
    3,
  )
  expect(r.rejected.map((x) => x.line)).toEqual([2, 3, 4, 5, 6, 8])
  expect(r.rejected[0].reason).toContain('not valid JSON')
  expect(r.rejected[1].reason).toContain("'userName' is required")
  expect(r.rejected[2].reason).toBe('expected a JSON object')
  expect(r.rejected[3].reason).toContain('id must be')
  expect(r.rejected[4].reason).toContain('active')
  expect(r.users.created).toBe(2)
  expect(r.rows).toBe(8) // the blank line is not a row
  expect((await s.t.req('GET', '/Users')).json.totalResults).toBe(2) // the counter kept in step
})

test('CSV: header columns, quoting, enterprise attributes, groups; bad rows and bad headers', async () => {
  const s = setup()
  const text =
    'userName,givenName,familyName,email,active,groups,department,password\r\n' +
    'alice@example.com,Alice,Smith,alice@example.com,true,Admins; Sales ,R&D,s3cret-Passw0rd\r\n' +
    '"bob@example.com","Bob ""B""","Multi\nLine",,no,Sales,,\r\n' +
    'carol@example.com,Carol,,,maybe,,,\r\n' +
    'dave@example.com,Dave\r\n'
  const r = await s.csv(text)
  expect(r.users.created).toBe(2)
  expect(r.rejected).toEqual([
    { line: 5, reason: 'active: expected true or false' },
    { line: 6, reason: 'expected 8 fields, found 2' },
  ])
  const alice = await s.findUser('alice@example.com')
  expect(alice.emails).toEqual([{ value: 'alice@example.com', type: 'work', primary: true }])
  expect(alice['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department).toBe('R&D')
  expect(alice.password).toBeUndefined()
  expect(alice.groups.map((g: any) => g.display).sort()).toEqual(['Admins', 'Sales'])
  const hash = s.t.db.$client.query<{ h: string }, []>("select password_hash as h from users where user_name_key = 'alice@example.com'").get()!.h
  expect(hash).toStartWith('$argon2id$')
  expect(await Bun.password.verify('s3cret-Passw0rd', hash)).toBe(true)
  const bob = await s.findUser('bob@example.com')
  expect(bob.name).toEqual({ givenName: 'Bob "B"', familyName: 'Multi\nLine' })
  expect(bob.active).toBe(false)
  expect(await s.dump()).not.toContain('argon2')

  await expect(s.csv('userName,shoeSize\nx,42\n')).rejects.toThrow(FormatError)
  await expect(s.csv('email\nx@example.com\n')).rejects.toThrow('userName column is required')
})

test('export → import into an empty database reproduces ids, attributes and memberships', async () => {
  const a = setup()
  const u1 = (await a.t.req('POST', '/Users', { schemas: [USER], userName: 'u1', displayName: 'One' })).json
  const u2 = (await a.t.req('POST', '/Users', { schemas: [USER], userName: 'u2', emails: [{ value: 'u2@example.com' }] })).json
  const inner = (await a.t.req('POST', '/Groups', { schemas: [GROUP], displayName: 'Inner', members: [{ value: u1.id }] })).json
  await a.t.req('POST', '/Groups', { schemas: [GROUP], displayName: 'Outer', members: [{ value: u2.id }, { value: inner.id }] })
  // two groups with the same name: membership by id keeps them apart
  await a.t.req('POST', '/Groups', { schemas: [GROUP], displayName: 'Twin', members: [{ value: u1.id }] })
  await a.t.req('POST', '/Groups', { schemas: [GROUP], displayName: 'Twin', members: [{ value: u2.id }] })
  const exported = await a.dump()
  const lines = exported.trim().split('\n').map((l) => JSON.parse(l))
  expect(lines.map((l) => l.userName ?? l.displayName)).toEqual(['u1', 'u2', 'Inner', 'Outer', 'Twin', 'Twin'])

  const b = setup()
  const r = await b.jsonl(lines, 2)
  expect(r.rejected).toEqual([])
  expect(r.membershipErrors).toEqual([])
  expect(await b.dump()).toBe(exported)
  const g = (await b.t.req('GET', `/Groups/${inner.id}`)).json
  expect(g.members.map((m: any) => m.value)).toEqual([u1.id])
})

test('a group displayName held by two groups is ambiguous for a name-only reference', async () => {
  const s = setup()
  await s.t.req('POST', '/Groups', { schemas: [GROUP], displayName: 'Twin' })
  await s.t.req('POST', '/Groups', { schemas: [GROUP], displayName: 'twin' })
  const r = await s.jsonl([{ schemas: [USER], userName: 'x', groups: ['TWIN'] }, { schemas: [GROUP], displayName: 'Twin', externalId: 'e' }])
  expect(r.users.created).toBe(1)
  expect(r.membershipErrors).toEqual([{ line: 1, reason: "group displayName 'TWIN' is held by several groups" }])
  expect(r.rejected.map((x) => x.line)).toEqual([2])
})

test('scimd import / export / --help on the command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-cli-'))
  try {
    const run = (...args: string[]) => {
      const p = Bun.spawnSync(['bun', join(import.meta.dir, '../../src/index.ts'), ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: join(dir, 'db.sqlite'), HOME: dir },
      })
      return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() }
    }
    for (const cmd of ['serve', 'migrate', 'import', 'export', 'token']) {
      const h = run(cmd, '--help')
      expect(h.code).toBe(0)
      expect(h.out).toMatch(new RegExp(`^Usage: scimd \\[?${cmd}`))
      expect(h.out).toContain('--database-url')
    }
    expect(run('import', '--help').out).toContain('familyName')
    await Bun.write(join(dir, 'u.csv'), 'userName,groups\na@example.com,Staff\nb@example.com,\n,\n')
    const imp = run('import', 'u.csv')
    expect(imp.code).toBe(3) // one row rejected
    expect(imp.out).toContain('2 created')
    expect(imp.out).toContain("line 4: Attribute 'userName' is required")
    expect(imp.err).toContain('import: 3 rows (100%)') // not a terminal: plain progress lines
    expect(run('import', 'missing.jsonl').code).toBe(2)
    expect(run('import').code).toBe(2)
    expect(run('import', 'u.csv', '--batch-size', '0').code).toBe(2)
    const exp = run('export', '--out', 'all.jsonl')
    expect(exp.code).toBe(0)
    const again = run('import', 'all.jsonl')
    expect(again.code).toBe(0)
    expect(again.out).toContain('0 created, 0 updated, 2 unchanged')
    const stdout = run('export')
    expect(stdout.out).toBe(await Bun.file(join(dir, 'all.jsonl')).text())
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 30_000)
