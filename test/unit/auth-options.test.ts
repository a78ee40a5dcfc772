import { describe, expect, test } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, parseConfig } from '../../src/config'
import { parseDuration } from '../../src/auth-options'
import { looksLikeJwt, parsePublicKey } from '../../src/jwt'

const problems = (env: Record<string, string>) => {
  try {
    parseConfig(env)
  } catch (e) {
    if (e instanceof ConfigError) return e.problems
    throw e
  }
  return []
}
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string

describe('auth settings', () => {
  test('defaults', () => {
    const { config } = parseConfig({})
    expect(config).toMatchObject({ jwtClockSkew: 60, jwtJwksCooldown: 30, jwtLocal: 'auto', introspectionCache: 300, publicDocs: true, publicDiscovery: true, authFailLimit: 10, authFailWindow: 60, authFailMaxBackoff: 30, requiredScopes: [] })
  })

  test('values are parsed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimd-key-'))
    try {
      writeFileSync(join(dir, 'key.pem'), pem)
      const { config } = parseConfig(
        {
          SCIMD_JWT_JWKS_URL: 'https://idp.example.com/oauth2/default/v1/keys',
          SCIMD_JWT_PUBLIC_KEY: '@' + join(dir, 'key.pem'),
          SCIMD_JWT_CLOCK_SKEW: '2m',
          SCIMD_JWT_ISSUER: 'https://a, https://b',
          SCIMD_JWT_AUDIENCE: 'api://scimd',
          SCIMD_JWT_ALGORITHMS: 'RS256,ES256',
          SCIMD_JWT_LOCAL: 'false',
          SCIMD_REQUIRED_SCOPES: 'scim:read scim:write',
          SCIMD_INTROSPECTION_URL: 'https://idp.example.com/introspect',
          SCIMD_INTROSPECTION_CLIENT_ID: 'rs',
          SCIMD_INTROSPECTION_CLIENT_SECRET: 'sec',
          SCIMD_INTROSPECTION_CACHE: '1m',
          SCIMD_PUBLIC_DOCS: 'false',
          SCIMD_AUTH_FAIL_LIMIT: '5',
        },
        ['--public-discovery=false', '--auth-fail-window', '10m'],
      )
      expect(config).toMatchObject({
        jwtClockSkew: 120,
        jwtIssuer: ['https://a', 'https://b'],
        jwtAlgorithms: ['RS256', 'ES256'],
        jwtLocal: false,
        requiredScopes: ['scim:read', 'scim:write'],
        introspectionCache: 60,
        publicDocs: false,
        publicDiscovery: false,
        authFailLimit: 5,
        authFailWindow: 600,
      })
      expect(config.jwtPublicKey).toContain('BEGIN PUBLIC KEY')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('bad values are refused, secrets never echoed', () => {
    expect(problems({ SCIMD_JWT_ALGORITHMS: 'RS256,none' })[0]).toStartWith('SCIMD_JWT_ALGORITHMS:')
    expect(problems({ SCIMD_JWT_SECRET: 'too-short-secret' })).toEqual(['SCIMD_JWT_SECRET: must be at least 32 bytes (RFC 7518 §3.2)'])
    expect(problems({ SCIMD_JWT_PUBLIC_KEY: 'not a key' })[0]).toStartWith('SCIMD_JWT_PUBLIC_KEY:')
    const priv = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    expect(problems({ SCIMD_JWT_PUBLIC_KEY: priv })[0]).toContain('private key')
    expect(problems({ SCIMD_JWT_PUBLIC_KEY: JSON.stringify(rsa.privateKey.export({ format: 'jwk' })) })[0]).toContain('private key')
    expect(problems({ SCIMD_JWT_JWKS_URL: 'ftp://x' })[0]).toStartWith('SCIMD_JWT_JWKS_URL:')
    expect(problems({ SCIMD_INTROSPECTION_CLIENT_ID: 'x' }).join('\n')).toContain('SCIMD_INTROSPECTION_CLIENT_SECRET')
    const p = problems({ SCIMD_INTROSPECTION_CLIENT_ID: 'x', SCIMD_INTROSPECTION_CLIENT_SECRET: 'hush-hush' })
    expect(p).toEqual(['SCIMD_INTROSPECTION_URL: required when an introspection client is configured'])
    expect(problems({ SCIMD_PUBLIC_DOCS: 'maybe', SCIMD_JWT_LOCAL: 'sometimes', SCIMD_AUTH_FAIL_WINDOW: '0' })).toHaveLength(3)
  })

  test('durations, key formats, JWT shape', () => {
    expect([parseDuration('90'), parseDuration('500ms'), parseDuration('5m'), parseDuration('1h'), parseDuration('1d')]).toEqual([90, 0.5, 300, 3600, 86400])
    expect(parsePublicKey(pem).algs).toContain('RS256')
    expect(parsePublicKey(pem.replace(/\n/g, '\\n').replace(/\\n/g, '\n')).kind).toBe('key')
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    expect(parsePublicKey(JSON.stringify(ec.publicKey.export({ format: 'jwk' }))).algs).toEqual(['ES384'])
    expect(parsePublicKey(JSON.stringify({ keys: [ec.publicKey.export({ format: 'jwk' })] })).kind).toBe('jwks')
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBe(true)
    expect(looksLikeJwt('scimd_abc.def')).toBe(false)
    expect(looksLikeJwt('abc.def.ghi')).toBe(false)
  })
})
