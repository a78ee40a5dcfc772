/**
 * Authentication of SCIM requests. Credentials come from the Authorization header only: a token in the query
 * string is refused (it would end up in proxy and access logs). Modes: HTTP Basic and static bearer tokens; the
 * first mode that accepts wins. Secrets are compared in constant time (SHA-256 of both sides, timingSafeEqual),
 * and never logged or echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { ScimError, unauthorized } from './scim/errors'

export type AuthMode = 'basic' | 'bearer'

export interface Principal {
  mode: AuthMode
  /** who: the Basic user name, or a short non-secret label of the bearer token ("token #1"). */
  subject: string
}

export interface AuthConfig {
  basicAuth?: { user: string; password: string }
  bearerTokens: string[]
  realm?: string
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

/** Constant-time string equality (length differences are hidden by hashing first). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b))
}

export interface Authenticator {
  /** Returns the principal, or throws a 401 ScimError with WWW-Authenticate. */
  authenticate(request: Request, url: URL): Principal
  schemes: AuthMode[]
}

export function createAuthenticator(cfg: AuthConfig): Authenticator {
  const realm = cfg.realm ?? 'scimd'
  const tokens = cfg.bearerTokens.map((t) => digest(t))
  const basic = cfg.basicAuth ? { user: digest(cfg.basicAuth.user), password: digest(cfg.basicAuth.password) } : undefined
  const schemes: AuthMode[] = []
  if (tokens.length) schemes.push('bearer')
  if (basic) schemes.push('basic')

  const challenge = (error?: string) =>
    schemes
      .map((s) =>
        s === 'bearer' ? `Bearer realm="${realm}"${error ? `, error="${error}"` : ''}` : `Basic realm="${realm}", charset="UTF-8"`,
      )
      .join(', ')

  const deny = (detail: string, error?: string): ScimError => unauthorized(detail, challenge(error))

  return {
    schemes,
    authenticate(request, url) {
      if (url.searchParams.has('access_token'))
        throw deny('Access tokens in the query string are not accepted; send them in the Authorization header', 'invalid_request')
      const header = request.headers.get('authorization')
      if (!header) throw deny('Authentication required')
      const sp = header.indexOf(' ')
      const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase()
      const credentials = sp < 0 ? '' : header.slice(sp + 1).trim()
      if (scheme === 'bearer' && tokens.length) {
        const d = digest(credentials)
        let match = -1
        // check every token so the time taken does not tell which one matched
        for (let i = 0; i < tokens.length; i++) if (timingSafeEqual(d, tokens[i]) && match < 0) match = i
        if (match >= 0) return { mode: 'bearer', subject: `token #${match + 1}` }
        throw deny('Invalid bearer token', 'invalid_token')
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
        throw deny('Invalid credentials')
      }
      throw deny(`Unsupported authorization scheme; use ${schemes.map((s) => (s === 'bearer' ? 'Bearer' : 'Basic')).join(' or ')}`)
    },
  }
}

/** A fresh random bearer token (256 bits, base64url). */
export function generateToken(): string {
  return 'scimd_' + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}
