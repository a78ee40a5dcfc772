/**
 * Configuration of the OAuth 2.0 modes (JWT, introspection, required scopes), of what is public, and of the brake
 * on guessing. Spread into config.ts's OPTIONS/DEFAULTS/Config so that every setting keeps the one env var ↔ flag ↔
 * README row rule; the parsers here only check and normalise (keys are imported by src/jwt.ts at start-up).
 */
import { readFileSync } from 'node:fs'
import { ALL_JWT_ALGS, parsePublicKey } from './jwt'
import { fail, parseBool, wholeNumber, type OptionSpec } from './options'

export interface AuthSettings {
  /** JWKS URL of the authorization server (e.g. https://example.okta.com/oauth2/default/v1/keys). */
  jwtJwksUrl?: string
  /** Least time between two JWKS fetches triggered by an unknown kid, seconds. */
  jwtJwksCooldown: number
  /** A public key as text: PEM (SPKI or X.509 certificate), a JWK or a JWKS (JSON). */
  jwtPublicKey?: string
  /** HMAC secret for HS256/384/512 tokens. */
  jwtSecret?: string
  /** Tolerance for exp, nbf and iat, seconds. */
  jwtClockSkew: number
  jwtIssuer?: string[]
  jwtAudience?: string[]
  /** Restricts the algorithms further (always intersected with what the key type allows). */
  jwtAlgorithms?: string[]
  /** Verify tokens made by `scimd token` with the key pair kept in the database: true, false, or 'auto'. */
  jwtLocal: boolean | 'auto'
  /** Scopes every OAuth token (JWT or introspected) must carry. */
  requiredScopes: string[]
  introspectionUrl?: string
  introspectionClientId?: string
  introspectionClientSecret?: string
  /** Longest time an active introspection answer is reused, seconds (never past the token's exp). */
  introspectionCache: number
  publicDocs: boolean
  publicDiscovery: boolean
  /** Failed authentications from one address tolerated within the window before the brake engages (0: off). */
  authFailLimit: number
  authFailWindow: number
  /** Cap of the brake's exponential back-off, seconds. */
  authFailMaxBackoff: number
}

export const AUTH_DEFAULTS: AuthSettings = {
  jwtJwksCooldown: 30,
  jwtClockSkew: 60,
  jwtLocal: 'auto',
  requiredScopes: [],
  introspectionCache: 300,
  publicDocs: true,
  publicDiscovery: true,
  authFailLimit: 10,
  authFailWindow: 60,
  authFailMaxBackoff: 30,
}

/** `90`, `90s`, `500ms`, `5m`, `1h`, `1d` → seconds. */
export function parseDuration(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)?\s*$/i.exec(raw)
  if (!m) fail(`expected a duration such as 60, 60s, 5m or 1h, got '${raw}'`)
  const n = Number(m[1])
  const unit = (m[2] ?? 's').toLowerCase()
  const mult = unit === 'ms' ? 0.001 : unit === 'm' || unit === 'min' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86400 : 1
  return n * mult
}


const list = (raw: string): string[] => {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean)
  if (items.length === 0) fail('expected one or more comma-separated values')
  return items
}

