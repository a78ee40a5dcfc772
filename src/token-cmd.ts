/**
 * `scimd token`: prints a signed test JWT, so that JWT mode can be tried with curl.
 *   --sub <subject>   (default: scimd-test)
 *   --scope <scopes>  space- or comma-separated (default: SCIMD_REQUIRED_SCOPES)
 *   --ttl <duration>  e.g. 15m, 1h, 1d (default: 1h)
 *   --aud <audience>  (default: the first SCIMD_JWT_AUDIENCE)
 *   --iss <issuer>    (default: the first SCIMD_JWT_ISSUER, else "scimd")
 *   --secret <secret> sign with HS256 and this secret (default: SCIMD_JWT_SECRET when set)
 * Without a secret it signs with ES256 and the local key pair, made on first use and kept in the settings table
 * (the private JWK); the server verifies such tokens while the local key is in use (SCIMD_JWT_LOCAL) and publishes
 * the public half at /.well-known/jwks.json.
 */
import { createHash, generateKeyPairSync } from 'node:crypto'
import { importJWK, SignJWT, type JWK } from 'jose'
import type { Config } from './config'
import type { Db } from './db/client'
import { sqliteStore } from './db/sqlite-store'
import { isStore, q, settled, type Step, type Store } from './db/store'
import { parseDuration } from './auth-options'

export const LOCAL_KEY_SETTING = 'auth.local_jwt_private_jwk'

/** The local private JWK (with kid and alg), or undefined when `scimd token` has not made one yet. */
export function* loadLocalKeyStep(): Step<JWK | undefined> {
  const text = yield* q((r) => r.getSetting(LOCAL_KEY_SETTING))
  return text ? (JSON.parse(text) as JWK) : undefined
}

export function loadLocalPrivateJwk(db: Db): JWK | undefined {
  return settled(sqliteStore(db).read(loadLocalKeyStep()))
}

/** The public half of a private JWK (what /.well-known/jwks.json serves). */
export function publicHalf(jwk: JWK | undefined): JWK | undefined {
  if (!jwk) return undefined
  const { kty, crv, x, y, kid, alg } = jwk
  return { kty, crv, x, y, kid, alg, use: 'sig' }
}

/** The public half of the local key. */
export function localPublicJwk(db: Db): JWK | undefined {
  return publicHalf(loadLocalPrivateJwk(db))
}

/** The local key pair: read it, or make it (ES256, P-256) and keep the private JWK in the settings table. */
export function* ensureLocalKeyStep(): Step<{ jwk: JWK; created: boolean }> {
  const existing = yield* loadLocalKeyStep()
  if (existing) return { jwk: existing, created: false }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = privateKey.export({ format: 'jwk' }) as JWK
  // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order
  jwk.kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url')
  jwk.alg = 'ES256'
  // another process may have made one meanwhile: keep the first
  const kept = yield* q((r) => r.putSettingOnce(LOCAL_KEY_SETTING, JSON.stringify(jwk)))
  const keptJwk = JSON.parse(kept) as JWK
  return { jwk: keptJwk, created: keptJwk.kid === jwk.kid }
}

export function ensureLocalKey(db: Db): { jwk: JWK; created: boolean } {
  return settled(sqliteStore(db).write(() => ensureLocalKeyStep()))
}

export interface TokenArgs {
  sub: string
  scope: string[]
  ttlSeconds: number
  aud?: string
  iss: string
  secret?: string
}

export class UsageError extends Error {}

const TOKEN_FLAGS = ['--sub', '--scope', '--ttl', '--aud', '--iss', '--secret']

/** Parses the command's own flags (`--sub x` or `--sub=x`) with defaults from the config. */
export function parseTokenArgs(argv: string[], config: Config): TokenArgs {
  const v: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(0, eq) : a
    if (!TOKEN_FLAGS.includes(name)) throw new UsageError(`unknown argument '${a}' (token takes ${TOKEN_FLAGS.join(', ')})`)
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i]
    if (value === undefined) throw new UsageError(`${name}: expected a value`)
    v[name] = value
  }
  let ttlSeconds = 3600
  if (v['--ttl'] !== undefined) {
    try {
      ttlSeconds = parseDuration(v['--ttl'])
    } catch (e) {
      throw new UsageError(`--ttl: ${(e as Error).message}`)
    }
    if (ttlSeconds < 1) throw new UsageError('--ttl: must be at least 1 s')
  }
  const secret = v['--secret'] ?? config.jwtSecret
  if (secret !== undefined && Buffer.byteLength(secret) < 32) throw new UsageError('--secret: must be at least 32 bytes')
  return {
    sub: v['--sub'] ?? 'scimd-test',
    scope: v['--scope'] !== undefined ? v['--scope'].split(/[\s,]+/).filter(Boolean) : config.requiredScopes,
    ttlSeconds: Math.round(ttlSeconds),
    aud: v['--aud'] ?? config.jwtAudience?.[0],
    iss: v['--iss'] ?? config.jwtIssuer?.[0] ?? 'scimd',
    secret,
  }
}

/** Signs the token; returns it with a note for stderr. */
export async function makeToken(source: Db | Store, args: TokenArgs, now = Date.now()): Promise<{ token: string; note: string }> {
  const iat = Math.floor(now / 1000)
  const jwt = new SignJWT(args.scope.length ? { scope: args.scope.join(' ') } : {})
    .setSubject(args.sub)
    .setIssuer(args.iss)
    .setIssuedAt(iat)
    .setExpirationTime(iat + args.ttlSeconds)
    .setJti(crypto.randomUUID())
  if (args.aud) jwt.setAudience(args.aud)
  if (args.secret !== undefined) {
    const token = await jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(args.secret))
    return { token, note: 'signed with HS256 and the shared secret; the server verifies it when SCIMD_JWT_SECRET is the same secret' }
  }
  const { jwk, created } = isStore(source) ? await source.write(() => ensureLocalKeyStep()) : ensureLocalKey(source)
  const key = await importJWK(jwk, 'ES256')
  const token = await jwt.setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: jwk.kid }).sign(key)
  return {
    token,
    note:
      (created ? `created the local signing key (kid ${jwk.kid}) in the database; ` : `signed with the local key (kid ${jwk.kid}); `) +
      'the server verifies it with SCIMD_JWT_LOCAL=true, or by default when no other JWT key is configured',
  }
}

/** `scimd token [flags]`: prints the token on stdout, a note on stderr; returns the exit code. */
export async function tokenMain(
  argv: string[],
  env: Record<string, string | undefined>,
  io: { out: (s: string) => void; err: (s: string) => void },
): Promise<number> {
  const { ConfigError, parseConfig } = await import('./config')
  const { openStoreFor } = await import('./server')
  let config: Config
  let args: TokenArgs
  try {
    const parsed = parseConfig(env, argv)
    config = parsed.config
    args = parseTokenArgs(parsed.rest, config)
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(e.problems.map((p) => `scimd: invalid configuration: ${p}\n`).join(''))
      return 2
    }
    if (e instanceof UsageError) {
      io.err(`scimd token: ${e.message}\n`)
      return 2
    }
    throw e
  }
  if (args.secret === undefined && config.databaseUrl === ':memory:') {
    io.err('scimd token: the local key must live in a database file (DATABASE_URL); or give --secret\n')
    return 2
  }
  const opened = args.secret === undefined ? await openStoreFor(config) : undefined
  try {
    const { token, note } = await makeToken((opened?.store ?? undefined) as Store, args)
    io.out(token + '\n')
    io.err(`scimd token: ${note}; expires in ${args.ttlSeconds} s\n`)
    return 0
  } finally {
    await opened?.close()
  }
}
