/**
 * Shared fast-check arbitraries for filter tests (round-trips here; SQL differential tests elsewhere):
 * - `filterArb`: random, schema-valid Filter ASTs over a User (every comparison type-checks against
 *   `userResolver`, so evaluateFilter never throws on them).
 * - `userResourceArb`: random User resources to evaluate them on.
 * - `userResolver`: an AttrResolver over TEST_USER_SCHEMAS (core User, enterprise extension, and a custom
 *   extension CUSTOM_URN with the integer attribute `loginCount`).
 * - `patchPathArb`: random PATCH paths.
 */
import fc from 'fast-check'
import type { AttrPath, CompareOp, Filter, Literal, PatchPath } from '../../../src/scim/filter/ast'
import type { AttrInfo, AttrResolver } from '../../../src/scim/filter/evaluate'

export const CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
/** A custom extension holding one integer attribute, `loginCount`. */
export const CUSTOM_URN = 'urn:scimd:params:scim:schemas:extension:test:2.0:User'

type T = AttrInfo['type']
export interface TestAttr {
  name: string
  type: T
  multiValued?: boolean
  caseExact?: boolean
  sub?: TestAttr[]
}

const s = (name: string, caseExact = false): TestAttr => ({ name, type: 'string', caseExact })

export const TEST_USER_SCHEMAS: { id: string; core: boolean; attributes: TestAttr[] }[] = [
  {
    id: CORE_USER_URN,
    core: true,
    attributes: [
      { name: 'id', type: 'string', caseExact: true },
      { name: 'externalId', type: 'string', caseExact: true },
      { name: 'schemas', type: 'reference', multiValued: true, caseExact: true },
      s('userName'),
      { name: 'name', type: 'complex', sub: [s('formatted'), s('familyName'), s('givenName'), s('middleName')] },
      s('displayName'),
      s('nickName'),
      s('title'),
      s('userType'),
      { name: 'active', type: 'boolean' },
      {
        name: 'emails',
        type: 'complex',
        multiValued: true,
        sub: [s('value'), s('display'), s('type'), { name: 'primary', type: 'boolean' }],
      },
      { name: 'ims', type: 'complex', multiValued: true, sub: [s('value'), s('type'), { name: 'primary', type: 'boolean' }] },
      {
        name: 'groups',
        type: 'complex',
        multiValued: true,
        sub: [{ name: 'value', type: 'string', caseExact: true }, { name: '$ref', type: 'reference', caseExact: true }, s('display')],
      },
      {
        name: 'meta',
        type: 'complex',
        sub: [
          { name: 'resourceType', type: 'string', caseExact: true },
          { name: 'created', type: 'dateTime' },
          { name: 'lastModified', type: 'dateTime' },
          { name: 'location', type: 'reference', caseExact: true },
          { name: 'version', type: 'string', caseExact: true },
        ],
      },
    ],
  },
  {
    id: ENTERPRISE_URN,
    core: false,
    attributes: [
      s('employeeNumber'),
      s('department'),
      {
        name: 'manager',
        type: 'complex',
        sub: [{ name: 'value', type: 'string', caseExact: true }, { name: '$ref', type: 'reference', caseExact: true }, s('displayName')],
      },
    ],
  },
  { id: CUSTOM_URN, core: false, attributes: [{ name: 'loginCount', type: 'integer' }] },
]

const eqi = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

function info(a: TestAttr, canonical: AttrPath, parentMulti = false): AttrInfo {
  return { type: a.type, multiValued: (a.multiValued ?? false) || parentMulti, caseExact: a.caseExact ?? false, canonical }
}

/**
 * Resolver over TEST_USER_SCHEMAS: case-insensitive; a URN selects the schema (core URN → stored at top level);
 * without a URN the core schema is searched, then the extensions. With `parent`, `path.attr` names a
 * sub-attribute of the parent (or, for a multi-valued simple parent, `value` names the element itself). Sub-attributes of a multi-valued attribute report multiValued: true (their values
 * across the elements form a multi-set).
 */
