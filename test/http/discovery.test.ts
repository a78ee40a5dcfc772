/**
 * Issue 4 §8: discovery generated from the schema registry and the live configuration (RFC 7644 §4, RFC 7643 §5–§7).
 * Entra requires /Schemas to be a ListResponse with no nulls anywhere: checked recursively on every document.
 */
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { parseConfig, type Config } from '../../src/config'
import { LIMITS } from '../../src/scim/constants'
import { ERROR_URN, GROUP_URN, makeTestApp, SCIM, USER_URN } from '../helpers/app'

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const ACME = 'urn:acme:params:scim:schemas:extension:acme:2.0:User'
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'

/** Paths of every null (or undefined) anywhere in a JSON value. */
function nullsIn(v: unknown, path = '$'): string[] {
  if (v === null || v === undefined) return [path]
  if (Array.isArray(v)) return v.flatMap((x, i) => nullsIn(x, `${path}[${i}]`))
  if (typeof v === 'object') return Object.entries(v as object).flatMap(([k, x]) => nullsIn(x, `${path}.${k}`))
  return []
}

/** Every attribute definition (RFC 7643 §7) is complete and consistent, recursively. */
function checkAttributes(attrs: any[], where: string, depth = 0) {
  expect(Array.isArray(attrs)).toBe(true)
  const names = new Set<string>()
  for (const a of attrs) {
    const at = `${where}.${a.name}`
    expect(typeof a.name).toBe('string')
    expect(names.has(a.name.toLowerCase())).toBe(false)
    names.add(a.name.toLowerCase())
    expect(['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary']).toContain(a.type)
    for (const k of ['multiValued', 'required', 'caseExact']) expect(typeof a[k]).toBe('boolean')
    expect(['readOnly', 'readWrite', 'immutable', 'writeOnly']).toContain(a.mutability)
    expect(['always', 'never', 'default', 'request']).toContain(a.returned)
    expect(['none', 'server', 'global']).toContain(a.uniqueness)
    if (a.description !== undefined) expect(typeof a.description).toBe('string') // optional in SCIMD_SCHEMAS files
    if (a.type === 'complex') {
      expect(depth).toBe(0) // RFC 7643 §2.3.8: no complex inside complex
      expect(a.subAttributes.length).toBeGreaterThan(0)
      checkAttributes(a.subAttributes, at, depth + 1)
    } else expect(a.subAttributes).toBeUndefined()
    if (a.type === 'reference') expect(Array.isArray(a.referenceTypes)).toBe(true)
    else expect(a.referenceTypes).toBeUndefined()
  }
}

function acme(overrides: Partial<Config> = {}) {
  const { config } = parseConfig({ SCIMD_SCHEMAS: join(import.meta.dir, '../fixtures/schemas/acme.json') })
  return makeTestApp({ schemaExtensions: config.schemaExtensions, ...overrides })
}

describe('/ServiceProviderConfig', () => {
  test('capabilities as implemented; public (no credentials needed); scim+json; no nulls', async () => {
    const t = makeTestApp()
    const r = await t.req('GET', '/ServiceProviderConfig', undefined, { auth: false })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toStartWith(SCIM)
    expect(r.json.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig', 'urn:scimd:params:scim:schemas:extension:profile:1.0'])
    expect(r.json['urn:scimd:params:scim:schemas:extension:profile:1.0']).toEqual({ profile: 'tolerant', strict: false })
    expect(r.json.patch).toEqual({ supported: true })
    expect(r.json.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 1048576 })
    expect(r.json.filter).toEqual({ supported: true, maxResults: LIMITS.maxResults })
    expect(r.json.changePassword).toEqual({ supported: true })
    expect(r.json.sort).toEqual({ supported: true })
    expect(r.json.etag).toEqual({ supported: true })
    expect(r.json.documentationUri).toBe('http://localhost/docs')
    expect(r.json.meta).toEqual({ resourceType: 'ServiceProviderConfig', location: 'http://localhost/scim/v2/ServiceProviderConfig' })
    expect(nullsIn(r.json)).toEqual([])
  })

  test.each([
    ['bearer tokens only', { bearerTokens: ['tok-1'] }, ['oauthbearertoken']],
    ['basic only', { bearerTokens: [], basicAuth: { user: 'u', password: 'p' } }, ['httpbasic']],
    ['both', { bearerTokens: ['tok-1'], basicAuth: { user: 'u', password: 'p' } }, ['oauthbearertoken', 'httpbasic']],
  ] as [string, Partial<Config>, string[]][])('authenticationSchemes follow the live auth configuration: %s', async (_, cfg, types) => {
    const t = makeTestApp(cfg)
    const r = await t.req('GET', '/ServiceProviderConfig', undefined, { auth: false })
    expect(r.json.authenticationSchemes.map((s: any) => s.type).sort()).toEqual([...types].sort())
    for (const s of r.json.authenticationSchemes) {
      expect(typeof s.name).toBe('string')
      expect(typeof s.description).toBe('string')
    }
    expect(r.text).not.toContain('tok-1')
    expect(nullsIn(r.json)).toEqual([])
  })

  test('SCIMD_PUBLIC_URL and SCIMD_BASE_PATH show in the locations', async () => {
    const t = makeTestApp({ publicUrl: 'https://scim.example.com', basePath: '/api/scim' })
    const r = await t.req('GET', '/ServiceProviderConfig')
    expect(r.json.meta.location).toBe('https://scim.example.com/api/scim/ServiceProviderConfig')
    expect(r.json.documentationUri).toBe('https://scim.example.com/docs')
    const rt = await t.req('GET', '/ResourceTypes/User')
    expect(rt.json.meta.location).toBe('https://scim.example.com/api/scim/ResourceTypes/User')
  })
})

