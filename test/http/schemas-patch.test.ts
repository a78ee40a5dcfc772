/**
 * Issue 4 §3–§5 over HTTP: validation on POST and PUT, PATCH (RFC 7644 §3.5.2) with the IdP tolerances and their
 * strict-mode counterparts, PUT semantics. Each rule: exact status and scimType.
 */
import { q } from '../../src/db/store'
import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ERROR_URN, GROUP_URN, makeTestApp, PATCH_URN, SCIM, TEST_STORE, user, USER_URN } from '../helpers/app'

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_URN], Operations })
type R = { status: number; headers: Headers; json: any }

function expectError(r: R, status: number, scimType?: string, detail?: string | RegExp) {
  expect(r.status).toBe(status)
  expect(r.headers.get('content-type')).toStartWith(SCIM)
  expect(r.json.schemas).toEqual([ERROR_URN])
  expect(r.json.status).toBe(String(status))
  if (scimType) expect(r.json.scimType).toBe(scimType)
  else expect(r.json.scimType).toBeUndefined()
  if (detail !== undefined) expect(r.json.detail).toMatch(detail)
}

async function withUser(extra: Record<string, unknown> = {}, strict = false) {
  const t = makeTestApp({ strict })
  const created = await t.req('POST', '/Users', user('alice@example.com', extra))
  expect(created.status).toBe(201)
  return { t, id: created.json.id as string, created: created.json }
}

