/**
 * JWT bearer tokens verified with jose. Key sources, each with the algorithms its key type allows:
 *  - a JWKS URL (createRemoteJWKSet: cached, re-fetched on an unknown kid at most once per cooldown),
 *  - a public key (PEM SPKI, X.509 certificate, JWK or JWKS),
 *  - an HMAC secret (HS256/384/512 only),
 *  - the local ES256 key pair of `scimd token` (kept in the database).
 * The token's `alg` picks the sources that may verify it, so an HS256 token is never checked against an RSA or EC
 * public key (and jose itself refuses to use one as an HMAC secret); `none` is never accepted. `exp` is required;
 * exp, nbf and iat are checked with the configured clock tolerance.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto'
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose'

export const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
export const EC_ALGS = ['ES256', 'ES384', 'ES512']
export const OKP_ALGS = ['EdDSA', 'Ed25519']
export const HMAC_ALGS = ['HS256', 'HS384', 'HS512']
export const ASYMMETRIC_ALGS = [...RSA_ALGS, ...EC_ALGS, ...OKP_ALGS]
export const ALL_JWT_ALGS = [...ASYMMETRIC_ALGS, ...HMAC_ALGS]

/** A token refused for a reason worth logging (never including the token). */
export class TokenRefused extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'TokenRefused'
  }
}

/** The key source (JWKS endpoint, introspection endpoint) could not be reached: not the client's fault. */
export class VerifierUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'VerifierUnavailable'
  }
}

/** Compact JWS shape: three base64url parts (the last may be empty, as with alg "none") and a JSON header. */
export function looksLikeJwt(token: string): boolean {
  if (!/^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token)) return false
  try {
    const h = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'))
    return typeof h === 'object' && h !== null && 'alg' in h
  } catch {
    return false
  }
}

function algsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGS
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512']
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve
      if (curve === 'prime256v1' || curve === 'P-256') return ['ES256']
      if (curve === 'secp384r1' || curve === 'P-384') return ['ES384']
      if (curve === 'secp521r1' || curve === 'P-521') return ['ES512']
      throw new Error(`unsupported EC curve '${curve}'`)
    }
    case 'ed25519':
      return OKP_ALGS
    default:
      throw new Error(`unsupported key type '${key.asymmetricKeyType ?? key.type}'`)
  }
}

export type ParsedPublicKey = { kind: 'key'; key: KeyObject; algs: string[] } | { kind: 'jwks'; jwks: { keys: JWK[] }; algs: string[] }

function publicJwk(jwk: JWK): KeyObject {
  if (jwk.kty === 'oct') throw new Error('a symmetric JWK is not a public key; use SCIMD_JWT_SECRET for HMAC')
  if ('d' in jwk || 'p' in jwk) throw new Error('this JWK holds a private key; give only the public part')
  return createPublicKey({ key: jwk as any, format: 'jwk' })
}

/** Parses SCIMD_JWT_PUBLIC_KEY's text; throws an Error whose message names the problem (never the key). */
export function parsePublicKey(text: string): ParsedPublicKey {
  const t = text.trim()
  if (t.startsWith('{')) {
    let json: any
    try {
      json = JSON.parse(t)
    } catch {
      throw new Error('looks like JSON but does not parse')
    }
    if (Array.isArray(json?.keys)) {
      const algs = new Set<string>()
      for (const k of json.keys) {
        const allowed = algsForKey(publicJwk(k))
        for (const a of k.alg ? allowed.filter((x) => x === k.alg) : allowed) algs.add(a)
      }
      if (algs.size === 0) throw new Error('the JWKS holds no usable key')
      return { kind: 'jwks', jwks: json, algs: [...algs] }
    }
    if (typeof json?.kty !== 'string') throw new Error('expected a JWK (with "kty") or a JWKS (with "keys")')
    const key = publicJwk(json)
    const allowed = algsForKey(key)
    const algs = json.alg ? allowed.filter((a) => a === json.alg) : allowed
    if (algs.length === 0) throw new Error(`the JWK's alg '${json.alg}' does not fit its key type`)
    return { kind: 'key', key, algs }
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(t)) throw new Error('this is a private key; give the public key (SPKI PEM)')
  let key: KeyObject
  try {
    key = t.includes('-----BEGIN CERTIFICATE-----') ? new X509Certificate(t).publicKey : createPublicKey(t)
  } catch {
    throw new Error('expected a PEM public key (-----BEGIN PUBLIC KEY-----), a PEM certificate, a JWK or a JWKS')
  }
  return { kind: 'key', key, algs: algsForKey(key) }
}

export interface JwtVerifierOptions {
  jwksUrl?: string
  /** seconds */
  jwksCooldown?: number
  /** seconds; how long a fetched JWKS is trusted before it is fetched again (default 10 min) */
  jwksMaxAge?: number
  jwksTimeoutMs?: number
  publicKey?: string
  secret?: string
  /** The local `scimd token` public key, looked up when needed (it may appear while the server runs). */
  localKey?: () => JWK | undefined
  /** seconds */
  clockSkew: number
  issuer?: string[]
  audience?: string[]
  algorithms?: string[]
}

