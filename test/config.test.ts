import { describe, expect, test } from 'bun:test'
import { ConfigError, parseConfig, parseSize } from '../src/config'
import { parseDotEnv } from '../src/dotenv'
import { redactDbUrl } from '../src/server'

const problems = (env: Record<string, string>, argv: string[] = []) => {
  try {
    parseConfig(env, argv)
  } catch (e) {
    if (e instanceof ConfigError) return e.problems
    throw e
  }
  return []
}

describe('configuration', () => {
  test('defaults', () => {
    const { config } = parseConfig({})
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', databaseUrl: './scimd.sqlite', basePath: '/scim/v2', maxBody: 10 * 1024 * 1024, logLevel: 'info', strict: false })
    expect(config.bearerTokens).toEqual([])
    expect(config.basicAuth).toBeUndefined()
  })

  test('environment variables and flags; flags win', () => {
    const { config, rest } = parseConfig(
      { PORT: '9000', SCIMD_BASE_PATH: '/api/scim/', SCIMD_BEARER_TOKENS: 'tok1, tok2', SCIMD_BASIC_AUTH: 'okta:pa:ss', SCIMD_MAX_BODY: '2MiB', DATABASE_URL: 'file:/tmp/x.sqlite' },
      ['--port', '9100', '--log-level=debug', '--strict', 'extra'],
    )
    expect(config.port).toBe(9100)
    expect(config.basePath).toBe('/api/scim')
    expect(config.bearerTokens).toEqual(['tok1', 'tok2'])
    expect(config.basicAuth).toEqual({ user: 'okta', password: 'pa:ss' })
    expect(config.maxBody).toBe(2 * 1024 * 1024)
    expect(config.databaseUrl).toBe('/tmp/x.sqlite')
    expect(config.logLevel).toBe('debug')
    expect(config.strict).toBe(true)
    expect(rest).toEqual(['extra'])
  })

  test('every bad value is reported, naming the variable, without echoing secrets', () => {
    const p = problems({ PORT: 'eighty', HOST: '', SCIMD_BASE_PATH: 'scim', SCIMD_BASIC_AUTH: 'nocolonsecret', SCIMD_MAX_BODY: 'lots', LOG_LEVEL: 'loud', SCIMD_STRICT: 'maybe' })
    expect(p).toHaveLength(7)
    for (const name of ['PORT', 'HOST', 'SCIMD_BASE_PATH', 'SCIMD_BASIC_AUTH', 'SCIMD_MAX_BODY', 'LOG_LEVEL', 'SCIMD_STRICT'])
      expect(p.some((l) => l.startsWith(name + ':'))).toBe(true)
    expect(p.join('\n')).not.toContain('nocolonsecret')
    expect(problems({ PORT: '70000' })[0]).toContain('PORT')
    expect(problems({ SCIMD_BEARER_TOKENS: ' , ' })[0]).toContain('SCIMD_BEARER_TOKENS')
    expect(problems({}, ['--port'])[0]).toContain('--port')
  })

  test('PostgreSQL: a postgres:// DATABASE_URL and the pool settings; bad values named, the password in the URL never echoed', () => {
    const { config } = parseConfig({ DATABASE_URL: 'postgres://scimd:s3cret@db:5432/scimd', SCIMD_PG_POOL: '4', SCIMD_PG_STATEMENT_TIMEOUT: '2s', SCIMD_PG_CONNECT_TIMEOUT: '3', SCIMD_PG_IDLE_TIMEOUT: '0' })
    expect(config).toMatchObject({ databaseUrl: 'postgres://scimd:s3cret@db:5432/scimd', pgPool: 4, pgStatementTimeoutMs: 2000, pgConnectTimeout: 3, pgIdleTimeout: 0 })
    expect(redactDbUrl(config.databaseUrl)).toBe('postgres://scimd:***@db:5432/scimd')
    expect(redactDbUrl('./scimd.sqlite')).toBe('./scimd.sqlite')
    const p = problems({ DATABASE_URL: 'postgres://scimd:s3cret@[bad', SCIMD_PG_POOL: '0', SCIMD_PG_STATEMENT_TIMEOUT: 'soon', SCIMD_PG_CONNECT_TIMEOUT: 'x', SCIMD_PG_IDLE_TIMEOUT: '-1' })
    for (const name of ['DATABASE_URL', 'SCIMD_PG_POOL', 'SCIMD_PG_STATEMENT_TIMEOUT', 'SCIMD_PG_CONNECT_TIMEOUT', 'SCIMD_PG_IDLE_TIMEOUT'])
      expect(p.some((l) => l.startsWith(name + ':'))).toBe(true)
    expect(p.join('\n')).not.toContain('s3cret')
  })

  test('sizes', () => {
    expect(parseSize('512')).toBe(512)
    expect(parseSize('512KiB')).toBe(512 * 1024)
    expect(parseSize('10mb')).toBe(10 * 1024 * 1024)
    expect(() => parseSize('-1')).toThrow()
  })

  test('.env parsing', () => {
    expect(parseDotEnv('# c\nPORT=9000\nexport HOST="127.0.0.1"\nSCIMD_BEARER_TOKENS=\'a,b\' \nX=1 # note\n')).toEqual({
      PORT: '9000',
      HOST: '127.0.0.1',
      SCIMD_BEARER_TOKENS: 'a,b',
      X: '1',
    })
  })
})

describe('README', () => {
  test('documents every environment variable and flag', async () => {
    const { OPTIONS } = await import('../src/config')
    const readme = await Bun.file(new URL('../README.md', import.meta.url)).text()
    const missing = OPTIONS.flatMap((o) => [o.env, o.flag]).filter((name) => !readme.includes('`' + name + '`'))
    expect(missing).toEqual([])
  })
})