describe('POST validation', () => {
  const t = makeTestApp()
  const s = makeTestApp({ strict: true })

  test('required: userName absent, empty or blank → 400 invalidValue; Group displayName absent → 400 invalidValue', async () => {
    expectError(await t.req('POST', '/Users', { schemas: [USER_URN] }), 400, 'invalidValue', /userName.*required/)
    expectError(await t.req('POST', '/Users', user('')), 400, 'invalidValue', /userName/)
    expectError(await t.req('POST', '/Users', user('   ')), 400, 'invalidValue', /userName/)
    expectError(await t.req('POST', '/Users', user(null as any)), 400, 'invalidValue', /userName/)
    expectError(await t.req('POST', '/Groups', { schemas: [GROUP_URN] }), 400, 'invalidValue', /displayName/)
  })

  test.each([
    ['string: userName a number', { userName: 42 }, /userName.*string/],
    ['string: displayName a boolean', { displayName: true }, /displayName/],
    ['boolean: active "yes"', { active: 'yes' }, /active.*boolean/],
    ['boolean: active 1', { active: 1 }, /active.*boolean/],
    ['reference: profileUrl a number', { profileUrl: 7 }, /profileUrl/],
    ['complex: name a string', { name: 'Alice' }, /name.*object/],
    ['complex: emails element a number', { emails: [5] }, /emails/],
    ['binary: x509Certificates.value not base64', { x509Certificates: [{ value: 'not*base64!' }] }, /x509Certificates\.value.*base64/],
    ['single-valued given an array: displayName', { displayName: ['a', 'b'] }, /displayName.*single-valued/],
    ['single-valued given an array: name', { name: [{ givenName: 'A' }] }, /name.*single-valued/],
    ['multi-valued element an array', { emails: [[{ value: 'a@b.c' }]] }, /emails/],
    ['two primaries', { emails: [{ value: 'a@x.com', primary: true }, { value: 'b@x.com', primary: true }] }, /emails.*primary/],
    ['two primaries, "True" strings', { phoneNumbers: [{ value: '1', primary: 'True' }, { value: '2', primary: 'true' }] }, /phoneNumbers.*primary/],
    ['enterprise manager a number', { [ENT]: { manager: 5 } }, /manager/],
  ])('type: %s → 400 invalidValue', async (_, extra, detail) => {
    expectError(await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'v@example.com', ...extra }), 400, 'invalidValue', detail)
  })

  test('dateTime: the core dateTimes (meta.created/lastModified) are readOnly, so a client value is ignored', async () => {
    // dateTime validation (normalisation, invalid → 400 invalidValue) is tested on a declared extension
    // attribute in extensions.test.ts (hiredOn).
    const r = await t.req('POST', '/Users', user('dt@example.com', { meta: { created: 'not a date', lastModified: '1999-01-01T00:00:00Z' } }))
    expect(r.status).toBe(201)
    expect(r.json.meta.created).not.toBe('not a date')
    expect(r.json.meta.lastModified).not.toBe('1999-01-01T00:00:00Z')
  })

  test('Entra: "True"/"False" strings for booleans are accepted; strict refuses them', async () => {
    const a = await t.req('POST', '/Users', user('true@example.com', { active: 'True', emails: [{ value: 't@x.com', primary: 'False' }] }))
    expect(a.status).toBe(201)
    expect(a.json.active).toBe(true)
    expect(a.json.emails).toEqual([{ value: 't@x.com', primary: false }])
    const b = await t.req('POST', '/Users', user('false@example.com', { active: 'False' }))
    expect(b.json.active).toBe(false)
    expectError(await s.req('POST', '/Users', user('strict@example.com', { active: 'True' })), 400, 'invalidValue', /active/)
  })

  test('attribute names in any case (Entra test collections: UserName, Active, Emails[{Primary,Type,Value}])', async () => {
    const r = await t.req('POST', '/Users', { schemas: [USER_URN], UserName: 'caps@example.com', Active: 'True', Emails: [{ Primary: true, Type: 'work', Value: 'caps@example.com' }], NAME: { GivenName: 'C' } })
    expect(r.status).toBe(201)
    expect(r.json.userName).toBe('caps@example.com')
    expect(r.json.active).toBe(true)
    expect(r.json.emails).toEqual([{ value: 'caps@example.com', type: 'work', primary: true }])
    expect(r.json.name).toEqual({ givenName: 'C' })
  })

  test('multi-valued: a single value is wrapped when tolerant; strict → 400 invalidValue', async () => {
    const r = await t.req('POST', '/Users', user('wrap@example.com', { emails: { value: 'w@x.com' } }))
    expect(r.status).toBe(201)
    expect(r.json.emails).toEqual([{ value: 'w@x.com' }])
    expectError(await s.req('POST', '/Users', user('wrap@example.com', { emails: { value: 'w@x.com' } })), 400, 'invalidValue', /emails.*multi-valued/)
  })

  test('readOnly attributes are ignored on input: id, meta, groups', async () => {
    const g = await t.req('POST', '/Groups', { displayName: 'RO' })
    const r = await t.req('POST', '/Users', user('ro@example.com', {
      id: 'client-chosen',
      meta: { resourceType: 'Group', created: '2000-01-01T00:00:00Z', version: 'W/"99"', location: 'http://evil/x' },
      groups: [{ value: g.json.id, display: 'RO' }],
    }))
    expect(r.status).toBe(201)
    expect(r.json.id).not.toBe('client-chosen')
    expect(r.json.meta.resourceType).toBe('User')
    expect(r.json.meta.version).toBe('W/"1"')
    expect(r.json.meta.location).toBe(`http://localhost/scim/v2/Users/${r.json.id}`)
    expect(r.json.groups).toBeUndefined()
    expect((await t.req('GET', '/Users/client-chosen')).status).toBe(404)
    expect((await t.req('GET', `/Groups/${g.json.id}`)).json.members).toBeUndefined()
  })

  test('a Group member without value (only the readOnly display) → 400 invalidValue, not silently dropped', async () => {
    expectError(await t.req('POST', '/Groups', { displayName: 'NoValue', members: [{ display: 'x' }] }), 400, 'invalidValue', /members/)
    expectError(await t.req('POST', '/Groups', { displayName: 'NoValue', members: [{ type: 'User' }] }), 400, 'invalidValue', /members/)
    expect((await t.req('GET', `/Groups?filter=${encodeURIComponent('displayName eq "NoValue"')}`)).json.totalResults).toBe(0)
  })
})

