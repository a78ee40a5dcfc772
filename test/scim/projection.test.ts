import { describe, expect, test } from 'bun:test'
import { URN } from '../../src/scim/constants'
import { parseAttributeList, project } from '../../src/scim/projection'
import { loadSchemaExtensions } from '../../src/scim/schema/extensions'
import { defaultRegistry } from '../../src/scim/schema/registry'
import enterpriseUser from '../fixtures/rfc/7643-8.3-enterprise-user.json'
import rfcGroup from '../fixtures/rfc/7643-8.4-group.json'

const registry = defaultRegistry()
const User = registry.resourceType('User')!
const Group = registry.resourceType('Group')!
const user = enterpriseUser as Record<string, unknown>
const ENT = URN.enterpriseUser

describe('parseAttributeList', () => {
  test.each([
    [undefined, []],
    ['', []],
    ['userName', ['userName']],
    [' userName , name.givenName,,emails ', ['userName', 'name.givenName', 'emails']],
    [`${ENT}:manager,displayName`, [`${ENT}:manager`, 'displayName']],
  ])('%p → %p', (input, expected) => {
    expect(parseAttributeList(input)).toEqual(expected)
  })
})

describe('project', () => {
  test('no parameters: everything except returned never (password)', () => {
    const out = project(registry, User, user)
    const { password: _p, ...expected } = user
    expect(out).toEqual(expected)
    expect('password' in out).toBe(false)
  })

  test('attributes=userName → id, schemas (always) + userName only', () => {
    expect(project(registry, User, user, { attributes: ['userName'] })).toEqual({
      schemas: user.schemas,
      id: user.id,
      userName: 'bjensen@example.com',
    })
  })

  test('attributes=name.givenName returns only that sub-attribute (case-insensitive)', () => {
    expect(project(registry, User, user, { attributes: ['NAME.GIVENNAME'] })).toEqual({
      schemas: user.schemas,
      id: user.id,
      name: { givenName: 'Barbara' },
    })
  })

  test('attributes=emails.value applies to each value', () => {
    expect(project(registry, User, user, { attributes: ['emails.value'] }).emails).toEqual([
      { value: 'bjensen@example.com' },
      { value: 'babs@jensen.org' },
    ])
  })

  test('attributes=password is still never returned; meta only when asked', () => {
    const out = project(registry, User, user, { attributes: ['password', 'meta.created'] })
    expect(out).toEqual({ schemas: user.schemas, id: user.id, meta: { created: '2010-01-23T04:56:22Z' } })
  })

  test('URN-qualified attribute and sub-attribute of an extension', () => {
    expect(project(registry, User, user, { attributes: [`${ENT}:employeeNumber`, `${ENT.toLowerCase()}:manager.value`] })).toEqual({
      schemas: user.schemas,
      id: user.id,
      [ENT]: { employeeNumber: '701984', manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' } },
    })
  })

  test('bare extension attribute name resolves too', () => {
    expect(project(registry, User, user, { attributes: ['department'] })[ENT]).toEqual({ department: 'Tour Operations' })
  })

  test('whole extension URN in attributes and in excludedAttributes', () => {
    const only = project(registry, User, user, { attributes: [ENT] })
    expect(Object.keys(only)).toEqual(['schemas', 'id', ENT])
    expect(only[ENT]).toEqual(user[ENT])
    const without = project(registry, User, user, { excludedAttributes: [ENT] })
    expect(without[ENT]).toBeUndefined()
    expect(without.userName).toBe('bjensen@example.com')
  })

  test('core URN as a whole schema and as a prefix', () => {
    const core = project(registry, User, user, { attributes: [URN.user] })
    expect(core[ENT]).toBeUndefined()
    expect(core.userName).toBe('bjensen@example.com')
    expect(core.meta).toEqual(user.meta)
    expect(core.password).toBeUndefined()
    expect(project(registry, User, user, { attributes: [`${URN.user}:displayName`] })).toEqual({
      schemas: user.schemas,
      id: user.id,
      displayName: 'Babs Jensen',
    })
  })

  test('excludedAttributes: removes default attributes, never always ones', () => {
    const out = project(registry, User, user, { excludedAttributes: ['emails', 'ID', 'schemas', 'name.familyName', 'meta'] })
    expect(out.emails).toBeUndefined()
    expect(out.meta).toBeUndefined()
    expect(out.id).toBe(user.id)
    expect(out.schemas).toEqual(user.schemas)
    expect(out.name).toEqual({
      formatted: 'Ms. Barbara J Jensen, III',
      givenName: 'Barbara',
      middleName: 'Jane',
      honorificPrefix: 'Ms.',
      honorificSuffix: 'III',
    })
  })

  test('Entra: excludedAttributes=members on a group', () => {
    expect(project(registry, Group, rfcGroup, { excludedAttributes: ['members'] })).toEqual({
      schemas: rfcGroup.schemas,
      id: rfcGroup.id,
      displayName: 'Tour Guides',
      meta: rfcGroup.meta,
    })
  })

  test('unknown names are ignored', () => {
    expect(project(registry, User, user, { attributes: ['nope', 'name.nope', 'urn:x', '!!'] })).toEqual({
      schemas: user.schemas,
      id: user.id,
    })
    const { password: _p, ...all } = user
    expect(project(registry, User, user, { excludedAttributes: ['nope', 'members', 'a.b.c'] })).toEqual(all)
  })

  test('attributes wins over excludedAttributes', () => {
    expect(project(registry, User, user, { attributes: ['userName'], excludedAttributes: ['userName'] }).userName).toBe('bjensen@example.com')
  })

  test('returned request attributes appear only when asked', () => {
    const reg = defaultRegistry(
      loadSchemaExtensions({
        schemas: [{ id: 'urn:acme:2.0:User', attributes: [{ name: 'secretish', returned: 'request' }, { name: 'plain' }] }],
        resourceTypes: { User: ['urn:acme:2.0:User'] },
      }),
    )
    const U = reg.resourceType('User')!
    const r = { schemas: [URN.user], id: '1', userName: 'a', 'urn:acme:2.0:User': { secretish: 's', plain: 'p' } }
    expect(project(reg, U, r)['urn:acme:2.0:User']).toEqual({ plain: 'p' })
    expect(project(reg, U, r, { attributes: ['secretish'] })['urn:acme:2.0:User']).toEqual({ secretish: 's' })
    expect(project(reg, U, r, { attributes: ['urn:acme:2.0:User:secretish'] })['urn:acme:2.0:User']).toEqual({ secretish: 's' })
  })

  test('undeclared extension objects: returned by default, selectable by URN', () => {
    const r = { schemas: [URN.user, 'urn:okta:custom:1.0:User'], id: '1', userName: 'a', 'urn:okta:custom:1.0:User': { costCode: '7', x: 1 } }
    expect(project(registry, User, r)['urn:okta:custom:1.0:User']).toEqual({ costCode: '7', x: 1 })
    expect(project(registry, User, r, { attributes: ['urn:okta:custom:1.0:User:costCode'] })).toEqual({
      schemas: r.schemas,
      id: '1',
      'urn:okta:custom:1.0:User': { costCode: '7' },
    })
    expect(project(registry, User, r, { attributes: ['urn:okta:custom:1.0:User'] })['urn:okta:custom:1.0:User']).toEqual({ costCode: '7', x: 1 })
    expect(project(registry, User, r, { excludedAttributes: ['urn:okta:custom:1.0:User'] })['urn:okta:custom:1.0:User']).toBeUndefined()
  })

  test('never crashes on odd shapes', () => {
    const odd: Record<string, unknown> = {
      schemas: 'not-an-array',
      id: 5,
      name: 'a string where an object belongs',
      emails: [null, 'x', { value: 'a', nope: 1 }, [1]],
      meta: [],
      [ENT]: 'not an object',
      'urn:weird': 3,
      nested: { a: { b: {} } },
    }
    for (const opts of [{}, { attributes: ['name.givenName', 'emails.value', 'meta.created'] }, { excludedAttributes: ['emails.value', 'name.givenName'] }]) {
      expect(() => project(registry, User, odd, opts)).not.toThrow()
    }
    expect(project(registry, User, odd, { attributes: ['emails.value'] })).toEqual({
      schemas: 'not-an-array',
      id: 5,
      emails: [null, 'x', { value: 'a' }, [1]],
    })
    expect(project(registry, User, null as never)).toEqual({})
    expect(project(registry, User, [] as never)).toEqual({})
  })

  test('does not mutate its input', () => {
    const copy = structuredClone(user)
    project(registry, User, user, { attributes: ['name.givenName'] })
    project(registry, User, user, { excludedAttributes: ['name.givenName'] })
    expect(user).toEqual(copy)
  })
})
