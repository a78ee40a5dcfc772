import { describe, expect, test } from 'bun:test'
import { parseAttrPath } from '../../../src/scim/attr-path'
import { URN } from '../../../src/scim/constants'
import { loadSchemaExtensions } from '../../../src/scim/schema/extensions'
import { defaultRegistry, SchemaRegistry } from '../../../src/scim/schema/registry'

const registry = defaultRegistry()
const User = registry.resourceType('User')!
const Group = registry.resourceType('Group')!
const path = (text: string) => {
  const p = parseAttrPath(text)
  if (!p) throw new Error(`bad path ${text}`)
  return p
}

describe('SchemaRegistry lookups', () => {
  test('resource types by id, name or endpoint, case-insensitive', () => {
    expect(registry.resourceTypes().map((r) => r.id)).toEqual(['User', 'Group'])
    expect(registry.resourceType('user')!.id).toBe('User')
    expect(registry.resourceType('GROUP')!.id).toBe('Group')
    expect(registry.resourceType('/users')!.id).toBe('User')
    expect(registry.resourceType('Device')).toBeUndefined()
  })

  test('schemas by URN, case-insensitive', () => {
    expect(registry.schemas().map((s) => s.id)).toEqual([URN.user, URN.group, URN.enterpriseUser])
    expect(registry.schema(URN.user.toUpperCase())!.name).toBe('User')
    expect(registry.schema('urn:nope')).toBeUndefined()
  })

  test('isSchemaUrn: core and declared extensions of that resource type only', () => {
    expect(registry.isSchemaUrn(User, URN.user)).toBe(true)
    expect(registry.isSchemaUrn(User, URN.enterpriseUser.toLowerCase())).toBe(true)
    expect(registry.isSchemaUrn(User, URN.group)).toBe(false)
    expect(registry.isSchemaUrn(Group, URN.enterpriseUser)).toBe(false)
    expect(registry.isSchemaUrn(Group, URN.group)).toBe(true)
    expect(registry.canonicalSchemaUrn(User, URN.enterpriseUser.toUpperCase())).toBe(URN.enterpriseUser)
  })

  test('constructor rejects inconsistent data', () => {
    expect(() => new SchemaRegistry([], registry.resourceTypes())).toThrow(/not registered/)
    const s = registry.schema(URN.user)!
    expect(() => new SchemaRegistry([s, { ...s }], [])).toThrow(/twice/)
  })
})

