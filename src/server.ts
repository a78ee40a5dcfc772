/** Wires configuration, storage, auth and the app together; used by `scimd serve` and by the tests. */
import type { Config } from './config'
import { openDatabase, closeDatabase, type Db } from './db/client'
import { runMigrations } from './db/migrate'
import { groupCommitStore, sqliteStore } from './db/sqlite-store'
import { q, settled, type Step, type Store } from './db/store'
import { createAuthenticator, generateToken, type AuthConfig, type Authenticator } from './auth'
import { ensureLocalKey, ensureLocalKeyStep, loadLocalKeyStep, localPublicJwk, publicHalf } from './token-cmd'
import type { JWK } from 'jose'
import { createApp, type App } from './app'
import { createLogger, type Logger } from './log'
import { defaultRegistry } from './scim/schema/registry'
import pkg from '../package.json'

export const VERSION: string = pkg.version

export interface Started {
  app: App
  /** the SQLite database (absent on PostgreSQL) */
  db?: Db
  store: Store
  auth: Authenticator
  /** Set when no auth was configured and scimd uses (or just made) its own token. */
  generatedToken?: { token: string; isNew: boolean }
  log: Logger
  /** stops background work (a PostgreSQL store's key refresh) */
  stop?: () => void
}

const BOOTSTRAP_TOKEN = 'auth.generated_bearer_token'

export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url)

/** A database URL fit for logs and messages: a PostgreSQL password is never shown. */
export function redactDbUrl(url: string): string {
  if (!isPostgresUrl(url)) return url
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|token/i.test(k)) u.searchParams.set(k, '***')
    return u.toString()
  } catch {
    return 'postgres://(unparsable URL)'
  }
}

/** The PostgreSQL store of the configuration, migrated first (under the advisory lock). */
async function openPg(config: Config, opts: { pool: number; log?: Logger }) {
  const { openPgStore, migratePg } = await import('./db/pg/store')
  await migratePg(config.databaseUrl, { connectTimeoutS: config.pgConnectTimeout })
  return openPgStore(config.databaseUrl, {
    max: opts.pool,
    idleTimeoutS: config.pgIdleTimeout,
    connectTimeoutS: config.pgConnectTimeout,
    statementTimeoutMs: config.pgStatementTimeoutMs,
    log: opts.log,
  })
}

/** The configured store alone (migrated), for CLI commands: SQLite or PostgreSQL; close() when done. */
export async function openStoreFor(config: Config): Promise<{ store: Store; close: () => Promise<void> }> {
  if (isPostgresUrl(config.databaseUrl)) {
    const store = await openPg(config, { pool: 2 })
    return { store, close: () => store.close() }
  }
  const db = openDatabase(config.databaseUrl, { cacheSizeKiB: config.sqliteCacheKiB, mmapSize: config.sqliteMmap })
  runMigrations(db)
  return { store: sqliteStore(db), close: async () => closeDatabase(db) }
}

/** What the configured auth modes need from the store, settled. */
interface AuthState {
  bearerTokens: string[]
  generatedToken?: Started['generatedToken']
  otherJwtKey: boolean
  useLocalKey: boolean
}

function authPlan(config: Config): { explicitAuth: boolean; otherJwtKey: boolean; useLocalKey: boolean } {
  const otherJwtKey = Boolean(config.jwtJwksUrl || config.jwtPublicKey || config.jwtSecret)
  // configured modes; the local key in 'auto' is a try-out helper and does not replace the generated token
  const explicitAuth = Boolean(config.basicAuth || config.bearerTokens.length || otherJwtKey || config.introspectionUrl || config.jwtLocal === true)
  return { explicitAuth, otherJwtKey, useLocalKey: config.jwtLocal === true || (config.jwtLocal === 'auto' && !otherJwtKey) }
}

/** The generated bearer token (made once, kept in the settings table; the first process to make it wins). */
function* bootstrapToken(): Step<{ token: string; isNew: boolean }> {
  const token = yield* q((r) => r.getSetting(BOOTSTRAP_TOKEN))
  if (token) return { token, isNew: false }
  const fresh = generateToken()
  const kept = yield* q((r) => r.putSettingOnce(BOOTSTRAP_TOKEN, fresh))
  return { token: kept, isNew: kept === fresh }
}

function build(config: Config, log: Logger, store: Store, db: Db | undefined, state: AuthState, localKey: (() => JWK | undefined) | undefined, opts: { clientAddress?: (request: Request) => string | undefined }) {
  const auth = createAuthenticator(authConfig(config, state.bearerTokens, localKey, log))
  const jwks = localKey ? () => { const k = localKey(); return k ? { keys: [k] } : undefined } : undefined
  const app = createApp({ config, db, store, registry: defaultRegistry(config.schemaExtensions), auth, log, version: VERSION, jwks, clientAddress: opts.clientAddress })
  return { app, auth }
}

