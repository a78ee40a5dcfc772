/**
 * SCIMD_SCHEMAS (issue 4 §2): custom extensions declared in a JSON file appear in discovery and validate, filter,
 * project and patch like core attributes; undeclared extension URNs are kept verbatim (refused when strict); a bad
 * file stops start-up with one line.
 */
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, type Config } from '../../src/config'
import { filterResolver } from '../../src/db/filter-sql'
import { evaluateFilter } from '../../src/scim/filter/evaluate'
import { parseFilter } from '../../src/scim/filter/parser'
import { defaultRegistry } from '../../src/scim/schema/registry'
import { makeTestApp, PATCH_URN, user, USER_URN } from '../helpers/app'

const FIXTURE = join(import.meta.dir, '../fixtures/schemas/acme.json')
const ACME = 'urn:acme:params:scim:schemas:extension:acme:2.0:User'
const ACME_GROUP = 'urn:acme:params:scim:schemas:extension:acme:2.0:Group'
const ENTRA_CUSTOM = 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User'

function acmeApp(overrides: Partial<Config> = {}) {
  const { config } = parseConfig({ SCIMD_SCHEMAS: FIXTURE })
  return makeTestApp({ schemaExtensions: config.schemaExtensions, ...overrides })
}

const fullAcme = {
  costCenter: 'CC-1',
  badgeNumber: 'B-17',
  clearance: 3,
  rate: 12.5,
  remote: true,
  hiredOn: '2020-01-01T10:00:00+01:00',
  homepage: 'https://acme.example/alice',
  photo: 'aGVsbG8=',
  tags: ['red', 'blue'],
  internalNote: 'likes tea',
  pin: '1234',
  sites: [{ value: 'paris', primary: true }, { value: 'oslo', label: 'HQ' }],
}
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_URN], Operations })
const q = (f: string) => `/Users?filter=${encodeURIComponent(f)}`

describe('SCIMD_SCHEMAS: loading', () => {
  test('the file is parsed at configuration time into Config.schemaExtensions', () => {
    const { config } = parseConfig({}, ['--schemas', FIXTURE])
    expect(config.schemaExtensions?.schemas.map((s) => s.id)).toEqual([ACME, ACME_GROUP])
    expect(config.schemaExtensions?.resourceTypes.User).toEqual([{ schema: ACME, required: false }])
  })

  const dir = mkdtempSync(join(tmpdir(), 'scimd-schemas-'))
  const bad = (name: string, text: string) => {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  }
  test.each([
    ['a missing file', join(dir, 'nope.json'), /SCIMD_SCHEMAS: cannot read '.*nope\.json': no such file/],
    ['a directory', dir, /SCIMD_SCHEMAS: cannot read .*directory/],
    ['invalid JSON', bad('broken.json', '{"schemas": ['), /SCIMD_SCHEMAS: '.*broken\.json' is not valid JSON/],
    ['a typo in an attribute', bad('typo.json', JSON.stringify({ schemas: [{ id: 'urn:x:y:User', attributes: [{ name: 'a', mutable: true }] }], resourceTypes: { User: ['urn:x:y:User'] } })), /unknown field "mutable"/],
    ['an unknown resource type', bad('rt.json', JSON.stringify({ schemas: [{ id: 'urn:x:y:User', attributes: [] }], resourceTypes: { Usr: ['urn:x:y:User'] } })), /resource type "Usr" is unknown/],
    ['a built-in URN', bad('builtin.json', JSON.stringify({ schemas: [{ id: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attributes: [] }], resourceTypes: { User: ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'] } })), /reserved for a built-in schema/],
  ])('%s → ConfigError naming SCIMD_SCHEMAS', (_, path, message) => {
    let err: any
    try {
      parseConfig({ SCIMD_SCHEMAS: path })
    } catch (e) {
      err = e
    }
    expect(err?.name).toBe('ConfigError')
    expect(err.problems).toHaveLength(1)
    expect(err.problems[0]).toStartWith('SCIMD_SCHEMAS: ')
    expect(err.problems[0]).toMatch(message)
    expect(err.problems[0]).not.toContain('\n')
  })

  test('scimd serve with a missing SCIMD_SCHEMAS file exits 2 with one line on stderr', async () => {
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, '../../src/index.ts'), 'serve'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: ':memory:', SCIMD_BEARER_TOKENS: 'x', SCIMD_SCHEMAS: join(dir, 'absent.json'), PORT: '0' },
      cwd: dir,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => (proc.kill(), -1))])
    const stderr = await new Response(proc.stderr).text()
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^scimd: invalid configuration: SCIMD_SCHEMAS: cannot read '.*absent\.json': no such file$/)])
  })
})

