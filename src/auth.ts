/**
 * Authentication of SCIM requests. Credentials come from the Authorization header only: a token in the query
 * string or in a form-encoded body is refused (it would end up in proxy and access logs). Modes: HTTP Basic, static
 * bearer tokens, JWT bearer tokens (src/jwt.ts) and opaque tokens checked by RFC 7662 introspection
 * (src/introspection.ts); the first mode that accepts wins. Secrets are compared in constant time (SHA-256 of both
 * sides, timingSafeEqual) and never logged or echoed. Why a token was refused goes to the server log; the client
 * gets a generic 401. OAuth tokens (JWT, introspection) must carry the required scopes, else 403 insufficient_scope.
 * A brake (src/auth-brake.ts) answers 429 to an address that keeps failing.
 */
import { timingSafeEqual } from 'node:crypto'
import { ScimError, forbidden, serviceUnavailable, unauthorized } from './scim/errors'
import { createJwtVerifier, looksLikeJwt, scopesOf, TokenRefused, VerifierUnavailable, type JwtVerifier, type JwtVerifierOptions } from './jwt'
import { createIntrospector, type IntrospectionOptions, type Introspector } from './introspection'
import { createBrake, type Brake, type BrakeOptions } from './auth-brake'
import { silentLogger, type Logger } from './log'

export type AuthMode = 'basic' | 'bearer' | 'jwt' | 'introspection'

export interface Principal {
  mode: AuthMode
  /** who: the Basic user name, a short non-secret label of a static token ("token #1"), or the token's `sub`. */
  subject: string
  /** the OAuth token's scopes (JWT and introspection modes) */
  scopes?: string[]
  /** the verified claims (JWT) or introspection response (introspection): for /Me's SCIMD_ME_CLAIM; never logged */
  claims?: Record<string, unknown>
}

export interface AuthConfig {
  basicAuth?: { user: string; password: string }
  bearerTokens: string[]
  /** Static tokens given as stored SHA-256 digests (hex) instead of clear text: a tenant keeps only digests. */
  bearerTokenDigests?: string[]
  /** Basic credentials with the password as a stored SHA-256 digest (hex): a tenant's (src/tenants/service.ts). */
  basicDigest?: { user: string; passwordHex: string | null }
  /** The principal's subject for a static token (default: "token #N") */
  tokenSubject?: (index: number) => string
  realm?: string
  /** JWT verification; on when it names at least one key source. */
  jwt?: JwtVerifierOptions
  introspection?: IntrospectionOptions
  /** scopes an OAuth token (JWT or introspected) must carry */
  requiredScopes?: string[]
  /** the brake on guessing; off when absent or limit is 0 */
  brake?: BrakeOptions
  log?: Logger
  /** Retry-After (seconds) when a JWKS or introspection endpoint is unreachable */
  retryAfter?: number
}

const digest = (s: string) => Bun.SHA256.hash(s) as Uint8Array
/** A stored hex digest as bytes; a malformed or missing one becomes the digest of a random value (never matches). */
const storedDigest = (hex: string | null | undefined) =>
  hex && /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : digest(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex'))

/** Constant-time string equality (length differences are hidden by hashing first). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b))
}

export interface Authenticator {
  /**
   * Resolves to the principal, or rejects with a ScimError: 401 with WWW-Authenticate, 403 insufficient_scope,
   * 429 (brake, with Retry-After) or 503 (key or introspection endpoint unreachable, with Retry-After).
   * `address` is the client's address, for the brake (no brake without it).
   */
  /**
   * `url`: the request's URL when the caller has it parsed (else parsed only when needed); `address`: the client's
   * address for the brake, or a function giving it (asked only while the brake holds entries or on a failure).
   */
  authenticate(request: Request, url?: URL, address?: string | (() => string | undefined)): Promise<Principal>
  /** The configured modes, in the order they are tried. */
  readonly schemes: AuthMode[]
  /** The 401 refusal for a token sent in a form-encoded body. */
  formTokenRefusal(): ScimError
}

