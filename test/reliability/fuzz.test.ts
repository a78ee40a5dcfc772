/** fast-check against the real HTTP server: whatever arrives, the answer is a SCIM answer, quickly. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import fc from 'fast-check'
import { listenTestApp } from '../helpers/server'
import { filterArb } from '../scim/filter/arbitrary'
import { PATCH_URN } from '../helpers/app'
import { stringifyFilter } from '../../src/scim/filter/stringify'

const RUNS = Number(process.env.FUZZ_RUNS ?? 150)
const srv = listenTestApp({ maxBody: 64 * 1024 })
let userId = ''
let groupId = ''
beforeAll(async () => {
  userId = (await srv.send('POST', '/Users', { userName: 'fuzz@example.com', emails: [{ value: 'f@x.com', type: 'work' }] })).json.id
  groupId = (await srv.send('POST', '/Groups', { displayName: 'fuzz', members: [{ value: userId }] })).json.id
})
afterAll(() => srv.close())

async function check(method: string, path: string, body?: string | Uint8Array, contentType = 'application/scim+json') {
  const started = performance.now()
  const res = await fetch(srv.base + path, {
    method,
    headers: { authorization: 'Bearer test-token-0123456789', 'content-type': contentType },
    body: body as BodyInit | undefined,
  })
  const text = await res.text()
  const ms = performance.now() - started
  expect(ms).toBeLessThan(2000)
  expect(res.status).toBeLessThan(500)
  if (res.status >= 400) {
    expect(res.headers.get('content-type')).toStartWith('application/scim+json')
    const j = JSON.parse(text)
    expect(j.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error'])
    expect(j.status).toBe(String(res.status))
  }
  return res.status
}

const target = fc.constantFrom('/Users', '/Groups', '/Users/.search')
const idTarget = () => fc.constantFrom(`/Users/${userId}`, `/Groups/${groupId}`)

test('random bytes as bodies', async () => {
  await fc.assert(
    fc.asyncProperty(target, fc.uint8Array({ maxLength: 512 }), async (path, bytes) => {
      await check('POST', path, bytes)
    }),
    { numRuns: RUNS },
  )
})

test('random JSON as bodies of every write', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('POST', 'PUT', 'PATCH'), fc.jsonValue({ maxDepth: 4 }), async (method, value) => {
      const path = method === 'POST' ? '/Users' : `/Users/${userId}`
      await check(method, path, JSON.stringify(value))
    }),
    { numRuns: RUNS },
  )
})

test('random filters (valid and garbled) on both resource types', async () => {
  const garbled = fc.string({ maxLength: 60 })
  await fc.assert(
    fc.asyncProperty(fc.oneof(filterArb.map(stringifyFilter), garbled), fc.constantFrom('/Users', '/Groups'), async (text, path) => {
      await check('GET', `${path}?filter=${encodeURIComponent(text)}`)
    }),
    { numRuns: RUNS },
  )
})

test('random PATCH documents', async () => {
  const pathArb = fc.oneof(
    fc.constantFrom('active', 'title', 'name.givenName', 'emails', 'emails[type eq "work"].value', 'members', 'members[value eq "x"]', 'displayName', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager', '__proto__', 'constructor.prototype'),
    fc.string({ maxLength: 30 }),
  )
  const op = fc.record(
    { op: fc.constantFrom('add', 'remove', 'replace', 'Add', 'REPLACE', 'bogus'), path: pathArb, value: fc.jsonValue({ maxDepth: 3 }) },
    { requiredKeys: ['op'] },
  )
  await fc.assert(
    fc.asyncProperty(idTarget(), fc.array(op, { minLength: 1, maxLength: 4 }), async (path, ops) => {
      await check('PATCH', path, JSON.stringify({ schemas: [PATCH_URN], Operations: ops }))
    }),
    { numRuns: RUNS },
  )
  // no prototype pollution after all that
  expect(({} as any).polluted).toBeUndefined()
  expect(Object.prototype.hasOwnProperty('value')).toBe(false)
})

test('random query strings', async () => {
  const key = fc.constantFrom('filter', 'startIndex', 'count', 'sortBy', 'sortOrder', 'attributes', 'excludedAttributes', 'cursor', 'x')
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(key, fc.string({ maxLength: 20 })), { maxLength: 5 }), fc.constantFrom('/Users', '/Groups', `/Users/${userId}`), async (pairs, path) => {
      const qs = new URLSearchParams(pairs).toString()
      await check('GET', `${path}?${qs}`)
    }),
    { numRuns: RUNS },
  )
})
