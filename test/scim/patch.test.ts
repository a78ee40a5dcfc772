import { describe, expect, test } from 'bun:test'
import { LIMITS, URN } from '../../src/scim/constants'
import { ScimError } from '../../src/scim/errors'
import { applyPatch, parsePatchRequest, type PatchOperation, type PatchResult } from '../../src/scim/patch'
import { defaultRegistry } from '../../src/scim/schema/registry'
import type { ResourceTypeDef } from '../../src/scim/schema/types'
import { validateResource } from '../../src/scim/schema/validate'
import oktaDeactivate from '../fixtures/idp/okta/patch-deactivate-user.json'
import oktaGroupMembership from '../fixtures/idp/okta/patch-group-membership.json'
import entraUpdateUser from '../fixtures/idp/entra/patch-update-user.json'
import entraRemoveMembers from '../fixtures/idp/entra/patch-remove-members.json'
import { catchScimError as scimError } from '../helpers/errors'

const registry = defaultRegistry()
const User = registry.resourceType('User')!
const Group = registry.resourceType('Group')!
const E = URN.enterpriseUser
const tolerant = { strict: false }
const strict = { strict: true }

type Obj = Record<string, unknown>

const user = (body: Obj = {}): Obj =>
  validateResource(registry, User, {
    userName: 'bjensen',
    name: { givenName: 'Barbara', familyName: 'Jensen' },
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    ...body,
  }, tolerant)

const group = (body: Obj = {}): Obj => validateResource(registry, Group, { displayName: 'Tour Guides', ...body }, tolerant)

interface Opts {
  strict?: boolean
  rt?: ResourceTypeDef
  external?: string[]
}

/** Full path: PatchOp body → parsePatchRequest → applyPatch; checks non-mutation and canonical output. */
function patch(resource: Obj, ops: unknown[], o: Opts = {}): PatchResult {
  const s = o.strict ?? false
  const rt = o.rt ?? User
  const before = structuredClone(resource)
  const parsed = parsePatchRequest({ schemas: [URN.patchOp], Operations: ops }, { strict: s })
  try {
    const out = applyPatch(registry, rt, resource, parsed, { strict: s, external: o.external ?? (rt === Group ? ['members'] : undefined) })
    expect(validateResource(registry, rt, structuredClone(out.resource), tolerant)).toEqual(out.resource)
    return out
  } finally {
    expect(resource).toEqual(before)
  }
}

const patchGroup = (resource: Obj, ops: unknown[], o: Opts = {}) => patch(resource, ops, { rt: Group, ...o })

function expectError(fn: () => unknown, scimType: string | undefined, detail?: RegExp): ScimError {
  const e = scimError(fn)
  expect(e.status).toBe(400)
  expect(e.scimType).toBe(scimType as never)
  if (detail) expect(e.detail).toMatch(detail)
  return e
}

// ---------------------------------------------------------------------------------------------------------------