export function createAuthenticator(cfg: AuthConfig): Authenticator {
  const realm = cfg.realm ?? 'scimd'
  const log = cfg.log ?? silentLogger
  const tokens = [...cfg.bearerTokens.map((t) => digest(t)), ...(cfg.bearerTokenDigests ?? []).map(storedDigest)]
  const basic = cfg.basicAuth
    ? { user: digest(cfg.basicAuth.user), password: digest(cfg.basicAuth.password) }
    : cfg.basicDigest
      ? { user: digest(cfg.basicDigest.user), password: storedDigest(cfg.basicDigest.passwordHex) }
      : undefined
  const jwt: JwtVerifier | undefined = cfg.jwt ? createJwtVerifier(cfg.jwt) : undefined
  const introspector: Introspector | undefined = cfg.introspection ? createIntrospector(cfg.introspection) : undefined
  const brake: Brake | undefined = cfg.brake && cfg.brake.limit > 0 ? createBrake(cfg.brake) : undefined
  const required = cfg.requiredScopes ?? []
  const retryAfter = cfg.retryAfter ?? 5

  /** JWT mode counts once a key source is usable (the local key of `scimd token` may appear while scimd runs). */
  const schemesNow = (): AuthMode[] => {
    const schemes: AuthMode[] = []
    if (tokens.length) schemes.push('bearer')
    if (jwt?.active()) schemes.push('jwt')
    if (introspector) schemes.push('introspection')
    if (basic) schemes.push('basic')
    return schemes
  }
  const isBearerLike = () => tokens.length > 0 || Boolean(introspector) || Boolean(jwt?.active())

  const challenge = (error?: string, extra = '') => {
    const parts: string[] = []
    if (isBearerLike()) parts.push(`Bearer realm="${realm}"${error ? `, error="${error}"` : ''}${extra}`)
    if (basic) parts.push(`Basic realm="${realm}", charset="UTF-8"`)
    return parts.join(', ')
  }
  const deny = (detail: string, error?: string): ScimError => unauthorized(detail, challenge(error))

  function checkScopes(p: Principal): Principal {
    const missing = required.filter((s) => !p.scopes?.includes(s))
    if (missing.length)
      throw forbidden(`The access token lacks the required scope: ${missing.join(' ')}`, {
        'WWW-Authenticate': `Bearer realm="${realm}", error="insufficient_scope", scope="${required.join(' ')}"`,
      })
    return p
  }

  const fromClaims = (mode: AuthMode, c: Record<string, unknown>): Principal => ({
    mode,
    subject: String(c.sub ?? c.client_id ?? c.username ?? mode),
    scopes: scopesOf(c),
    claims: c,
  })

  /** Bearer credentials: static tokens, then JWT, then introspection. Returns the principal or a failure. */
  async function bearer(credentials: string): Promise<Principal | { refused: string[]; unavailable?: string }> {
    const refused: string[] = []
    let unavailable: string | undefined
    if (tokens.length) {
      const d = digest(credentials)
      let match = -1
      // check every token so the time taken does not tell which one matched
      for (let i = 0; i < tokens.length; i++) if (timingSafeEqual(d, tokens[i]) && match < 0) match = i
      if (match >= 0) return { mode: 'bearer', subject: cfg.tokenSubject ? cfg.tokenSubject(match) : `token #${match + 1}` }
      refused.push('bearer: not a configured static token')
    }
    if (credentials === '') return { refused }
    if (jwt && looksLikeJwt(credentials)) {
      try {
        return fromClaims('jwt', await jwt.verify(credentials))
      } catch (e) {
        if (e instanceof VerifierUnavailable) unavailable = e.reason
        else if (e instanceof TokenRefused) refused.push(`jwt: ${e.reason}`)
        else throw e
      }
    }
    if (introspector) {
      try {
        return fromClaims('introspection', await introspector.introspect(credentials))
      } catch (e) {
        if (e instanceof VerifierUnavailable) unavailable ??= e.reason
        else if (e instanceof TokenRefused) refused.push(e.reason)
        else throw e
      }
    }
    return { refused, unavailable }
  }

  async function check(request: Request, url: () => URL): Promise<Principal> {
    const header = request.headers.get('authorization')
    if (!header) throw deny('Authentication required')
    const sp = header.indexOf(' ')
    const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase()
    const credentials = sp < 0 ? '' : header.slice(sp + 1).trim()
    const bearerLike = isBearerLike()
    if (scheme === 'bearer' && bearerLike) {
      const r = await bearer(credentials)
      if ('mode' in r) return r
      if (r.unavailable) {
        log.error('cannot verify bearer token: verifier unavailable', { reason: r.unavailable, path: url().pathname })
        throw serviceUnavailable('Cannot verify the access token right now; retry later', retryAfter)
      }
      throw Object.assign(deny('Invalid bearer token', 'invalid_token'), { failure: r.refused.join('; ') })
    }
    if (scheme === 'basic' && basic) {
      let decoded = ''
      try {
        decoded = Buffer.from(credentials, 'base64').toString('utf8')
      } catch {}
      const i = decoded.indexOf(':')
      const user = i < 0 ? decoded : decoded.slice(0, i)
      const password = i < 0 ? '' : decoded.slice(i + 1)
      const okUser = timingSafeEqual(digest(user), basic.user)
      const okPassword = timingSafeEqual(digest(password), basic.password)
      if (okUser && okPassword && i >= 0) return { mode: 'basic', subject: user }
      throw Object.assign(deny('Invalid credentials'), { failure: 'basic: wrong user or password' })
    }
    const names = [bearerLike ? 'Bearer' : '', basic ? 'Basic' : ''].filter(Boolean).join(' or ')
    throw Object.assign(deny(`Unsupported authorization scheme; use ${names}`), { failure: `unsupported scheme '${scheme.slice(0, 20)}'` })
  }

  return {
    get schemes() {
      return schemesNow()
    },
    formTokenRefusal: () => deny('Access tokens in the request body are not accepted; send them in the Authorization header', 'invalid_request'),
    async authenticate(request, parsed, addressOrFn) {
      let url = parsed
      const urlNow = () => (url ??= new URL(request.url))
      if (request.url.includes('access_token') && urlNow().searchParams.has('access_token'))
        throw deny('Access tokens in the query string are not accepted; send them in the Authorization header', 'invalid_request')
      let address: string | undefined
      let known = false
      const addressNow = () => {
        if (!known) {
          address = typeof addressOrFn === 'function' ? addressOrFn() : addressOrFn
          known = true
        }
        return address
      }
      // the brake's table is empty unless someone failed lately: the client's address is only looked up then
      if (brake && brake.size() > 0 && addressNow()) {
        const wait = brake.check(address!)
        if (wait > 0)
          throw new ScimError(429, 'Too many failed authentication attempts; retry later', undefined, { 'Retry-After': String(wait) })
      }
      let principal: Principal
      try {
        principal = await check(request, urlNow)
      } catch (e) {
        const failure = (e as { failure?: string }).failure
        if (failure !== undefined) {
          // a credential was presented and refused: counts for the brake; the reason is for the log only
          if (brake && addressNow()) brake.fail(address!)
          log.info('authentication refused', { reason: failure, address: addressNow(), path: urlNow().pathname })
        }
        throw e
      }
      if (brake && brake.size() > 0 && addressNow()) brake.succeed(address!)
      return principal.mode === 'jwt' || principal.mode === 'introspection' ? checkScopes(principal) : principal
    },
  }
}

