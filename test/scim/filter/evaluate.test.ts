import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { parseFilter } from '../../../src/scim/filter/parser'
import { stringifyFilter } from '../../../src/scim/filter/stringify'
import {
  asciiFold,
  compareCodePoints,
  compileFilter,
  evaluateFilter,
  isPresent,
  parseDateTime,
  type AttrResolver,
} from '../../../src/scim/filter/evaluate'
import type { Filter } from '../../../src/scim/filter/ast'
import { ScimError } from '../../../src/scim/errors'
import { catchScimError } from '../../helpers/errors'
import {
  CORE_USER_URN,
  CUSTOM_URN,
  ENTERPRISE_URN,
  filterArb,
  RFC_7644_FILTER_EXAMPLES,
  userResolver,
  userResourceArb,
} from './arbitrary'

const bjensen: Record<string, unknown> = {
  schemas: [CORE_USER_URN, ENTERPRISE_URN],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'bjensen',
  userName: 'bjensen',
  name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
  displayName: 'Babs Jensen',
  title: 'Tour Guide',
  userType: 'Employee',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  meta: { resourceType: 'User', created: '2010-01-23T04:56:22Z', lastModified: '2011-05-13T04:42:34Z' },
  [ENTERPRISE_URN]: { employeeNumber: '701984', manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d', displayName: 'John Smith' } },
  [CUSTOM_URN]: { loginCount: 42 },
}

const jomalley: Record<string, unknown> = {
  schemas: [CORE_USER_URN],
  userName: 'JOMalley',
  name: { familyName: "O'Malley", givenName: 'Jo' },
  userType: 'Intern',
  emails: [{ value: 'jo@jomalley.net', type: 'home' }],
  ims: [{ value: 'jo@foo.com', type: 'xmpp' }],
  meta: { created: '2011-05-13T04:42:35Z', lastModified: '2011-05-13T04:42:35Z' },
}

/** Expected answers for RFC_7644_FILTER_EXAMPLES, in order: [bjensen, jomalley]. */
const RFC_EXPECTED: [boolean, boolean][] = [
  [true, false], // userName eq "bjensen"
  [false, true], // name.familyName co "O'Malley"
  [false, true], // userName sw "J"  (caseExact false: "JOMalley", not "bjensen")
  [false, true], // urn:…:User:userName sw "J"
  [true, false], // title pr
  [false, true], // meta.lastModified gt
  [true, true], // ge
  [false, false], // lt
  [true, false], // le
  [true, false], // title pr and userType eq "Employee"
  [true, true], // title pr or userType eq "Intern"
  [true, false], // schemas eq enterprise
  [true, false], // userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")
  [false, true], // userType ne "Employee" and not (…)
  [true, false], // userType eq "Employee" and (emails.type eq "work")
  [true, false], // userType eq "Employee" and emails[type eq "work" and value co "@example.com"]
  [true, true], // emails[…] or ims[type eq "xmpp" and value co "@foo.com"]
]

const ev = (text: string, r: Record<string, unknown> = bjensen, resolve: AttrResolver = userResolver) =>
  evaluateFilter(parseFilter(text), r, resolve)

const evalError = (text: string, r: Record<string, unknown> = bjensen) => catchScimError(() => ev(text, r), `evaluated without error: ${text}`)

describe('RFC 7644 §3.4.2.2 examples', () => {
  test('one expectation per example', () => expect(RFC_EXPECTED.length).toBe(RFC_7644_FILTER_EXAMPLES.length))
  test.each(RFC_7644_FILTER_EXAMPLES.map(([text, ast], i) => [text, ast, ...RFC_EXPECTED[i]] as const))(
    'filter=%s',
    (text, ast, onBjensen, onJomalley) => {
      expect(parseFilter(text)).toEqual(ast)
      expect(evaluateFilter(ast, bjensen, userResolver)).toBe(onBjensen)
      expect(evaluateFilter(ast, jomalley, userResolver)).toBe(onJomalley)
    },
  )
})

describe('semantics', () => {
  test.each<[string, boolean, Record<string, unknown>?]>([
    // case-insensitive names, operators, and caseExact=false values
    ['USERNAME EQ "BJENSEN"', true],
    ['userName eq "BJensen"', true],
    ['username eq "bjensen"', true, { UserName: 'bjensen' }],
    ['NAME.GIVENNAME eq "barbara"', true],
    ['name.givenName eq "barbara"', true, { NAME: { GivenName: 'Barbara' } }],
    // caseExact=true
    ['externalId eq "BJENSEN"', false],
    ['externalId eq "bjensen"', true],
    ['id sw "2819C223"', false],
    // folding is ASCII-only (SQLite lower())
    ['userName eq "éLODIE"', false, { userName: 'ÉLODIE' }],
    ['userName eq "Élodie"', true, { userName: 'ÉLODIE' }],
    // substring operators
    ['displayName co "JENS"', true],
    ['displayName co ""', true],
    ['displayName sw "babs"', true],
    ['displayName ew "SEN"', true],
    ['displayName ew "Babs"', false],
    // string ordering (folded, by code point)
    ['userName gt "bjensem"', true],
    ['userName gt "BJENSEN"', false],
    ['userName ge "BJENSEN"', true],
    ['userName lt "c"', true],
    ['userName le "B"', false],
    ['userName gt "\uffff"', true, { userName: '\u{1F600}' }],
    ['userName lt "\uffff"', false, { userName: '\u{1F600}' }],
    // multi-valued: any value
    ['emails.value eq "babs@jensen.org"', true],
    ['emails.type eq "home" and emails.primary eq true', true],
    ['emails[type eq "home" and primary eq true]', false],
    ['emails eq "BABS@jensen.org"', true],
    ['emails.primary eq false', false],
    ['emails.type ne "work"', true],
    ['emails.type ne "work"', false, { emails: [{ type: 'work' }] }],
    ['not (emails.type eq "work")', false],
    ['schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"', true],
    ['schemas eq "URN:ietf:params:scim:schemas:core:2.0:User"', false],
    // ne on absent attributes is true
    ['nickName ne "x"', true],
    ['nickName eq "x"', false],
    ['emails.value ne "x"', true, {}],
    ['emails.value ne "x"', true, { emails: [] }],
    ['userName ne "bjensen"', false],
    // eq null / ne null ≡ not present / present
    ['title eq null', false],
    ['nickName eq null', true],
    ['title ne null', true],
    ['title eq null', true, { title: '' }],
    ['title eq null', true, { title: null }],
    ['emails eq null', true, { emails: [] }],
    ['title eq ""', true, { title: '' }],
    // pr
    ['title pr', false, { title: '' }],
    ['title pr', false, { title: null }],
    ['emails pr', false, { emails: [] }],
    ['emails pr', false, { emails: [{}, { value: '' }] }],
    ['emails pr', true, { emails: [{ primary: false }] }],
    ['name pr', false, { name: { givenName: '', familyName: null } }],
    ['name pr', true, { name: { givenName: 'x' } }],
    ['active pr', true, { active: false }],
    ['urn:scimd:params:scim:schemas:extension:test:2.0:User:loginCount pr', true, { [CUSTOM_URN]: { loginCount: 0 } }],
    // booleans
    ['active eq true', true],
    ['active ne true', false],
    ['active eq "True"', true],
    ['active eq false', false, { active: true }],
    ['active ne false', true, {}],
    // numbers, extension attributes live under resource[uri]
    ['loginCount eq 42', true],
    ['urn:scimd:params:scim:schemas:extension:test:2.0:User:LOGINCOUNT ge 42.0', true],
    ['loginCount gt 42', false],
    ['loginCount lt 1e2', true],
    ['loginCount gt 5', false, { loginCount: 50 }],
    ['loginCount gt 5', true, { [CUSTOM_URN.toUpperCase()]: { LoginCount: 50 } }],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"', true],
    ['employeeNumber eq "701984"', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr', true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "jensen"', true],
    // dateTime: compared as instants
    ['meta.created eq "2010-01-23T04:56:22.000Z"', true],
    ['meta.created eq "2010-01-23T06:56:22+02:00"', true],
    ['meta.created eq "2010-01-23T04:56:22"', true],
    ['meta.created lt "2010-01-23T04:56:22.001Z"', true],
    ['meta.created gt "2010-01-23"', true],
    ['meta.created ne "2010-01-23T04:56:22Z"', false],
    ['meta.created gt "2000-01-01T00:00:00Z"', false, { meta: { created: 'not a date' } }],
    // value filters
    ['emails[type eq "work"].value eq "BJENSEN@example.com"', true],
    ['emails[type eq "home"].value eq "bjensen@example.com"', false],
    ['emails[TYPE eq "work" and not (value ew ".org")]', true],
    ['emails[value pr]', false, { emails: [{ type: 'work' }] }],
    ['name[givenName eq "barbara"]', true],
    ['schemas[value eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]', true],
    ['emails[type eq "work"]', true, { emails: { value: 'x', type: 'WORK' } }],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName sw "john"]', true],
    // stored values of the wrong type count as absent
    ['userName eq "5"', false, { userName: 5 }],
    ['userName ne "5"', true, { userName: 5 }],
    ['userName pr', true, { userName: 5 }],
  ])('%s → %p', (...[text, expected, resource]) => {
    // (rest parameter: with three declared parameters bun would treat the third as a done callback)
    expect(ev(text, resource ?? bjensen)).toBe(expected)
  })

  test('custom fold', () => {
    const unicodeFold: AttrResolver = (p, parent) => {
      const i = userResolver(p, parent)
      return i && { ...i, fold: (s) => s.toLowerCase() }
    }
    expect(ev('userName eq "élodie"', { userName: 'ÉLODIE' }, unicodeFold)).toBe(true)
    expect(ev('userName eq "élodie"', { userName: 'ÉLODIE' })).toBe(false)
  })

  test.each<[string, string]>([
    ['foo eq "x"', "Unknown attribute 'foo' in filter"],
    ['name.foo pr', "Unknown attribute 'name.foo' in filter"],
    ['emails[foo eq "x"]', "Unknown attribute 'emails.foo' in filter"],
    ['urn:x:y:User:userName eq "x"', "Unknown attribute 'urn:x:y:User:userName' in filter"],
    // validated before evaluating: a short-circuited branch still fails
    ['userName eq "bjensen" or foo eq "x"', "Unknown attribute 'foo' in filter"],
    ['title eq "x" and nosuch pr', "Unknown attribute 'nosuch' in filter"],
    ['name eq "x"', "Cannot compare the complex attribute 'name'"],
    ['meta gt "x"', "Cannot compare the complex attribute 'meta'"],
    ['userName[value eq "x"]', "'userName' is neither multi-valued nor complex"],
    ['active gt "x"', "'gt' is not supported on the boolean attribute 'active'"],
    ['active co "x"', "'co' is not supported on the boolean attribute 'active'"],
    ['active eq "yes"', "'active' is a boolean attribute"],
    ['active eq 1', "'active' is a boolean attribute"],
    ['userName eq 1', "'userName' is a string attribute"],
    ['userName eq true', "'userName' is a string attribute"],
    ['loginCount eq "42"', "'loginCount' is a number attribute"],
    ['loginCount co "4"', "'co' is not supported on the integer attribute 'loginCount'"],
    ['meta.created gt "yesterday"', "'meta.created' is a dateTime attribute"],
    ['meta.created gt "2011-02-30T00:00:00Z"', "'meta.created' is a dateTime attribute"],
    ['meta.created eq 5', "'meta.created' is a dateTime attribute"],
    ['meta.created sw "2011"', "'sw' is not supported on the dateTime attribute"],
  ])('invalidFilter: %s', (text, detail) => {
    const e = evalError(text)
    expect(e.status).toBe(400)
    expect(e.scimType).toBe('invalidFilter')
    expect(e.detail).toContain(detail)
  })

  test('hand-built ASTs the parser would reject', () => {
    const nested: Filter = {
      kind: 'valuePath',
      path: { attr: 'emails' },
      filter: { kind: 'valuePath', path: { attr: 'type' }, filter: { kind: 'present', path: { attr: 'value' } } },
    }
    expect(() => evaluateFilter(nested, bjensen, userResolver)).toThrow('cannot be nested')
    const gtNull: Filter = { kind: 'compare', path: { attr: 'userName' }, op: 'gt', value: null }
    expect(() => evaluateFilter(gtNull, bjensen, userResolver)).toThrow(ScimError)
    const subInValue: Filter = { kind: 'valuePath', path: { attr: 'emails' }, filter: { kind: 'present', path: { attr: 'a', sub: 'b' } } }
    expect(() => evaluateFilter(subInValue, bjensen, userResolver)).toThrow('bare sub-attribute name')
  })
})

