/**
 * src/db/pg/errors.ts without a server: the SCIM error each PostgreSQL failure becomes, as Bun's SQL client reports
 * them (`code` Bun's own, `errno` the SQLSTATE). The live counterparts (a stopped server, a statement timeout, a
 * unique violation, a deadlock) are in pg-outage.test.ts and store-contract.test.ts.
 */
import { describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { pgErrorToScim } from '../../src/db/pg/errors'

const server = (errno: string) => new SQL.PostgresError('server said no', { code: 'ERR_POSTGRES_SERVER_ERROR', errno })
const client = (code: string) => new SQL.PostgresError('client said no', { code })

describe('pgErrorToScim', () => {
  test('unique violation → 409 uniqueness, without the server text (which quotes the row)', () => {
    const e = pgErrorToScim(server('23505'))
    expect([e?.status, e?.scimType]).toEqual([409, 'uniqueness'])
    expect(e?.detail).not.toContain('server said')
  })

  test('NUL in text → 400 invalidValue', () => {
    for (const s of ['22P05', '22021']) expect([pgErrorToScim(server(s))?.status, pgErrorToScim(server(s))?.scimType]).toEqual([400, 'invalidValue'])
  })

  test('unreachable, shutting down, timed out, busy → 503 with Retry-After', () => {
    const cases = [
      client('ERR_POSTGRES_CONNECTION_REFUSED'),
      client('ERR_POSTGRES_CONNECTION_CLOSED'),
      client('ERR_POSTGRES_CONNECTION_FAILED'),
      client('ERR_POSTGRES_CONNECTION_TIMEOUT'),
      Object.assign(new Error('socket'), { code: 'ECONNREFUSED' }),
      server('57P01'),
      server('57P03'),
      server('08006'),
      server('53300'),
      server('57014'),
      server('40P01'),
      server('40001'),
      server('25006'),
    ]
    for (const e of cases) {
      const s = pgErrorToScim(e)
      expect(s?.status).toBe(503)
      expect(Number(s?.headers['Retry-After'])).toBeGreaterThan(0)
    }
  })

  test('a wrapped cause is looked at; anything else is not this module’s (undefined → 500 upstream)', () => {
    expect(pgErrorToScim(new Error('wrapper', { cause: server('23505') }))?.status).toBe(409)
    expect(pgErrorToScim(server('42601'))).toBeUndefined()
    expect(pgErrorToScim(client('ERR_POSTGRES_SYNTAX_ERROR'))).toBeUndefined()
    expect(pgErrorToScim(new Error('plain'))).toBeUndefined()
    expect(pgErrorToScim('text')).toBeUndefined()
    expect(pgErrorToScim(null)).toBeUndefined()
    // SQLite's codes are not PostgreSQL's business
    expect(pgErrorToScim(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_UNIQUE', errno: 2067 }))).toBeUndefined()
  })
})