const httpUrl = (raw: string): string => {
  let u: URL
  try {
    u = new URL(raw.trim())
  } catch {
    fail(`expected an absolute http(s) URL, got '${raw}'`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`expected an http or https URL, got '${raw}'`)
  return u.href
}

const durationIn = (min: number, max: number) => (raw: string) => {
  const s = parseDuration(raw)
  if (s < min || s > max) fail(`expected a duration from ${min} s to ${max} s, got '${raw}'`)
  return s
}

/** `@/path/file` reads the file; otherwise the value itself (literal `\n` in a one-line env var become newlines). */
function keyText(raw: string): string {
  const v = raw.trim()
  if (v.startsWith('@')) {
    const path = v.slice(1)
    try {
      return readFileSync(path, 'utf8')
    } catch (e) {
      fail(`cannot read '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
    }
  }
  return v.replace(/\\n/g, '\n')
}

export const AUTH_OPTIONS: OptionSpec<AuthSettings>[] = [
  { key: 'jwtJwksUrl', env: 'SCIMD_JWT_JWKS_URL', flag: '--jwt-jwks-url', doc: "Verify JWT bearer tokens with the keys at this JWKS URL (the authorization server's `jwks_uri`)", defaultText: '(off)', parse: httpUrl },
  { key: 'jwtJwksCooldown', env: 'SCIMD_JWT_JWKS_COOLDOWN', flag: '--jwt-jwks-cooldown', doc: 'Least time between two JWKS fetches caused by an unknown `kid` (bounds the refresh rate)', defaultText: '30s', parse: durationIn(0, 86400) },
  {
    key: 'jwtPublicKey',
    env: 'SCIMD_JWT_PUBLIC_KEY',
    flag: '--jwt-public-key',
    doc: 'Verify JWT bearer tokens with this public key: PEM (SPKI or certificate), a JWK or a JWKS as JSON, or `@file`',
    defaultText: '(off)',
    parse: (raw) => {
      const text = keyText(raw)
      parsePublicKey(text) // throws with the reason
      return text
    },
  },
  {
    key: 'jwtSecret',
    env: 'SCIMD_JWT_SECRET',
    flag: '--jwt-secret',
    secret: true,
    doc: 'Verify HS256/HS384/HS512 JWT bearer tokens with this shared secret (at least 32 bytes)',
    defaultText: '(off)',
    parse: (raw) => (Buffer.byteLength(raw, 'utf8') >= 32 ? raw : fail('must be at least 32 bytes (RFC 7518 §3.2)')),
  },
  { key: 'jwtClockSkew', env: 'SCIMD_JWT_CLOCK_SKEW', flag: '--jwt-clock-skew', doc: 'Clock tolerance for a JWT\'s `exp`, `nbf` and `iat`', defaultText: '60s', parse: durationIn(0, 3600) },
  { key: 'jwtIssuer', env: 'SCIMD_JWT_ISSUER', flag: '--jwt-issuer', doc: 'Required JWT `iss` (comma-separated: any of them)', defaultText: '(not checked)', parse: list },
  { key: 'jwtAudience', env: 'SCIMD_JWT_AUDIENCE', flag: '--jwt-audience', doc: 'Required JWT `aud` (comma-separated: any of them); also checked on introspection answers that carry `aud`', defaultText: '(not checked)', parse: list },
  {
    key: 'jwtAlgorithms',
    env: 'SCIMD_JWT_ALGORITHMS',
    flag: '--jwt-algorithms',
    doc: 'Accepted JWT algorithms, comma-separated; always narrowed to what the key type allows (`none` is never accepted)',
    defaultText: '(every algorithm of the key type)',
    parse: (raw) => {
      const algs = list(raw)
      for (const a of algs) if (!ALL_JWT_ALGS.includes(a)) fail(`unknown or refused algorithm '${a}' (accepted: ${ALL_JWT_ALGS.join(', ')})`)
      return algs
    },
  },
  {
    key: 'jwtLocal',
    env: 'SCIMD_JWT_LOCAL',
    flag: '--jwt-local',
    doc: "Verify tokens signed by `scimd token`'s key pair (kept in the database) and publish it at `/.well-known/jwks.json`: `true`, `false`, or `auto` (when that key exists and no other JWT key is configured)",
    defaultText: 'auto',
    parse: (raw) => (raw.trim().toLowerCase() === 'auto' ? 'auto' : parseBool(raw)),
  },
  {
    key: 'requiredScopes',
    env: 'SCIMD_REQUIRED_SCOPES',
    flag: '--required-scopes',
    doc: 'Scopes every OAuth token must carry (space- or comma-separated; read from the `scope` or `scp` claim); else 403 `insufficient_scope`',
    defaultText: '(none)',
    parse: (raw) => {
      const s = raw.split(/[\s,]+/).filter(Boolean)
      if (s.length === 0) fail('expected one or more scopes')
      return s
    },
  },
  { key: 'introspectionUrl', env: 'SCIMD_INTROSPECTION_URL', flag: '--introspection-url', doc: 'Check opaque bearer tokens with this RFC 7662 token introspection endpoint', defaultText: '(off)', parse: httpUrl },
  { key: 'introspectionClientId', env: 'SCIMD_INTROSPECTION_CLIENT_ID', flag: '--introspection-client-id', doc: "scimd's client id at the introspection endpoint (HTTP Basic, `client_secret_basic`)", defaultText: '(none)', parse: (r) => r.trim() || fail('must not be empty') },
  { key: 'introspectionClientSecret', env: 'SCIMD_INTROSPECTION_CLIENT_SECRET', flag: '--introspection-client-secret', secret: true, doc: "scimd's client secret at the introspection endpoint", defaultText: '(none)', parse: (r) => r || fail('must not be empty') },
  { key: 'introspectionCache', env: 'SCIMD_INTROSPECTION_CACHE', flag: '--introspection-cache', doc: "Longest time an `active` introspection answer is reused (never past the token's `exp`; 0 turns the cache off)", defaultText: '300s', parse: durationIn(0, 86400) },
  { key: 'publicDocs', env: 'SCIMD_PUBLIC_DOCS', flag: '--public-docs', boolean: true, doc: '`/docs` and `/docs/json` without authentication; `false` puts them behind the configured auth', defaultText: 'true', parse: parseBool },
  { key: 'publicDiscovery', env: 'SCIMD_PUBLIC_DISCOVERY', flag: '--public-discovery', boolean: true, doc: '`/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` without authentication; `false` puts them behind it', defaultText: 'true', parse: parseBool },
  { key: 'authFailLimit', env: 'SCIMD_AUTH_FAIL_LIMIT', flag: '--auth-fail-limit', doc: 'Failed authentications one client address may make within the window before it is slowed down (0 turns the brake off)', defaultText: '10', parse: wholeNumber(0, 1_000_000) },
  { key: 'authFailWindow', env: 'SCIMD_AUTH_FAIL_WINDOW', flag: '--auth-fail-window', doc: 'An address is forgiven once it has had no failed authentication for this long', defaultText: '60s', parse: durationIn(1, 86400) },
  { key: 'authFailMaxBackoff', env: 'SCIMD_AUTH_FAIL_MAX_BACKOFF', flag: '--auth-fail-max-backoff', doc: 'Cap of the back-off (1 s, 2 s, 4 s, …) during which a braked address gets 429 with `Retry-After`', defaultText: '30s', parse: durationIn(1, 3600) },
]

/** Checks between settings; returns problems in the config.ts style (`NAME: message`). */
export function checkAuthSettings(c: AuthSettings): string[] {
  const p: string[] = []
  const id = c.introspectionClientId !== undefined
  const secret = c.introspectionClientSecret !== undefined
  if (id !== secret) p.push(`${id ? 'SCIMD_INTROSPECTION_CLIENT_SECRET' : 'SCIMD_INTROSPECTION_CLIENT_ID'}: required together with ${id ? 'SCIMD_INTROSPECTION_CLIENT_ID' : 'SCIMD_INTROSPECTION_CLIENT_SECRET'}`)
  if ((id || secret) && !c.introspectionUrl) p.push('SCIMD_INTROSPECTION_URL: required when an introspection client is configured')
  if (c.jwtAlgorithms && !c.jwtJwksUrl && !c.jwtPublicKey && !c.jwtSecret && c.jwtLocal === false)
    p.push('SCIMD_JWT_ALGORITHMS: set, but no JWT key is configured (SCIMD_JWT_JWKS_URL, SCIMD_JWT_PUBLIC_KEY, SCIMD_JWT_SECRET)')
  return p
}