describe('helpers', () => {
  test('asciiFold', () => {
    expect(asciiFold('AbC-ÉÖ-İ-Z@')).toBe('abc-ÉÖ-İ-z@')
  })
  test('compareCodePoints orders like UTF-8 bytes', () => {
    const words = ['', 'a', 'B', 'ab', '\uffff', '\u{1F600}', '\u{10000}', 'é', '\ue000', 'a\u{1F600}', 'a\uffff']
    const utf8 = (s: string) => Buffer.from(s, 'utf8')
    for (const x of words)
      for (const y of words) expect(Math.sign(compareCodePoints(x, y))).toBe(Math.sign(Buffer.compare(utf8(x), utf8(y))))
  })
  test('compareCodePoints property', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (x, y) => {
        expect(Math.sign(compareCodePoints(x, y))).toBe(Math.sign(Buffer.compare(Buffer.from(x), Buffer.from(y))))
      }),
    )
  })
  test.each<[string, number | undefined]>([
    ['2011-05-13T04:42:34Z', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-05-13T04:42:34.5Z', Date.UTC(2011, 4, 13, 4, 42, 34, 500)],
    ['2011-05-13T04:42:34.123456789Z', Date.UTC(2011, 4, 13, 4, 42, 34, 123)],
    ['2011-05-13T06:42:34+02:00', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-05-13T01:12:34-0330', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-05-13T04:42:34', Date.UTC(2011, 4, 13, 4, 42, 34)],
    ['2011-05-13', Date.UTC(2011, 4, 13)],
    ['0099-01-01T00:00:00Z', -59042995200000],
    ['2012-02-29T00:00:00Z', Date.UTC(2012, 1, 29)],
    ['2011-02-29T00:00:00Z', undefined],
    ['2011-13-01T00:00:00Z', undefined],
    ['2011-05-13T24:00:00Z', undefined],
    ['2011-05-13T04:42:34+25:00', undefined],
    ['13/05/2011', undefined],
    ['', undefined],
  ])('parseDateTime(%p)', (s, ms) => {
    expect(parseDateTime(s)).toBe(ms)
  })
  test('isPresent', () => {
    expect([null, undefined, '', [], {}, [null, ''], { a: [] }].map(isPresent).every((x) => !x)).toBe(true)
    expect([0, false, 'x', [0], { a: false }].map(isPresent).every((x) => x)).toBe(true)
  })
})

