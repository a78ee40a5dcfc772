import { describe, expect, test } from 'bun:test'
import { loadSchemaExtensions } from '../../../src/scim/schema/extensions'

const ACME = 'urn:acme:params:scim:schemas:extension:acme:2.0:User'
const file = (attributes: unknown[], extra: Record<string, unknown> = {}) => ({
  schemas: [{ id: ACME, name: 'AcmeUser', attributes, ...extra }],
  resourceTypes: { User: [ACME] },
})

describe('loadSchemaExtensions', () => {
  test('fills RFC 7643 §2.2 defaults', () => {
    const loaded = loadSchemaExtensions(
      file([
        { name: 'badge' },
        { name: 'sites', type: 'complex', multiValued: true, subAttributes: [{ name: 'value' }, { name: 'primary', type: 'boolean' }] },
      ]),
    )
    expect(loaded.resourceTypes).toEqual({ User: [{ schema: ACME, required: false }] })
    const [badge, sites] = loaded.schemas[0].attributes
    expect(badge).toEqual({
      name: 'badge', type: 'string', multiValued: false, required: false, caseExact: false,
      mutability: 'readWrite', returned: 'default', uniqueness: 'none',
    })
    expect(sites.subAttributes![1]).toMatchObject({ name: 'primary', type: 'boolean', returned: 'default' })
  })

  test('keeps explicit fields; name defaults to the last URN segment; required entries', () => {
    const loaded = loadSchemaExtensions({
      schemas: [
        {
          id: ACME,
          attributes: [{ name: 'code', caseExact: true, uniqueness: 'server', mutability: 'immutable', returned: 'request', description: 'd', canonicalValues: ['a'] }],
        },
      ],
      resourceTypes: { User: [{ schema: ACME.toUpperCase(), required: true }] },
    })
    expect(loaded.schemas[0].name).toBe('User')
    expect(loaded.schemas[0].attributes[0]).toMatchObject({ caseExact: true, uniqueness: 'server', mutability: 'immutable', returned: 'request', description: 'd', canonicalValues: ['a'] })
    expect(loaded.resourceTypes.User).toEqual([{ schema: ACME, required: true }])
  })

  test.each([
    ['not an object', [], /JSON object/],
    ['schemas missing', { resourceTypes: {} }, /"schemas" must be an array/],
    ['bad URN', { schemas: [{ id: 'acme', attributes: [] }], resourceTypes: {} }, /"id" must be a schema URN/],
    ['unknown attribute field', file([{ name: 'badge', mutable: true }]), /schema "urn:acme.*attribute "badge": unknown field "mutable"/],
    ['bad type', file([{ name: 'badge', type: 'text' }]), /attribute "badge": "type" must be one of/],
    ['bad boolean', file([{ name: 'badge', required: 'yes' }]), /attribute "badge": "required" must be true or false/],
    ['bad name', file([{ name: '1x' }]), /"name" must be a valid attribute name/],
    ['duplicate names', file([{ name: 'badge' }, { name: 'Badge' }]), /"Badge" is declared twice/],
    ['complex without subs', file([{ name: 'c', type: 'complex' }]), /attribute "c": a complex attribute needs/],
    ['nested complex', file([{ name: 'c', type: 'complex', subAttributes: [{ name: 'd', type: 'complex', subAttributes: [{ name: 'e' }] }] }]), /attribute "d": a sub-attribute cannot be complex/],
    ['subAttributes on string', file([{ name: 's', subAttributes: [{ name: 'x' }] }]), /only allowed on type "complex"/],
    ['referenceTypes on string', file([{ name: 's', referenceTypes: ['User'] }]), /only allowed on type "reference"/],
    ['unknown schema in resourceTypes', { schemas: [], resourceTypes: { User: ['urn:x:y'] } }, /schema "urn:x:y" is not declared/],
    ['unattached schema', { schemas: [{ id: ACME, attributes: [] }], resourceTypes: {} }, /not attached to any resource type/],
    ['duplicate schema', { schemas: [{ id: ACME, attributes: [] }, { id: ACME.toLowerCase(), attributes: [] }], resourceTypes: {} }, /declared twice/],
    ['unknown top-level key', { schemas: [], resourceTypes: {}, schema: [] }, /unknown top-level field "schema"/],
  ])('%s → Error', (_name, json, message) => {
    expect(() => loadSchemaExtensions(json)).toThrow(message)
  })
})
