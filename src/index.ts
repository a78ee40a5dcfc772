#!/usr/bin/env bun
/**
 * scimd — command line entry point.
 *   scimd [serve] [flags]   start the server (default)
 *   scimd migrate [flags]   create or upgrade the database, then exit
 *   scimd import FILE       import users/groups (JSON Lines or CSV); scimd export: JSON Lines out
 *   scimd --help | --version
 * Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage, 3 import rows rejected.
 */
import { ConfigError, describeOptions, parseConfig, type Config } from './config'
import { loadDotEnv } from './dotenv'
import { createLogger } from './log'
import { assembleAny, closeAll, isPostgresUrl, redactDbUrl, VERSION } from './server'
import { openDatabase, closeDatabase } from './db/client'
import { runMigrations } from './db/migrate'

const HELP = `scimd ${VERSION} — a SCIM 2.0 server (RFC 7643 / RFC 7644) in one executable

Usage:
  scimd [serve] [options]   start the server (the default command)
  scimd migrate [options]   create or upgrade the database, then exit
  scimd import FILE         import users, groups and memberships (JSON Lines or CSV; - = stdin)
  scimd export [--out F]    write users and groups as JSON Lines (the format import reads)
  scimd history [--since 1h] [--until T] [--type User|Group] [--op OP] [--id ID] [--json]
                            print the change history (every write) from the database
  scimd token [--sub S] [--scope 'a b'] [--ttl 1h] [--aud A] [--iss I] [--secret S]
                            print a signed test JWT (ES256 with the local key kept in the
                            database, or HS256 with --secret / SCIMD_JWT_SECRET)
  scimd tenant add|update|list|rotate|rm ID
                            manage tenants (/t/ID/scim/v2, own data and credentials,
                            optionally their own JWT / introspection settings)
  scimd --version           print the version
  scimd --help              this help; scimd COMMAND --help for one command

Options (each also read from the environment variable named beside it; a .env file in the
working directory is honoured; flags win over the environment):
${describeOptions()}

With neither SCIMD_BASIC_AUTH nor SCIMD_BEARER_TOKENS set, scimd is never open: on first start it
generates a bearer token, keeps it in the database and prints it.
`

function die(msg: string, code = 2): never {
  process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n')
  process.exit(code)
}

/** Unknown arguments are an error, unless `leftovers` is given: then they are put there (command arguments). */
function loadConfig(argv: string[], leftovers?: string[]): Config {
  loadDotEnv(process.env)
  try {
    const { config, rest } = parseConfig(process.env, argv, { isTTY: Boolean(process.stderr.isTTY) })
    if (leftovers) leftovers.push(...rest)
    else if (rest.length) die(`scimd: unknown argument '${rest[0]}' (see scimd --help)`)
    return config
  } catch (e) {
    if (e instanceof ConfigError) die(e.problems.map((p) => `scimd: invalid configuration: ${p}`).join('\n'))
    throw e
  }
}

/**
 * Bun's own body limit answers 413 without a SCIM body, so it sits well above SCIMD_MAX_BODY: scimd's reader
 * refuses (with a SCIM error) from the Content-Length or as soon as a chunked body passes the limit.
 */
function backstopBodyLimit(maxBody: number) {
  return Math.max(maxBody * 4, maxBody + 64 * 1024 * 1024)
}

