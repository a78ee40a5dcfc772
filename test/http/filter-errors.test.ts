/**
 * Filters over HTTP: bad input gives 400 invalidFilter (or is matched literally), never a 500 or a slow query;
 * what IdPs really send (spaces as `+` or %20, any case, Entra's value-path-then-sub-attribute, group member
 * look-ups) works; and every RFC 7644 §3.4.2.2 example gives the right answer end to end.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { ERROR_URN, GROUP_URN, makeTestApp, SCIM, user } from '../helpers/app'
import { RFC_7644_FILTER_EXAMPLES } from '../scim/filter/arbitrary'
import { LIMITS } from '../../src/scim/constants'

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const t = makeTestApp()
const ids: Record<string, string> = {}

beforeAll(async () => {
  const post = async (name: string, path: string, body: unknown) => {
    const r = await t.req('POST', path, body)
    expect(r.status).toBe(201)
    ids[name] = r.json.id
  }
  await post('bjensen', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
    userName: 'bjensen',
    externalId: 'bjensen-ext',
    name: { familyName: 'Jensen', givenName: 'Barbara' },
    displayName: 'Babs Jensen',
    title: 'Tour Guide',
    userType: 'Employee',
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    [ENTERPRISE]: { employeeNumber: '701984' },
  })
  await post('jomalley', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'JOMalley',
    name: { familyName: "O'Malley", givenName: 'Jo' },
    userType: 'Intern',
    emails: [{ value: 'jo@jomalley.net', type: 'home' }],
    ims: [{ value: 'jo@foo.com', type: 'xmpp' }],
  })
  await post('injector', '/Users', user(`x' OR '1'='1`, { displayName: 'Robert"); DROP TABLE users; --' }))
  await post('admins', '/Groups', { schemas: [GROUP_URN], displayName: 'Admins', externalId: 'grp-1', members: [{ value: ids.bjensen }] })
  await post('everyone', '/Groups', { schemas: [GROUP_URN], displayName: 'Everyone', members: [{ value: ids.bjensen }, { value: ids.jomalley }] })
})

const q = (f: string) => encodeURIComponent(f)
async function find(path: string, filter: string): Promise<string[]> {
  const r = await t.req('GET', `${path}?filter=${q(filter)}&attributes=id`)
  expect(r.status).toBe(200)
  return r.json.Resources.map((x: any) => x.id).sort()
}
const idsOf = (...names: string[]) => names.map((n) => ids[n]).sort()

describe('bad filters → 400 invalidFilter, never 500', () => {
  const cases: [string, string][] = [
    ['unterminated string', 'userName eq "bjensen'],
    ['unterminated string after escape', 'userName eq "bjensen\\"'],
    ['bad escape', 'userName eq "\\x41"'],
    ['unbalanced (', '(userName eq "a"'],
    ['unbalanced )', 'userName eq "a")'],
    ['unbalanced [', 'emails[type eq "work"'],
    ['unbalanced ]', 'emails type eq "work"]'],
    ['nested [', 'emails[type[value eq "a"]]'],
    ['unknown operator', 'userName xx "a"'],
    ['operator as symbol', 'userName == "a"'],
    ['like is not SCIM', 'userName like "a%"'],
    ['missing value', 'userName eq'],
    ['dangling and', 'userName eq "a" and'],
    ['value without quotes', 'userName eq bjensen'],
    ['pr with a value', 'title pr "x"'],
    ['value filter on a simple attribute', 'userName[value eq "a"]'],
    ['value filter on a simple attribute with sub-attribute', 'title[value eq "a"].value eq "b"'],
    ['unknown attribute', 'noSuchAttribute eq "a"'],
    ['unknown sub-attribute', 'name.nickname eq "a"'],
    ['wrong literal type', 'userName eq 42'],
    ['ordering on a boolean', 'active gt true'],
    ['not a dateTime', 'meta.lastModified gt "yesterday"'],
    ['empty', ''],
    ['only spaces', '   '],
    ['SQL tail', 'userName eq "a" or 1=1'],
    ['SQL after the filter', 'userName eq "a"); DROP TABLE users; --'],
    ['SQL comment', 'userName eq "a" -- comment'],
    ['SQL union', 'userName eq "a" union select * from settings'],
    ['too long', `userName eq "${'a'.repeat(LIMITS.maxFilterLength)}"`],
    ['too long by chain', Array.from({ length: 700 }, (_, i) => `userName eq "u${i}"`).join(' or ')],
    ['too deep (parentheses)', '('.repeat(LIMITS.maxFilterDepth + 5) + 'userName eq "a"' + ')'.repeat(LIMITS.maxFilterDepth + 5)],
    ['too deep (not)', 'not ('.repeat(LIMITS.maxFilterDepth + 5) + 'userName eq "a"' + ')'.repeat(LIMITS.maxFilterDepth + 5)],
    ['huge nesting', '('.repeat(100_000)],
  ]
  test.each(cases)('%s', async (_, filter) => {
    const started = performance.now()
    for (const r of [
      await t.req('GET', `/Users?filter=${q(filter)}`),
      await t.req('POST', '/Users/.search', { filter }),
      await t.req('GET', `/Groups?filter=${q(filter)}`),
    ]) {
      expect(r.status).toBe(400)
      expect(r.headers.get('content-type')).toStartWith(SCIM)
      expect(r.json).toEqual({ schemas: [ERROR_URN], status: '400', scimType: 'invalidFilter', detail: expect.any(String) })
      expect(r.text).not.toMatch(/at .*\.ts:\d+|SQLITE|stack/i) // no internals leak
    }
    expect(performance.now() - started).toBeLessThan(2000)
  })

  test('limits are limits, not off by one: the deepest and longest accepted filters work', async () => {
    const deep = '('.repeat(LIMITS.maxFilterDepth - 1) + 'userName eq "bjensen"' + ')'.repeat(LIMITS.maxFilterDepth - 1)
    expect(await find('/Users', deep)).toEqual(idsOf('bjensen'))
    const longest = `userName eq "${'a'.repeat(LIMITS.maxFilterLength - 'userName eq ""'.length)}"`
    expect(longest.length).toBe(LIMITS.maxFilterLength)
    expect(await find('/Users', longest)).toEqual([])
    const chain = Array.from({ length: 400 }, (_, i) => `userName eq "u${i}"`).join(' or ') + ' or userName eq "JOMALLEY"'
    expect(chain.length).toBeLessThanOrEqual(LIMITS.maxFilterLength)
    const started = performance.now()
    expect(await find('/Users', chain)).toEqual(idsOf('jomalley'))
    expect(performance.now() - started).toBeLessThan(2000)
  })
})

describe('SQL-looking values are matched literally', () => {
  test.each([
    [`userName eq "x' OR '1'='1"`, ['injector']],
    [`userName eq "x' or '1'='1"`, ['injector']], // userName is caseExact=false
    [`userName eq "' OR 1=1 --"`, []],
    [`displayName eq "Robert\\"); DROP TABLE users; --"`, ['injector']],
    [`displayName co "DROP TABLE"`, ['injector']],
    [`displayName co "%"`, []], // no LIKE wildcards
    [`displayName co "_"`, []],
    [`title co "\\u0000"`, []],
    [`userName eq "\\"; select * from settings; --"`, []],
    [`externalId eq "bjensen-ext' --"`, []],
  ])('%s', async (filter, expected) => {
    expect(await find('/Users', filter)).toEqual(idsOf(...expected))
  })
  test('the tables are intact afterwards', async () => {
    const r = await t.req('GET', '/Users?count=0')
    expect(r.json.totalResults).toBe(3)
  })
})

describe('what IdPs send', () => {
  test('spaces as +, as %20, and unencoded in the request line', async () => {
    for (const raw of ['userName+eq+%22bjensen%22', 'userName%20eq%20%22bjensen%22', 'userName eq "bjensen"', 'userName+eq+"bjensen"']) {
      const r = await t.req('GET', `/Users?filter=${raw}&attributes=id`)
      expect(r.status).toBe(200)
      expect(r.json.Resources.map((x: any) => x.id)).toEqual([ids.bjensen])
    }
    // a literal plus sign has to be %2B
    expect(await find('/Users', 'userName eq "a+b"')).toEqual([])
  })

  test('attribute names and operators in any case', async () => {
    expect(await find('/Users', 'USERNAME EQ "BJENSEN"')).toEqual(idsOf('bjensen'))
    expect(await find('/Users', 'UserName Eq "bjensen"')).toEqual(idsOf('bjensen'))
    expect(await find('/Users', 'NAME.FAMILYNAME Co "o\'malley"')).toEqual(idsOf('jomalley'))
    expect(await find('/Users', 'Emails[TYPE eq "work" AND Value co "@EXAMPLE.com"]')).toEqual(idsOf('bjensen'))
    expect(await find('/Users', `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "701984"`)).toEqual(idsOf('bjensen'))
    expect(await find('/Users', 'EXTERNALID eq "bjensen-ext"')).toEqual(idsOf('bjensen'))
    expect(await find('/Users', 'externalId eq "BJENSEN-EXT"')).toEqual([]) // externalId is caseExact
    expect(await find('/Users', 'TITLE PR and NOT (userType EQ "intern")')).toEqual(idsOf('bjensen'))
  })

  test(`Entra ID's emails[type eq "work"].value eq "x"`, async () => {
    expect(await find('/Users', 'emails[type eq "work"].value eq "bjensen@example.com"')).toEqual(idsOf('bjensen'))
    expect(await find('/Users', 'emails[type eq "work"].value eq "babs@jensen.org"')).toEqual([]) // that one is home
    expect(await find('/Users', 'emails[type eq "home"].value eq "babs@jensen.org"')).toEqual(idsOf('bjensen'))
  })

  test('Okta and Entra look-ups: userName eq, externalId eq', async () => {
    expect(await find('/Users', 'userName eq "jomalley"')).toEqual(idsOf('jomalley'))
    expect(await find('/Users', 'externalId eq "bjensen-ext"')).toEqual(idsOf('bjensen'))
  })

  test('Groups: members[value eq "id"], members.value eq "id", displayName, externalId', async () => {
    expect(await find('/Groups', `members[value eq "${ids.bjensen}"]`)).toEqual(idsOf('admins', 'everyone'))
    expect(await find('/Groups', `members[value eq "${ids.jomalley}"]`)).toEqual(idsOf('everyone'))
    expect(await find('/Groups', `members.value eq "${ids.jomalley}"`)).toEqual(idsOf('everyone'))
    expect(await find('/Groups', `members.value eq "${ids.injector}"`)).toEqual([])
    expect(await find('/Groups', `displayName eq "admins"`)).toEqual(idsOf('admins'))
    expect(await find('/Groups', `externalId eq "grp-1"`)).toEqual(idsOf('admins'))
    expect(await find('/Groups', `displayName eq "Everyone" and members[value eq "${ids.jomalley}"]`)).toEqual(idsOf('everyone'))
    // Entra asks without members, filtered on one member
    const r = await t.req('GET', `/Groups?filter=${q(`id eq "${ids.admins}" and members[value eq "${ids.bjensen}"]`)}&excludedAttributes=members`)
    expect(r.status).toBe(200)
    expect(r.json.Resources).toHaveLength(1)
    expect(r.json.Resources[0].members).toBeUndefined()
  })
})

describe('RFC 7644 §3.4.2.2 examples over HTTP', () => {
  // [bjensen, jomalley, injector]; all created now, so every meta.lastModified is after 2011-05-13
  const expected: Record<string, [boolean, boolean, boolean?]> = {
    'userName eq "bjensen"': [true, false],
    'name.familyName co "O\'Malley"': [false, true],
    'userName sw "J"': [false, true],
    'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"': [false, true],
    'title pr': [true, false],
    'meta.lastModified gt "2011-05-13T04:42:34Z"': [true, true, true],
    'meta.lastModified ge "2011-05-13T04:42:34Z"': [true, true, true],
    'meta.lastModified lt "2011-05-13T04:42:34Z"': [false, false],
    'meta.lastModified le "2011-05-13T04:42:34Z"': [false, false],
    'title pr and userType eq "Employee"': [true, false],
    'title pr or userType eq "Intern"': [true, true],
    'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"': [true, false],
    'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")': [true, false],
    'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")': [false, true, true],
    'userType eq "Employee" and (emails.type eq "work")': [true, false],
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]': [true, false],
    'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]': [true, true],
  }
  test('every example is covered', () => {
    expect(Object.keys(expected).sort()).toEqual(RFC_7644_FILTER_EXAMPLES.map(([text]) => text).sort())
  })
  test.each(RFC_7644_FILTER_EXAMPLES.map(([text]) => text))('%s', async (text) => {
    const [b, j, i] = expected[text]!
    const want = [...(b ? [ids.bjensen] : []), ...(j ? [ids.jomalley] : []), ...(i ? [ids.injector] : [])].sort()
    expect(await find('/Users', text)).toEqual(want)
    // the same through POST /Users/.search and the root search
    const s = await t.req('POST', '/Users/.search', { filter: text, attributes: ['id'] })
    expect(s.json.Resources.map((x: any) => x.id).sort()).toEqual(want)
    // at the root, Groups take part too: User-only attributes are unassigned there (meta applies to both; an
    // unassigned userType is `ne "Employee"`, and unassigned emails do not `co` anything)
    const groupsToo = text.startsWith('meta.lastModified g') || text.startsWith('userType ne')
    const root = await t.req('POST', '/.search', { filter: text, attributes: ['id'] })
    expect(root.status).toBe(200)
    expect(root.json.Resources.map((x: any) => x.id).sort()).toEqual([...want, ...(groupsToo ? [ids.admins, ids.everyone] : [])].sort())
  })
})

describe('attributes that are never returned', () => {
  test('a filter on password is 400 invalidFilter, never an oracle', async () => {
    const t = makeTestApp()
    await t.req('POST', '/Users', { userName: 'pw@example.com', password: 'Secret-1' })
    for (const f of ['password eq "Secret-1"', 'password pr', 'emails[value eq "x"] or password sw "S"']) {
      const r = await t.req('GET', `/Users?filter=${encodeURIComponent(f)}`)
      expect(r.status).toBe(400)
      expect(r.json.scimType).toBe('invalidFilter')
      expect(r.text).not.toContain('Secret-1')
    }
  })
})
