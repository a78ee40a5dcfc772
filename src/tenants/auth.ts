/**
 * A tenant's OAuth settings (issue 9: "its own credentials, any auth mode, per tenant"): JWT verification (a JWKS URL,
 * a public key or an HMAC secret; issuer, audience, algorithms), RFC 7662 introspection (URL, client id and secret)
 * and the scopes every OAuth token must carry. The names are the server's own settings (AuthSettings keys, e.g.
 * `jwtJwksUrl` ↔ SCIMD_JWT_JWKS_URL ↔ --jwt-jwks-url) and each value is checked by that setting's parser
 * (AUTH_OPTIONS). Kept as JSON in tenants.auth. The HMAC secret and the introspection client secret are needed in
 * clear to verify, so they are stored as given; they are never returned (views show "set") nor logged.
 *
 * The tenant's authenticator is the server's own (createAuthenticator in src/auth.ts) built from these settings plus
 * the tenant's stored token/Basic digests, with the server-level clock skew, JWKS cooldown, introspection cache and
 * brake settings (SCIMD_AUTH_FAIL_*). The tenant router caches one per tenant and rebuilds it when the row changes.
 */
import { AUTH_OPTIONS, type AuthSettings } from '../auth-options'
import { createAuthenticator, type AuthConfig, type Authenticator, type AuthMode } from '../auth'
import type { TenantRow } from '../db/tenants'
import type { Logger } from '../log'
import { invalidValue } from '../scim/errors'

export const TENANT_AUTH_KEYS = [
  'jwtJwksUrl',
  'jwtPublicKey',
  'jwtSecret',
  'jwtIssuer',
  'jwtAudience',
  'jwtAlgorithms',
  'requiredScopes',
  'introspectionUrl',
  'introspectionClientId',
  'introspectionClientSecret',
] as const satisfies readonly (keyof AuthSettings)[]

export type TenantAuthKey = (typeof TENANT_AUTH_KEYS)[number]
export type TenantAuthSettings = Partial<Pick<AuthSettings, TenantAuthKey>>

/** Settings shown as "set" (never their value) by the admin API and the CLI. */
export const TENANT_AUTH_SECRETS: readonly TenantAuthKey[] = ['jwtSecret', 'introspectionClientSecret']
const LISTS: readonly TenantAuthKey[] = ['jwtIssuer', 'jwtAudience', 'jwtAlgorithms', 'requiredScopes']

const specOf = (k: TenantAuthKey) => AUTH_OPTIONS.find((o) => o.key === k)!

/** The CLI flag of each setting (the server's: --jwt-jwks-url, …). */
export const TENANT_AUTH_FLAGS: [flag: string, key: TenantAuthKey][] = TENANT_AUTH_KEYS.map((k) => [specOf(k).flag, k])

const bad = (key: string, msg: string) => invalidValue(`'auth.${key}': ${msg}`)

/**
 * Checks `raw` (the `auth` object of POST/PATCH /admin/tenants or the CLI flags) and merges it into `current`:
 * a key with a value replaces, a key with null (or "") removes, an absent key keeps; a secret given as "set" keeps
 * the stored one (so a view can be sent back). `raw` null removes every setting. Returns null when nothing is left.
 * `files`: a public key may be `@/path` (the CLI; never the admin API, which must not read the server's files).
 */
export function mergeTenantAuth(raw: unknown, current: TenantAuthSettings | null = null, o: { files?: boolean } = {}): TenantAuthSettings | null {
  if (raw === null) return null
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw invalidValue(`'auth' must be a JSON object such as {"jwtJwksUrl": "https://example.okta.com/oauth2/default/v1/keys", "jwtAudience": "scimd"}, or null`)
  const next: Record<string, unknown> = { ...(current ?? {}) }
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!(TENANT_AUTH_KEYS as readonly string[]).includes(k)) throw bad(k, `unknown setting (expected ${TENANT_AUTH_KEYS.join(', ')})`)
    const key = k as TenantAuthKey
    if (v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
      delete next[key]
      continue
    }
    if (TENANT_AUTH_SECRETS.includes(key) && v === 'set' && current?.[key] !== undefined) continue
    let text: string
    if (typeof v === 'string') text = v
    else if (Array.isArray(v) && LISTS.includes(key) && v.every((x) => typeof x === 'string')) text = v.join(key === 'requiredScopes' ? ' ' : ',')
    else throw bad(key, LISTS.includes(key) ? 'expected a string or an array of strings' : 'expected a string')
    if (key === 'jwtPublicKey' && text.trim().startsWith('@') && !o.files) throw bad(key, 'expected the key itself (PEM, JWK or JWKS), not a file name')
    try {
      next[key] = specOf(key).parse(text)
    } catch (e) {
      throw bad(key, (e as Error).message)
    }
  }
  const s = next as TenantAuthSettings
  const jwt = Boolean(s.jwtJwksUrl || s.jwtPublicKey || s.jwtSecret)
  const oauth = jwt || Boolean(s.introspectionUrl)
  if ((s.introspectionClientId === undefined) !== (s.introspectionClientSecret === undefined))
    throw s.introspectionClientId === undefined
      ? bad('introspectionClientId', 'required together with auth.introspectionClientSecret')
      : bad('introspectionClientSecret', 'required together with auth.introspectionClientId')
  if (s.introspectionClientId !== undefined && !s.introspectionUrl) throw bad('introspectionUrl', 'required when an introspection client is set')
  for (const k of ['jwtIssuer', 'jwtAlgorithms'] as const)
    if (s[k] && !jwt) throw bad(k, 'set, but no JWT key is (auth.jwtJwksUrl, auth.jwtPublicKey or auth.jwtSecret)')
  for (const k of ['jwtAudience', 'requiredScopes'] as const)
    if (s[k] && !oauth) throw bad(k, 'set, but neither a JWT key nor auth.introspectionUrl is')
  return Object.keys(s).length ? s : null
}

