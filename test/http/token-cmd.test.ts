import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { makeAuthApp, scimError } from '../helpers/auth'

const INDEX = resolve(import.meta.dir, '../../src/index.ts')
const dir = mkdtempSync(join(tmpdir(), 'scimd-token-'))
const db = join(dir, 'db.sqlite')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function scimdToken(args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([process.execPath, INDEX, 'token', ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: db, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  return { code: r.exitCode, out: r.stdout.toString().trim(), err: r.stderr.toString() }
}

describe('scimd token', () => {
  test('ES256 with the local key: the server verifies it and publishes the key', async () => {
    const r = scimdToken(['--sub', 'alice', '--scope', 'scim:write scim:read', '--ttl', '10m', '--aud', 'scimd', '--iss', 'https://me.test'])
    expect(r.code).toBe(0)
    expect(r.err).toContain('created the local signing key')
    const header = decodeProtectedHeader(r.out)
    const claims = decodeJwt(r.out)
    expect(header.alg).toBe('ES256')
    expect(claims).toMatchObject({ sub: 'alice', scope: 'scim:write scim:read', aud: 'scimd', iss: 'https://me.test' })
    expect(claims.exp! - claims.iat!).toBe(600)

    // default SCIMD_JWT_LOCAL=auto: the key is used (no other JWT key is configured); the generated token stays valid
    const t = makeAuthApp({ databaseUrl: db, jwtAudience: ['scimd'], requiredScopes: ['scim:write'] })
    expect((await t.req('/Users', { auth: `Bearer ${r.out}` })).status).toBe(200)
    expect((await t.req('/Users', { auth: `Bearer ${t.generatedToken!.token}` })).status).toBe(200)
    const jwks = await t.req('/.well-known/jwks.json')
    expect(jwks.json.keys.map((k: any) => k.kid)).toEqual([header.kid])
    expect((await t.req('/ServiceProviderConfig')).json.authenticationSchemes.map((s: any) => s.name)).toEqual(['Bearer token', 'OAuth 2.0 bearer token (JWT)'])

    // a second run reuses the key; a wrong audience is refused
    const again = scimdToken(['--aud', 'other'])
    expect(again.code).toBe(0)
    expect(decodeProtectedHeader(again.out).kid).toBe(header.kid)
    scimError(await t.req('/Users', { auth: `Bearer ${again.out}` }), 401)
    // the scope defaults to SCIMD_REQUIRED_SCOPES
    const scoped = scimdToken([], { SCIMD_REQUIRED_SCOPES: 'scim:write', SCIMD_JWT_AUDIENCE: 'scimd' })
    expect((await t.req('/Users', { auth: `Bearer ${scoped.out}` })).status).toBe(200)
    t.db.$client.close()
  })

  test('HS256 with --secret or SCIMD_JWT_SECRET', async () => {
    const secret = 's'.repeat(40)
    for (const r of [scimdToken(['--secret', secret, '--ttl=1h']), scimdToken([], { SCIMD_JWT_SECRET: secret })]) {
      expect(r.code).toBe(0)
      expect(decodeProtectedHeader(r.out).alg).toBe('HS256')
      const t = makeAuthApp({ jwtSecret: secret })
      expect((await t.req('/Users', { auth: `Bearer ${r.out}` })).status).toBe(200)
    }
  })

  test('usage errors exit 2', () => {
    expect(scimdToken(['--ttl', 'soon']).code).toBe(2)
    expect(scimdToken(['--bogus', 'x']).code).toBe(2)
    expect(scimdToken(['--secret', 'short']).code).toBe(2)
  })
})
