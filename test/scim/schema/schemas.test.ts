import { describe, expect, test } from 'bun:test'
import { URN } from '../../../src/scim/constants'
import { COMMON_ATTRIBUTES, SCHEMAS_ATTRIBUTE, attribute } from '../../../src/scim/schema/common'
import { ENTERPRISE_USER_SCHEMA } from '../../../src/scim/schema/enterprise-user'
import { GROUP_SCHEMA } from '../../../src/scim/schema/group'
import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from '../../../src/scim/schema/resource-types'
import type { AttributeDef } from '../../../src/scim/schema/types'
import { USER_SCHEMA } from '../../../src/scim/schema/user'

const FIELDS = ['name', 'type', 'multiValued', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness'] as const

function walk(attrs: AttributeDef[], prefix = ''): [string, AttributeDef][] {
  return attrs.flatMap((a) => [[prefix + a.name, a] as [string, AttributeDef], ...walk(a.subAttributes ?? [], `${prefix}${a.name}.`)])
}

const byPath = (attrs: AttributeDef[]) => new Map(walk(attrs))

describe('schema data (RFC 7643 §8.7.1)', () => {
  const all = [
    ...walk(USER_SCHEMA.attributes, 'User:'),
    ...walk(GROUP_SCHEMA.attributes, 'Group:'),
    ...walk(ENTERPRISE_USER_SCHEMA.attributes, 'Enterprise:'),
    ...walk(COMMON_ATTRIBUTES, 'common:'),
  ]

  test.each(all)('%s has every characteristic and a description', (_path, def) => {
    for (const f of FIELDS) expect(def[f]).toBeDefined()
    expect(typeof def.description).toBe('string')
    expect(def.description!.length).toBeGreaterThan(5)
    if (def.type === 'complex') expect(def.subAttributes!.length).toBeGreaterThan(0)
    else expect(def.subAttributes).toBeUndefined()
    if (def.type === 'reference') expect(def.referenceTypes!.length).toBeGreaterThan(0)
  })

  test('URNs and top-level attribute names', () => {
    expect(USER_SCHEMA.id).toBe('urn:ietf:params:scim:schemas:core:2.0:User')
    expect(GROUP_SCHEMA.id).toBe('urn:ietf:params:scim:schemas:core:2.0:Group')
    expect(ENTERPRISE_USER_SCHEMA.id).toBe('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User')
    expect(USER_SCHEMA.attributes.map((a) => a.name)).toEqual([
      'userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage',
      'locale', 'timezone', 'active', 'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses',
      'groups', 'entitlements', 'roles', 'x509Certificates',
    ])
    expect(GROUP_SCHEMA.attributes.map((a) => a.name)).toEqual(['displayName', 'members'])
    expect(ENTERPRISE_USER_SCHEMA.attributes.map((a) => a.name)).toEqual([
      'employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager',
    ])
  })

  test('User characteristics that matter', () => {
    const u = byPath(USER_SCHEMA.attributes)
    expect(u.get('userName')).toMatchObject({ required: true, caseExact: false, uniqueness: 'server', mutability: 'readWrite' })
    expect(u.get('password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' })
    expect(u.get('active')).toMatchObject({ type: 'boolean' })
    expect(u.get('profileUrl')).toMatchObject({ type: 'reference', referenceTypes: ['external'] })
    expect(u.get('name')!.subAttributes!.map((s) => s.name)).toEqual([
      'formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix',
    ])
    expect(u.get('addresses')!.subAttributes!.map((s) => s.name)).toEqual([
      'formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type', 'primary',
    ])
    expect(u.get('emails')).toMatchObject({ type: 'complex', multiValued: true })
    expect(u.get('emails.type')!.canonicalValues).toEqual(['work', 'home', 'other'])
    expect(u.get('phoneNumbers.type')!.canonicalValues).toEqual(['work', 'home', 'mobile', 'fax', 'pager', 'other'])
    expect(u.get('ims.type')!.canonicalValues).toEqual(['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'])
    expect(u.get('photos.type')!.canonicalValues).toEqual(['photo', 'thumbnail'])
    expect(u.get('photos.value')).toMatchObject({ type: 'reference', referenceTypes: ['external'] })
    expect(u.get('x509Certificates.value')!.type).toBe('binary')
    expect(u.get('emails.primary')).toMatchObject({ type: 'boolean', caseExact: false, uniqueness: 'none' })
    expect(u.get('groups')!.mutability).toBe('readOnly')
    for (const sub of ['value', '$ref', 'display', 'type']) expect(u.get(`groups.${sub}`)!.mutability).toBe('readOnly')
    expect(u.get('groups.$ref')!.referenceTypes).toEqual(['User', 'Group'])
    expect(u.get('groups.type')!.canonicalValues).toEqual(['direct', 'indirect'])
  })

  test('Group and Enterprise characteristics', () => {
    const g = byPath(GROUP_SCHEMA.attributes)
    expect(g.get('displayName')).toMatchObject({ required: true, caseExact: false })
    expect(g.get('members')).toMatchObject({ multiValued: true, mutability: 'readWrite' })
    expect(g.get('members.value')!.mutability).toBe('immutable')
    expect(g.get('members.$ref')).toMatchObject({ mutability: 'immutable', referenceTypes: ['User', 'Group'] })
    expect(g.get('members.type')).toMatchObject({ mutability: 'immutable', canonicalValues: ['User', 'Group'] })
    const e = byPath(ENTERPRISE_USER_SCHEMA.attributes)
    expect(e.get('manager')!.subAttributes!.map((s) => s.name)).toEqual(['value', '$ref', 'displayName'])
    expect(e.get('manager.displayName')!.mutability).toBe('readOnly')
    expect(e.get('manager.$ref')!.referenceTypes).toEqual(['User'])
  })

  test('common attributes (RFC 7643 §3.1)', () => {
    const c = byPath(COMMON_ATTRIBUTES)
    expect(c.get('id')).toMatchObject({ mutability: 'readOnly', returned: 'always', caseExact: true, uniqueness: 'server' })
    expect(c.get('externalId')).toMatchObject({ mutability: 'readWrite', caseExact: true })
    expect(c.get('meta')).toMatchObject({ type: 'complex', mutability: 'readOnly', returned: 'default' })
    expect(c.get('meta.created')!.type).toBe('dateTime')
    expect(c.get('meta.lastModified')!.type).toBe('dateTime')
    expect(c.get('meta.location')!.type).toBe('reference')
    expect(SCHEMAS_ATTRIBUTE).toMatchObject({ returned: 'always', multiValued: true })
  })

  test('resource types', () => {
    expect(USER_RESOURCE_TYPE).toMatchObject({ id: 'User', endpoint: '/Users', schema: URN.user })
    expect(USER_RESOURCE_TYPE.schemaExtensions).toEqual([{ schema: URN.enterpriseUser, required: false }])
    expect(GROUP_RESOURCE_TYPE).toMatchObject({ id: 'Group', endpoint: '/Groups', schema: URN.group, schemaExtensions: [] })
  })

  test('attribute() fills the RFC 7643 §2.2 defaults', () => {
    expect(attribute({ name: 'x' })).toEqual({
      name: 'x', type: 'string', multiValued: false, required: false, caseExact: false,
      mutability: 'readWrite', returned: 'default', uniqueness: 'none',
    })
  })
})
