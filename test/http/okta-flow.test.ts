/** Okta's whole CRUD conversation, in the order and shapes Okta sends (shared/SCIM_NOTES.md). */
import { expect, test } from 'bun:test'
import { makeTestApp, PATCH_URN } from '../helpers/app'

const okta = { 'user-agent': 'Okta SCIM Client 1.0.0', accept: 'application/scim+json', 'accept-charset': 'utf-8', 'content-type': 'application/json' }

test('Okta: lookup, create, get, PUT, deactivate, reactivate, group push, membership, rename, delete', async () => {
  const t = makeTestApp()
  const send = (m: string, p: string, b?: unknown) => t.req(m, p, b, { headers: okta })

  // 1. lookup by userName: absent
  let r = await send('GET', '/Users?filter=' + encodeURIComponent('userName eq "dade.murphy@example.com"') + '&startIndex=1&count=100')
  expect(r.json).toMatchObject({ totalResults: 0, Resources: [] })

  // 2. create
  r = await send('POST', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'dade.murphy@example.com',
    name: { givenName: 'Dade', familyName: 'Murphy' },
    emails: [{ primary: true, value: 'dade.murphy@example.com', type: 'work' }],
    displayName: 'Dade Murphy',
    locale: 'en-US',
    externalId: '00u1dhhb1fkIGP7RL1d8',
    groups: [],
    password: '1mz050nq',
    active: true,
  })
  expect(r.status).toBe(201)
  const u = r.json
  expect(u.password).toBeUndefined()
  expect(u.active).toBe(true)

  // 3. lookup again (now found, any case) and get
  r = await send('GET', '/Users?filter=' + encodeURIComponent('userName eq "Dade.Murphy@example.com"') + '&startIndex=1&count=100')
  expect(r.json.totalResults).toBe(1)
  expect(r.json.Resources[0].id).toBe(u.id)
  r = await send('GET', `/Users/${u.id}`)
  expect(r.status).toBe(200)

  // 4. profile update: full PUT including id and meta
  r = await send('PUT', `/Users/${u.id}`, { ...r.json, name: { givenName: 'Dade', familyName: 'Murphy-Burn' }, title: 'Hacker' })
  expect(r.status).toBe(200)
  expect(r.json.name.familyName).toBe('Murphy-Burn')
  expect(r.json.meta.created).toBe(u.meta.created)

  // 5. deactivate, stays readable and filterable; reactivate
  r = await send('PATCH', `/Users/${u.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: false } }] })
  expect(r.status).toBe(200)
  expect(r.json.active).toBe(false)
  expect((await send('GET', `/Users/${u.id}`)).json.active).toBe(false)
  r = await send('GET', '/Users?filter=' + encodeURIComponent('userName eq "dade.murphy@example.com"'))
  expect(r.json.Resources[0].active).toBe(false)
  r = await send('PATCH', `/Users/${u.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: true } }] })
  expect(r.json.active).toBe(true)

  // 6. group push with one member, then membership changes in one PATCH, then rename
  const other = (await send('POST', '/Users', { userName: 'kate.libby@example.com', active: true })).json
  r = await send('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Hackers', members: [] })
  expect(r.status).toBe(201)
  const g = r.json
  r = await send('PATCH', `/Groups/${g.id}`, {
    schemas: [PATCH_URN],
    Operations: [
      { op: 'replace', value: { id: g.id, displayName: 'Hackers' } },
      { op: 'add', path: 'members', value: [{ value: u.id, display: 'dade.murphy@example.com' }] },
    ],
  })
  expect([200, 204]).toContain(r.status)
  r = await send('PATCH', `/Groups/${g.id}`, {
    schemas: [PATCH_URN],
    Operations: [
      { op: 'remove', path: `members[value eq "${u.id}"]` },
      { op: 'add', path: 'members', value: [{ value: other.id, display: 'kate.libby@example.com' }] },
    ],
  })
  r = await send('GET', `/Groups/${g.id}`)
  expect(r.json.members.map((m: any) => m.value)).toEqual([other.id])
  r = await send('PATCH', `/Groups/${g.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { id: g.id, displayName: 'Elite Hackers' } }] })
  expect(r.json.displayName).toBe('Elite Hackers')
  expect(r.json.members.map((m: any) => m.value)).toEqual([other.id])

  // 7. unlink the pushed group
  expect((await send('DELETE', `/Groups/${g.id}`)).status).toBe(204)
  expect((await send('GET', `/Groups/${g.id}`)).status).toBe(404)
})