/** The settings without their secrets ("set" instead), for the admin API and the CLI. */
export function redactTenantAuth(s: TenantAuthSettings | null | undefined): Record<string, unknown> | null {
  if (!s) return null
  const out: Record<string, unknown> = {}
  for (const k of TENANT_AUTH_KEYS) if (s[k] !== undefined) out[k] = TENANT_AUTH_SECRETS.includes(k) ? 'set' : s[k]
  return out
}

/** The auth modes of a tenant, in the order they are tried for a bearer token (Basic last). */
export function tenantModes(row: Pick<TenantRow, 'tokenHash' | 'basicUser'> & { auth?: unknown }): AuthMode[] {
  const s = (row.auth ?? null) as TenantAuthSettings | null
  return [
    ...(row.tokenHash ? (['bearer'] as const) : []),
    ...(s && (s.jwtJwksUrl || s.jwtPublicKey || s.jwtSecret) ? (['jwt'] as const) : []),
    ...(s?.introspectionUrl ? (['introspection'] as const) : []),
    ...(row.basicUser ? (['basic'] as const) : []),
  ]
}

/** The server-level settings a tenant's authenticator shares (Config satisfies it). */
export type TenantAuthServer = Pick<AuthSettings, 'jwtClockSkew' | 'jwtJwksCooldown' | 'introspectionCache' | 'authFailLimit' | 'authFailWindow' | 'authFailMaxBackoff'>

/** The authenticator of one tenant: the server's createAuthenticator over the tenant's settings. */
export function tenantAuthenticator(row: TenantRow, server?: TenantAuthServer, log?: Logger, realm = 'scimd'): Authenticator {
  const s = (row.auth ?? null) as TenantAuthSettings | null
  const jwtOn = Boolean(s && (s.jwtJwksUrl || s.jwtPublicKey || s.jwtSecret))
  const cfg: AuthConfig = {
    realm: `${realm}/${row.id}`,
    bearerTokens: [],
    bearerTokenDigests: row.tokenHash ? [row.tokenHash] : [],
    basicDigest: row.basicUser ? { user: row.basicUser, passwordHex: row.basicPasswordHash } : undefined,
    tokenSubject: () => `tenant ${row.id} token`,
    log,
    requiredScopes: s?.requiredScopes,
    jwt: jwtOn
      ? {
          jwksUrl: s!.jwtJwksUrl,
          jwksCooldown: server?.jwtJwksCooldown,
          publicKey: s!.jwtPublicKey,
          secret: s!.jwtSecret,
          clockSkew: server?.jwtClockSkew ?? 60,
          issuer: s!.jwtIssuer,
          audience: s!.jwtAudience,
          algorithms: s!.jwtAlgorithms,
        }
      : undefined,
    introspection: s?.introspectionUrl
      ? {
          url: s.introspectionUrl,
          clientId: s.introspectionClientId,
          clientSecret: s.introspectionClientSecret,
          cacheSeconds: server?.introspectionCache ?? 300,
          clockSkew: server?.jwtClockSkew ?? 60,
          audience: s.jwtAudience,
        }
      : undefined,
    brake: server ? { limit: server.authFailLimit, window: server.authFailWindow, maxBackoff: server.authFailMaxBackoff } : undefined,
  }
  return createAuthenticator(cfg)
}

/**
 * One authenticator per tenant, rebuilt when the tenant's credentials or settings change (a rotation, a PATCH, or
 * `scimd tenant update` from another process): the JWKS cache, the introspection cache and the brake live in it.
 */
export function tenantAuthCache(server?: TenantAuthServer, log?: Logger) {
  const cache = new Map<string, { key: string; auth: Authenticator }>()
  return {
    get(row: TenantRow): Authenticator {
      const key = JSON.stringify([row.tokenHash, row.basicUser, row.basicPasswordHash, row.auth ?? null])
      const hit = cache.get(row.id)
      if (hit && hit.key === key) return hit.auth
      const auth = tenantAuthenticator(row, server, log)
      cache.set(row.id, { key, auth })
      return auth
    },
    drop(id: string) {
      cache.delete(id)
    },
    size: () => cache.size,
  }
}