describe('password: writeOnly, returned never, stored hashed', () => {
  // read through the store, so the check holds on SQLite and PostgreSQL alike
  const hashOf = async (t: ReturnType<typeof makeTestApp>, id: string) => (await t.ready).store.read(q((r) => r.getPasswordHash('default', id)))
  const storedData = async (t: ReturnType<typeof makeTestApp>, id: string) =>
    JSON.stringify((await (await t.ready).store.read(q((r) => r.getResource('default', 'User', id))))!.data)

  test('POST, PUT and PATCH store an argon2id hash; no answer ever carries it, not even with attributes=password', async () => {
    const { t, id, created } = await withUser({ password: 'S3cret!pass' })
    expect(created.password).toBeUndefined()
    const h1 = (await hashOf(t, id))!
    expect(h1).toStartWith('$argon2id$')
    expect(await Bun.password.verify('S3cret!pass', h1)).toBe(true)
    expect(await storedData(t, id)).not.toContain('S3cret')

    const asked = await t.req('GET', `/Users/${id}?attributes=password`)
    expect(asked.status).toBe(200)
    expect(asked.json.password).toBeUndefined()
    expect(Object.keys(asked.json).sort()).toEqual(['id', 'schemas'])
    const listed = await t.req('GET', `/Users?attributes=password,userName`)
    expect(listed.json.Resources[0].password).toBeUndefined()

    const put = await t.req('PUT', `/Users/${id}`, user('alice@example.com', { password: 'Second#pass' }))
    expect(put.status).toBe(200)
    expect(put.json.password).toBeUndefined()
    const h2 = (await hashOf(t, id))!
    expect(h2).toStartWith('$argon2id$')
    expect(await Bun.password.verify('Second#pass', h2)).toBe(true)

    const p = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'password', value: 'Third$pass' }))
    expect(p.status).toBe(200)
    expect(p.json.password).toBeUndefined()
    expect(p.text).not.toContain('Third$pass')
    const h3 = (await hashOf(t, id))!
    expect(await Bun.password.verify('Third$pass', h3)).toBe(true)
    expect(await storedData(t, id)).not.toContain('Third')
  })

  test('a password filter is not a way to read it', async () => {
    const { t } = await withUser({ password: 'S3cret!pass' })
    const r = await t.req('GET', `/Users?filter=${encodeURIComponent('password eq "S3cret!pass"')}`)
    if (r.status === 200) expect(r.json.totalResults).toBe(0)
    else expectError(r, 400, 'invalidFilter')
  })

  test('a wrong type for password → 400 invalidValue, without echoing the value', async () => {
    const t = makeTestApp()
    const r = await t.req('POST', '/Users', user('pw@example.com', { password: 12345678 }))
    expectError(r, 400, 'invalidValue', /password/)
    expect(r.text).not.toContain('12345678')
  })
})

describe('PUT', () => {
  test('full replace of writable attributes: what is left out is gone; readOnly ignored; id must match or be absent', async () => {
    const { t, id, created } = await withUser({ displayName: 'Alice', title: 'Eng', emails: [{ value: 'a@x.com' }], [ENT]: { department: 'R&D' } })
    const r = await t.req('PUT', `/Users/${id}`, { schemas: [USER_URN], userName: 'alice@example.com', nickName: 'Al', id, meta: { created: '2000-01-01T00:00:00Z' }, groups: [{ value: 'x' }] })
    expect(r.status).toBe(200)
    expect(r.json.nickName).toBe('Al')
    expect(r.json.displayName).toBeUndefined()
    expect(r.json.title).toBeUndefined()
    expect(r.json.emails).toBeUndefined()
    expect(r.json[ENT]).toBeUndefined()
    expect(r.json.schemas).toEqual([USER_URN])
    expect(r.json.meta.created).toBe(created.meta.created)
    expect(r.json.groups).toBeUndefined()
    // without id: fine; another id: 400 invalidValue
    expect((await t.req('PUT', `/Users/${id}`, user('alice@example.com'))).status).toBe(200)
    expectError(await t.req('PUT', `/Users/${id}`, user('alice@example.com', { id: 'someone-else' })), 400, 'invalidValue', /id/)
  })

  test('PUT validates like POST (required, types, primaries)', async () => {
    const { t, id } = await withUser()
    expectError(await t.req('PUT', `/Users/${id}`, { schemas: [USER_URN] }), 400, 'invalidValue', /userName/)
    expectError(await t.req('PUT', `/Users/${id}`, user('alice@example.com', { active: 'maybe' })), 400, 'invalidValue', /active/)
    expectError(await t.req('PUT', `/Users/${id}`, user('alice@example.com', { emails: [{ value: 'a', primary: true }, { value: 'b', primary: true }] })), 400, 'invalidValue', /primary/)
  })

  test('Group PUT: a changed member type (immutable) is not a mutability error — members are replaced as a whole', async () => {
    const t = makeTestApp()
    const u = (await t.req('POST', '/Users', user('m@example.com'))).json.id
    const g = (await t.req('POST', '/Groups', { displayName: 'G', members: [{ value: u }] })).json
    const r = await t.req('PUT', `/Groups/${g.id}`, { displayName: 'G', members: [{ value: u, type: 'User' }] })
    expect(r.status).toBe(200)
    expect(r.json.members.map((m: any) => m.value)).toEqual([u])
  })
})