export const userResolver: AttrResolver = (path, parent) => {
  if (parent) {
    const top = userResolver({ uri: parent.uri, attr: parent.attr })
    if (!top) return undefined
    // `schemas[value eq "…"]`: inside a value filter on a multi-valued simple attribute, `value` is the element
    // (evaluate.ts sees such elements as { value: element }).
    if (top.type !== 'complex' && eqi(path.attr, 'value')) return { ...top, canonical: { ...top.canonical, sub: 'value' } }
    return userResolver({ uri: top.canonical.uri, attr: top.canonical.attr, sub: path.attr })
  }
  const schemas = path.uri !== undefined ? TEST_USER_SCHEMAS.filter((x) => eqi(x.id, path.uri!)) : TEST_USER_SCHEMAS
  for (const schema of schemas) {
    const a = schema.attributes.find((x) => eqi(x.name, path.attr))
    if (!a) continue
    const uri = schema.core ? undefined : schema.id
    const base: AttrPath = uri ? { uri, attr: a.name } : { attr: a.name }
    if (path.sub === undefined) return info(a, base)
    const sa = a.sub?.find((x) => eqi(x.name, path.sub!))
    if (!sa) return undefined
    return info(sa, { ...base, sub: sa.name }, a.multiValued)
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Building blocks

/** Random casing of a name (attribute names are case-insensitive). */
export const casedArb = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(name) },
    { weight: 1, arbitrary: fc.constantFrom(name.toLowerCase(), name.toUpperCase()) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
        .map((bs) => [...name].map((ch, i) => (bs[i] ? ch.toUpperCase() : ch.toLowerCase())).join('')),
    },
  )

/** Short strings full of traps: case, quotes, backslashes, LIKE metacharacters, non-ASCII, astral code points. */
export const trickyStringArb: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom('a', 'b', 'A', 'B', 'z', '@', '.', ' ', '"', '\\', '%', '_', '/', '\n', 'é', 'É', 'ß', 'İ', '\uffff', '😀', '\u0000'),
  maxLength: 6,
})

export const dateTimeArb: fc.Arbitrary<string> = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((d) =>
    fc.constantFrom(
      d.toISOString(),
      d.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      d.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
    ),
  )

type Kind = 'string' | 'boolean' | 'dateTime' | 'integer' | 'complexMulti' | 'complex'

interface PathSpec {
  /** text of the path (URN-qualified variants included) */
  path: fc.Arbitrary<AttrPath>
  kind: Kind
}

const p = (attr: string, sub?: string, uri?: string): fc.Arbitrary<AttrPath> =>
  fc.tuple(casedArb(attr), sub ? casedArb(sub) : fc.constant(undefined)).map(([a, sb]) => {
    const out: AttrPath = { attr: a }
    if (uri) out.uri = uri
    if (sb !== undefined) out.sub = sb
    return out
  })

/** Top-level paths of a User the generator uses. */
export const USER_PATHS: PathSpec[] = [
  { path: fc.oneof(p('userName'), p('userName', undefined, CORE_USER_URN)), kind: 'string' },
  { path: p('displayName'), kind: 'string' },
  { path: p('externalId'), kind: 'string' },
  { path: p('title'), kind: 'string' },
  { path: p('name', 'givenName'), kind: 'string' },
  { path: p('name', 'familyName'), kind: 'string' },
  { path: p('emails', 'value'), kind: 'string' },
  { path: p('emails', 'type'), kind: 'string' },
  { path: p('emails', 'primary'), kind: 'boolean' },
  { path: p('active'), kind: 'boolean' },
  { path: p('meta', 'created'), kind: 'dateTime' },
  { path: p('meta', 'lastModified'), kind: 'dateTime' },
  { path: fc.oneof(p('loginCount', undefined, CUSTOM_URN), p('loginCount')), kind: 'integer' },
  { path: p('emails'), kind: 'complexMulti' },
  { path: p('name'), kind: 'complex' },
]

/** Sub-attributes of emails usable inside `emails[…]`. */
const EMAIL_SUBS: PathSpec[] = [
  { path: p('value'), kind: 'string' },
  { path: p('type'), kind: 'string' },
  { path: p('primary'), kind: 'boolean' },
]

const ALL_OPS: CompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']