describe('SCIMD_SCHEMAS: declared extension attributes behave like core ones', () => {
  test('they appear in /Schemas, /Schemas/{id} and /ResourceTypes', async () => {
    const t = acmeApp()
    const list = await t.req('GET', '/Schemas')
    expect(list.json.Resources.map((s: any) => s.id)).toContain(ACME)
    const one = await t.req('GET', `/Schemas/${ACME}`)
    expect(one.status).toBe(200)
    expect(one.json.name).toBe('AcmeUser')
    const clearance = one.json.attributes.find((a: any) => a.name === 'clearance')
    expect(clearance).toMatchObject({ type: 'integer', multiValued: false, required: false, mutability: 'readWrite', returned: 'default' })
    expect(one.json.attributes.find((a: any) => a.name === 'sites').subAttributes.map((s: any) => s.name)).toEqual(['value', 'label', 'primary'])
    const rt = await t.req('GET', '/ResourceTypes/User')
    expect(rt.json.schemaExtensions).toContainEqual({ schema: ACME, required: false })
    const grt = await t.req('GET', '/ResourceTypes/Group')
    expect(grt.json.schemaExtensions).toEqual([{ schema: ACME_GROUP, required: false }])
  })

  test('POST stores every type canonically; writeOnly/returned:never and returned:request stay out of the answer', async () => {
    const t = acmeApp()
    const r = await t.req('POST', '/Users', user('alice', { schemas: [USER_URN, ACME], [ACME]: { ...fullAcme, remote: 'True', clearance: '3' } }))
    expect(r.status).toBe(201)
    const ext = r.json[ACME]
    expect(r.json.schemas).toEqual([USER_URN, ACME])
    expect(ext).toEqual({
      costCenter: 'CC-1',
      badgeNumber: 'B-17',
      clearance: 3,
      rate: 12.5,
      remote: true,
      hiredOn: '2020-01-01T09:00:00.000Z',
      homepage: 'https://acme.example/alice',
      photo: 'aGVsbG8=',
      tags: ['red', 'blue'],
      sites: [{ value: 'paris', primary: true }, { value: 'oslo', label: 'HQ' }],
    })
    const asked = await t.req('GET', `/Users/${r.json.id}?attributes=${ACME}:internalNote,${ACME}:pin`)
    expect(asked.json[ACME]).toEqual({ internalNote: 'likes tea' })
  })

  test.each([
    ['clearance', 'high'],
    ['clearance', 2.5],
    ['rate', 'fast'],
    ['remote', 'yes'],
    ['hiredOn', '2020-13-01T00:00:00Z'],
    ['hiredOn', 20200101],
    ['homepage', 42],
    ['photo', '***'],
    ['tags', [['nested']]],
    ['costCenter', ['a', 'b']],
    ['sites', [{ value: 'a', primary: true }, { value: 'b', primary: true }]],
    ['sites', [{ label: 'no value' }]],
  ])('%s = %j → 400 invalidValue', async (name, value) => {
    const t = acmeApp()
    const r = await t.req('POST', '/Users', user('bob', { [ACME]: { costCenter: 'CC', [name]: value } }))
    expect(r.status).toBe(400)
    expect(r.json.scimType).toBe('invalidValue')
    expect(r.json.detail).toContain(name)
  })

  test('a required extension attribute is required once the extension is present', async () => {
    const t = acmeApp()
    const r = await t.req('POST', '/Users', user('bob', { [ACME]: { clearance: 1 } }))
    expect(r.status).toBe(400)
    expect(r.json.scimType).toBe('invalidValue')
    expect(r.json.detail).toContain(`${ACME}:costCenter`)
    expect((await t.req('POST', '/Users', user('bob'))).status).toBe(201) // no extension: nothing required
  })

  test('filters on extension attributes use the declared type and caseExact', async () => {
    const t = acmeApp()
    await t.req('POST', '/Users', user('alice', { [ACME]: fullAcme }))
    await t.req('POST', '/Users', user('carol', { [ACME]: { costCenter: 'cc-2', clearance: 1, remote: false, badgeNumber: 'X-1' } }))
    const count = async (f: string) => {
      const r = await t.req('GET', q(f))
      expect(r.status).toBe(200)
      return r.json.Resources?.map((u: any) => u.userName).sort() ?? []
    }
    expect(await count(`${ACME}:clearance gt 2`)).toEqual(['alice'])
    expect(await count(`${ACME}:clearance ge 1`)).toEqual(['alice', 'carol'])
    expect(await count(`${ACME}:remote eq true`)).toEqual(['alice'])
    expect(await count(`${ACME}:hiredOn lt "2020-01-01T09:30:00Z"`)).toEqual(['alice'])
    expect(await count(`${ACME}:badgeNumber eq "B-17"`)).toEqual(['alice'])
    expect(await count(`${ACME}:badgeNumber eq "b-17"`)).toEqual([]) // caseExact: true
    expect(await count(`${ACME}:costCenter eq "CC-2"`)).toEqual(['carol']) // caseExact: false
    expect(await count(`${ACME}:sites[value eq "oslo" and label eq "hq"]`)).toEqual(['alice'])
    expect(await count(`${ACME}:tags eq "blue"`)).toEqual(['alice'])
    const bad = await t.req('GET', q(`${ACME}:clearance eq "three"`))
    expect(bad.status).toBe(400)
    expect(bad.json.scimType).toBe('invalidFilter')
    const unknown = await t.req('GET', q(`${ACME}:nosuch eq "x"`))
    expect(unknown.status).toBe(400)
    expect(unknown.json.scimType).toBe('invalidFilter')
  })

  test('attributes / excludedAttributes project extension attributes and sub-attributes', async () => {
    const t = acmeApp()
    const id = (await t.req('POST', '/Users', user('alice', { [ACME]: fullAcme }))).json.id
    const only = await t.req('GET', `/Users/${id}?attributes=${ACME}:clearance,${ACME}:sites.value`)
    expect(only.json).toEqual({ schemas: [USER_URN, ACME], id, [ACME]: { clearance: 3, sites: [{ value: 'paris' }, { value: 'oslo' }] } })
    const without = await t.req('GET', `/Users/${id}?excludedAttributes=${ACME}`)
    expect(without.json[ACME]).toBeUndefined()
    expect(without.json.userName).toBe('alice')
    const minus = await t.req('GET', `/Users/${id}?excludedAttributes=${ACME}:tags,${ACME}:sites`)
    expect(Object.keys(minus.json[ACME]).sort()).toEqual(['badgeNumber', 'clearance', 'costCenter', 'hiredOn', 'homepage', 'photo', 'rate', 'remote'])
  })

  test('PATCH validates extension values; PUT refuses a changed immutable extension attribute', async () => {
    const t = acmeApp()
    const created = (await t.req('POST', '/Users', user('alice', { [ACME]: fullAcme }))).json
    let r = await t.req('PATCH', `/Users/${created.id}`, patch({ op: 'replace', path: `${ACME}:clearance`, value: 'x' }))
    expect(r.status).toBe(400)
    expect(r.json.scimType).toBe('invalidValue')
    r = await t.req('PATCH', `/Users/${created.id}`, patch({ op: 'Replace', path: `${ACME}:clearance`, value: 5 }, { op: 'add', path: `${ACME}:tags`, value: ['green', 'red'] }))
    expect(r.status).toBe(200)
    expect(r.json[ACME].clearance).toBe(5)
    expect(r.json[ACME].tags).toEqual(['red', 'blue', 'green'])
    r = await t.req('PATCH', `/Users/${created.id}`, patch({ op: 'replace', path: `${ACME}:badgeNumber`, value: 'B-99' }))
    expect(r.status).toBe(400)
    expect(r.json.scimType).toBe('mutability')
    const body = { ...created, [ACME]: { ...created[ACME], badgeNumber: 'B-99' } }
    r = await t.req('PUT', `/Users/${created.id}`, body)
    expect(r.status).toBe(400)
    expect(r.json.scimType).toBe('mutability')
    expect(r.json.detail).toContain(`${ACME}:badgeNumber`)
    r = await t.req('PUT', `/Users/${created.id}`, { ...created, [ACME]: { ...created[ACME], badgeNumber: 'B-17', clearance: 9 } })
    expect(r.status).toBe(200)
    expect(r.json[ACME].clearance).toBe(9)
  })

  test('a Group extension works the same way', async () => {
    const t = acmeApp()
    const g = await t.req('POST', '/Groups', { displayName: 'Ops', [ACME_GROUP]: { tier: '2' } })
    expect(g.status).toBe(201)
    expect(g.json[ACME_GROUP]).toEqual({ tier: 2 })
    const f = await t.req('GET', `/Groups?filter=${encodeURIComponent(`${ACME_GROUP}:tier eq 2`)}`)
    expect(f.json.totalResults).toBe(1)
  })
})

