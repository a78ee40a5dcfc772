import { describe, expect, test } from 'bun:test'
import { makeAuthApp, scimError } from '../helpers/auth'
import { createBrake } from '../../src/auth-brake'

const GOOD = 'Bearer good-token-123'

describe('brake on guessing (HTTP)', () => {
  test('after the limit an address gets 429 with Retry-After, even with good credentials; others are not affected; it wears off', async () => {
    const t = makeAuthApp({ bearerTokens: ['good-token-123'], authFailLimit: 3, authFailWindow: 60, authFailMaxBackoff: 2 })
    for (let i = 0; i < 3; i++) scimError(await t.req('/Users', { auth: 'Bearer guess-' + i, client: '10.0.0.1' }), 401)
    scimError(await t.req('/Users', { auth: 'Bearer guess-3', client: '10.0.0.1' }), 401) // the 4th failure sets a 1 s block
    const braked = await t.req('/Users', { auth: GOOD, client: '10.0.0.1' })
    scimError(braked, 429)
    expect(braked.headers.get('retry-after')).toBe('1')
    expect(braked.headers.get('www-authenticate')).toBeNull()
    expect((await t.req('/Users', { auth: GOOD, client: '10.0.0.2' })).status).toBe(200)
    await Bun.sleep(1050)
    expect((await t.req('/Users', { auth: GOOD, client: '10.0.0.1' })).status).toBe(200) // never a permanent lockout
    // the success cleared the address: three more failures are tolerated again
    for (let i = 0; i < 3; i++) scimError(await t.req('/Users', { auth: 'Bearer again-' + i, client: '10.0.0.1' }), 401)
  })

  test('requests without credentials, and brake off (limit 0), do not brake', async () => {
    const t = makeAuthApp({ bearerTokens: ['good-token-123'], authFailLimit: 2 })
    for (let i = 0; i < 10; i++) scimError(await t.req('/Users', { client: '10.0.0.3' }), 401)
    expect((await t.req('/Users', { auth: GOOD, client: '10.0.0.3' })).status).toBe(200)
    const off = makeAuthApp({ bearerTokens: ['good-token-123'], authFailLimit: 0 })
    for (let i = 0; i < 20; i++) scimError(await off.req('/Users', { auth: 'Bearer nope', client: '10.0.0.4' }), 401)
    expect((await off.req('/Users', { auth: GOOD, client: '10.0.0.4' })).status).toBe(200)
  })

  test('the failure is logged with the address, never the credential', async () => {
    const t = makeAuthApp({ basicAuth: { user: 'okta', password: 'pw-123' } })
    await t.req('/Users', { auth: 'Basic ' + Buffer.from('okta:guess-pw').toString('base64'), client: '10.0.0.5' })
    const log = t.lines.join('\n')
    expect(log).toContain('10.0.0.5')
    expect(log).not.toContain('guess-pw')
  })
})

describe('brake (unit, fake clock)', () => {
  test('exponential back-off capped at maxBackoff; forgiven after a quiet window; bounded table', () => {
    let now = 0
    const b = createBrake({ limit: 2, window: 60, maxBackoff: 8, maxEntries: 100, now: () => now })
    const waits: number[] = []
    for (let i = 0; i < 8; i++) {
      b.fail('a')
      waits.push(b.check('a'))
      now += 100
    }
    expect(waits).toEqual([0, 0, 1, 2, 4, 8, 8, 8])
    now += 61_000
    expect(b.check('a')).toBe(0)
    b.fail('a')
    expect(b.check('a')).toBe(0) // counting starts again
    for (let i = 0; i < 1000; i++) b.fail(`10.1.${i >> 8}.${i & 255}`)
    expect(b.size()).toBeLessThanOrEqual(100)
    b.succeed('a')
    expect(b.check('a')).toBe(0)
  })
})

test('over real loopback HTTP the brake keys on the peer address', async () => {
  const { DEFAULTS } = await import('../../src/config')
  const { assemble } = await import('../../src/server')
  const { silentLogger } = await import('../../src/log')
  const s = assemble({ ...DEFAULTS, databaseUrl: ':memory:', bearerTokens: ['good-token-123'], authFailLimit: 1, authFailMaxBackoff: 5 }, silentLogger)
  const server = s.app.listen({ port: 0, hostname: '127.0.0.1' })
  try {
    const url = `http://127.0.0.1:${server.server!.port}/scim/v2/Users`
    expect((await fetch(url, { headers: { authorization: 'Bearer x1' } })).status).toBe(401)
    expect((await fetch(url, { headers: { authorization: 'Bearer x2' } })).status).toBe(401)
    const r = await fetch(url, { headers: { authorization: GOOD } })
    expect(r.status).toBe(429)
    expect(r.headers.get('retry-after')).toBe('1')
  } finally {
    await server.stop(true)
  }
})
