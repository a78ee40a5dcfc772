/** Wires configuration, storage, auth and the app together; used by `scimd serve` and by the tests. */
import type { Config } from './config'
import { openDatabase, closeDatabase, type Db } from './db/client'
import { runMigrations } from './db/migrate'
import { getSetting, putSetting } from './db/repo'
import { createAuthenticator, generateToken, type AuthConfig, type Authenticator } from './auth'
import { ensureLocalKey, localPublicJwk } from './token-cmd'
import type { JWK } from 'jose'
import { createApp, type App } from './app'
import { createLogger, type Logger } from './log'
import { defaultRegistry } from './scim/schema/registry'
import pkg from '../package.json'

export const VERSION: string = pkg.version

export interface Started {
  app: App
  db: Db
  auth: Authenticator
  /** Set when no auth was configured and scimd uses (or just made) its own token. */
  generatedToken?: { token: string; isNew: boolean }
  log: Logger
}

const BOOTSTRAP_TOKEN = 'auth.generated_bearer_token'

/** Opens the store, applies migrations, settles auth and builds the app. */
export function assemble(
  config: Config,
  log: Logger = createLogger(config.logLevel, config.logFormat),
  opts: { clientAddress?: (request: Request) => string | undefined } = {},
): Started {
  const db = openDatabase(config.databaseUrl, { cacheSizeKiB: config.sqliteCacheKiB, mmapSize: config.sqliteMmap })
  runMigrations(db)
  let generatedToken: Started['generatedToken']
  let bearerTokens = config.bearerTokens
  const otherJwtKey = Boolean(config.jwtJwksUrl || config.jwtPublicKey || config.jwtSecret)
  // configured modes; the local key in 'auto' is a try-out helper and does not replace the generated token
  const explicitAuth = Boolean(config.basicAuth || bearerTokens.length || otherJwtKey || config.introspectionUrl || config.jwtLocal === true)
  if (!explicitAuth) {
    let token = getSetting(db, BOOTSTRAP_TOKEN)
    const isNew = !token
    if (!token) {
      token = generateToken()
      putSetting(db, BOOTSTRAP_TOKEN, token)
    }
    bearerTokens = [token]
    generatedToken = { token, isNew }
  }
  if (config.jwtLocal === true) ensureLocalKey(db)
  const useLocalKey = config.jwtLocal === true || (config.jwtLocal === 'auto' && !otherJwtKey)
  const localKey = useLocalKey ? () => localPublicJwk(db) : undefined
  const auth = createAuthenticator(authConfig(config, bearerTokens, localKey, log))
  const jwks = localKey ? () => { const k = localKey(); return k ? { keys: [k] } : undefined } : undefined
  const app = createApp({ config, db, registry: defaultRegistry(config.schemaExtensions), auth, log, version: VERSION, jwks, clientAddress: opts.clientAddress })
  return { app, db, auth, generatedToken, log }
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

export function closeAll(s: Started) {
  closeDatabase(s.db)
}
