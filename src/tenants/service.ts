/**
 * Tenants: create (with generated credentials, shown once), list, rotate credentials, delete with all their data;
 * and the authenticator of a tenant's credentials. Used by the admin API (admin-routes.ts) and `scimd tenant`.
 *
 * Credentials per tenant: a static bearer token (always) and, when asked for at creation, HTTP Basic with a given
 * user name and a generated password. Both secrets are random 256-bit values stored as SHA-256 digests and checked
 * in constant time (timingSafeEqual over digests of equal length). A tenant may also verify OAuth tokens: JWT and/or
 * introspection with its own settings (`auth`, src/tenants/auth.ts), changed with updateTenant.
 */
import { createHash } from 'node:crypto'
import type { TenantRow } from '../db/tenants'
import { q, type Maybe, type Step, type Store } from '../db/store'
import { generateToken, type AuthMode } from '../auth'
import { conflict, invalidValue, notFound } from '../scim/errors'
import { mergeTenantAuth, redactTenantAuth, tenantModes, type TenantAuthSettings } from './auth'
import { PROFILES, type Profile } from '../scim-options'
import { DEFAULT_TENANT, TENANT_ID } from './context'

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest()
const hex = (s: string) => sha256(s).toString('hex')

export interface TenantInput {
  id: string
  profile?: Profile | null
  /** a Basic user name: Basic credentials are made for it */
  basicUser?: string
  /** OAuth settings (src/tenants/auth.ts) */
  auth?: TenantAuthSettings | null
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
  /** the auth modes: bearer (the static token), jwt, introspection, basic */
  auth: AuthMode[]
  basicUser: string | null
  /** the OAuth settings with secrets shown as "set" (null: none) */
  authSettings: Record<string, unknown> | null
}

export function viewOf(row: TenantRow): TenantView {
  return {
    id: row.id,
    created: row.created,
    rotated: row.rotated,
    profile: (row.profile as Profile | null) ?? null,
    auth: tenantModes(row),
    basicUser: row.basicUser,
    authSettings: redactTenantAuth(row.auth as TenantAuthSettings | null),
  }
}

function checkInput(input: unknown, opts: { files?: boolean } = {}): TenantInput {
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
  const auth = o.auth === undefined ? null : mergeTenantAuth(o.auth, null, opts)
  return { id, profile: (profile as Profile | null | undefined) ?? null, basicUser: (basicUser as string | undefined) ?? undefined, auth }
}

const newPassword = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

export function createTenant(store: Store, raw: unknown, now = new Date(), opts: { files?: boolean } = {}): Maybe<{ tenant: TenantView; credentials: TenantCredentials }> {
  const input = checkInput(raw, opts)
  return store.write(
    function* (): Step<{ tenant: TenantView; credentials: TenantCredentials }> {
      if (yield* q((r) => r.getTenant(input.id))) throw conflict(`Tenant '${input.id}' already exists`)
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
        auth: (input.auth ?? null) as TenantRow['auth'],
      }
      yield* q((r) => r.insertTenant(row))
      return { tenant: viewOf(row), credentials: { token, ...(password ? { basic: { user: input.basicUser!, password } } : {}) } }
    },
  )
}

/** New credentials; the old ones stop working at once. */
export function rotateTenant(store: Store, id: string, now = new Date()): Maybe<{ tenant: TenantView; credentials: TenantCredentials }> {
  return store.write(
    function* (): Step<{ tenant: TenantView; credentials: TenantCredentials }> {
      const row = yield* q((r) => r.getTenant(id))
      if (!row) throw notFound(`Tenant '${id}' not found`)
      const token = generateToken()
      const password = row.basicUser ? newPassword() : undefined
      const next = { tokenHash: hex(token), basicPasswordHash: password ? hex(password) : null, rotated: now.toISOString() }
      yield* q((r) => r.updateTenant(id, next))
      return { tenant: viewOf({ ...row, ...next }), credentials: { token, ...(password ? { basic: { user: row.basicUser!, password } } : {}) } }
    },
  )
}

/**
 * Changes a tenant's profile and/or OAuth settings: {"profile": "okta" | … | null, "auth": {...} | null}. `auth` is
 * merged into the current settings (mergeTenantAuth: null removes a key, a secret "set" keeps it); `auth: null`
 * removes them all. The credentials (token, Basic) are unchanged: rotateTenant.
 */
export function updateTenant(store: Store, id: string, raw: unknown, opts: { files?: boolean } = {}): Maybe<{ tenant: TenantView; changed: string[] }> {
  return store.write(
    function* (): Step<{ tenant: TenantView; changed: string[] }> {
      const row = yield* q((r) => r.getTenant(id))
      if (!row) throw notFound(`Tenant '${id}' not found`)
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalidValue('Expected a JSON object {"profile": "okta", "auth": {"jwtJwksUrl": "…"}}')
      const o = raw as Record<string, unknown>
      for (const k of Object.keys(o)) if (k !== 'profile' && k !== 'auth') throw invalidValue(`'${k}' cannot be changed (only 'profile' and 'auth'; credentials: rotate)`)
      const next: Partial<Pick<TenantRow, 'profile' | 'auth'>> = {}
      if ('profile' in o) {
        const p = o.profile
        if (p !== null && !(typeof p === 'string' && (PROFILES as string[]).includes(p))) throw invalidValue(`'profile' must be one of ${PROFILES.join(', ')} (or null: the server's)`)
        next.profile = p as string | null
      }
      if ('auth' in o) next.auth = mergeTenantAuth(o.auth, row.auth as TenantAuthSettings | null, opts) as TenantRow['auth']
      if (Object.keys(next).length) yield* q((r) => r.updateTenant(id, next))
      const changed = [...('profile' in next ? ['profile'] : []), ...('auth' in o && o.auth && typeof o.auth === 'object' ? Object.keys(o.auth).map((k) => `auth.${k}`) : 'auth' in o ? ['auth'] : [])]
      return { tenant: viewOf({ ...row, ...next }), changed }
    },
  )
}

export function removeTenant(store: Store, id: string): Maybe<{ users: number; groups: number }> {
  return store.write(
    function* (): Step<{ users: number; groups: number }> {
      const r = yield* q((x) => x.deleteTenant(id))
      if (!r) throw notFound(`Tenant '${id}' not found`)
      return r
    },
  )
}

export function listTenantViews(store: Store): Maybe<(TenantView & { users: number; groups: number })[]> {
  return store.snapshot(
    (function* (): Step<(TenantView & { users: number; groups: number })[]> {
      const out: (TenantView & { users: number; groups: number })[] = []
      for (const row of yield* q((r) => r.listTenants())) out.push({ ...viewOf(row), ...(yield* q((r) => r.tenantCounts(row.id))) })
      return out
    })(),
  )
}

/** A tenant by id (undefined when there is none). */
export function findTenant(store: Store, id: string): Maybe<TenantRow | undefined> {
  return store.read(q((r) => r.getTenant(id)))
}

export { tenantAuthenticator } from './auth'