interface Source {
  name: string
  algs: string[]
  key: KeyObject | Uint8Array | JWTVerifyGetKey | (() => Promise<KeyObject | undefined>)
  lazy?: boolean
}

export interface JwtVerifier {
  /** The names of the configured key sources ('jwks', 'public-key', 'secret', 'local'). */
  sources: string[]
  /** True when some key can verify a token now (a configured source, or the local key once it exists). */
  active(): boolean
  /** Resolves to the verified claims; throws TokenRefused or VerifierUnavailable. */
  verify(token: string): Promise<JWTPayload>
}

const narrow = (algs: string[], allowed?: string[]) => (allowed ? algs.filter((a) => allowed.includes(a)) : algs)

export function createJwtVerifier(o: JwtVerifierOptions): JwtVerifier {
  const sources: Source[] = []
  if (o.jwksUrl) {
    const remote = createRemoteJWKSet(new URL(o.jwksUrl), {
      cooldownDuration: Math.round((o.jwksCooldown ?? 30) * 1000),
      cacheMaxAge: Math.round((o.jwksMaxAge ?? 600) * 1000),
      timeoutDuration: o.jwksTimeoutMs ?? 5000,
    })
    const getKey: JWTVerifyGetKey = async (header, token) => {
      try {
        return await remote(header, token)
      } catch (e) {
        if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) throw e
        throw new VerifierUnavailable(`JWKS ${o.jwksUrl} unavailable: ${(e as Error).message}`)
      }
    }
    sources.push({ name: 'jwks', algs: narrow(ASYMMETRIC_ALGS, o.algorithms), key: getKey })
  }
  if (o.publicKey) {
    const p = parsePublicKey(o.publicKey)
    sources.push({ name: 'public-key', algs: narrow(p.algs, o.algorithms), key: p.kind === 'key' ? p.key : createLocalJWKSet(p.jwks) })
  }
  if (o.secret) sources.push({ name: 'secret', algs: narrow(HMAC_ALGS, o.algorithms), key: new TextEncoder().encode(o.secret) })
  let cached: KeyObject | undefined
  const loadLocal = () => {
    if (cached || !o.localKey) return cached
    const jwk = o.localKey()
    if (jwk) cached = publicJwk(jwk)
    return cached
  }
  if (o.localKey) {
    const load = async () => loadLocal()
    sources.push({ name: 'local', algs: narrow(['ES256'], o.algorithms), key: load, lazy: true })
  }
  const skew = o.clockSkew

  async function verifyWith(src: Source, token: string): Promise<JWTPayload> {
    let key = src.key
    if (src.lazy) {
      const k = await (src.key as () => Promise<KeyObject | undefined>)()
      if (!k) throw new TokenRefused('no local key exists yet (run `scimd token`)')
      key = k
    }
    const { payload } = await jwtVerify(token, key as any, {
      algorithms: src.algs,
      issuer: o.issuer,
      audience: o.audience,
      clockTolerance: skew,
      requiredClaims: ['exp'],
    })
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + skew) throw new TokenRefused('"iat" is in the future')
    return payload
  }

  return {
    sources: sources.map((s) => s.name),
    active: () => sources.some((s) => !s.lazy) || loadLocal() !== undefined,
    async verify(token) {
      let alg: string | undefined
      try {
        alg = decodeProtectedHeader(token).alg
      } catch {
        throw new TokenRefused('malformed JWS header')
      }
      if (!alg || alg.toLowerCase() === 'none') throw new TokenRefused('unsigned token (alg "none")')
      const candidates = sources.filter((s) => s.algs.includes(alg))
      if (candidates.length === 0) throw new TokenRefused(`algorithm ${alg} is not accepted for any configured key`)
      let refused: TokenRefused | undefined
      let unavailable: VerifierUnavailable | undefined
      for (const src of candidates) {
        try {
          return await verifyWith(src, token)
        } catch (e) {
          if (e instanceof VerifierUnavailable) unavailable ??= e
          else if (e instanceof TokenRefused) refused ??= new TokenRefused(`${src.name}: ${e.reason}`)
          else if (e instanceof errors.JOSEError) refused ??= new TokenRefused(`${src.name}: ${e.code}: ${e.message}`)
          else if (e instanceof TypeError) refused ??= new TokenRefused(`${src.name}: ${e.message}`)
          else throw e
        }
      }
      if (refused && !unavailable) throw refused
      throw unavailable ?? refused!
    },
  }
}

/** Scopes of a token: the `scope` claim (space-separated, RFC 8693/9068) or `scp` (array or string, Okta/Entra). */
export function scopesOf(claims: Record<string, unknown>): string[] {
  const out = new Set<string>()
  for (const v of [claims.scope, claims.scp]) {
    if (typeof v === 'string') for (const s of v.split(' ')) s && out.add(s)
    else if (Array.isArray(v)) for (const s of v) typeof s === 'string' && s && out.add(s)
  }
  return [...out]
}
