import fc from 'fast-check'
import { describe, expect, test } from 'bun:test'
import { parseAttrPath } from '../../../src/scim/attr-path'
import { URN } from '../../../src/scim/constants'
import { ScimError } from '../../../src/scim/errors'
import { loadSchemaExtensions } from '../../../src/scim/schema/extensions'
import { defaultRegistry } from '../../../src/scim/schema/registry'
import {
  checkImmutable,
  coerceValue,
  findKey,
  getCaseInsensitive,
  normalizeDateTime,
  validateResource,
} from '../../../src/scim/schema/validate'
import fullUser from '../../fixtures/rfc/7643-8.2-full-user.json'
import enterpriseUser from '../../fixtures/rfc/7643-8.3-enterprise-user.json'
import rfcGroup from '../../fixtures/rfc/7643-8.4-group.json'

const registry = defaultRegistry()
const User = registry.resourceType('User')!
const Group = registry.resourceType('Group')!
const tolerant = { strict: false }
const strict = { strict: true }
const clone = <T>(x: T): T => structuredClone(x)

function scimError(fn: () => unknown): ScimError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ScimError)
    return e as ScimError
  }
  throw new Error('expected a ScimError')
}

function expectError(fn: () => unknown, status: number, scimType: string, detail: RegExp) {
  const e = scimError(fn)
  expect(e.status).toBe(status)
  expect(e.scimType).toBe(scimType as never)
  expect(e.detail).toMatch(detail)
  return e
}

const withoutReadOnly = (r: Record<string, unknown>) => {
  const { id: _id, meta: _meta, groups: _groups, ...rest } = r
  return rest
}

describe('RFC 7643 examples', () => {
  test('§8.2 full user validates cleanly in strict mode (readOnly id/meta/groups dropped, password kept)', () => {
    const out = validateResource(registry, User, clone(fullUser), strict)
    expect(out).toEqual(withoutReadOnly(fullUser))
    expect(out.password).toBe('t1meMa$heen')
    expect(out.id).toBeUndefined()
    expect(out.meta).toBeUndefined()
    expect(out.groups).toBeUndefined()
  })

  test('§8.2 round-trips: validating the output again yields the same output', () => {
    const once = validateResource(registry, User, clone(fullUser), strict)
    expect(validateResource(registry, User, clone(once), strict)).toEqual(once)
    expect(validateResource(registry, User, clone(once), tolerant)).toEqual(once)
  })

  test('§8.3 enterprise user: extension kept under its URN, manager.displayName (readOnly) dropped', () => {
    const out = validateResource(registry, User, clone(enterpriseUser), strict)
    expect(out.schemas).toEqual([URN.user, URN.enterpriseUser])
    expect(out[URN.enterpriseUser]).toEqual({
      employeeNumber: '701984',
      costCenter: '4130',
      organization: 'Universal Studios',
      division: 'Theme Park',
      department: 'Tour Operations',
      manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d', $ref: '../Users/26118915-6090-4610-87e4-49d8ca9f808d' },
    })
  })

  test('§8.4 group: members kept, members.display (readOnly) dropped', () => {
    const out = validateResource(registry, Group, clone(rfcGroup), strict)
    expect(out).toEqual({
      schemas: [URN.group],
      displayName: 'Tour Guides',
      members: rfcGroup.members.map(({ value, $ref }) => ({ value, $ref })),
    })
  })
})