/** OpenAPI security schemes and requirements for the configured modes. */
export function openApiSecurity(schemes: AuthMode[]) {
  const securitySchemes: Record<string, Record<string, string>> = {}
  const names: string[] = []
  for (const s of schemes) {
    const [name, def] =
      s === 'basic'
        ? ['basicAuth', { type: 'http', scheme: 'basic' }]
        : s === 'jwt'
          ? ['jwtAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'OAuth 2.0 access token as a signed JWT (RFC 9068)' }]
          : s === 'introspection'
            ? ['oauthAuth', { type: 'http', scheme: 'bearer', description: 'OAuth 2.0 access token, checked by token introspection (RFC 7662)' }]
            : ['bearerAuth', { type: 'http', scheme: 'bearer', description: 'A static bearer token' }]
    securitySchemes[name] = def as Record<string, string>
    names.push(name)
  }
  return { securitySchemes, security: names.map((n) => ({ [n]: [] as string[] })) }
}

/** True when a form-encoded body carries an `access_token` field (RFC 6750 §2.2), which scimd refuses. */
export function formBodyHasToken(text: string): boolean {
  const t = text.trimStart()
  if (t.startsWith('{') || t.startsWith('[')) return false // JSON sent with curl's default form content type
  return new URLSearchParams(t).has('access_token')
}

/** A fresh random bearer token (256 bits, base64url). */
export function generateToken(): string {
  return 'scimd_' + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}