describe('undeclared extension URNs (an IdP’s custom attributes)', () => {
  const okta = 'urn:okta:custom:1.0:User'

  test('stored verbatim, returned and filterable as sent (object form and URN:attr form)', async () => {
    const t = makeTestApp()
    const r = await t.req('POST', '/Users', user('alice', { schemas: [USER_URN, okta], [okta]: { Costume: 'Pirate', shoeSize: 42, nested: { a: [1, 2] } }, [`${ENTRA_CUSTOM}:Office`]: 'B12' }))
    expect(r.status).toBe(201)
    expect(r.json[okta]).toEqual({ Costume: 'Pirate', shoeSize: 42, nested: { a: [1, 2] } })
    expect(r.json[ENTRA_CUSTOM]).toEqual({ Office: 'B12' })
    expect(r.json.schemas).toEqual([USER_URN, okta, ENTRA_CUSTOM])
    const got = await t.req('GET', `/Users/${r.json.id}`)
    expect(got.json[okta]).toEqual({ Costume: 'Pirate', shoeSize: 42, nested: { a: [1, 2] } })
    expect((await t.req('GET', q(`${okta}:Costume eq "pirate"`))).json.totalResults).toBe(1)
    expect((await t.req('GET', q(`${okta}:shoeSize gt 40`))).json.totalResults).toBe(1)
    expect((await t.req('GET', q(`${ENTRA_CUSTOM}:Office eq "B12"`))).json.totalResults).toBe(1)
    expect((await t.req('GET', q(`${okta}:Costume eq "ninja"`))).json.totalResults).toBe(0)
    const p = await t.req('PATCH', `/Users/${r.json.id}`, patch({ op: 'replace', path: `${okta}:Costume`, value: 'Ninja' }))
    expect(p.status).toBe(200)
    expect(p.json[okta].Costume).toBe('Ninja')
  })

  test('an unknown attribute inside a declared extension is not an undeclared extension', async () => {
    const t = makeTestApp()
    const ent = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
    const r = await t.req('POST', '/Users', user('alice', { [`${ent}:nosuch`]: { a: 1 } }))
    expect(r.status).toBe(201)
    expect(r.json[`${ent}:nosuch`]).toBeUndefined()
    expect(r.json.schemas).toEqual([USER_URN])
    const s = makeTestApp({ strict: true })
    const refused = await s.req('POST', '/Users', user('alice', { [`${ent}:nosuch`]: { a: 1 } }))
    expect(refused.status).toBe(400)
    expect(refused.json.scimType).toBe('invalidValue')
  })

  test('SCIMD_STRICT=true refuses them with 400 invalidValue naming the URN (POST, PUT and PATCH)', async () => {
    const t = makeTestApp({ strict: true })
    for (const body of [user('alice', { schemas: [USER_URN, okta], [okta]: { Costume: 'Pirate' } }), user('alice', { [`${okta}:Costume`]: 'Pirate' })]) {
      const r = await t.req('POST', '/Users', body)
      expect(r.status).toBe(400)
      expect(r.json.scimType).toBe('invalidValue')
      expect(r.json.detail).toContain(okta)
    }
    const id = (await t.req('POST', '/Users', user('alice'))).json.id
    const put = await t.req('PUT', `/Users/${id}`, user('alice', { schemas: [USER_URN, okta], [okta]: { Costume: 'Pirate' } }))
    expect(put.status).toBe(400)
    expect(put.json.scimType).toBe('invalidValue')
    expect(put.json.detail).toContain(okta)
    const p = await t.req('PATCH', `/Users/${id}`, patch({ op: 'replace', value: { [okta]: { Costume: 'Pirate' } } }))
    expect(p.status).toBe(400)
    expect(p.json.detail).toContain(okta)
    const f = await t.req('GET', q(`${okta}:Costume eq "pirate"`))
    expect(f.status).toBe(400)
    expect(f.json.scimType).toBe('invalidFilter')
  })
})

