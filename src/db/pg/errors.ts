/**
 * PostgreSQL failures as SCIM errors (called from the HTTP layer's toScimError). Bun's SQL client raises
 * `SQL.PostgresError`: `code` is Bun's own (ERR_POSTGRES_SERVER_ERROR for anything the server reported, or a
 * connection code such as ERR_POSTGRES_CONNECTION_REFUSED), `errno` the server's SQLSTATE.
 *
 * - 23505 unique_violation → 409 uniqueness (two replicas creating one userName: the unique index decides).
 * - The database out of reach → 503 with Retry-After: Bun's connection codes (refused: nothing listens; failed:
 *   closed during the handshake, e.g. the server starting or a host that drops packets; timeout; closed: an
 *   established connection went, e.g. the server stopped or restarted), plain socket errors (ECONNREFUSED …),
 *   and the server's own "not now" states — 57P01/57P02/57P03 (shutting down, crashed, starting), 53300 (too many
 *   connections), class 08 (connection exception), 25006 (a read-only server: a standby after a failover).
 * - 57014 query_canceled (statement_timeout), 55P03 lock_not_available, 40001/40P01 (serialization failure or
 *   deadlock left after the store's retries) → 503: the same request may well succeed a moment later.
 * - 22P05 / 22021: text PostgreSQL cannot store (U+0000 in a string: jsonb refuses the escape, text the byte) →
 *   400 invalidValue; SQLite stores it, PostgreSQL cannot.
 * Anything else is not a known condition: undefined, so the caller logs it and answers 500.
 * The messages never carry the server's text (it can quote the values of a row) or the connection URL.
 */
import { invalidValue, serviceUnavailable, uniqueness, type ScimError } from '../../scim/errors'

/** Bun's codes for a connection that could not be made or was lost. */
const UNREACHABLE_CODES = new Set([
  'ERR_POSTGRES_CONNECTION_CLOSED',
  'ERR_POSTGRES_CONNECTION_FAILED',
  'ERR_POSTGRES_CONNECTION_REFUSED',
  'ERR_POSTGRES_CONNECTION_TIMEOUT',
  'ERR_POSTGRES_IDLE_TIMEOUT',
  'ERR_POSTGRES_LIFETIME_TIMEOUT',
  'ERR_POSTGRES_TLS_NOT_AVAILABLE',
  'ERR_POSTGRES_TLS_UPGRADE_FAILED',
  // socket errors that may surface unwrapped
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** Server SQLSTATEs meaning "not now": the request can be retried as is. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '25006', '57014', '55P03', '40001', '40P01'])

/** SQLSTATEs of serialization failures and deadlocks: the whole transaction can be run again. */
export const RETRYABLE_STATES = new Set(['40001', '40P01'])

/** The SQLSTATE of a server error, if `e` is one. */
export function sqlState(e: unknown): string | undefined {
  const errno = (e as { errno?: unknown } | null | undefined)?.errno
  return typeof errno === 'string' && /^[0-9A-Z]{5}$/.test(errno) ? errno : undefined
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** True when `e` says the database cannot be reached (as opposed to an answer from it). */
export function isUnreachable(e: unknown): boolean {
  const code = codeOf(e)
  if (code && UNREACHABLE_CODES.has(code)) return true
  const state = sqlState(e)
  return state !== undefined && (state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03' || state === '53300')
}

/** The SCIM error for a PostgreSQL failure, or undefined when it is not one this store knows. */
export function pgErrorToScim(e: unknown): ScimError | undefined {
  if (e === null || typeof e !== 'object') return undefined
  const state = sqlState(e)
  if (state === '23505') return uniqueness('A resource with the same unique attribute already exists')
  if (state === '22P05' || state === '22021') return invalidValue('A string holds a character the database cannot store (U+0000)')
  if (isUnreachable(e)) return serviceUnavailable('The database is unreachable; retry shortly', 2)
  if (state === '57014') return serviceUnavailable('The database did not answer in time; retry shortly', 1)
  if (state && UNAVAILABLE_STATES.has(state)) return serviceUnavailable('The database is busy; retry shortly', 1)
  const cause = (e as { cause?: unknown }).cause
  return cause !== undefined && cause !== e ? pgErrorToScim(cause) : undefined
}
