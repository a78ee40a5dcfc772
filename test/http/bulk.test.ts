import { describe, expect, test } from 'bun:test'
import { makeTestApp, user, GROUP_URN, ERROR_URN, PATCH_URN } from '../helpers/app'

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const bulk = (Operations: unknown[], extra: Record<string, unknown> = {}) => ({ schemas: [BULK], Operations, ...extra })

describe('/Bulk', () => {
  test('ServiceProviderConfig advertises the limits', async () => {
    const { req } = makeTestApp({ bulkMaxOperations: 7, bulkMaxPayload: 4096 })
    const r = await req('GET', '/ServiceProviderConfig')
    expect(r.json.bulk).toEqual({ supported: true, maxOperations: 7, maxPayloadSize: 4096 })
  })

  test('backward and forward bulkId references: a group created before the users it names', async () => {
    const { req } = makeTestApp()
    const r = await req(
      'POST',
      '/Bulk',
      bulk([
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP_URN], displayName: 'Eng', members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u2' }] } },
        { method: 'POST', path: '/Users', bulkId: 'u1', data: user('alice') },
        { method: 'POST', path: '/Users', bulkId: 'u2', data: user('bob', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: 'bulkId:u1' } } }) },
        { method: 'PATCH', path: '/Users/bulkId:u1', data: { schemas: [PATCH_URN], Operations: [{ op: 'replace', path: 'active', value: false }] } },
      ]),
    )
    expect(r.status).toBe(200)
    expect(r.json.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse'])
    const ops = r.json.Operations
    expect(ops.map((o: any) => [o.method, o.bulkId, o.status])).toEqual([
      ['POST', 'g', '201'],
      ['POST', 'u1', '201'],
      ['POST', 'u2', '201'],
      ['PATCH', undefined, '200'],
    ])
    for (const o of ops) expect(o.location).toMatch(/^http:\/\/localhost\/scim\/v2\/(Users|Groups)\/[0-9a-f-]{36}$/)
    expect(ops[3].location).toBe(ops[1].location)
    expect(ops[3].version).toBe('W/"2"')
    const gid = ops[0].location.split('/').pop()
    const u1 = ops[1].location.split('/').pop()
    const u2 = ops[2].location.split('/').pop()
    const g = await req('GET', `/Groups/${gid}`)
    expect(g.json.members.map((m: any) => m.value).sort()).toEqual([u1, u2].sort())
    const bob = await req('GET', `/Users/${u2}`)
    expect(bob.json['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].manager.value).toBe(u1)
    expect((await req('GET', `/Users/${u1}`)).json.active).toBe(false)
  })

  test('a cycle of references fails with 409 on every operation of the cycle; the rest goes on', async () => {
    const { req } = makeTestApp()
    const r = await req(
      'POST',
      '/Bulk',
      bulk([
        { method: 'POST', path: '/Groups', bulkId: 'a', data: { schemas: [GROUP_URN], displayName: 'A', members: [{ value: 'bulkId:b' }] } },
        { method: 'POST', path: '/Groups', bulkId: 'b', data: { schemas: [GROUP_URN], displayName: 'B', members: [{ value: 'bulkId:a' }] } },
        { method: 'POST', path: '/Users', bulkId: 'c', data: user('carol') },
        { method: 'PATCH', path: '/Groups/bulkId:a', data: { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:c' }] }] } },
        { method: 'POST', path: '/Groups', bulkId: 's', data: { schemas: [GROUP_URN], displayName: 'Self', members: [{ value: 'bulkId:s' }] } },
      ]),
    )
    expect(r.status).toBe(200)
    const st = r.json.Operations.map((o: any) => o.status)
    expect(st).toEqual(['409', '409', '201', '409', '409'])
    expect(r.json.Operations[0].response.schemas).toEqual([ERROR_URN])
    expect(r.json.Operations[0].response.detail).toContain('a → b → a')
    expect(r.json.Operations[3].response.detail).toContain("'a'")
    expect(r.json.Operations[4].response.detail).toContain('s → s')
    expect((await req('GET', '/Groups')).json.totalResults).toBe(0)
  })

  test('unknown bulkId → 400 invalidValue; errors are per operation with a SCIM error body', async () => {
    const { req } = makeTestApp()
    const r = await req(
      'POST',
      '/Bulk',
      bulk([
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP_URN], displayName: 'G', members: [{ value: 'bulkId:nope' }] } },
        { method: 'POST', path: '/Users', bulkId: 'x', data: user('dup') },
        { method: 'POST', path: '/Users', bulkId: 'y', data: user('DUP') },
        { method: 'DELETE', path: '/Users/no-such-id' },
        { method: 'GET', path: '/Users' },
        { method: 'PUT', path: '/Users/bulkId:y', data: user('dup2') },
      ]),
    )
    const ops = r.json.Operations
    expect(ops.map((o: any) => o.status)).toEqual(['400', '201', '409', '404', '405', '409'])
    expect(ops[0].response.scimType).toBe('invalidValue')
    expect(ops[2].response.scimType).toBe('uniqueness')
    expect(ops[2].response.status).toBe('409')
  })

  test('a path with a malformed percent-encoding is 400 invalidValue for that operation, never a 500', async () => {
    const { req } = makeTestApp()
    const r = await req('POST', '/Bulk', bulk([
      { method: 'DELETE', path: '/Users/%ZZ' },
      { method: 'PUT', path: '/Groups/%E0%A4%A', data: { schemas: [GROUP_URN], displayName: 'G' } },
    ]))
    expect(r.status).toBe(200)
    expect(r.json.Operations.map((o: any) => [o.status, o.response?.scimType])).toEqual([['400', 'invalidValue'], ['400', 'invalidValue']])
  })

  test('failOnErrors stops after that many errors; only processed operations are answered', async () => {
    const { req } = makeTestApp()
    const ops = [
      { method: 'POST', path: '/Users', bulkId: '1', data: user('u1') },
      { method: 'DELETE', path: '/Users/missing-1' },
      { method: 'DELETE', path: '/Users/missing-2' },
      { method: 'POST', path: '/Users', bulkId: '2', data: user('u2') },
    ]
    const one = await req('POST', '/Bulk', bulk(ops, { failOnErrors: 1 }))
    expect(one.json.Operations.map((o: any) => o.status)).toEqual(['201', '404'])
    const two = await req('POST', '/Bulk', bulk(ops.slice(1), { failOnErrors: 2 }))
    expect(two.json.Operations.map((o: any) => o.status)).toEqual(['404', '404'])
    const all = await req('POST', '/Bulk', bulk(ops.slice(1)))
    expect(all.json.Operations.map((o: any) => o.status)).toEqual(['404', '404', '201'])
    expect((await req('POST', '/Bulk', bulk(ops, { failOnErrors: 0 }))).status).toBe(400)
  })

  test('If-Match through `version`', async () => {
    const { req } = makeTestApp()
    const c = await req('POST', '/Users', user('v'))
    const r = await req('POST', '/Bulk', bulk([
      { method: 'PUT', path: `/Users/${c.json.id}`, version: 'W/"9"', data: user('v', { displayName: 'x' }) },
      { method: 'PUT', path: `/Users/${c.json.id}`, version: 'W/"1"', data: user('v', { displayName: 'y' }) },
    ]))
    expect(r.json.Operations.map((o: any) => o.status)).toEqual(['412', '200'])
  })

  test('limits: too many operations or too large a body → 413 naming both limits', async () => {
    const { req } = makeTestApp({ bulkMaxOperations: 2, bulkMaxPayload: 2000 })
    const three = Array.from({ length: 3 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: user(`n${i}`) }))
    const r = await req('POST', '/Bulk', bulk(three))
    expect(r.status).toBe(413)
    expect(r.json.schemas).toEqual([ERROR_URN])
    expect(r.json.status).toBe('413')
    expect(r.json.detail).toContain('maxOperations 2')
    expect(r.json.detail).toContain('maxPayloadSize 2000')
    const big = await req('POST', '/Bulk', bulk([{ method: 'POST', path: '/Users', bulkId: 'x', data: user('x', { displayName: 'y'.repeat(3000) }) }]))
    expect(big.status).toBe(413)
    expect(big.json.detail).toContain('maxPayloadSize 2000')
    expect((await req('GET', '/Users')).json.totalResults).toBe(0)
    expect((await req('GET', '/Bulk')).status).toBe(405)
  })

  test('strict profile: bulkId required with POST and BulkRequest schema required', async () => {
    const { req } = makeTestApp({ strict: true })
    expect((await req('POST', '/Bulk', { Operations: [] })).status).toBe(400)
    const r = await req('POST', '/Bulk', bulk([{ method: 'POST', path: '/Users', data: user('nb') }]))
    expect(r.json.Operations[0].status).toBe('400')
    const tolerant = makeTestApp()
    const t = await tolerant.req('POST', '/Bulk', { Operations: [{ method: 'post', path: 'Users', data: user('nb') }] })
    expect(t.json.Operations[0].status).toBe('201')
  })
})
