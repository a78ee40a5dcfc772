/**
 * Property tests for applyPatch: random canonical users and random PATCH sequences over a restricted set of paths,
 * compared with a small independent in-memory model of the same semantics (below), plus robustness properties
 * (only ScimError is thrown, the input is never mutated, the output is canonical).
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { URN } from '../../src/scim/constants'
import { ScimError } from '../../src/scim/errors'
import { applyPatch, type PatchOperation } from '../../src/scim/patch'
import { defaultRegistry } from '../../src/scim/schema/registry'
import { validateResource } from '../../src/scim/schema/validate'

const registry = defaultRegistry()
const User = registry.resourceType('User')!
const E = URN.enterpriseUser
const RUNS = Number(process.env.PATCH_PROPERTY_RUNS ?? 300)

type Obj = Record<string, any>

// ---------------------------------------------------------------------------------------------------------------
// Generators

const TYPES = ['work', 'home', 'other'] as const
const str = fc.constantFrom('a', 'b', 'ab', 'A', 'Ba', 'c')
const typeLabel = fc.constantFrom(...TYPES, 'Work')
const boolish = fc.oneof(fc.boolean(), fc.constantFrom('True', 'false'))

const email = fc.record(
  { value: str, type: typeLabel, primary: fc.boolean() },
  { requiredKeys: ['value'] },
)

const userArb = fc
  .record(
    {
      userName: str,
      displayName: str,
      title: str,
      active: fc.boolean(),
      name: fc.record({ givenName: str, familyName: str }, { requiredKeys: [] }),
      emails: fc.array(email, { maxLength: 4 }),
      ent: fc.record({ employeeNumber: str, department: str }, { requiredKeys: [] }),
    },
    { requiredKeys: ['userName'] },
  )
  .map((r) => {
    const body: Obj = { ...r }
    delete body.ent
    if (r.emails) {
      let seen = false
      body.emails = r.emails.map((e) => {
        if (e.primary === true && seen) return { ...e, primary: false }
        if (e.primary === true) seen = true
        return e
      })
    }
    if (r.ent && Object.keys(r.ent).length > 0) body[E] = r.ent
    return validateResource(registry, User, body, { strict: false })
  })

const emailsValue = fc.oneof(
  { weight: 4, arbitrary: fc.array(email, { maxLength: 3 }) },
  { weight: 1, arbitrary: email },
)
const filterPath = (sub?: string) =>
  typeLabel.map((t) => `emails[type eq "${t}"]${sub ? '.' + sub : ''}`)

const setOp = (op: fc.Arbitrary<'add' | 'replace'>, path: fc.Arbitrary<string>, value: fc.Arbitrary<unknown>) =>
  fc.record({ op, path, value }) as fc.Arbitrary<PatchOperation>
const addOrReplace = fc.constantFrom('add' as const, 'replace' as const)

const opArb: fc.Arbitrary<PatchOperation> = fc.oneof(
  setOp(addOrReplace, fc.constantFrom('userName', 'displayName', 'title'), str),
  setOp(addOrReplace, fc.constant('active'), boolish),
  setOp(addOrReplace, fc.constantFrom('name.givenName', 'name.familyName'), str),
  setOp(addOrReplace, fc.constant('name'), fc.record({ givenName: fc.option(str), familyName: fc.option(str) }, { requiredKeys: [] })),
  setOp(addOrReplace, fc.constant('emails'), emailsValue),
  setOp(addOrReplace, filterPath(), email),
  setOp(addOrReplace, filterPath('value'), str),
  setOp(addOrReplace, filterPath('primary'), boolish),
  setOp(addOrReplace, fc.constantFrom(`${E}:employeeNumber`, `${E}:department`), str),
  setOp(addOrReplace, fc.constant(E), fc.record({ employeeNumber: fc.option(str), department: str }, { requiredKeys: [] })),
  fc.record({
    op: addOrReplace,
    value: fc.record(
      {
        displayName: str,
        title: fc.option(str),
        active: boolish,
        'name.givenName': str,
        [E]: fc.record({ department: str }),
        [`${E}:employeeNumber`]: str,
        emails: fc.array(email, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  }) as fc.Arbitrary<PatchOperation>,
  fc
    .oneof(
      fc.constantFrom('userName', 'displayName', 'title', 'active', 'name', 'name.givenName', 'name.familyName', 'emails', E, `${E}:employeeNumber`, `${E}:department`),
      filterPath(),
      filterPath('value'),
      filterPath('primary'),
    )
    .map((path): PatchOperation => ({ op: 'remove', path })),
)

// ---------------------------------------------------------------------------------------------------------------
// The model: plain JS over the restricted shape { userName, displayName?, title?, active?, name?{givenName,familyName},
// emails?[{value,type?,primary?}], [E]?{employeeNumber?, department?} }.

class ModelError extends Error {
  constructor(readonly scimType: string) {
    super(scimType)
  }
}
const fail = (t: string): never => {
  throw new ModelError(t)
}

function model(start: Obj, ops: PatchOperation[], strict: boolean): Obj {
  const u: Obj = structuredClone(start)
  delete u.schemas
  const lower = (s: string) => s.toLowerCase()

  const toStr = (v: unknown) => (typeof v === 'string' ? v : fail('invalidValue'))
  const toBool = (v: unknown): boolean => {
    if (typeof v === 'boolean') return v
    if (!strict && typeof v === 'string' && ['true', 'false'].includes(v.toLowerCase())) return v.toLowerCase() === 'true'
    return fail('invalidValue')
  }
  const toEmail = (v: Obj): Obj => {
    const e: Obj = {}
    if (v.value !== undefined && v.value !== null) e.value = toStr(v.value)
    if (v.type !== undefined && v.type !== null) e.type = toStr(v.type)
    if (v.primary !== undefined && v.primary !== null) e.primary = toBool(v.primary)
    return e
  }
  const toEmails = (v: unknown): Obj[] => {
    const arr = Array.isArray(v) ? v : strict ? fail('invalidValue') : [v]
    const out = (arr as Obj[]).map(toEmail)
    if (out.filter((e) => e.primary === true).length > 1) fail('invalidValue')
    return out
  }
  const eqStr = (a: unknown, b: unknown) => (a === undefined && b === undefined) || (typeof a === 'string' && typeof b === 'string' && lower(a) === lower(b))
  const sameEmail = (a: Obj, b: Obj) => eqStr(a.value, b.value) && eqStr(a.type, b.type) && a.primary === b.primary
  const settle = (list: Obj[], touched: Set<Obj>) => {
    const prim = list.filter((e) => e.primary === true)
    if (prim.length <= 1) return
    const win = prim.filter((e) => touched.has(e))
    if (win.length !== 1) fail('invalidValue')
    for (const e of prim) if (e !== win[0]) e.primary = false
  }
  const ent = (): Obj => (u[E] ??= {})

  const simple = (op: string, key: string, v: unknown, conv: (v: unknown) => unknown) => {
    if (op === 'remove' || v === null) {
      if (op === 'add') return
      if (key === 'userName') fail('mutability')
      delete u[key]
      return
    }
    u[key] = conv(v)
  }
  const nameSub = (op: string, sub: string, v: unknown) => {
    if (op === 'remove' || v === null) {
      if (op === 'add') return
      if (u.name) delete u.name[sub]
      return
    }
    u.name = { ...u.name, [sub]: toStr(v) }
  }
  const entAttr = (op: string, key: string, v: unknown) => {
    if (op === 'remove' || v === null) {
      if (op === 'add') return
      if (u[E]) delete u[E][key]
      return
    }
    ent()[key] = toStr(v)
  }

  const filtered = (op: string, t: string, sub: string | undefined, v: unknown) => {
    const list: Obj[] = u.emails ? [...u.emails] : []
    const hit = (e: Obj) => typeof e.type === 'string' && lower(e.type) === lower(t)
    const hits = list.filter(hit)
    if (op === 'remove') {
      if (hits.length === 0) {
        if (strict) fail('noTarget')
        return
      }
      if (!sub) u.emails = list.filter((e) => !hit(e))
      else
        u.emails = list
          .map((e) => {
            if (!hit(e)) return e
            const c = { ...e }
            delete c[sub]
            return c
          })
          .filter((e) => Object.keys(e).length > 0)
      return
    }
    const touched = new Set<Obj>()
    if (hits.length === 0) {
      if (!sub || strict) fail('noTarget')
      const created = toEmail({ type: t, [sub!]: v })
      list.push(created)
      touched.add(created)
    } else if (sub) {
      const val = sub === 'value' ? toStr(v) : toBool(v)
      for (let i = 0; i < list.length; i++)
        if (hit(list[i])) {
          list[i] = { ...list[i], [sub]: val }
          touched.add(list[i])
        }
    } else {
      const el = toEmail(v as Obj)
      for (let i = 0; i < list.length; i++)
        if (hit(list[i])) {
          list[i] = op === 'replace' ? { ...el } : { ...list[i], ...el }
          touched.add(list[i])
        }
    }
    settle(list, touched)
    u.emails = list
  }

  const emails = (op: string, v: unknown) => {
    if (op === 'remove' || v === null) {
      if (op === 'add') return
      delete u.emails
      return
    }
    const add = toEmails(v)
    if (op === 'replace') {
      u.emails = add
      return
    }
    const list: Obj[] = u.emails ? [...u.emails] : []
    const touched = new Set<Obj>()
    for (const e of add)
      if (!list.some((x) => sameEmail(x, e))) {
        list.push(e)
        touched.add(e)
      }
    settle(list, touched)
    u.emails = list
  }

  const apply = (op: string, path: string | undefined, v: unknown): void => {
    if (path === undefined) {
      if (op === 'remove') fail('noTarget')
      for (const [k, x] of Object.entries(v as Obj)) apply(op, k, x)
      return
    }
    const m = /^emails\[type eq "(\w+)"\](?:\.(value|primary))?$/.exec(path)
    if (m) return filtered(op, m[1], m[2], v)
    switch (path) {
      case 'userName':
      case 'displayName':
      case 'title':
        return simple(op, path, v, toStr)
      case 'active':
        return simple(op, path, v, toBool)
      case 'name.givenName':
        return nameSub(op, 'givenName', v)
      case 'name.familyName':
        return nameSub(op, 'familyName', v)
      case 'name':
        if (op === 'remove') return void delete u.name
        for (const sub of ['givenName', 'familyName']) {
          const x = (v as Obj)[sub]
          if (typeof x === 'string') u.name = { ...u.name, [sub]: x }
          else if (x === null && op === 'replace' && u.name) delete u.name[sub]
        }
        return
      case 'emails':
        return emails(op, v)
      case `${E}:employeeNumber`:
        return entAttr(op, 'employeeNumber', v)
      case `${E}:department`:
        return entAttr(op, 'department', v)
      case E:
        if (op === 'remove') return void delete u[E]
        for (const [k, x] of Object.entries(v as Obj)) entAttr(op, k, x)
        return
    }
    throw new Error(`model: unexpected path ${path}`)
  }

  const tidy = () => {
    if (u.name && Object.keys(u.name).length === 0) delete u.name
    if (u.emails && u.emails.length === 0) delete u.emails
    if (u[E] && Object.keys(u[E]).length === 0) delete u[E]
  }
  for (const op of ops) {
    apply(op.op, op.path, op.value)
    tidy()
  }
  return { schemas: u[E] ? [URN.user, E] : [URN.user], ...u }
}

// ---------------------------------------------------------------------------------------------------------------

type Outcome = { ok: Obj } | { error: string }

function run(fn: () => Obj): Outcome {
  try {
    return { ok: fn() }
  } catch (e) {
    if (e instanceof ScimError) return { error: e.scimType ?? `status ${e.status}` }
    if (e instanceof ModelError) return { error: e.scimType }
    throw e
  }
}

describe('applyPatch agrees with the model', () => {
  for (const strict of [false, true])
    test(`random users × random operation sequences (${strict ? 'strict' : 'tolerant'})`, () => {
      fc.assert(
        fc.property(userArb, fc.array(opArb, { minLength: 1, maxLength: 6 }), (u, ops) => {
          const before = structuredClone(u)
          const got = run(() => applyPatch(registry, User, u, ops, { strict }).resource)
          const want = run(() => model(u, ops, strict))
          expect(u).toEqual(before)
          expect(got).toEqual(want)
          if ('ok' in got) expect(validateResource(registry, User, structuredClone(got.ok), { strict: false })).toEqual(got.ok)
        }),
        { numRuns: RUNS },
      )
    })
})

// ---------------------------------------------------------------------------------------------------------------

const anyPath = fc.oneof(
  fc.constantFrom(
    'userName', 'title', 'active', 'name', 'name.givenName', 'emails', 'emails.value', 'emails[type eq "work"]',
    'emails[type eq "work"].value', 'emails[value co "a" or primary eq true]', 'emails[primary eq "x"]', 'emails[',
    'name[givenName eq "a"]', 'id', 'meta', 'meta.version', 'groups', 'schemas', 'nope', 'x509Certificates', 'phoneNumbers[type eq "work"].value',
    E, `${E}:manager`, `${E}:manager.value`, `${E}:manager.displayName`, URN.user, 'urn:okta:custom:1.0:User',
    'urn:okta:custom:1.0:User:color', '', ' ', 'members', 'addresses[type eq "work"].streetAddress',
  ),
  fc.string({ maxLength: 12 }),
)

describe('robustness', () => {
  test('arbitrary operations: only ScimError, input untouched, output canonical (both modes)', () => {
    fc.assert(
      fc.property(
        userArb,
        fc.array(
          fc.record({ op: fc.constantFrom('add', 'remove', 'replace'), path: fc.option(anyPath, { nil: undefined }), value: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: ['op'] }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.boolean(),
        (u, ops, strict) => {
          const before = structuredClone(u)
          let out: Obj | undefined
          try {
            out = applyPatch(registry, User, u, ops as PatchOperation[], { strict }).resource
          } catch (e) {
            if (!(e instanceof ScimError)) throw e
          }
          expect(u).toEqual(before)
          if (out) expect(validateResource(registry, User, structuredClone(out), { strict: false })).toEqual(out)
        },
      ),
      { numRuns: RUNS * 2 },
    )
  })
})
