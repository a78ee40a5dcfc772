/**
 * OAuth 2.0 token introspection (RFC 7662) for opaque bearer tokens. scimd authenticates to the endpoint with
 * `client_secret_basic`. An active answer is cached until the token's `exp` and at most `cacheSeconds`; the cache is
 * keyed by the SHA-256 of the token (the token itself is never stored), bounded in size, oldest entries evicted
 * first. Inactive answers are not cached (the brake on failed authentication limits how often they can be asked).
 * An endpoint that cannot be reached, times out, or answers anything but 200 with a JSON object raises
 * VerifierUnavailable: the server answers 503 with Retry-After, since the client's token may well be good.
 */
import { createHash } from 'node:crypto'
import { TokenRefused, VerifierUnavailable } from './jwt'

export interface IntrospectionOptions {
  url: string
  clientId?: string
  clientSecret?: string
  /** seconds */
  cacheSeconds: number
  /** seconds of tolerance when comparing exp/nbf */
  clockSkew: number
  /** when set and the answer carries `aud`, one of these must be in it */
  audience?: string[]
  timeoutMs?: number
  maxEntries?: number
  fetch?: typeof fetch
  now?: () => number
}

export interface Introspector {
  /** The claims of an active token; throws TokenRefused (inactive) or VerifierUnavailable. */
  introspect(token: string): Promise<Record<string, unknown>>
  cacheSize(): number
}

const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')

export function createIntrospector(o: IntrospectionOptions): Introspector {
  const now = o.now ?? Date.now
  const doFetch = o.fetch ?? fetch
  const max = o.maxEntries ?? 10_000
  const cache = new Map<string, { claims: Record<string, unknown>; until: number }>()
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  }
  if (o.clientId !== undefined && o.clientSecret !== undefined)
    // RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic encoding
    headers.authorization = 'Basic ' + Buffer.from(`${formEncode(o.clientId)}:${formEncode(o.clientSecret)}`).toString('base64')

  async function ask(token: string): Promise<Record<string, unknown>> {
    let res: Response
    try {
      res = await doFetch(o.url, {
        method: 'POST',
        headers,
        body: `token=${formEncode(token)}&token_type_hint=access_token`,
        signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
        redirect: 'manual',
      })
    } catch (e) {
      throw new VerifierUnavailable(`introspection endpoint unreachable: ${(e as Error).name}: ${(e as Error).message}`)
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {})
      throw new VerifierUnavailable(`introspection endpoint answered HTTP ${res.status}`)
    }
    let json: unknown
    try {
      json = await res.json()
    } catch {
      throw new VerifierUnavailable('introspection endpoint answered something other than JSON')
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new VerifierUnavailable('introspection answer is not a JSON object')
    return json as Record<string, unknown>
  }

  return {
    cacheSize: () => cache.size,
    async introspect(token) {
      const key = createHash('sha256').update(token, 'utf8').digest('base64url')
      const t = now()
      const hit = cache.get(key)
      if (hit) {
        if (t < hit.until) return hit.claims
        cache.delete(key)
      }
      const claims = await ask(token)
      if (claims.active !== true) throw new TokenRefused('introspection: token is not active')
      const skew = o.clockSkew * 1000
      const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined
      if (exp !== undefined && exp + skew <= t) throw new TokenRefused('introspection: token has expired (exp)')
      if (typeof claims.nbf === 'number' && claims.nbf * 1000 - skew > t) throw new TokenRefused('introspection: token is not yet valid (nbf)')
      if (o.audience && claims.aud !== undefined) {
        const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
        if (!aud.some((a) => typeof a === 'string' && o.audience!.includes(a))) throw new TokenRefused('introspection: unexpected "aud"')
      }
      if (o.cacheSeconds > 0) {
        const until = Math.min(t + o.cacheSeconds * 1000, exp ?? Infinity)
        if (until > t) {
          cache.delete(key)
          cache.set(key, { claims, until })
          while (cache.size > max) cache.delete(cache.keys().next().value!)
        }
      }
      return claims
    },
  }
}