/** Opens the SQLite store, applies migrations, settles auth and builds the app (synchronous: the tests' way in). */
export function assemble(
  config: Config,
  log: Logger = createLogger(config.logLevel, config.logFormat),
  opts: { clientAddress?: (request: Request) => string | undefined } = {},
): Started & { db: Db } {
  if (isPostgresUrl(config.databaseUrl)) throw new Error('assemble() opens SQLite; use assembleAny() for PostgreSQL')
  const db = openDatabase(config.databaseUrl, { cacheSizeKiB: config.sqliteCacheKiB, mmapSize: config.sqliteMmap })
  runMigrations(db)
  const store = sqliteStore(db)
  const plan = authPlan(config)
  const generatedToken = plan.explicitAuth ? undefined : settled(store.write(bootstrapToken()))
  const state: AuthState = { ...plan, bearerTokens: generatedToken ? [generatedToken.token] : config.bearerTokens, generatedToken }
  if (config.jwtLocal === true) ensureLocalKey(db)
  // read on every use: `scimd token` in another process may make or rotate the key
  const localKey = plan.useLocalKey ? () => localPublicJwk(db) : undefined
  // requests write through group commit (src/db/sqlite-store.ts); start-up's own writes above ran at once
  const served = groupCommitStore(db)
  const { app, auth } = build(config, log, served, db, state, localKey, opts)
  return { app, db, store: served, auth, generatedToken, log }
}

/** Opens the configured store — SQLite, or PostgreSQL (migrated under an advisory lock) — and builds the app. */
export async function assembleAny(
  config: Config,
  log: Logger = createLogger(config.logLevel, config.logFormat),
  opts: { clientAddress?: (request: Request) => string | undefined } = {},
): Promise<Started> {
  if (!isPostgresUrl(config.databaseUrl)) return assemble(config, log, opts)
  const store = await openPg(config, { pool: config.pgPool, log })
  const plan = authPlan(config)
  const generatedToken = plan.explicitAuth ? undefined : await store.write(bootstrapToken)
  const state: AuthState = { ...plan, bearerTokens: generatedToken ? [generatedToken.token] : config.bearerTokens, generatedToken }
  if (config.jwtLocal === true) await store.write(() => ensureLocalKeyStep())
  // the local key is read at start and every minute (another replica or `scimd token` may make or rotate it)
  let key: JWK | undefined
  const refresh = async () => {
    key = publicHalf(await store.read(loadLocalKeyStep()))
  }
  let timer: ReturnType<typeof setInterval> | undefined
  if (plan.useLocalKey) {
    await refresh()
    timer = setInterval(() => void refresh().catch(() => {}), 60_000)
    timer.unref?.()
  }
  const { app, auth } = build(config, log, store, undefined, state, plan.useLocalKey ? () => key : undefined, opts)
  return { app, store, auth, generatedToken, log, stop: () => timer && clearInterval(timer) }
}

/** The authenticator's settings from the configuration. */
export function authConfig(config: Config, bearerTokens: string[], localKey: (() => JWK | undefined) | undefined, log: Logger): AuthConfig {
  const jwtOn = Boolean(config.jwtJwksUrl || config.jwtPublicKey || config.jwtSecret || localKey)
  return {
    basicAuth: config.basicAuth,
    bearerTokens,
    log,
    requiredScopes: config.requiredScopes,
    jwt: jwtOn
      ? {
          jwksUrl: config.jwtJwksUrl,
          jwksCooldown: config.jwtJwksCooldown,
          publicKey: config.jwtPublicKey,
          secret: config.jwtSecret,
          localKey,
          clockSkew: config.jwtClockSkew,
          issuer: config.jwtIssuer,
          audience: config.jwtAudience,
          algorithms: config.jwtAlgorithms,
        }
      : undefined,
    introspection: config.introspectionUrl
      ? {
          url: config.introspectionUrl,
          clientId: config.introspectionClientId,
          clientSecret: config.introspectionClientSecret,
          cacheSeconds: config.introspectionCache,
          clockSkew: config.jwtClockSkew,
          audience: config.jwtAudience,
        }
      : undefined,
    brake: { limit: config.authFailLimit, window: config.authFailWindow, maxBackoff: config.authFailMaxBackoff },
  }
}

export async function closeAll(s: Started) {
  s.stop?.()
  if (s.db) closeDatabase(s.db)
  else await s.store.close()
}