describe('properties over random User filters and resources', () => {
  test('schema-valid filters compile and never throw while evaluating', () => {
    fc.assert(
      fc.property(filterArb, fc.array(userResourceArb, { maxLength: 4 }), (f, users) => {
        const m = compileFilter(f, userResolver)
        for (const u of users) expect(typeof m(u)).toBe('boolean')
      }),
      { numRuns: 1000 },
    )
  })
  test('not f ≡ !f; re-parsed text evaluates the same', () => {
    fc.assert(
      fc.property(filterArb, userResourceArb, (f, u) => {
        const r = evaluateFilter(f, u, userResolver)
        expect(evaluateFilter({ kind: 'not', filter: f }, u, userResolver)).toBe(!r)
        expect(evaluateFilter(parseFilter(stringifyFilter(f)), u, userResolver)).toBe(r)
      }),
      { numRuns: 1000 },
    )
  })
  test('single-valued: ne ≡ not eq; eq null ≡ not pr', () => {
    const attrs = ['userName', 'displayName', 'title', 'name.givenName', 'externalId']
    fc.assert(
      fc.property(fc.constantFrom(...attrs), fc.string({ maxLength: 3 }), userResourceArb, (attr, v, u) => {
        const lit = JSON.stringify(v)
        expect(ev(`${attr} ne ${lit}`, u)).toBe(!ev(`${attr} eq ${lit}`, u))
        expect(ev(`${attr} eq null`, u)).toBe(!ev(`${attr} pr`, u))
        expect(ev(`${attr} ne null`, u)).toBe(ev(`${attr} pr`, u))
      }),
      { numRuns: 500 },
    )
  })
  test('valuePath with .sub ≡ value filter with and', () => {
    fc.assert(
      fc.property(fc.constantFrom('work', 'home', 'WORK', 'x'), fc.string({ maxLength: 2 }), userResourceArb, (t, v, u) => {
        const l = JSON.stringify(v)
        expect(ev(`emails[type eq "${t}"].value co ${l}`, u)).toBe(ev(`emails[type eq "${t}" and value co ${l}]`, u))
      }),
      { numRuns: 300 },
    )
  })
})
