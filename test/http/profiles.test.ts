/** SCIMD_PROFILE against the request shapes of shared/SCIM_NOTES.md: okta and entra tolerate them, strict is pure RFC. */
import { describe, expect, test } from 'bun:test'
import { parseConfig } from '../../src/config'
import { makeTestApp, USER_URN, GROUP_URN, PATCH_URN } from '../helpers/app'

const PROFILE_URN = 'urn:scimd:params:scim:schemas:extension:profile:1.0'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

function appFor(profile: string, env: Record<string, string> = {}) {
  const { config } = parseConfig({ SCIMD_PROFILE: profile, ...env })
  return makeTestApp({ profile: config.profile, strict: config.strict, adminToken: 'admin-token-0123456789abcdef' })
}

describe('SCIMD_PROFILE', () => {
  test('the profile decides strict; SCIMD_STRICT overrides; unknown profile is a config error', () => {
    expect(parseConfig({ SCIMD_PROFILE: 'okta' }).config.strict).toBe(false)
    expect(parseConfig({ SCIMD_PROFILE: 'entra' }).config.strict).toBe(false)
    expect(parseConfig({ SCIMD_PROFILE: 'strict' }).config.strict).toBe(true)
    expect(parseConfig({ SCIMD_PROFILE: 'strict', SCIMD_STRICT: 'false' }).config.strict).toBe(false)
    expect(parseConfig({ SCIMD_PROFILE: 'okta' }, ['--strict']).config.strict).toBe(true)
    expect(() => parseConfig({ SCIMD_PROFILE: 'google' })).toThrow('SCIMD_PROFILE: expected one of okta, entra, strict')
  })

  test.each(['okta', 'entra', 'strict'])('%s: shown in ServiceProviderConfig (no nulls) and in the inspector', async (p) => {
    const t = appFor(p)
    const spc = await t.req('GET', '/ServiceProviderConfig')
    expect(spc.json.schemas).toContain(PROFILE_URN)
    expect(spc.json[PROFILE_URN]).toEqual({ profile: p, strict: p === 'strict' })
    await t.req('GET', '/Users')
    const log = await t.req('GET', 'http://localhost/admin/requests?full=1', undefined, { auth: 'Bearer admin-token-0123456789abcdef' })
    expect(log.json.entries[0].profile).toBe(p)
  })

  // [what, request builder] → expected status per profile
  const shapes: [string, (t: ReturnType<typeof appFor>) => Promise<number>, Record<string, number>][] = [
    [
      'Okta: POST /Users as application/json with groups: [] and password',
      async (t) => (await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'o@x.com', name: { givenName: 'O', familyName: 'K' }, emails: [{ primary: true, value: 'o@x.com', type: 'work' }], active: true, groups: [], password: 'pw-123456' }, { headers: { 'content-type': 'application/json' } })).status,
      { okta: 201, entra: 201, strict: 201 },
    ],
    [
      'Okta: PATCH replace with a value object and no path (deactivate)',
      async (t) => {
        const u = await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'd@x.com' })
        return (await t.req('PATCH', `/Users/${u.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: false } }] })).status
      },
      { okta: 200, entra: 200, strict: 200 },
    ],
    [
      'Entra: capitalised attribute names and "active": "True"',
      async (t) => (await t.req('POST', '/Users', { schemas: [USER_URN, ENTERPRISE], UserName: 'e@x.com', Active: 'True', Emails: [{ Primary: true, Type: 'work', Value: 'e@x.com' }], roles: [] })).status,
      { okta: 201, entra: 201, strict: 400 },
    ],
    [
      'Entra: {"op":"Replace","path":"active","value":"False"}',
      async (t) => {
        const u = await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'f@x.com' })
        return (await t.req('PATCH', `/Users/${u.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })).status
      },
      { okta: 200, entra: 200, strict: 400 },
    ],
    [
      'Entra: manager as a plain string',
      async (t) => {
        const m = await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'boss@x.com' })
        const u = await t.req('POST', '/Users', { schemas: [USER_URN, ENTERPRISE], userName: 'emp@x.com' })
        return (await t.req('PATCH', `/Users/${u.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'Add', path: `${ENTERPRISE}:manager`, value: m.json.id }] })).status
      },
      { okta: 200, entra: 200, strict: 400 },
    ],
    [
      'Entra: member removal as {"op":"Remove","path":"members","value":[{"$ref":null,"value":id}]}',
      async (t) => {
        const u = await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'm@x.com' })
        const g = await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'G', members: [{ value: u.json.id }] })
        return (await t.req('PATCH', `/Groups/${g.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: u.json.id }] }] })).status
      },
      { okta: 200, entra: 200, strict: 400 },
    ],
    [
      'Entra tests: a bare string member value',
      async (t) => {
        const u = await t.req('POST', '/Users', { schemas: [USER_URN], userName: 'b@x.com' })
        return (await t.req('POST', '/Groups', { schemas: [GROUP_URN], displayName: 'B', members: [u.json.id] })).status
      },
      { okta: 201, entra: 201, strict: 400 },
    ],
  ]
  for (const [what, send, expected] of shapes)
    test.each(['okta', 'entra', 'strict'])(`${what} — %s`, async (p) => {
      expect(await send(appFor(p))).toBe(expected[p])
    })
})