describe('resolve', () => {
  test('core attribute, case-insensitive, canonical spelling', () => {
    const r = registry.resolve(User, path('USERNAME'))!
    expect(r).toMatchObject({ schema: URN.user, declared: true, extension: false, canonical: { attr: 'userName' } })
    expect(r.def.name).toBe('userName')
    expect(r.parent).toBeUndefined()
  })

  test('sub-attribute: def is the leaf, parent the complex attribute', () => {
    const r = registry.resolve(User, path('Name.GivenName'))!
    expect(r.def.name).toBe('givenName')
    expect(r.parent!.name).toBe('name')
    expect(r.canonical).toEqual({ attr: 'name', sub: 'givenName' })
    expect(registry.resolve(User, path('emails.value'))!.parent!.multiValued).toBe(true)
    expect(registry.resolve(User, path('name.nope'))).toBeUndefined()
    expect(registry.resolve(User, path('userName.x'))).toBeUndefined()
  })

  test('common attributes and schemas', () => {
    expect(registry.resolve(User, path('ID'))!.def.name).toBe('id')
    expect(registry.resolve(Group, path('meta.lastModified'))!.def.type).toBe('dateTime')
    expect(registry.resolve(User, path('externalid'))!.canonical).toEqual({ attr: 'externalId' })
    expect(registry.resolve(User, path('schemas'))!.def.multiValued).toBe(true)
  })

  test('core URN as prefix', () => {
    const r = registry.resolve(User, path('urn:ietf:params:scim:schemas:core:2.0:User:userName'))!
    expect(r.canonical).toEqual({ attr: 'userName' })
    expect(r.extension).toBe(false)
    expect(registry.resolve(User, path('urn:ietf:params:scim:schemas:core:2.0:user:name.familyName'))!.def.name).toBe('familyName')
  })

  test('extension attribute with URN (case-insensitive) and without (tolerance)', () => {
    const withUrn = registry.resolve(User, path('URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:employeenumber'))!
    expect(withUrn).toMatchObject({
      schema: URN.enterpriseUser,
      extension: true,
      declared: true,
      canonical: { uri: URN.enterpriseUser, attr: 'employeeNumber' },
    })
    const bare = registry.resolve(User, path('manager.value'))!
    expect(bare.canonical).toEqual({ uri: URN.enterpriseUser, attr: 'manager', sub: 'value' })
    expect(bare.extension).toBe(true)
  })

  test('wrong resource type or whole schema URN → undefined', () => {
    expect(registry.resolve(Group, path('userName'))).toBeUndefined()
    expect(registry.resolve(Group, path(`${URN.enterpriseUser}:employeeNumber`))).toBeUndefined()
    expect(registry.resolve(User, path(`${URN.group}:displayName`))).toBeUndefined()
    expect(registry.resolve(User, path(URN.enterpriseUser), { allowUndeclared: true })).toBeUndefined()
    expect(registry.resolve(User, path(URN.user), { allowUndeclared: true })).toBeUndefined()
  })

  test('undeclared extension URN only with allowUndeclared', () => {
    const p = path('urn:okta:custom:1.0:User:costCode')
    expect(registry.resolve(User, p)).toBeUndefined()
    const r = registry.resolve(User, p, { allowUndeclared: true })!
    expect(r).toMatchObject({ schema: 'urn:okta:custom:1.0:User', declared: false, extension: true })
    expect(r.def).toMatchObject({ name: 'costCode', type: 'string', multiValued: false, caseExact: false, mutability: 'readWrite', returned: 'default' })
    expect(r.canonical).toEqual({ uri: 'urn:okta:custom:1.0:User', attr: 'costCode' })
    // IETF core namespace is never "undeclared"
    expect(registry.resolve(User, path('urn:ietf:params:scim:schemas:core:2.0:Device:x'), { allowUndeclared: true })).toBeUndefined()
  })

  test('resolveSub for value filters', () => {
    const emails = registry.resolve(User, path('emails'))!
    const type = registry.resolveSub(emails, 'TYPE')!
    expect(type.def.name).toBe('type')
    expect(type.parent!.name).toBe('emails')
    expect(type.canonical).toEqual({ attr: 'emails', sub: 'type' })
    expect(registry.resolveSub(emails, 'nope')).toBeUndefined()
    expect(registry.resolveSub(registry.resolve(User, path('userName'))!, 'x')).toBeUndefined()
    expect(registry.resolveSub(type, 'x')).toBeUndefined()
  })
})

describe('defaultRegistry with extensions', () => {
  const ext = loadSchemaExtensions({
    schemas: [{ id: 'urn:acme:params:scim:schemas:extension:acme:2.0:User', attributes: [{ name: 'badge' }] }],
    resourceTypes: { user: ['urn:acme:params:scim:schemas:extension:acme:2.0:User'] },
  })

  test('attaches the extension to the resource type, without touching the default', () => {
    const r = defaultRegistry(ext)
    const U = r.resourceType('User')!
    expect(U.schemaExtensions.map((e) => e.schema)).toEqual([URN.enterpriseUser, 'urn:acme:params:scim:schemas:extension:acme:2.0:User'])
    expect(r.resolve(U, path('badge'))!.schema).toBe('urn:acme:params:scim:schemas:extension:acme:2.0:User')
    expect(defaultRegistry().resourceType('User')!.schemaExtensions).toHaveLength(1)
  })

  test('unknown resource type or reserved URN → Error', () => {
    const bad = loadSchemaExtensions({
      schemas: [{ id: 'urn:acme:x:Device', attributes: [] }],
      resourceTypes: { Device: ['urn:acme:x:Device'] },
    })
    expect(() => defaultRegistry(bad)).toThrow('resource type "Device" is unknown')
    const reserved = loadSchemaExtensions({
      schemas: [{ id: URN.enterpriseUser, attributes: [] }],
      resourceTypes: { User: [URN.enterpriseUser] },
    })
    expect(() => defaultRegistry(reserved)).toThrow(/reserved/)
  })
})