describe('PATCH (RFC 7644 §3.5.2)', () => {
  test('op names in any case; sub-attribute paths; URN-prefixed extension paths', async () => {
    const { t, id } = await withUser({ name: { givenName: 'A', familyName: 'B' } })
    const r = await t.req('PATCH', `/Users/${id}`, patch(
      { op: 'REPLACE', path: 'name.givenName', value: 'Alice' },
      { op: 'Add', path: `${ENT}:employeeNumber`, value: '701' },
      { op: 'add', path: `${ENT}:manager.value`, value: 'boss-1' },
      { op: 'rEmOvE', path: 'name.familyName' },
    ))
    expect(r.status).toBe(200)
    expect(r.json.name).toEqual({ givenName: 'Alice' })
    expect(r.json[ENT]).toEqual({ employeeNumber: '701', manager: { value: 'boss-1' } })
    expect(r.json.schemas).toEqual([USER_URN, ENT])
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'upsert', path: 'title', value: 'x' })), 400, 'invalidSyntax', /upsert|op/)
  })

  test('no path: a value object with URN-keyed extension objects and dotted keys', async () => {
    const { t, id } = await withUser()
    const r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', value: {
      displayName: 'Alice A',
      'name.givenName': 'Alice',
      [`${ENT}:employeeNumber`]: '42',
      [ENT]: { department: 'Sales' },
    } }))
    expect(r.status).toBe(200)
    expect(r.json.displayName).toBe('Alice A')
    expect(r.json.name).toEqual({ givenName: 'Alice' })
    expect(r.json[ENT]).toEqual({ employeeNumber: '42', department: 'Sales' })
  })

  test('add to a multi-valued attribute appends without duplicates', async () => {
    const { t, id } = await withUser({ emails: [{ value: 'a@x.com', type: 'work' }] })
    const r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'add', path: 'emails', value: [{ value: 'A@x.com', type: 'work' }, { value: 'b@x.com', type: 'home' }] }))
    expect(r.status).toBe(200)
    expect(r.json.emails).toEqual([{ value: 'a@x.com', type: 'work' }, { value: 'b@x.com', type: 'home' }])
  })

  test('remove with a filter removes only what matches; replace through a filter; primary moves', async () => {
    const { t, id } = await withUser({ emails: [{ value: 'w@x.com', type: 'work', primary: true }, { value: 'h@x.com', type: 'home' }, { value: 'o@x.com', type: 'other' }] })
    let r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'remove', path: 'emails[type eq "home"]' }))
    expect(r.status).toBe(200)
    expect(r.json.emails.map((e: any) => e.value)).toEqual(['w@x.com', 'o@x.com'])
    r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'emails[type eq "other"].primary', value: true }))
    expect(r.status).toBe(200)
    expect(r.json.emails).toEqual([{ value: 'w@x.com', type: 'work', primary: false }, { value: 'o@x.com', type: 'other', primary: true }])
  })

  test('replace through a filter that matches nothing → 400 noTarget; remove with such a filter: no-op (strict: noTarget)', async () => {
    const { t, id } = await withUser({ emails: [{ value: 'w@x.com', type: 'work' }] })
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'h@x.com' } })), 400, 'noTarget')
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'emails[value eq "nope" and type eq "work"].value', value: 'x' })), 400, 'noTarget')
    const r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'remove', path: 'emails[type eq "home"]' }))
    expect(r.status).toBe(200)
    const s = await withUser({ emails: [{ value: 'w@x.com', type: 'work' }] }, true)
    expectError(await s.t.req('PATCH', `/Users/${s.id}`, patch({ op: 'remove', path: 'emails[type eq "home"]' })), 400, 'noTarget')
  })

  test.each([
    ['unparsable', 'emails[type eq "work"'],
    ['unknown attribute', 'nosuchattr'],
    ['unknown sub-attribute', 'name.nosuch'],
    ['filter on a single-valued attribute', 'name[givenName eq "A"]'],
    ['empty brackets', 'emails[]'],
  ])('a bad path (%s) → 400 invalidPath', async (_, path) => {
    const { t, id } = await withUser()
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path, value: 'x' })), 400, 'invalidPath')
  })

  test('a bad filter inside a path → 400 invalidFilter; remove without a path → 400 noTarget', async () => {
    const { t, id } = await withUser()
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'remove', path: 'emails[nosuch eq "x"]' })), 400, 'invalidFilter')
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'remove' })), 400, 'noTarget')
  })

  test('readOnly targets (id, meta, groups) → 400 mutability; readOnly keys inside a value object are ignored', async () => {
    const { t, id } = await withUser()
    for (const path of ['id', 'meta.created', 'groups'])
      expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path, value: path === 'groups' ? [] : 'x' })), 400, 'mutability')
    const r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { id: 'other', meta: { version: 'W/"9"' }, displayName: 'X' } }))
    expect(r.status).toBe(200)
    expect(r.json.id).toBe(id)
    expect(r.json.displayName).toBe('X')
    expect(r.json.meta.version).toBe('W/"2"')
  })

  test('removing a required attribute (userName) → 400 mutability', async () => {
    const { t, id } = await withUser()
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'remove', path: 'userName' })), 400, 'mutability')
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'userName', value: '' })), 400, 'invalidValue')
  })

  test('a wrong type in a PATCH value → 400 invalidValue; a userName taken by another user → 409 uniqueness', async () => {
    const { t, id } = await withUser()
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: 'perhaps' })), 400, 'invalidValue')
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'add', path: 'emails', value: [{ value: 'a', primary: true }, { value: 'b', primary: true }] })), 400, 'invalidValue')
    await t.req('POST', '/Users', user('bob@example.com'))
    expectError(await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'userName', value: 'BOB@example.com' })), 409, 'uniqueness')
  })

  test('atomic: when the second operation fails the first is not applied and the version is unchanged', async () => {
    const { t, id, created } = await withUser({ displayName: 'Before' })
    const r = await t.req('PATCH', `/Users/${id}`, patch(
      { op: 'replace', path: 'displayName', value: 'After' },
      { op: 'replace', path: 'emails[type eq "nope"]', value: { value: 'x@x.com' } },
    ))
    expectError(r, 400, 'noTarget', /Operations\[1\]/)
    const after = await t.req('GET', `/Users/${id}`)
    expect(after.json.displayName).toBe('Before')
    expect(after.json.meta.version).toBe(created.meta.version)
    expect(after.json.meta.lastModified).toBe(created.meta.lastModified)
    expect(after.headers.get('etag')).toBe(created.meta.version)
  })

  test('atomic for members too: a bad member in a later op leaves the member rows untouched', async () => {
    const t = makeTestApp()
    const a = (await t.req('POST', '/Users', user('a@example.com'))).json.id
    const b = (await t.req('POST', '/Users', user('b@example.com'))).json.id
    const g = (await t.req('POST', '/Groups', { displayName: 'G', members: [{ value: a }] })).json
    const r = await t.req('PATCH', `/Groups/${g.id}`, patch(
      { op: 'add', path: 'members', value: [{ value: b }] },
      { op: 'remove', path: 'members[value eq "' + a + '"]' },
      { op: 'add', path: 'members', value: [{ value: 'no-such-user' }] },
    ))
    expectError(r, 400, 'invalidValue', /no-such-user/)
    const after = await t.req('GET', `/Groups/${g.id}`)
    expect(after.json.members.map((m: any) => m.value)).toEqual([a])
    expect(after.json.meta.version).toBe('W/"1"')
  })

  test('the answer is 200 with the resource, honouring attributes / excludedAttributes', async () => {
    const { t, id } = await withUser({ displayName: 'A', title: 'T' })
    let r = await t.req('PATCH', `/Users/${id}?attributes=displayName`, patch({ op: 'replace', path: 'title', value: 'Boss' }))
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ schemas: [USER_URN], id, displayName: 'A' })
    r = await t.req('PATCH', `/Users/${id}?excludedAttributes=title,meta`, patch({ op: 'replace', path: 'displayName', value: 'B' }))
    expect(r.json.title).toBeUndefined()
    expect(r.json.meta).toBeUndefined()
    expect(r.json.displayName).toBe('B')
    expect(r.json.userName).toBe('alice@example.com')
    expect((await t.req('GET', `/Users/${id}`)).json.title).toBe('Boss')
  })
})