describe('/ResourceTypes', () => {
  test('a ListResponse of User and Group; each also at /ResourceTypes/{id}', async () => {
    const t = makeTestApp()
    const r = await t.req('GET', '/ResourceTypes', undefined, { auth: false })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toStartWith(SCIM)
    expect(r.json.schemas).toEqual([LIST])
    expect(r.json.totalResults).toBe(2)
    expect(r.json.itemsPerPage).toBe(2)
    expect(r.json.startIndex).toBe(1)
    const byId = Object.fromEntries(r.json.Resources.map((x: any) => [x.id, x]))
    expect(byId.User).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      schema: USER_URN,
      schemaExtensions: [{ schema: ENT, required: false }],
      meta: { resourceType: 'ResourceType', location: 'http://localhost/scim/v2/ResourceTypes/User' },
    })
    expect(byId.Group).toMatchObject({ id: 'Group', name: 'Group', endpoint: '/Groups', schema: GROUP_URN, schemaExtensions: [] })
    expect(nullsIn(r.json)).toEqual([])
    for (const id of ['User', 'Group']) {
      const one = await t.req('GET', `/ResourceTypes/${id}`)
      expect(one.status).toBe(200)
      expect(one.json).toEqual(byId[id])
    }
  })

  test('unknown id → 404 SCIM error', async () => {
    const t = makeTestApp()
    const r = await t.req('GET', '/ResourceTypes/Printer')
    expect(r.status).toBe(404)
    expect(r.json.schemas).toEqual([ERROR_URN])
    expect(r.json.status).toBe('404')
    expect(r.json.scimType).toBeUndefined()
  })
})

describe('/Schemas', () => {
  test.each([
    ['built-in schemas', () => makeTestApp(), [USER_URN, GROUP_URN, ENT]],
    ['with SCIMD_SCHEMAS', () => acme(), [USER_URN, GROUP_URN, ENT, ACME, 'urn:acme:params:scim:schemas:extension:acme:2.0:Group']],
  ] as [string, () => ReturnType<typeof makeTestApp>, string[]][])('%s: a ListResponse without nulls; each schema also at /Schemas/{id}', async (_, make, ids) => {
    const t = make()
    const r = await t.req('GET', '/Schemas', undefined, { auth: false })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toStartWith(SCIM)
    expect(r.json.schemas).toEqual([LIST])
    expect(r.json.totalResults).toBe(ids.length)
    expect(r.json.Resources.map((s: any) => s.id).sort()).toEqual([...ids].sort())
    expect(nullsIn(r.json)).toEqual([])
    for (const s of r.json.Resources) {
      expect(s.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Schema'])
      expect(typeof s.name).toBe('string')
      expect(typeof s.description).toBe('string')
      expect(s.meta).toEqual({ resourceType: 'Schema', location: `http://localhost/scim/v2/Schemas/${s.id}` })
      checkAttributes(s.attributes, s.id)
      const one = await t.req('GET', `/Schemas/${s.id}`)
      expect(one.status).toBe(200)
      expect(one.json).toEqual(s)
      expect(nullsIn(one.json)).toEqual([])
    }
    const rts = await t.req('GET', '/ResourceTypes')
    expect(nullsIn(rts.json)).toEqual([])
    for (const rt of rts.json.Resources)
      for (const ext of rt.schemaExtensions) expect(ids).toContain(ext.schema)
  })

  test('the User schema carries the characteristics that drive the server (password, userName, groups, emails)', async () => {
    const t = makeTestApp()
    const s = (await t.req('GET', `/Schemas/${USER_URN}`)).json
    const attr = (n: string) => s.attributes.find((a: any) => a.name === n)
    expect(attr('userName')).toMatchObject({ type: 'string', required: true, caseExact: false, uniqueness: 'server', mutability: 'readWrite' })
    expect(attr('password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' })
    expect(attr('groups')).toMatchObject({ mutability: 'readOnly', multiValued: true, type: 'complex' })
    expect(attr('emails')).toMatchObject({ multiValued: true, type: 'complex' })
    expect(attr('emails').subAttributes.map((x: any) => x.name)).toEqual(expect.arrayContaining(['value', 'type', 'primary']))
    expect(attr('x509Certificates').subAttributes.find((x: any) => x.name === 'value').type).toBe('binary')
    const g = (await t.req('GET', `/Schemas/${GROUP_URN}`)).json
    const members = g.attributes.find((a: any) => a.name === 'members')
    expect(members.subAttributes.find((x: any) => x.name === 'value').mutability).toBe('immutable')
  })

  test('schema ids are matched case-insensitively; unknown id → 404 SCIM error', async () => {
    const t = makeTestApp()
    expect((await t.req('GET', `/Schemas/${USER_URN.toLowerCase()}`)).json.id).toBe(USER_URN)
    const r = await t.req('GET', '/Schemas/urn:nope:nothing')
    expect(r.status).toBe(404)
    expect(r.json.schemas).toEqual([ERROR_URN])
    expect(r.json.status).toBe('404')
  })
})