describe('parsePatchRequest', () => {
  const body = (ops: unknown, extra: Obj = {}) => ({ schemas: [URN.patchOp], Operations: ops, ...extra })

  test('returns the operations with lower-case op names; "Replace", "ADD" accepted', () => {
    expect(
      parsePatchRequest(body([
        { op: 'Replace', path: 'active', value: 'False' },
        { op: 'ADD', value: { title: 'x' } },
        { op: 'remove', path: 'title' },
      ]), strict),
    ).toEqual([
      { op: 'replace', path: 'active', value: 'False' },
      { op: 'add', value: { title: 'x' } },
      { op: 'remove', path: 'title' },
    ] satisfies PatchOperation[])
  })

  test('member names are case-insensitive (RFC 7643 §2.1)', () => {
    expect(parsePatchRequest({ Schemas: [URN.patchOp], operations: [{ OP: 'add', Path: 'title', Value: 'x' }] }, strict)).toEqual([
      { op: 'add', path: 'title', value: 'x' },
    ])
  })

  test('missing schemas: accepted when tolerant, invalidSyntax when strict', () => {
    expect(parsePatchRequest({ Operations: [{ op: 'remove', path: 'title' }] }, tolerant)).toHaveLength(1)
    expectError(() => parsePatchRequest({ Operations: [{ op: 'remove', path: 'title' }] }, strict), 'invalidSyntax', /schemas/)
  })

  test('schemas without the PatchOp URN → invalidSyntax (both modes)', () => {
    for (const o of [tolerant, strict])
      expectError(() => parsePatchRequest(body([{ op: 'remove', path: 'title' }], { schemas: [URN.user] }), o), 'invalidSyntax', /PatchOp/)
  })

  test('schemas as a bare string: tolerant only', () => {
    expect(parsePatchRequest({ schemas: URN.patchOp, Operations: [{ op: 'remove', path: 'x' }] }, tolerant)).toHaveLength(1)
    expectError(() => parsePatchRequest({ schemas: URN.patchOp, Operations: [{ op: 'remove', path: 'x' }] }, strict), 'invalidSyntax')
  })

  test.each([
    ['not an object', [1, 2], /JSON object/],
    ['Operations missing', { schemas: [URN.patchOp] }, /Operations/],
    ['Operations not an array', { schemas: [URN.patchOp], Operations: { op: 'add' } }, /Operations/],
    ['Operations empty', { schemas: [URN.patchOp], Operations: [] }, /at least one/],
    ['operation not an object', { schemas: [URN.patchOp], Operations: ['add'] }, /Operations\[0\] must be a JSON object/],
    ['op missing', { schemas: [URN.patchOp], Operations: [{ path: 'x' }] }, /Operations\[0\]\.op/],
    ['op unknown', { schemas: [URN.patchOp], Operations: [{ op: 'remove', path: 'x' }, { op: 'move', path: 'x' }] }, /Operations\[1\]\.op "move"/],
    ['path not a string', { schemas: [URN.patchOp], Operations: [{ op: 'remove', path: 3 }] }, /Operations\[0\]\.path must be a string/],
  ])('%s → 400 invalidSyntax', (_name, b, detail) => {
    expectError(() => parsePatchRequest(b, tolerant), 'invalidSyntax', detail)
  })

  test(`more than LIMITS.maxPatchOperations (${LIMITS.maxPatchOperations}) → invalidSyntax`, () => {
    const ops = Array.from({ length: LIMITS.maxPatchOperations + 1 }, () => ({ op: 'remove', path: 'title' }))
    expectError(() => parsePatchRequest(body(ops), tolerant), 'invalidSyntax', /at most/)
    expect(parsePatchRequest(body(ops.slice(1)), tolerant)).toHaveLength(LIMITS.maxPatchOperations)
  })

  test('add/replace without a value → invalidValue naming the operation', () => {
    expectError(() => parsePatchRequest(body([{ op: 'remove', path: 'x' }, { op: 'add', path: 'title' }]), tolerant), 'invalidValue', /Operations\[1\]: "add" requires a "value"/)
    expectError(() => parsePatchRequest(body([{ op: 'replace', path: 'title' }]), tolerant), 'invalidValue', /Operations\[0\]/)
  })

  test('add with null: accepted when tolerant (a no-op), invalidValue when strict', () => {
    expect(parsePatchRequest(body([{ op: 'add', path: 'title', value: null }]), tolerant)).toEqual([{ op: 'add', path: 'title', value: null }])
    expectError(() => parsePatchRequest(body([{ op: 'add', path: 'title', value: null }]), strict), 'invalidValue')
  })

  test('empty path: no path when tolerant, kept (then invalidPath) when strict', () => {
    expect(parsePatchRequest(body([{ op: 'replace', path: '', value: { title: 'x' } }]), tolerant)).toEqual([{ op: 'replace', value: { title: 'x' } }])
    const ops = parsePatchRequest(body([{ op: 'replace', path: '', value: { title: 'x' } }]), strict)
    expect(ops[0].path).toBe('')
    expectError(() => applyPatch(registry, User, user(), ops, strict), 'invalidPath')
  })

  test('remove with a value: kept when tolerant, invalidValue when strict', () => {
    const ops = [{ op: 'Remove', path: 'members', value: [{ value: 'id' }] }]
    expect(parsePatchRequest(body(ops), tolerant)).toEqual([{ op: 'remove', path: 'members', value: [{ value: 'id' }] }])
    expectError(() => parsePatchRequest(body(ops), strict), 'invalidValue', /takes no value/)
    expectError(() => applyPatch(registry, Group, group(), [{ op: 'remove', path: 'members', value: [{ value: 'id' }] }], { strict: true, external: ['members'] }), 'invalidValue')
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('RFC 7644 §3.5.2 examples', () => {
  test('§3.5.2.1 add a member (external) and a path-less add of emails + nickname', () => {
    const g = patchGroup(group(), [
      { op: 'add', path: 'members', value: [{ display: 'Babs Jensen', $ref: 'https://example.com/v2/Users/2819c223', value: '2819c223' }] },
    ])
    expect(g.resource).toEqual(group())
    expect(g.external).toEqual([{ attr: 'members', op: 'add', values: [{ value: '2819c223', $ref: 'https://example.com/v2/Users/2819c223' }] }])

    const u = patch(user({ emails: [{ value: 'bjensen@example.com', type: 'work' }] }), [
      { op: 'add', value: { emails: [{ value: 'babs@jensen.org', type: 'home' }], nickname: 'Babs' } },
    ])
    expect(u.resource.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work' },
      { value: 'babs@jensen.org', type: 'home' },
    ])
    expect(u.resource.nickName).toBe('Babs')
  })

  test('§3.5.2.2 remove a single member, all members, and members then add (replace all)', () => {
    const one = patchGroup(group(), [{ op: 'remove', path: 'members[value eq "2819c223-7f76-...413861904646"]' }])
    expect(one.external).toEqual([
      { attr: 'members', op: 'remove', filter: { kind: 'compare', path: { attr: 'value' }, op: 'eq', value: '2819c223-7f76-...413861904646' } },
    ])
    expect(patchGroup(group(), [{ op: 'remove', path: 'members' }]).external).toEqual([{ attr: 'members', op: 'remove' }])
    const both = patchGroup(group(), [
      { op: 'remove', path: 'members' },
      { op: 'add', path: 'members', value: [{ display: 'Babs', $ref: 'https://x/Users/2819c223', value: '2819c223' }, { display: 'James', $ref: 'https://x/Users/9067729b', value: '9067729b' }] },
    ])
    expect(both.external.map((x) => x.op)).toEqual(['remove', 'add'])
    expect(both.external[1].values!.map((v) => v.value)).toEqual(['2819c223', '9067729b'])
  })

  test('§3.5.2.2 remove emails matching a complex filter', () => {
    const u = patch(user({ emails: [{ value: 'a@example.com', type: 'work' }, { value: 'b@other.org', type: 'work' }, { value: 'c@example.com', type: 'home' }] }), [
      { op: 'remove', path: 'emails[type eq "work" and value ew "example.com"]' },
    ])
    expect(u.resource.emails).toEqual([{ value: 'b@other.org', type: 'work' }, { value: 'c@example.com', type: 'home' }])
  })

  test('§3.5.2.3 replace all members', () => {
    const g = patchGroup(group(), [{ op: 'replace', path: 'members', value: [{ display: 'Babs', $ref: 'https://x/Users/2819c223', value: '2819c223' }] }])
    expect(g.external).toEqual([{ attr: 'members', op: 'replace', values: [{ value: '2819c223', $ref: 'https://x/Users/2819c223' }] }])
  })

  const withAddresses = () =>
    user({
      addresses: [
        { type: 'work', streetAddress: '100 Universal City Plaza', locality: 'Hollywood', region: 'CA', postalCode: '91608', country: 'USA', primary: true },
        { type: 'home', streetAddress: '456 Hollywood Blvd', locality: 'Hollywood', region: 'CA', postalCode: '91608', country: 'USA' },
      ],
    })

  test('§3.5.2.3 replace a whole element selected by a filter', () => {
    const u = patch(withAddresses(), [
      {
        op: 'replace',
        path: 'addresses[type eq "work"]',
        value: { type: 'work', streetAddress: '911 Universal City Plaza', locality: 'Hollywood', region: 'CA', postalCode: '91608', country: 'US', formatted: '911 Universal City Plaza\nHollywood, CA 91608 US', primary: true },
      },
    ])
    const a = u.resource.addresses as Obj[]
    expect(a[0]).toEqual({ formatted: '911 Universal City Plaza\nHollywood, CA 91608 US', streetAddress: '911 Universal City Plaza', locality: 'Hollywood', region: 'CA', postalCode: '91608', country: 'US', type: 'work', primary: true })
    expect(a[1].streetAddress).toBe('456 Hollywood Blvd')
  })

  test('§3.5.2.3 replace a sub-attribute of the selected element', () => {
    const u = patch(withAddresses(), [{ op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: '1010 Broadway Ave' }])
    const a = u.resource.addresses as Obj[]
    expect(a[0].streetAddress).toBe('1010 Broadway Ave')
    expect(a[0].locality).toBe('Hollywood')
    expect(a[1].streetAddress).toBe('456 Hollywood Blvd')
  })

  test('§3.5.2.3 path-less replace of emails and nickname', () => {
    const u = patch(user({ nickName: 'old' }), [
      { op: 'replace', value: { emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'babs@jensen.org', type: 'home' }], nickname: 'Babs' } },
    ])
    expect(u.resource.nickName).toBe('Babs')
    expect(u.resource.emails).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'babs@jensen.org', type: 'home' }])
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('add', () => {
  test('single-valued: sets when absent, replaces when present', () => {
    expect(patch(user(), [{ op: 'add', path: 'title', value: 'Tour Guide' }]).resource.title).toBe('Tour Guide')
    expect(patch(user({ title: 'a' }), [{ op: 'add', path: 'title', value: 'b' }]).resource.title).toBe('b')
  })

  test('complex: merges sub-attributes', () => {
    const u = patch(user(), [{ op: 'add', path: 'name', value: { middleName: 'Jane', GIVENNAME: 'Babs' } }])
    expect(u.resource.name).toEqual({ familyName: 'Jensen', givenName: 'Babs', middleName: 'Jane' })
  })

  test('multi-valued: appends, without duplicates (equal element not added twice, strings per caseExact)', () => {
    const u = patch(user(), [
      { op: 'add', path: 'emails', value: [{ value: 'BABS@jensen.org', type: 'Home' }, { value: 'new@x.org', type: 'other' }] },
    ])
    expect(u.resource.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'new@x.org', type: 'other' },
    ])
  })

  test('multi-valued: a single value is wrapped (tolerant), invalidValue when strict', () => {
    const u = patch(user(), [{ op: 'add', path: 'emails', value: { value: 'new@x.org' } }])
    expect((u.resource.emails as Obj[]).at(-1)).toEqual({ value: 'new@x.org' })
    expectError(() => patch(user(), [{ op: 'add', path: 'emails', value: { value: 'new@x.org' } }], strict), 'invalidValue', /multi-valued/)
  })

  test('path-less: keys any case, URN-keyed extension objects, URN-qualified keys, dotted keys', () => {
    const u = patch(user(), [
      {
        op: 'add',
        value: {
          TITLE: 'Boss',
          'name.middleName': 'Jane',
          [E]: { department: 'Sales' },
          [`${E}:employeeNumber`]: '701984',
        },
      },
    ])
    expect(u.resource.title).toBe('Boss')
    expect(u.resource.name).toEqual({ familyName: 'Jensen', givenName: 'Barbara', middleName: 'Jane' })
    expect(u.resource[E]).toEqual({ employeeNumber: '701984', department: 'Sales' })
    expect(u.resource.schemas).toEqual([URN.user, E])
  })

  test('path-less: value must be an object → invalidValue', () => {
    expectError(() => patch(user(), [{ op: 'add', value: 'x' }]), 'invalidValue', /Operations\[0\].*JSON object/)
  })

  test('a path equal to the enterprise URN takes an object of its attributes', () => {
    const u = patch(user(), [{ op: 'add', path: E, value: { employeeNumber: '1', manager: { value: 'm1' } } }])
    expect(u.resource[E]).toEqual({ employeeNumber: '1', manager: { value: 'm1' } })
    expectError(() => patch(user(), [{ op: 'add', path: E, value: 'x' }]), 'invalidValue')
  })

  test('a path equal to the core URN means the resource itself', () => {
    expect(patch(user(), [{ op: 'add', path: URN.user, value: { title: 'T' } }]).resource.title).toBe('T')
  })

  test('URN-qualified core path', () => {
    expect(patch(user(), [{ op: 'add', path: `${URN.user}:name.givenName`, value: 'B' }]).resource.name).toEqual({ familyName: 'Jensen', givenName: 'B' })
  })

  test('add with a value filter: sets the sub-attribute on matches; no match → noTarget (non-eq filter)', () => {
    const u = patch(user(), [{ op: 'add', path: 'emails[type eq "home"].display', value: 'Home' }])
    expect((u.resource.emails as Obj[])[1]).toEqual({ value: 'babs@jensen.org', display: 'Home', type: 'home' })
    expectError(() => patch(user(), [{ op: 'add', path: 'emails[type sw "x"].display', value: 'X' }]), 'noTarget')
  })

  test('add with a value filter and no sub-attribute merges into matching elements', () => {
    const u = patch(user(), [{ op: 'add', path: 'emails[type eq "home"]', value: { display: 'H' } }])
    expect((u.resource.emails as Obj[])[1]).toEqual({ value: 'babs@jensen.org', display: 'H', type: 'home' })
  })

  test('add null is a no-op (tolerant)', () => {
    expect(patch(user({ title: 'x' }), [{ op: 'add', path: 'title', value: null }]).resource.title).toBe('x')
  })

  test('wrong type → invalidValue', () => {
    expectError(() => patch(user(), [{ op: 'add', path: 'title', value: 3 }]), 'invalidValue', /title/)
    expectError(() => patch(user(), [{ op: 'add', path: 'active', value: 'yes' }]), 'invalidValue', /active/)
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('replace', () => {
  test('path to an absent attribute acts as add', () => {
    expect(patch(user(), [{ op: 'replace', path: 'nickName', value: 'Babs' }]).resource.nickName).toBe('Babs')
  })

  test('multi-valued without filter replaces the whole list', () => {
    const u = patch(user(), [{ op: 'replace', path: 'emails', value: [{ value: 'only@x.org', type: 'work' }] }])
    expect(u.resource.emails).toEqual([{ value: 'only@x.org', type: 'work' }])
  })

  test('complex single-valued: merged sub-attribute by sub-attribute; null sub-attribute removed', () => {
    const u = patch(user(), [{ op: 'replace', path: 'name', value: { givenName: 'Babs' } }])
    expect(u.resource.name).toEqual({ familyName: 'Jensen', givenName: 'Babs' })
    const v = patch(user(), [{ op: 'replace', value: { name: { familyName: null, formatted: 'B' } } }])
    expect(v.resource.name).toEqual({ formatted: 'B', givenName: 'Barbara' })
  })

  test('attr[filter] replaces the whole matching element', () => {
    const u = patch(user(), [{ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'new@home.org', type: 'home' } }])
    expect(u.resource.emails).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }, { value: 'new@home.org', type: 'home' }])
  })

  test('attr[filter].sub sets sub on every match', () => {
    const u = patch(user({ emails: [{ value: 'a@x', type: 'work' }, { value: 'b@x', type: 'work' }] }), [
      { op: 'replace', path: 'emails[type eq "work"].display', value: 'W' },
    ])
    expect(u.resource.emails).toEqual([{ value: 'a@x', display: 'W', type: 'work' }, { value: 'b@x', display: 'W', type: 'work' }])
  })

  test('no match → noTarget; the Entra creating form only when tolerant', () => {
    expectError(() => patch(user(), [{ op: 'replace', path: 'emails[type eq "other"]', value: { value: 'o@x' } }]), 'noTarget', /emails/)
    expectError(() => patch(user(), [{ op: 'replace', path: 'emails[type eq "other"].value', value: 'o@x' }], strict), 'noTarget')
    expectError(() => patch(user(), [{ op: 'replace', path: 'emails[type eq "other" and primary eq false].value', value: 'o@x' }]), 'noTarget')
    const u = patch(user(), [{ op: 'replace', path: 'emails[type eq "other"].value', value: 'o@x' }])
    expect((u.resource.emails as Obj[]).at(-1)).toEqual({ value: 'o@x', type: 'other' })
  })

  test('path-less: each key replaces that attribute', () => {
    const u = patch(user({ title: 'a' }), [{ op: 'replace', value: { title: 'b', emails: [{ value: 'z@x' }] } }])
    expect(u.resource.title).toBe('b')
    expect(u.resource.emails).toEqual([{ value: 'z@x' }])
  })

  test('replace with null (or []) unassigns', () => {
    expect(patch(user({ title: 'a' }), [{ op: 'replace', path: 'title', value: null }]).resource.title).toBeUndefined()
    expect(patch(user(), [{ op: 'replace', path: 'emails', value: [] }]).resource.emails).toBeUndefined()
    expectError(() => patch(user(), [{ op: 'replace', path: 'userName', value: null }]), 'mutability', /userName/)
  })

  test('a required string set to "" → invalidValue', () => {
    expectError(() => patch(user(), [{ op: 'replace', path: 'userName', value: '  ' }]), 'invalidValue', /userName/)
  })

  test('boolean strings: "False" accepted when tolerant, invalidValue when strict', () => {
    expect(patch(user({ active: true }), [{ op: 'Replace', path: 'active', value: 'False' }]).resource.active).toBe(false)
    expectError(() => patch(user({ active: true }), [{ op: 'replace', path: 'active', value: 'False' }], strict), 'invalidValue', /active/)
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('remove', () => {
  test('no path → noTarget (RFC 7644 §3.5.2.2)', () => {
    expectError(() => patch(user(), [{ op: 'remove' }]), 'noTarget', /path/)
  })

  test('an attribute, a sub-attribute, elements by filter, a sub-attribute of matching elements', () => {
    expect(patch(user({ title: 'x' }), [{ op: 'remove', path: 'title' }]).resource.title).toBeUndefined()
    expect(patch(user(), [{ op: 'remove', path: 'name.givenName' }]).resource.name).toEqual({ familyName: 'Jensen' })
    expect(patch(user(), [{ op: 'remove', path: 'emails[type eq "work"]' }]).resource.emails).toEqual([{ value: 'babs@jensen.org', type: 'home' }])
    expect(patch(user(), [{ op: 'remove', path: 'emails[type eq "work"].primary' }]).resource.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work' },
      { value: 'babs@jensen.org', type: 'home' },
    ])
  })

  test('empty values become absent: last element, last sub-attribute, last extension attribute (URN dropped from schemas)', () => {
    const u = patch(user({ [E]: { employeeNumber: '1' } }), [
      { op: 'remove', path: 'emails[type eq "work"]' },
      { op: 'remove', path: 'emails[type eq "home"]' },
      { op: 'remove', path: 'name.givenName' },
      { op: 'remove', path: 'name.familyName' },
      { op: 'remove', path: `${E}:employeeNumber` },
    ])
    expect(u.resource).toEqual({ schemas: [URN.user], userName: 'bjensen' })
  })

  test('removing an absent attribute is a no-op', () => {
    expect(patch(user(), [{ op: 'remove', path: 'nickName' }]).resource).toEqual(user())
  })

  test('a filter matching nothing: no-op when tolerant, noTarget when strict', () => {
    expect(patch(user(), [{ op: 'remove', path: 'emails[type eq "other"]' }]).resource).toEqual(user())
    expectError(() => patch(user(), [{ op: 'remove', path: 'emails[type eq "other"]' }], strict), 'noTarget')
  })

  test('a required attribute → mutability (RFC 7644 §3.5.2.2)', () => {
    expectError(() => patch(user(), [{ op: 'remove', path: 'userName' }]), 'mutability', /userName/)
    expectError(() => patchGroup(group(), [{ op: 'remove', path: 'displayName' }]), 'mutability', /displayName/)
  })

  test('a whole extension by URN path', () => {
    const u = patch(user({ [E]: { employeeNumber: '1', department: 'd' } }), [{ op: 'remove', path: E }])
    expect(u.resource[E]).toBeUndefined()
    expect(u.resource.schemas).toEqual([URN.user])
  })

  test('tolerant: remove with a value on a multi-valued attribute removes only those values', () => {
    const u = patch(user(), [{ op: 'remove', path: 'emails', value: [{ value: 'BABS@jensen.org' }] }])
    expect(u.resource.emails).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }])
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('paths and errors', () => {
  test('unknown attribute → invalidPath', () => {
    expectError(() => patch(user(), [{ op: 'add', path: 'nope', value: 'x' }]), 'invalidPath', /Unknown attribute 'nope' in path/)
    expectError(() => patch(user(), [{ op: 'add', path: 'name.nope', value: 'x' }]), 'invalidPath', /name\.nope/)
    expectError(() => patch(user(), [{ op: 'add', path: 'emails[type eq "work"].nope', value: 'x' }]), 'invalidPath')
  })

  test('malformed path → invalidPath', () => {
    expectError(() => patch(user(), [{ op: 'add', path: 'emails[type eq', value: 'x' }]), 'invalidPath')
  })

  test('a value filter on a single-valued attribute → invalidPath', () => {
    expectError(() => patch(user(), [{ op: 'replace', path: 'name[givenName eq "B"].familyName', value: 'x' }]), 'invalidPath', /not multi-valued/)
  })

  test('a filter naming an unknown sub-attribute or comparing wrongly → invalidFilter', () => {
    expectError(() => patch(user(), [{ op: 'remove', path: 'emails[nope eq "x"]' }]), 'invalidFilter')
    expectError(() => patch(user(), [{ op: 'remove', path: 'emails[primary gt 1]' }]), 'invalidFilter')
  })

  test('attr.sub on a multi-valued attribute without a filter → invalidPath', () => {
    expectError(() => patch(user(), [{ op: 'replace', path: 'emails.value', value: 'x' }]), 'invalidPath', /filter/)
  })

  test('a dotted multi-valued key in a path-less value: ignored when tolerant, invalidValue when strict', () => {
    expect(patch(user(), [{ op: 'replace', value: { 'emails.value': 'x', title: 't' } }]).resource).toEqual({ ...user(), title: 't' })
    expectError(() => patch(user(), [{ op: 'replace', value: { 'emails.value': 'x' } }], strict), 'invalidValue', /filter/)
  })

  test('extension attribute without its URN: resolved when tolerant, invalidPath when strict', () => {
    expect(patch(user(), [{ op: 'add', path: 'department', value: 'd' }]).resource[E]).toEqual({ department: 'd' })
    expectError(() => patch(user(), [{ op: 'add', path: 'department', value: 'd' }], strict), 'invalidPath', /enterprise/)
  })

  test('unknown keys in a path-less value: ignored when tolerant, invalidValue when strict', () => {
    expect(patch(user(), [{ op: 'replace', value: { title: 't', nope: 1 } }]).resource.title).toBe('t')
    expectError(() => patch(user(), [{ op: 'replace', value: { title: 't', nope: 1 } }], strict), 'invalidValue', /nope/)
  })

  test('the error detail names the failing operation, and nothing is applied (atomic)', () => {
    const input = user()
    const e = expectError(() => patch(input, [{ op: 'replace', path: 'title', value: 'x' }, { op: 'remove', path: 'userName' }]), 'mutability')
    expect(e.detail).toStartWith('Operations[1]: ')
    expect(input.title).toBeUndefined()
  })

  test('operations apply in order', () => {
    const u = patch(user(), [
      { op: 'add', path: 'title', value: 'a' },
      { op: 'remove', path: 'title' },
      { op: 'add', path: 'title', value: 'b' },
    ])
    expect(u.resource.title).toBe('b')
  })

  test('undeclared extension attributes are kept verbatim when tolerant, invalidPath when strict', () => {
    const u = patch(user(), [{ op: 'add', path: 'urn:okta:custom:1.0:User:favoriteColor', value: 'blue' }])
    expect(u.resource['urn:okta:custom:1.0:User']).toEqual({ favoriteColor: 'blue' })
    expect(u.resource.schemas).toEqual([URN.user, 'urn:okta:custom:1.0:User'])
    expectError(() => patch(user(), [{ op: 'add', path: 'urn:okta:custom:1.0:User:favoriteColor', value: 'blue' }], strict), 'invalidPath')
    const w = patch(user(), [{ op: 'add', value: { 'urn:okta:custom:1.0:User': { a: '1' } } }])
    expect(w.resource['urn:okta:custom:1.0:User']).toEqual({ a: '1' })
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('mutability', () => {
  test.each([
    ['id', 'x'],
    ['meta', { resourceType: 'User' }],
    ['meta.created', '2020-01-01T00:00:00Z'],
    ['groups', [{ value: 'g' }]],
    [`${E}:manager.displayName`, 'Boss'],
  ])('explicit path to readOnly %s → mutability', (path, value) => {
    for (const op of ['add', 'replace', 'remove'])
      expectError(() => patch(user(), [{ op, path, ...(op === 'remove' ? {} : { value }) }]), 'mutability', /readOnly/)
  })

  test('readOnly keys inside a path-less value are ignored (Okta group rename with id)', () => {
    const g = patchGroup(group(), [{ op: 'replace', value: { id: 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b', displayName: 'Tour Guides 2', meta: { version: 'x' } } }])
    expect(g.resource).toEqual({ schemas: [URN.group], displayName: 'Tour Guides 2' })
    expect(g.external).toEqual([])
  })

  test('readOnly sub-attributes inside a value are dropped (manager.displayName)', () => {
    const u = patch(user(), [{ op: 'add', path: `${E}:manager`, value: { value: 'm', displayName: 'Boss' } }])
    expect(u.resource[E]).toEqual({ manager: { value: 'm' } })
  })

  test('schemas: ignored in a value object, explicit path → mutability', () => {
    expect(patch(user(), [{ op: 'replace', value: { schemas: ['urn:x'], title: 't' } }]).resource.schemas).toEqual([URN.user])
    expectError(() => patch(user(), [{ op: 'add', path: 'schemas', value: [E] }]), 'mutability', /schemas/)
  })

  test('immutable: add when absent OK, same value OK, replace/remove of a present value → mutability', () => {
    // A custom extension with an immutable attribute.
    const reg = defaultRegistry({
      schemas: [
        {
          id: 'urn:example:params:scim:schemas:extension:badge:2.0:User',
          name: 'Badge',
          attributes: [
            { name: 'badgeId', type: 'string', multiValued: false, required: false, caseExact: true, mutability: 'immutable', returned: 'default', uniqueness: 'none' },
          ],
        },
      ],
      resourceTypes: { User: [{ schema: 'urn:example:params:scim:schemas:extension:badge:2.0:User', required: false }] },
    })
    const U = reg.resourceType('User')!
    const B = 'urn:example:params:scim:schemas:extension:badge:2.0:User'
    const base = validateResource(reg, U, { userName: 'u' }, tolerant)
    const run = (r: Obj, ops: PatchOperation[]) => applyPatch(reg, U, r, ops, tolerant).resource
    const added = run(base, [{ op: 'add', path: `${B}:badgeId`, value: 'B1' }])
    expect(added[B]).toEqual({ badgeId: 'B1' })
    expect(run(added, [{ op: 'replace', path: `${B}:badgeId`, value: 'B1' }])).toEqual(added)
    expectError(() => run(added, [{ op: 'replace', path: `${B}:badgeId`, value: 'B2' }]), 'mutability', /immutable/)
    expectError(() => run(added, [{ op: 'add', path: `${B}:badgeId`, value: 'B2' }]), 'mutability', /immutable/)
    expectError(() => run(added, [{ op: 'remove', path: `${B}:badgeId` }]), 'mutability', /immutable/)
    expectError(() => run(added, [{ op: 'remove', path: B }]), 'mutability', /immutable/)
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('primary', () => {
  test('adding a primary value clears primary on the others (RFC 7644 §3.5.2)', () => {
    const u = patch(user(), [{ op: 'add', path: 'emails', value: [{ value: 'n@x', type: 'other', primary: true }] }])
    expect(u.resource.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'n@x', type: 'other', primary: true },
    ])
  })

  test('setting primary through a filter clears the previous primary', () => {
    const u = patch(user(), [{ op: 'replace', path: 'emails[type eq "home"].primary', value: true }])
    expect(u.resource.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'babs@jensen.org', type: 'home', primary: true },
    ])
  })

  test('an operation that itself sets two primaries → invalidValue', () => {
    expectError(() => patch(user(), [{ op: 'add', path: 'emails', value: [{ value: 'a@y', primary: true }, { value: 'b@y', primary: true }] }]), 'invalidValue', /primary/)
    expectError(() => patch(user({ emails: [{ value: 'a@x', type: 'work' }, { value: 'b@x', type: 'work' }] }), [{ op: 'replace', path: 'emails[type eq "work"].primary', value: true }]), 'invalidValue', /primary/)
  })
})

// ---------------------------------------------------------------------------------------------------------------

describe('Okta request shapes', () => {
  test('deactivate: path-less value {active:false}', () => {
    const body = oktaDeactivate.request
    const ops = parsePatchRequest(body, tolerant)
    const out = applyPatch(registry, User, user({ active: true }), ops, tolerant)
    expect(out.resource.active).toBe(false)
    expect(out.resource.userName).toBe('bjensen')
  })

  test('group rename (id ignored) + remove member by filter + add member with display (no type)', () => {
    const ops = parsePatchRequest(oktaGroupMembership.request, tolerant)
    const out = applyPatch(registry, Group, group(), ops, { strict: false, external: ['members'] })
    expect(out.resource).toEqual({ schemas: [URN.group], displayName: 'Tour Guides Renamed' })
    expect(out.external).toEqual([
      { attr: 'members', op: 'remove', filter: { kind: 'compare', path: { attr: 'value' }, op: 'eq', value: '00u1' } },
      { attr: 'members', op: 'add', values: [{ value: '00u2' }] },
    ])
  })

  test('members replace', () => {
    expect(patchGroup(group(), [{ op: 'replace', path: 'members', value: [{ value: 'a', display: 'a@b.c' }] }]).external).toEqual([
      { attr: 'members', op: 'replace', values: [{ value: 'a' }] },
    ])
  })

  test('the same request in strict mode (Okta is RFC-compliant here)', () => {
    const ops = parsePatchRequest(oktaGroupMembership.request, strict)
    expect(applyPatch(registry, Group, group(), ops, { strict: true, external: ['members'] }).resource.displayName).toBe('Tour Guides Renamed')
  })
})

describe('Entra ID request shapes', () => {
  test('default-mode user update: capitalised ops, "False", URN path, emails[type eq "work"].value, manager string', () => {
    const ops = parsePatchRequest(entraUpdateUser.request, tolerant)
    const out = applyPatch(registry, User, user({ active: true, emails: [{ value: 'old@contoso.com', type: 'work', primary: true }] }), ops, tolerant)
    expect(out.resource.active).toBe(false)
    expect(out.resource.emails).toEqual([{ value: 'new@contoso.com', type: 'work', primary: true }])
    expect(out.resource[E]).toEqual({ employeeNumber: '12345', department: 'Eng', manager: { value: 'mgr-1' } })
    expect(out.resource.schemas).toEqual([URN.user, E])
  })

  test('emails[type eq "work"].value when no work email exists creates it (tolerant)', () => {
    const out = patch(user({ emails: [{ value: 'h@x', type: 'home' }] }), [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'w@contoso.com' }])
    expect(out.resource.emails).toEqual([{ value: 'h@x', type: 'home' }, { value: 'w@contoso.com', type: 'work' }])
    const none = patch(validateResource(registry, User, { userName: 'u' }, tolerant), [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'w@c' }])
    expect(none.resource.emails).toEqual([{ value: 'w@c', type: 'work' }])
  })

  test('manager as a plain string, as [{"$ref","value"}], and in strict mode', () => {
    const path = `${E}:manager`
    expect(patch(user(), [{ op: 'Add', path, value: 'managerId' }]).resource[E]).toEqual({ manager: { value: 'managerId' } })
    expect(patch(user(), [{ op: 'Add', path, value: [{ $ref: 'https://x/Users/m2', value: 'm2' }] }]).resource[E]).toEqual({
      manager: { value: 'm2', $ref: 'https://x/Users/m2' },
    })
    expect(patch(user(), [{ op: 'Add', path, value: [{ $ref: null, value: 'm3' }] }]).resource[E]).toEqual({ manager: { value: 'm3' } })
    expectError(() => patch(user(), [{ op: 'add', path, value: 'managerId' }], strict), 'invalidValue', /manager/)
    expectError(() => patch(user(), [{ op: 'add', path, value: [{ value: 'm' }] }], strict), 'invalidValue', /manager/)
    expect(patch(user(), [{ op: 'add', path, value: { value: 'm' } }], strict).resource[E]).toEqual({ manager: { value: 'm' } })
  })

  test('compliant mode: path-less replace with dotted keys and URN keys', () => {
    const out = patch(user(), [
      { op: 'replace', value: { displayName: 'Babs J', 'name.givenName': 'Babs', [`${E}:employeeNumber`]: '99', [`${E}:manager`]: 'm' } },
    ])
    expect(out.resource.displayName).toBe('Babs J')
    expect(out.resource.name).toEqual({ familyName: 'Jensen', givenName: 'Babs' })
    expect(out.resource[E]).toEqual({ employeeNumber: '99', manager: { value: 'm' } })
  })

  test('member add with $ref null, and a bare string member', () => {
    expect(patchGroup(group(), [{ op: 'Add', path: 'members', value: [{ $ref: null, value: 'id1' }] }]).external).toEqual([
      { attr: 'members', op: 'add', values: [{ value: 'id1' }] },
    ])
    expect(patchGroup(group(), [{ op: 'Add', path: 'members', value: ['id2'] }]).external).toEqual([{ attr: 'members', op: 'add', values: [{ value: 'id2' }] }])
    expect(patchGroup(group(), [{ op: 'Add', path: 'members', value: 'id3' }]).external).toEqual([{ attr: 'members', op: 'add', values: [{ value: 'id3' }] }])
    expectError(() => patchGroup(group(), [{ op: 'add', path: 'members', value: ['id2'] }], strict), 'invalidValue')
  })

  test('member removal by value array (default mode) removes just those members', () => {
    const ops = parsePatchRequest(entraRemoveMembers.request, tolerant)
    const out = applyPatch(registry, Group, group(), ops, { strict: false, external: ['members'] })
    expect(out.external).toEqual([{ attr: 'members', op: 'remove', values: [{ value: 'id1' }, { value: 'id2' }] }])
  })

  test('member removal by filter (compliant mode)', () => {
    expect(patchGroup(group(), [{ op: 'Remove', path: 'members[value eq "id"]' }]).external).toEqual([
      { attr: 'members', op: 'remove', filter: { kind: 'compare', path: { attr: 'value' }, op: 'eq', value: 'id' } },
    ])
  })
})

describe('external attributes (Group members)', () => {
  test('never mutated in the resource; ops emitted in order, path-less too', () => {
    const g = patchGroup(group(), [
      { op: 'add', value: { members: [{ value: 'a' }] } },
      { op: 'replace', value: { displayName: 'X', members: [{ value: 'b', type: 'User' }] } },
      { op: 'remove', path: 'members' },
    ])
    expect(g.resource).toEqual({ schemas: [URN.group], displayName: 'X' })
    expect(g.external).toEqual([
      { attr: 'members', op: 'add', values: [{ value: 'a' }] },
      { attr: 'members', op: 'replace', values: [{ value: 'b', type: 'User' }] },
      { attr: 'members', op: 'remove' },
    ])
  })

  test('replace with [] or null clears; add [] emits nothing', () => {
    expect(patchGroup(group(), [{ op: 'replace', path: 'members', value: [] }]).external).toEqual([{ attr: 'members', op: 'replace', values: [] }])
    expect(patchGroup(group(), [{ op: 'replace', path: 'members', value: null }]).external).toEqual([{ attr: 'members', op: 'replace', values: [] }])
    expect(patchGroup(group(), [{ op: 'add', path: 'members', value: [] }]).external).toEqual([])
  })

  test('each member needs a non-empty string value → invalidValue', () => {
    expectError(() => patchGroup(group(), [{ op: 'add', path: 'members', value: [{ display: 'x' }] }]), 'invalidValue', /members\[0\]/)
    expectError(() => patchGroup(group(), [{ op: 'add', path: 'members', value: [{ value: '' }] }]), 'invalidValue')
    expectError(() => patchGroup(group(), [{ op: 'add', path: 'members', value: [{ value: 5 }] }]), 'invalidValue')
  })

  test('member sub-attribute paths → mutability; add/replace with a filter → invalidPath; bad filter → invalidFilter', () => {
    expectError(() => patchGroup(group(), [{ op: 'replace', path: 'members[value eq "x"].display', value: 'd' }]), 'mutability')
    expectError(() => patchGroup(group(), [{ op: 'remove', path: 'members.value' }]), 'mutability')
    expectError(() => patchGroup(group(), [{ op: 'replace', path: 'members[value eq "x"]', value: { value: 'y' } }]), 'invalidPath')
    expectError(() => patchGroup(group(), [{ op: 'remove', path: 'members[nope eq "x"]' }]), 'invalidFilter')
  })

  test('without opts.external, members are patched in the resource like any multi-valued attribute', () => {
    const out = applyPatch(registry, Group, group(), [{ op: 'add', path: 'members', value: [{ value: 'a' }] }], tolerant)
    expect(out.resource.members).toEqual([{ value: 'a' }])
    expect(out.external).toEqual([])
  })
})