describe('PATCH: what IdPs really send (tolerances; SCIMD_STRICT=true turns each off)', () => {
  test('Entra: active "False" as a string', async () => {
    const { t, id } = await withUser()
    const r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' }))
    expect(r.status).toBe(200)
    expect(r.json.active).toBe(false)
    const s = await withUser({}, true)
    expectError(await s.t.req('PATCH', `/Users/${s.id}`, patch({ op: 'Replace', path: 'active', value: 'False' })), 400, 'invalidValue')
  })

  test('Entra: emails[type eq "work"].value creates the work email when there is none (strict → noTarget)', async () => {
    const { t, id } = await withUser({ emails: [{ value: 'h@x.com', type: 'home' }] })
    const r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'w@x.com' }))
    expect(r.status).toBe(200)
    expect(r.json.emails).toEqual([{ value: 'h@x.com', type: 'home' }, { value: 'w@x.com', type: 'work' }])
    const again = await t.req('PATCH', `/Users/${id}`, patch({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'w2@x.com' }))
    expect(again.json.emails).toEqual([{ value: 'h@x.com', type: 'home' }, { value: 'w2@x.com', type: 'work' }])
    const s = await withUser({}, true)
    expectError(await s.t.req('PATCH', `/Users/${s.id}`, patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'w@x.com' })), 400, 'noTarget')
  })

  test('Entra: the manager as a plain string is stored as {"value": …} (strict → invalidValue)', async () => {
    const { t, id } = await withUser()
    const r = await t.req('PATCH', `/Users/${id}`, patch({ op: 'Add', path: `${ENT}:manager`, value: 'mgr-1' }))
    expect(r.status).toBe(200)
    expect(r.json[ENT].manager).toEqual({ value: 'mgr-1' })
    const arr = await t.req('PATCH', `/Users/${id}`, patch({ op: 'Add', path: `${ENT}:manager`, value: [{ $ref: null, value: 'mgr-2' }] }))
    expect(arr.status).toBe(200)
    expect(arr.json[ENT].manager).toEqual({ value: 'mgr-2' })
    const s = await withUser({}, true)
    expectError(await s.t.req('PATCH', `/Users/${s.id}`, patch({ op: 'add', path: `${ENT}:manager`, value: 'mgr-1' })), 400, 'invalidValue')
    const ok = await s.t.req('PATCH', `/Users/${s.id}`, patch({ op: 'add', path: `${ENT}:manager`, value: { value: 'mgr-1' } }))
    expect(ok.status).toBe(200)
  })

  test('Entra fixture (patch-update-user.json) replays as one atomic PATCH', async () => {
    const fixture = await Bun.file(join(import.meta.dir, '../fixtures/idp/entra/patch-update-user.json')).json()
    const { t, id } = await withUser({ emails: [{ value: 'old@contoso.com', type: 'work', primary: true }] })
    const r = await t.req('PATCH', `/Users/${id}`, fixture.request)
    expect(r.status).toBe(200)
    expect(r.json.active).toBe(false)
    expect(r.json.emails).toEqual([{ value: 'new@contoso.com', type: 'work', primary: true }])
    expect(r.json[ENT]).toEqual({ employeeNumber: '12345', department: 'Eng', manager: { value: 'mgr-1' } })
  })

  async function group(strict = false) {
    const t = makeTestApp({ strict })
    const ids: string[] = []
    for (const n of ['a', 'b', 'c']) ids.push((await t.req('POST', '/Users', user(`${n}@example.com`))).json.id)
    const g = (await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'G', members: ids.map((value) => ({ value })) })).json
    const members = async () => ((await t.req('GET', `/Groups/${g.id}`)).json.members ?? []).map((m: any) => m.value).sort()
    return { t, ids, g, members }
  }

  test('Entra: remove members by path "members" with a value array removes just those (strict → invalidValue)', async () => {
    const { t, ids, g, members } = await group()
    const r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: ids[0] }, { value: ids[2] }] }))
    expect(r.status).toBe(200)
    expect(await members()).toEqual([ids[1]])
    const s = await group(true)
    expectError(await s.t.req('PATCH', `/Groups/${s.g.id}`, patch({ op: 'remove', path: 'members', value: [{ value: s.ids[0] }] })), 400, 'invalidValue')
    expect(await s.members()).toEqual([...s.ids].sort())
  })

  test('compliant removal members[value eq "id"] works in both modes', async () => {
    for (const strict of [false, true]) {
      const { t, ids, g, members } = await group(strict)
      const r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'remove', path: `members[value eq "${ids[1]}"]` }))
      expect(r.status).toBe(200)
      expect(await members()).toEqual([ids[0], ids[2]].sort())
    }
  })

  test('a bare string as a member value (strict → invalidValue); member objects without type are fine in both modes', async () => {
    const t = makeTestApp()
    const u = (await t.req('POST', '/Users', user('m@example.com'))).json.id
    const g = (await t.req('POST', '/Groups', { displayName: 'G' })).json
    const r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'Add', path: 'members', value: [u] }))
    expect(r.status).toBe(200)
    expect(r.json.members).toEqual([{ value: u, $ref: `http://localhost/scim/v2/Users/${u}`, type: 'User', display: 'm@example.com' }])
    const s = makeTestApp({ strict: true })
    const su = (await s.req('POST', '/Users', user('m@example.com'))).json.id
    const sg = (await s.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'G' })).json
    expectError(await s.req('PATCH', `/Groups/${sg.id}`, patch({ op: 'add', path: 'members', value: [su] })), 400, 'invalidValue')
    const ok = await s.req('PATCH', `/Groups/${sg.id}`, patch({ op: 'add', path: 'members', value: [{ value: su }] }))
    expect(ok.status).toBe(200)
    expect(ok.json.members[0].type).toBe('User')
  })

  test('a group rename whose value object carries the id (Okta) ignores the id, in both modes', async () => {
    for (const strict of [false, true]) {
      const t = makeTestApp({ strict })
      const g = (await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'Old' })).json
      const r = await t.req('PATCH', `/Groups/${g.id}`, patch({ op: 'replace', value: { id: g.id, displayName: 'New' } }))
      expect(r.status).toBe(200)
      expect(r.json.displayName).toBe('New')
      expect(r.json.id).toBe(g.id)
    }
  })

  // a SQLite file reopened with other settings (the PostgreSQL run covers the same through its own database)
  test.skipIf(TEST_STORE === 'postgres')('strict mode re-checks nothing the operations did not touch: stored undeclared data survives a strict PATCH', async () => {
    // patch-service re-validates the PATCH result leniently on purpose: the operations were checked strictly by
    // the engine, and data written before SCIMD_STRICT was switched on must not make every later PATCH fail.
    const file = join(mkdtempSync(join(tmpdir(), 'scimd-strict-')), 'db.sqlite')
    const okta = 'urn:okta:custom:1.0:User'
    const lax = makeTestApp({ databaseUrl: file })
    const id = (await lax.req('POST', '/Users', user('alice@example.com', { [okta]: { Costume: 'Pirate' } }))).json.id
    lax.db.$client.close()
    const strict = makeTestApp({ databaseUrl: file, strict: true })
    const r = await strict.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))
    expect(r.status).toBe(200)
    expect(r.json.active).toBe(false)
    expect(r.json[okta]).toEqual({ Costume: 'Pirate' })
    expectError(await strict.req('PATCH', `/Users/${id}`, patch({ op: 'replace', path: `${okta}:Costume`, value: 'Ninja' })), 400, 'invalidPath')
    strict.db.$client.close()
  })
})