function comparisonArb(spec: PathSpec): fc.Arbitrary<Filter> {
  const nullCmp = fc.record({
    kind: fc.constant('compare' as const),
    path: spec.path,
    op: fc.constantFrom<CompareOp>('eq', 'ne'),
    value: fc.constant<Literal>(null),
  })
  const cmp = (ops: CompareOp[], value: fc.Arbitrary<Literal>) =>
    fc.record({ kind: fc.constant('compare' as const), path: spec.path, op: fc.constantFrom(...ops), value })
  const present = fc.record({ kind: fc.constant('present' as const), path: spec.path })
  switch (spec.kind) {
    case 'string':
    case 'complexMulti':
      return fc.oneof(
        { weight: 6, arbitrary: cmp(ALL_OPS, fc.oneof(trickyStringArb, fc.constantFrom('bjensen', 'work', '@example.com'))) },
        { weight: 1, arbitrary: nullCmp },
        { weight: 2, arbitrary: present },
      )
    case 'boolean':
      return fc.oneof({ weight: 4, arbitrary: cmp(['eq', 'ne'], fc.boolean()) }, nullCmp, present)
    case 'dateTime':
      return fc.oneof({ weight: 4, arbitrary: cmp(['eq', 'ne', 'gt', 'ge', 'lt', 'le'], dateTimeArb) }, nullCmp, present)
    case 'integer':
      return fc.oneof(
        { weight: 4, arbitrary: cmp(['eq', 'ne', 'gt', 'ge', 'lt', 'le'], fc.integer({ min: -5, max: 1_000_000 })) },
        nullCmp,
        present,
      )
    case 'complex':
      return present
  }
}

function boolTree(atom: fc.Arbitrary<Filter>, maxDepth: number): fc.Arbitrary<Filter> {
  const { f } = fc.letrec<{ f: Filter }>((tie) => ({
    f: fc.oneof(
      { maxDepth, depthSize: 'small', withCrossShrink: true },
      atom,
      fc.record({ kind: fc.constant('and' as const), left: tie('f'), right: tie('f') }),
      fc.record({ kind: fc.constant('or' as const), left: tie('f'), right: tie('f') }),
      fc.record({ kind: fc.constant('not' as const), filter: tie('f') }),
    ),
  }))
  return f
}

/** Filters valid inside `emails[…]` (relative names, no nested value filters). */
export const emailValueFilterArb: fc.Arbitrary<Filter> = boolTree(fc.oneof(...EMAIL_SUBS.map(comparisonArb)), 3)

const valuePathArb: fc.Arbitrary<Filter> = fc.record({
  kind: fc.constant('valuePath' as const),
  path: p('emails'),
  filter: emailValueFilterArb,
})

/** Random schema-valid User filters (depth ≤ 5 + value filter depth, far below LIMITS.maxFilterDepth). */
export const filterArb: fc.Arbitrary<Filter> = boolTree(
  fc.oneof({ weight: 8, arbitrary: fc.oneof(...USER_PATHS.map(comparisonArb)) }, { weight: 1, arbitrary: valuePathArb }),
  5,
)

/** Random PATCH paths: attr, attr.sub, URN-qualified, emails[…], emails[…].sub. */
export const patchPathArb: fc.Arbitrary<PatchPath> = fc.oneof(
  fc.oneof(...USER_PATHS.map((x) => x.path)).map((attr): PatchPath => ({ attr })),
  p('manager', 'value', ENTERPRISE_URN).map((attr): PatchPath => ({ attr })),
  p('employeeNumber', undefined, ENTERPRISE_URN).map((attr): PatchPath => ({ attr })),
  fc
    .tuple(p('emails'), emailValueFilterArb, fc.option(fc.constantFrom('value', 'type', 'primary', 'display'), { nil: undefined }))
    .map(([attr, filter, sub]): PatchPath => (sub === undefined ? { attr, filter } : { attr, filter, sub })),
  fc.tuple(p('members'), fc.constantFrom('x', 'a"b', '2819c223')).map(
    ([attr, v]): PatchPath => ({ attr, filter: { kind: 'compare', path: { attr: 'value' }, op: 'eq', value: v } }),
  ),
)

// ---------------------------------------------------------------------------------------------------------------
// Resources

const maybe = <V>(a: fc.Arbitrary<V>) => fc.option(a, { nil: undefined, freq: 3 })
const small = fc.oneof(trickyStringArb, fc.constantFrom('bjensen', 'work', 'home', 'x@example.com', ''))

const emailArb = fc.record(
  { value: maybe(small), type: maybe(fc.oneof(fc.constantFrom('work', 'home', 'WORK'), small)), primary: maybe(fc.boolean()) },
  { requiredKeys: [] },
)