describe('undeclared attributes compare by the literal’s type, in SQL exactly as in the evaluator', () => {
  const okta = 'urn:okta:custom:1.0:User'
  const values: unknown[] = [42, 7.5, '42', 'True', true, false, 'pirate', 'Pirate', ['a', 3, true], null, { x: 1 }, -1]
  const filters = [
    'size eq 42', 'size gt 10', 'size le 7.5', 'size ne 42', 'size eq "42"', 'size eq true', 'size eq false', 'size ne true',
    'size eq "pirate"', 'size co "IRA"', 'size sw "p"', 'size gt "a"', 'size eq 3', 'size eq "a"', 'size pr', 'not (size eq 42)',
  ]
  const REG = defaultRegistry()
  test.each(filters)('%s', async (text) => {
    const t = makeTestApp()
    const all: any[] = []
    for (const [i, v] of values.entries())
      all.push((await t.req('POST', '/Users', user(`u${i}`, { schemas: [USER_URN, okta], [okta]: { size: v, other: 1 } }))).json)
    const filterText = text.startsWith('not') ? text.replace('size', `${okta}:size`) : `${okta}:${text}`
    const r = await t.req('GET', `/Users?count=100&filter=${encodeURIComponent(filterText)}`)
    expect(r.status).toBe(200)
    const resolver = filterResolver({ registry: REG, rt: REG.resourceType('User')!, strict: false })
    const f = parseFilter(filterText)
    const expected = all.filter((u) => evaluateFilter(f, u, resolver)).map((u) => u.userName).sort()
    expect(expected.length).toBeGreaterThan(0)
    expect(expected.length).toBeLessThan(values.length)
    expect((r.json.Resources ?? []).map((u: any) => u.userName).sort()).toEqual(expected)
  })
})