describe('canonicalisation (tolerant mode)', () => {
  test("Entra's capitalised body", () => {
    const body = {
      schemas: [URN.user, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User'],
      ExternalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      UserName: 'Test_User_ab6490ee@contoso.com',
      Active: 'True',
      DisplayName: 'BobIsAmazing',
      Emails: [{ Primary: 'true', Type: 'work', Value: 'Test_User_fd0ea19b@contoso.com' }],
      Meta: { ResourceType: 'User' },
      Name: { Formatted: 'givenName familyName', FamilyName: 'familyName', GivenName: 'givenName' },
      Roles: [],
    }
    const out = validateResource(registry, User, body, tolerant)
    expect(out).toEqual({
      schemas: [URN.user],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee@contoso.com',
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      displayName: 'BobIsAmazing',
      active: true,
      emails: [{ value: 'Test_User_fd0ea19b@contoso.com', type: 'work', primary: true }],
    })
    // canonical key order follows the schema
    expect(Object.keys(out)).toEqual(['schemas', 'externalId', 'userName', 'name', 'displayName', 'active', 'emails'])
  })

  test('"False" string, missing schemas accepted, null means absent', () => {
    const out = validateResource(registry, User, { userName: 'a', active: 'False', title: null, emails: null }, tolerant)
    expect(out).toEqual({ schemas: [URN.user], userName: 'a', active: false })
  })

  test('URN-qualified top-level keys move into the extension; bare extension attributes too', () => {
    const out = validateResource(
      registry,
      User,
      {
        schemas: [URN.user],
        userName: 'a',
        [`${URN.enterpriseUser}:employeeNumber`]: '42',
        'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:Manager': { Value: 'm1' },
        department: 'Sales',
        [`${URN.user}:displayName`]: 'Al',
      },
      tolerant,
    )
    expect(out).toEqual({
      schemas: [URN.user, URN.enterpriseUser],
      userName: 'a',
      displayName: 'Al',
      [URN.enterpriseUser]: { employeeNumber: '42', department: 'Sales', manager: { value: 'm1' } },
    })
  })

  test('extension object key is case-insensitive and merged with qualified keys', () => {
    const out = validateResource(
      registry,
      User,
      {
        userName: 'a',
        [URN.enterpriseUser.toLowerCase()]: { EmployeeNumber: '1', manager: null },
        [`${URN.enterpriseUser}:costCenter`]: 'cc',
      },
      tolerant,
    )
    expect(out[URN.enterpriseUser]).toEqual({ employeeNumber: '1', costCenter: 'cc' })
  })

  test('dotted keys set a sub-attribute', () => {
    const out = validateResource(registry, User, { userName: 'a', name: { givenName: 'G' }, 'name.familyName': 'F' }, tolerant)
    expect(out.name).toEqual({ familyName: 'F', givenName: 'G' })
  })

  test('single value for a multi-valued attribute is wrapped', () => {
    const out = validateResource(registry, User, { userName: 'a', emails: { value: 'a@b.c', type: 'work' } }, tolerant)
    expect(out.emails).toEqual([{ value: 'a@b.c', type: 'work' }])
  })

  test('unknown core attributes and sub-attributes are dropped; readOnly dropped; undeclared extensions kept verbatim', () => {
    const out = validateResource(
      registry,
      User,
      {
        schemas: [URN.user, 'urn:okta:custom:1.0:User'],
        userName: 'a',
        id: 'client-chosen',
        meta: { created: 'x' },
        groups: [{ value: 'g1' }],
        favouriteColour: 'blue',
        name: { givenName: 'G', nickname: 'x' },
        'urn:okta:custom:1.0:User': { costCode: 7, nested: { a: [1] } },
        'urn:other:ext:1.0:User:flag': true,
      },
      tolerant,
    )
    expect(out).toEqual({
      schemas: [URN.user, 'urn:okta:custom:1.0:User', 'urn:other:ext:1.0:User'],
      userName: 'a',
      name: { givenName: 'G' },
      'urn:okta:custom:1.0:User': { costCode: 7, nested: { a: [1] } },
      'urn:other:ext:1.0:User': { flag: true },
    })
  })

  test('types: integer/decimal strings, dateTime normalised, binary; a number is not a string', () => {
    const reg = defaultRegistry(
      loadSchemaExtensions({
        schemas: [
          {
            id: 'urn:acme:2.0:User',
            attributes: [
              { name: 'level', type: 'integer' },
              { name: 'score', type: 'decimal' },
              { name: 'hired', type: 'dateTime' },
              { name: 'blob', type: 'binary' },
              { name: 'tags', multiValued: true },
              { name: 'code', required: true },
            ],
          },
        ],
        resourceTypes: { User: ['urn:acme:2.0:User'] },
      }),
    )
    const U = reg.resourceType('User')!
    const out = validateResource(
      reg,
      U,
      {
        userName: 'a',
        'urn:acme:2.0:User': { level: '3', score: '2.5', hired: '2015-09-30T14:00:00+0200', blob: 'aGVsbG8=', tags: 'x', code: 'c' },
      },
      tolerant,
    )
    expectError(() => validateResource(reg, U, { userName: 'a', title: 42 }, tolerant), 400, 'invalidValue', /'title' must be a string/)
    expect(out['urn:acme:2.0:User']).toEqual({
      level: 3,
      score: 2.5,
      hired: '2015-09-30T12:00:00.000Z',
      blob: 'aGVsbG8=',
      tags: ['x'],
      code: 'c',
    })
    const missing = scimError(() => validateResource(reg, U, { userName: 'a', 'urn:acme:2.0:User': { level: 1 } }, tolerant))
    expect(missing.detail).toBe("Attribute 'urn:acme:2.0:User:code' is required")
    expectError(() => validateResource(reg, U, { userName: 'a', 'urn:acme:2.0:User': { code: 'c', level: 1.5 } }, tolerant), 400, 'invalidValue', /'urn:acme:2.0:User:level' must be an integer/)
    expectError(() => validateResource(reg, U, { userName: 'a', 'urn:acme:2.0:User': { code: 'c', hired: '2015-09-30' } }, tolerant), 400, 'invalidValue', /'urn:acme:2.0:User:hired' must be an ISO 8601 date-time with a timezone/)
    expectError(() => validateResource(reg, U, { userName: 'a', 'urn:acme:2.0:User': { code: 'c', blob: 'not base64!' } }, tolerant), 400, 'invalidValue', /base64/)
  })

  test('canonicalValues are not enforced for type', () => {
    const out = validateResource(registry, User, { schemas: [URN.user], userName: 'a', emails: [{ value: 'x@y', type: 'Office365' }] }, strict)
    expect(out.emails).toEqual([{ value: 'x@y', type: 'Office365' }])
  })
})

describe('errors', () => {
  test('non-object body → 400 invalidSyntax', () => {
    for (const body of [null, 'x', [], 42]) expectError(() => validateResource(registry, User, body, tolerant), 400, 'invalidSyntax', /JSON object/)
  })

  test('required attribute missing or empty → 400 invalidValue naming it', () => {
    expectError(() => validateResource(registry, User, { displayName: 'x' }, tolerant), 400, 'invalidValue', /'userName' is required/)
    expectError(() => validateResource(registry, User, { userName: '  ' }, tolerant), 400, 'invalidValue', /'userName' is required and must not be empty/)
    expectError(() => validateResource(registry, User, { userName: null }, tolerant), 400, 'invalidValue', /'userName' is required/)
    expectError(() => validateResource(registry, Group, { members: [] }, tolerant), 400, 'invalidValue', /'displayName' is required/)
  })

  test('wrong types → 400 invalidValue naming attribute and expectation', () => {
    expectError(() => validateResource(registry, User, { userName: 'a', active: 'yes' }, tolerant), 400, 'invalidValue', /'active' must be a boolean/)
    expectError(() => validateResource(registry, User, { userName: 'a', name: 'Bob' }, tolerant), 400, 'invalidValue', /'name' must be a JSON object/)
    expectError(() => validateResource(registry, User, { userName: 'a', displayName: ['a'] }, tolerant), 400, 'invalidValue', /'displayName' is single-valued/)
    expectError(() => validateResource(registry, User, { userName: 'a', emails: [{ value: { x: 1 } }] }, tolerant), 400, 'invalidValue', /'emails.value' must be a string/)
    expectError(() => validateResource(registry, User, { userName: 'a', [URN.enterpriseUser]: 'x' }, tolerant), 400, 'invalidValue', /Extension 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' must be a JSON object/)
  })

  test('two primary values → 400 invalidValue', () => {
    expectError(
      () => validateResource(registry, User, { userName: 'a', emails: [{ value: 'a', primary: true }, { value: 'b', primary: 'True' }] }, tolerant),
      400,
      'invalidValue',
      /'emails' has 2 values with primary true; at most one is allowed/,
    )
  })

  test('password value never appears in an error', () => {
    const e = scimError(() => validateResource(registry, User, { userName: 'a', password: { secret: 'hunter2' } }, tolerant))
    expect(e.detail).toContain("'password'")
    expect(e.detail).not.toContain('hunter2')
    const e2 = scimError(() => validateResource(registry, User, { userName: 'a', password: ['hunter2'] }, strict))
    expect(e2.detail).not.toContain('hunter2')
  })
})

describe('strict mode refusals', () => {
  const base = { schemas: [URN.user], userName: 'a' }
  test.each([
    ['missing schemas', { userName: 'a' }, /'schemas' is required/],
    ['schemas without the core URN', { schemas: [URN.enterpriseUser], userName: 'a' }, /'schemas' must contain/],
    ['schemas not an array', { schemas: URN.user, userName: 'a' }, /array of schema URN strings/],
    ['unknown URN in schemas', { ...base, schemas: [URN.user, 'urn:okta:custom:1.0:User'] }, /names "urn:okta:custom:1.0:User", which is not a schema of resource type User/],
    ['boolean as string', { ...base, active: 'True' }, /'active' must be a boolean/],
    ['number as string attribute', { ...base, title: 5 }, /'title' must be a string/],
    ['single value for multi-valued', { ...base, emails: { value: 'x' } }, /'emails' is multi-valued and must be a JSON array/],
    ['unknown core attribute', { ...base, favouriteColour: 'blue' }, /Attribute 'favouriteColour' is not defined for resource type User/],
    ['unknown sub-attribute', { ...base, name: { nickname: 'x' } }, /'name' has no sub-attribute 'nickname'/],
    ['undeclared extension object', { ...base, 'urn:okta:custom:1.0:User': { a: 1 } }, /Extension 'urn:okta:custom:1.0:User' is not a schema of resource type User/],
    ['undeclared extension attribute', { ...base, 'urn:okta:custom:1.0:User:a': 1 }, /'urn:okta:custom:1.0:User:a' belongs to "urn:okta:custom:1.0:User"/],
    ['extension not listed in schemas', { ...base, [URN.enterpriseUser]: { department: 'x' } }, /not listed in 'schemas'/],
    ['extension attribute at top level', { ...base, schemas: [URN.user, URN.enterpriseUser], department: 'x' }, /'department' belongs to extension/],
    ['same attribute twice', { ...base, UserName: 'b' }, /'userName' is given more than once/],
  ])('%s → 400 invalidValue', (_name, body, detail) => {
    expectError(() => validateResource(registry, User, body, strict), 400, 'invalidValue', detail)
  })

  test('strict accepts a conforming body', () => {
    const out = validateResource(
      registry,
      User,
      { schemas: [URN.user, URN.enterpriseUser], userName: 'a', active: false, [URN.enterpriseUser]: { department: 'x' } },
      strict,
    )
    expect(out).toEqual({ schemas: [URN.user, URN.enterpriseUser], userName: 'a', active: false, [URN.enterpriseUser]: { department: 'x' } })
  })
})

describe('checkImmutable', () => {
  const reg = defaultRegistry(
    loadSchemaExtensions({
      schemas: [{ id: 'urn:acme:2.0:User', attributes: [{ name: 'badge', mutability: 'immutable' }] }],
      resourceTypes: { User: ['urn:acme:2.0:User'] },
    }),
  )
  const U = reg.resourceType('User')!
  const existing = { schemas: [URN.user], userName: 'a', 'urn:acme:2.0:User': { badge: 'B1' } }

  test('changed immutable value → 400 mutability', () => {
    expectError(
      () => checkImmutable(reg, U, existing, { ...existing, 'urn:acme:2.0:User': { badge: 'B2' } }),
      400,
      'mutability',
      /'urn:acme:2.0:User:badge' is immutable/,
    )
  })

  test('same value (case-insensitive for caseExact false), absent value, or readWrite change → ok', () => {
    expect(() => checkImmutable(reg, U, existing, { ...existing, userName: 'b', 'urn:acme:2.0:User': { badge: 'b1' } })).not.toThrow()
    expect(() => checkImmutable(reg, U, existing, { schemas: [URN.user], userName: 'a' })).not.toThrow()
  })

  test('group members can be replaced (immutable sub-attributes of multi-valued are not compared)', () => {
    const g = { displayName: 'g', members: [{ value: '1' }] }
    expect(() => checkImmutable(registry, Group, g, { displayName: 'g', members: [{ value: '2' }] })).not.toThrow()
  })
})

describe('helpers', () => {
  test('findKey / getCaseInsensitive', () => {
    const o = { UserName: 'a', emails: [] }
    expect(findKey(o, 'username')).toBe('UserName')
    expect(findKey(o, 'nope')).toBeUndefined()
    expect(getCaseInsensitive(o, 'USERNAME')).toBe('a')
    // several spellings: the last one wins
    expect(findKey({ userName: 1, USERNAME: 2, x: 3 }, 'username')).toBe('USERNAME')
    // keys whose lower case changes length (İ → i̇) still compare by their lower case, both ways
    expect(findKey({ 'İd': 1 }, 'i̇d')).toBe('İd')
    expect(findKey({ 'İd': 1 }, 'id')).toBeUndefined()
    expect(findKey({ id: 1 }, 'İd')).toBeUndefined()
  })

  test('findKey agrees with comparing every key lower-cased (property)', () => {
    const slow = (obj: Record<string, unknown>, name: string) => {
      let found: string | undefined
      for (const k of Object.keys(obj)) if (k.toLowerCase() === name.toLowerCase()) found = k
      return found
    }
    const key = fc.stringMatching(/^[a-zA-Zİıß$:.Kk]{0,6}$/)
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 8 }), key, (keys, name) => {
        const obj = Object.fromEntries(keys.map((k, i) => [k, i]))
        expect(findKey(obj, name)).toBe(slow(obj, name))
        for (const k of keys) expect(findKey(obj, k.toUpperCase())).toBe(slow(obj, k.toUpperCase()))
      }),
      { numRuns: 500 },
    )
  })

  test('coerceValue honours multiValued and canonical sub-attribute names', () => {
    const emails = registry.resolve(User, parseAttrPath('emails')!)!
    expect(coerceValue(registry, emails, [{ Value: 'x', PRIMARY: 'true' }], tolerant)).toEqual([{ value: 'x', primary: true }])
    expect(coerceValue(registry, emails, { value: 'x' }, tolerant)).toEqual([{ value: 'x' }])
    expect(coerceValue(registry, emails, [], tolerant)).toEqual([])
    expect(coerceValue(registry, emails, null, tolerant)).toBeUndefined()
    expectError(() => coerceValue(registry, emails, { value: 'x' }, strict), 400, 'invalidValue', /'emails' is multi-valued/)
    const active = registry.resolve(User, parseAttrPath('active')!)!
    expect(coerceValue(registry, active, 'False', tolerant)).toBe(false)
    const ext = registry.resolve(User, parseAttrPath(`${URN.enterpriseUser}:manager`)!)!
    expect(coerceValue(registry, ext, 'mgr-id', tolerant)).toEqual({ value: 'mgr-id' })
    expectError(() => coerceValue(registry, ext, 'mgr-id', strict), 400, 'invalidValue', /'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager' must be a JSON object/)
    const members = registry.resolve(Group, parseAttrPath('members')!)!
    expect(coerceValue(registry, members, ['id1', { value: 'id2', $ref: null }], tolerant)).toEqual([{ value: 'id1' }, { value: 'id2' }])
    const undeclared = registry.resolve(User, parseAttrPath('urn:okta:x:1.0:User:foo')!, { allowUndeclared: true })!
    expect(coerceValue(registry, undeclared, { any: 1 }, strict)).toEqual({ any: 1 })
  })

  test('coerceValue readOnly option', () => {
    const members = registry.resolve(Group, parseAttrPath('members')!)!
    expect(coerceValue(registry, members, [{ value: '1', display: 'x' }], tolerant)).toEqual([{ value: '1' }])
    expect(coerceValue(registry, members, [{ value: '1', display: 'x' }], { strict: false, readOnly: 'keep' })).toEqual([{ value: '1', display: 'x' }])
    expectError(() => coerceValue(registry, members, [{ value: '1', display: 'x' }], { strict: false, readOnly: 'error' }), 400, 'mutability', /'members.display' is readOnly/)
  })

  test.each([
    ['2011-05-13T04:42:34Z', '2011-05-13T04:42:34.000Z'],
    ['2011-05-13T04:42:34.5+01:00', '2011-05-13T03:42:34.500Z'],
    ['2011-05-13t04:42z', '2011-05-13T04:42:00.000Z'],
    ['2011-05-13T04:42:34.123456789-0530', '2011-05-13T10:12:34.123Z'],
    ['2011-02-30T00:00:00Z', undefined],
    ['2011-05-13T04:42:34', undefined],
    ['2011-05-13', undefined],
    ['yesterday', undefined],
  ])('normalizeDateTime(%p) → %p', (input, expected) => {
    expect(normalizeDateTime(input)).toBe(expected)
  })
})