/** Random User resources (shape as stored: extensions under their URN). Absent and null values included. */
export const userResourceArb: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      userName: small,
      displayName: maybe(fc.option(small)),
      externalId: maybe(small),
      title: maybe(small),
      active: maybe(fc.boolean()),
      name: maybe(fc.record({ givenName: maybe(small), familyName: maybe(small) }, { requiredKeys: [] })),
      emails: maybe(fc.array(emailArb, { maxLength: 3 })),
      meta: fc.record({ created: dateTimeArb, lastModified: dateTimeArb }),
      loginCount: maybe(fc.integer({ min: -5, max: 1_000_000 })),
    },
    { requiredKeys: ['userName', 'meta'] },
  )
  .map(({ loginCount, ...rest }) => {
    const r: Record<string, unknown> = { schemas: [CORE_USER_URN], ...rest }
    for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k]
    if (loginCount !== undefined) r[CUSTOM_URN] = { loginCount }
    return r
  })

// ---------------------------------------------------------------------------------------------------------------
// RFC 7644 §3.4.2.2: every filter example of the section, with its AST.

const a = (attr: string, sub?: string, uri?: string): AttrPath => {
  const out: AttrPath = { attr }
  if (uri !== undefined) out.uri = uri
  if (sub !== undefined) out.sub = sub
  return out
}
const cmpF = (path: AttrPath, op: CompareOp, value: Literal): Filter => ({ kind: 'compare', path, op, value })
const andF = (left: Filter, right: Filter): Filter => ({ kind: 'and', left, right })
const orF = (left: Filter, right: Filter): Filter => ({ kind: 'or', left, right })

export const RFC_7644_FILTER_EXAMPLES: [text: string, ast: Filter][] = [
  ['userName eq "bjensen"', cmpF(a('userName'), 'eq', 'bjensen')],
  ['name.familyName co "O\'Malley"', cmpF(a('name', 'familyName'), 'co', "O'Malley")],
  ['userName sw "J"', cmpF(a('userName'), 'sw', 'J')],
  ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', cmpF(a('userName', undefined, CORE_USER_URN), 'sw', 'J')],
  ['title pr', { kind: 'present', path: a('title') }],
  ['meta.lastModified gt "2011-05-13T04:42:34Z"', cmpF(a('meta', 'lastModified'), 'gt', '2011-05-13T04:42:34Z')],
  ['meta.lastModified ge "2011-05-13T04:42:34Z"', cmpF(a('meta', 'lastModified'), 'ge', '2011-05-13T04:42:34Z')],
  ['meta.lastModified lt "2011-05-13T04:42:34Z"', cmpF(a('meta', 'lastModified'), 'lt', '2011-05-13T04:42:34Z')],
  ['meta.lastModified le "2011-05-13T04:42:34Z"', cmpF(a('meta', 'lastModified'), 'le', '2011-05-13T04:42:34Z')],
  ['title pr and userType eq "Employee"', andF({ kind: 'present', path: a('title') }, cmpF(a('userType'), 'eq', 'Employee'))],
  ['title pr or userType eq "Intern"', orF({ kind: 'present', path: a('title') }, cmpF(a('userType'), 'eq', 'Intern'))],
  ['schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', cmpF(a('schemas'), 'eq', ENTERPRISE_URN)],
  [
    'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
    andF(cmpF(a('userType'), 'eq', 'Employee'), orF(cmpF(a('emails'), 'co', 'example.com'), cmpF(a('emails', 'value'), 'co', 'example.org'))),
  ],
  [
    'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
    andF(
      cmpF(a('userType'), 'ne', 'Employee'),
      { kind: 'not', filter: orF(cmpF(a('emails'), 'co', 'example.com'), cmpF(a('emails', 'value'), 'co', 'example.org')) },
    ),
  ],
  ['userType eq "Employee" and (emails.type eq "work")', andF(cmpF(a('userType'), 'eq', 'Employee'), cmpF(a('emails', 'type'), 'eq', 'work'))],
  [
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
    andF(cmpF(a('userType'), 'eq', 'Employee'), {
      kind: 'valuePath',
      path: a('emails'),
      filter: andF(cmpF(a('type'), 'eq', 'work'), cmpF(a('value'), 'co', '@example.com')),
    }),
  ],
  [
    'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
    orF(
      { kind: 'valuePath', path: a('emails'), filter: andF(cmpF(a('type'), 'eq', 'work'), cmpF(a('value'), 'co', '@example.com')) },
      { kind: 'valuePath', path: a('ims'), filter: andF(cmpF(a('type'), 'eq', 'xmpp'), cmpF(a('value'), 'co', '@foo.com')) },
    ),
  ],
]
