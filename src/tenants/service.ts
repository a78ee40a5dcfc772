/**
 * Tenants: create (with generated credentials, shown once), list, rotate credentials, delete with all their data;
 * and the authenticator of a tenant's credentials. Used by the admin API (admin-routes.ts) and `scimd tenant`.
 *
 * Credentials per tenant: a static bearer token (always) and, when asked for at creation, HTTP Basic with a given
 * user name and a generated password. Both secrets are random 256-bit values stored as SHA-256 digests and checked
 * in constant time (timingSafeEqual over digests of equal length). JWT / introspection per tenant: TODO — a tenant
 * currently authenticates with its static token or Basic only.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Db } from '../db/client'
import * as store from '../db/tenants'
import type { TenantRow } from '../db/tenants'
import { generateToken, type Authenticator, type Principal } from '../auth'
import { conflict, invalidValue, notFound, unauthorized } from '../scim/errors'
import { PROFILES, type Profile } from '../scim-options'
import { DEFAULT_TENANT, TENANT_ID } from './context'

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest()
const hex = (s: string) => sha256(s).toString('hex')

export interface TenantInput {
  id: string
  profile?: Profile | null
  /** a Basic user name: Basic credentials are made for it */
  basicUser?: string
}

export interface TenantCredentials {
  token: string
  basic?: { user: string; password: string }
}

export interface TenantView {
  id: string
  created: string
  rotated: string | null
  profile: Profile | null
  auth: string[]
  basicUser: string | null
}

export function viewOf(row: TenantRow): TenantView {
  return {
    id: row.id,
    created: row.created,
    rotated: row.rotated,
    profile: (row.profile as Profile | null) ?? null,
    auth: [...(row.tokenHash ? ['bearer'] : []), ...(row.basicUser ? ['basic'] : [])],
    basicUser: row.basicUser,
  }
}

function checkInput(input: unknown): TenantInput {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw invalidValue('Expected a JSON object {"id": "acme", "profile": "okta", "basicUser": "okta"}')
  const o = input as Record<string, unknown>
  const id = o.id
  if (typeof id !== 'string' || !TENANT_ID.test(id))
    throw invalidValue("'id' must be 1–63 lower-case letters, digits or '-', starting with a letter or digit")
  if (id === DEFAULT_TENANT) throw invalidValue("'default' is the built-in tenant (/scim/v2); choose another id")
  const profile = o.profile
  if (profile !== undefined && profile !== null && !(typeof profile === 'string' && (PROFILES as string[]).includes(profile)))
    throw invalidValue(`'profile' must be one of ${PROFILES.join(', ')} (or null: the server's)`)
  const basicUser = o.basicUser
  if (basicUser !== undefined && basicUser !== null && (typeof basicUser !== 'string' || !/^[^:\s]{1,128}$/.test(basicUser)))
    throw invalidValue("'basicUser' must be 1–128 characters without ':' or spaces")
  return { id, profile: (profile as Profile | null | undefined) ?? null, basicUser: (basicUser as string | undefined) ?? undefined }
}

const newPassword = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

export function createTenant(db: Db, raw: unknown, now = new Date()): { tenant: TenantView; credentials: TenantCredentials } {
  const input = checkInput(raw)
  if (store.getTenant(db, input.id)) throw conflict(`Tenant '${input.id}' already exists`)
  const token = generateToken()
  const password = input.basicUser ? newPassword() : undefined
  const row: TenantRow = {
    id: input.id,
    created: now.toISOString(),
    profile: input.profile ?? null,
    tokenHash: hex(token),
    basicUser: input.basicUser ?? null,
    basicPasswordHash: password ? hex(password) : null,
    rotated: null,
  }
  store.insertTenant(db, row)
  return { tenant: viewOf(row), credentials: { token, ...(password ? { basic: { user: input.basicUser!, password } } : {}) } }
}

/** New credentials; the old ones stop working at once. */
export function rotateTenant(db: Db, id: string, now = new Date()): { tenant: TenantView; credentials: TenantCredentials } {
  const row = store.getTenant(db, id)
  if (!row) throw notFound(`Tenant '${id}' not found`)
  const token = generateToken()
  const password = row.basicUser ? newPassword() : undefined
  const next = { tokenHash: hex(token), basicPasswordHash: password ? hex(password) : null, rotated: now.toISOString() }
  store.updateTenantCredentials(db, id, next)
  return { tenant: viewOf({ ...row, ...next }), credentials: { token, ...(password ? { basic: { user: row.basicUser!, password } } : {}) } }
}

export function removeTenant(db: Db, id: string): { users: number; groups: number } {
  const r = store.deleteTenant(db, id)
  if (!r) throw notFound(`Tenant '${id}' not found`)
  return r
}

export function listTenantViews(db: Db): (TenantView & { users: number; groups: number })[] {
  return store.listTenants(db).map((r) => ({ ...viewOf(r), ...store.countOf(db, r.id) }))
}

const eqDigest = (given: string, storedHex: string | null): boolean => {
  const a = sha256(given)
  const b = storedHex && /^[0-9a-f]{64}$/.test(storedHex) ? Buffer.from(storedHex, 'hex') : sha256('\0no secret')
  return timingSafeEqual(a, b) && storedHex !== null
}

/** The authenticator of one tenant's credentials (same 401 shapes as the server's own). */
export function tenantAuthenticator(row: TenantRow, realm = 'scimd'): Authenticator {
  const challenge = (error?: string) =>
    [`Bearer realm="${realm}/${row.id}"${error ? `, error="${error}"` : ''}`, ...(row.basicUser ? [`Basic realm="${realm}/${row.id}", charset="UTF-8"`] : [])].join(', ')
  const deny = (detail: string, error?: string) => unauthorized(detail, challenge(error))
  return {
    schemes: [...(row.tokenHash ? (['bearer'] as const) : []), ...(row.basicUser ? (['basic'] as const) : [])],
    formTokenRefusal: () => deny('Access tokens in the request body are not accepted; send them in the Authorization header', 'invalid_request'),
    async authenticate(request, url): Promise<Principal> {
      if (url.searchParams.has('access_token'))
        throw deny('Access tokens in the query string are not accepted; send them in the Authorization header', 'invalid_request')
      const header = request.headers.get('authorization')
      if (!header) throw deny('Authentication required')
      const sp = header.indexOf(' ')
      const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase()
      const cred = sp < 0 ? '' : header.slice(sp + 1).trim()
      if (scheme === 'bearer') {
        if (eqDigest(cred, row.tokenHash)) return { mode: 'bearer', subject: `tenant ${row.id} token` }
        throw deny('Invalid bearer token', 'invalid_token')
      }
      if (scheme === 'basic' && row.basicUser) {
        const decoded = Buffer.from(cred, 'base64').toString('utf8')
        const i = decoded.indexOf(':')
        const user = i < 0 ? decoded : decoded.slice(0, i)
        const okUser = timingSafeEqual(sha256(user), sha256(row.basicUser))
        const okPassword = eqDigest(i < 0 ? '' : decoded.slice(i + 1), row.basicPasswordHash)
        if (okUser && okPassword && i >= 0) return { mode: 'basic', subject: user }
        throw deny('Invalid credentials')
      }
      throw deny(`Unsupported authorization scheme; use Bearer${row.basicUser ? ' or Basic' : ''}`)
    },
  }
}