async function serve(argv: string[]) {
  const config = loadConfig(argv)
  const log = createLogger(config.logLevel, config.logFormat)
  let started
  try {
    started = await assembleAny(config, log)
  } catch (e) {
    die(`scimd: cannot open the database '${redactDbUrl(config.databaseUrl)}': ${(e as Error).message}`, 1)
  }
  let server
  try {
    server = started.app.listen({ port: config.port, hostname: config.host, maxRequestBodySize: backstopBodyLimit(config.maxBody) })
  } catch (e) {
    await closeAll(started)
    die(`scimd: cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`, 1)
  }
  const port = server.server?.port ?? config.port
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  const base = `http://${shownHost}:${port}${config.basePath}`
  log.info('scimd listening', { version: VERSION, url: base, database: redactDbUrl(config.databaseUrl), auth: started.auth.schemes })
  const g = started.generatedToken
  if (g && (g.isNew || process.stdout.isTTY)) {
    process.stdout.write(
      `\nNo authentication configured: scimd ${g.isNew ? 'generated' : 'uses'} this bearer token (kept in ${redactDbUrl(config.databaseUrl)}):\n\n` +
        `  ${g.token}\n\nTry it:\n\n  curl -H 'Authorization: Bearer ${g.token}' ${base}/Users\n\n` +
        `Set SCIMD_BEARER_TOKENS or SCIMD_BASIC_AUTH to choose your own credentials.\n\n`,
    )
  } else if (g) {
    log.info('using the generated bearer token stored in the database (printed on first start and on a terminal)')
  }
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('shutting down', { signal })
    try {
      started.app.toolkit.close() // release hung requests (SCIMD_FAULTS hang) and inspector streams
      await server.stop(false) // stop accepting; let in-flight requests finish
    } catch {}
    await closeAll(started)
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

async function migrateCmd(argv: string[]) {
  const config = loadConfig(argv)
  if (isPostgresUrl(config.databaseUrl)) {
    const { migratePg } = await import('./db/pg/store')
    try {
      await migratePg(config.databaseUrl, { connectTimeoutS: config.pgConnectTimeout })
    } catch (e) {
      die(`scimd: cannot migrate the PostgreSQL database: ${(e as Error).message}`, 1)
    }
    return void process.stdout.write(`scimd: database ${redactDbUrl(config.databaseUrl)} is up to date\n`)
  }
  const db = openDatabase(config.databaseUrl)
  try {
    runMigrations(db)
  } finally {
    closeDatabase(db)
  }
  process.stdout.write(`scimd: database ${config.databaseUrl} is up to date\n`)
}

async function main(argv: string[]) {
  const [cmd, ...rest] = argv
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') return void process.stdout.write(`scimd ${VERSION}\n`)
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') return void process.stdout.write(HELP)
  if (rest.includes('--help') || rest.includes('-h') || ((cmd === undefined || cmd.startsWith('-')) && argv.includes('--help'))) {
    const { COMMAND_HELP } = await import('./cli/help')
    const one = COMMAND_HELP[cmd === undefined || cmd.startsWith('-') ? 'serve' : cmd]
    return void process.stdout.write(one ? `${one()}\nOptions (also read from the environment; flags win):\n${describeOptions()}\n` : HELP)
  }
  if (cmd === undefined || cmd.startsWith('-')) return serve(argv)
  if (cmd === 'serve') return serve(rest)
  if (cmd === 'migrate') return migrateCmd(rest)
  if (cmd === 'token') {
    loadDotEnv(process.env)
    const { tokenMain } = await import('./token-cmd')
    process.exitCode = await tokenMain(rest, process.env, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) })
    return
  }
  // commands that take their own arguments beside the server's options
  const io = {
    out: (t: string) => void process.stdout.write(t),
    err: (t: string) => void process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
  }
  const commandConfig = () => {
    const args: string[] = []
    // import, export and history open the configured store themselves (SQLite or PostgreSQL: src/cli/data.ts)
    const config = loadConfig(rest, args)
    return { config, args }
  }
  if (cmd === 'import' || cmd === 'export') {
    const { config, args } = commandConfig()
    const { importMain, exportMain } = await import('./cli/data')
    process.exitCode = await (cmd === 'import' ? importMain : exportMain)(config, args, io)
    return
  }
  if (cmd === 'history') {
    const { config, args } = commandConfig()
    const { historyMain } = await import('./cli/history')
    process.exitCode = await historyMain(config, args, { ...io, isTTY: Boolean(process.stdout.isTTY) })
    return
  }
  if (cmd === 'tenant') {
    const { tenantMain, splitTenantAuthArgs } = await import('./cli/tenant')
    // --jwt-jwks-url … after `tenant` are the tenant's settings, not the server's
    const { own, others } = splitTenantAuthArgs(rest)
    const args: string[] = []
    const config = loadConfig(others, args)
    process.exitCode = await tenantMain(config, [...args, ...own], io)
    return
  }
  die(`scimd: unknown command '${cmd}' (see scimd --help)`)
}

await main(process.argv.slice(2))
