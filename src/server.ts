/** Wires configuration, storage, auth and the app together; used by `scimd serve` and by the tests. */
import type { Config } from './config'
import { openDatabase, closeDatabase, type Db } from './db/client'
import { runMigrations } from './db/migrate'
import { getSetting, putSetting } from './db/repo'
import { createAuthenticator, generateToken, type Authenticator } from './auth'
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
export function assemble(config: Config, log: Logger = createLogger(config.logLevel, config.logFormat)): Started {
  const db = openDatabase(config.databaseUrl, { cacheSizeKiB: config.sqliteCacheKiB, mmapSize: config.sqliteMmap })
  runMigrations(db)
  let generatedToken: Started['generatedToken']
  let bearerTokens = config.bearerTokens
  if (!config.basicAuth && bearerTokens.length === 0) {
    let token = getSetting(db, BOOTSTRAP_TOKEN)
    const isNew = !token
    if (!token) {
      token = generateToken()
      putSetting(db, BOOTSTRAP_TOKEN, token)
    }
    bearerTokens = [token]
    generatedToken = { token, isNew }
  }
  const auth = createAuthenticator({ basicAuth: config.basicAuth, bearerTokens })
  const app = createApp({ config, db, registry: defaultRegistry(), auth, log, version: VERSION })
  return { app, db, auth, generatedToken, log }
}

export function closeAll(s: Started) {
  closeDatabase(s.db)
}
