/**
 * Configuration: parsed once in main from the environment and CLI flags, then passed down.
 * Each option has an environment variable and a matching flag (`SCIMD_BASE_PATH` ↔ `--base-path`, `PORT` ↔ `--port`).
 * A bad value fails start-up with one line per problem naming the variable; secrets are never echoed.
 */

import { readFileSync } from 'node:fs'
import { fail, oneOf, parseBool, parseSize, wholeNumber, type OptionSpec } from './options'
import { AUTH_DEFAULTS, AUTH_OPTIONS, checkAuthSettings, parseDuration, type AuthSettings } from './auth-options'
import { TOOLKIT_DEFAULTS, TOOLKIT_OPTIONS, type ToolkitSettings } from './toolkit/options'
import { SCIM_DEFAULTS, SCIM_OPTIONS, type ScimSettings } from './scim-options'
import { loadSchemaExtensions, type LoadedExtensions } from './scim/schema/extensions'
import { defaultRegistry } from './scim/schema/registry'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type LogFormat = 'pretty' | 'json'

export interface Config extends AuthSettings, ToolkitSettings, ScimSettings {
  port: number
  host: string
  /** SQLite file path, or ':memory:'. */
  databaseUrl: string
  basePath: string
  basicAuth?: { user: string; password: string }
  bearerTokens: string[]
  maxBody: number
  logLevel: LogLevel
  logFormat: LogFormat
  strict: boolean
  /** PRAGMA cache_size, KiB. */
  sqliteCacheKiB: number
  /** PRAGMA mmap_size, bytes. */
  sqliteMmap: number
  pgPool: number
  pgStatementTimeoutMs: number
  pgConnectTimeout: number
  pgIdleTimeout: number
  /** Public origin used in meta.location and Location (e.g. https://scim.example.com); default: from the request. */
  publicUrl?: string
  /** Seconds an issued pagination cursor (RFC 9865) stays valid. */
  cursorTtl: number
  /** Days the change history is kept (0: no history). */
  historyDays: number
  /** Custom schema extensions read from the SCIMD_SCHEMAS file at start-up (already checked against the built-in schemas). */
  schemaExtensions?: LoadedExtensions
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
    this.name = 'ConfigError'
  }
}

type Option = OptionSpec<Config>

export const OPTIONS: Option[] = [
  { key: 'port', env: 'PORT', flag: '--port', doc: 'TCP port to listen on (0 picks a free port)', defaultText: '8080', parse: wholeNumber(0, 65535) },
  { key: 'host', env: 'HOST', flag: '--host', doc: 'Interface to listen on', defaultText: '0.0.0.0', parse: (r) => r.trim() || fail('must not be empty') },
  {
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    flag: '--database-url',
    doc: 'SQLite file path (`file:` and `sqlite:` prefixes accepted), `:memory:` for a throwaway store, or `postgres://user:password@host:5432/db` for a PostgreSQL store shared by several scimd processes',
    defaultText: './scimd.sqlite',
    parse: parseDatabaseUrl,
  },
  {
    key: 'basePath',
    env: 'SCIMD_BASE_PATH',
    flag: '--base-path',
    doc: 'Path prefix of the SCIM endpoints',
    defaultText: '/scim/v2',
    parse: (raw) => {
      let p = raw.trim()
      if (p === '' || p === '/') return ''
      if (!p.startsWith('/')) fail(`must start with '/', got '${raw}'`)
      p = p.replace(/\/+$/, '')
      if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(p)) fail(`must be a path of letters, digits, '.', '_', '~' and '-' segments, got '${raw}'`)
      if (p === '/admin' || p === '/docs' || p === '/healthz') fail(`'${p}' is reserved`)
      return p
    },
  },
  {
    key: 'basicAuth',
    env: 'SCIMD_BASIC_AUTH',
    flag: '--basic-auth',
    secret: true,
    doc: 'Accept HTTP Basic credentials `user:password`',
    defaultText: '(off)',
    parse: (raw) => {
      const i = raw.indexOf(':')
      if (i < 1 || i === raw.length - 1) fail('expected user:password with a non-empty user and password')
      return { user: raw.slice(0, i), password: raw.slice(i + 1) }
    },
  },
  {
    key: 'bearerTokens',
    env: 'SCIMD_BEARER_TOKENS',
    flag: '--bearer-tokens',
    secret: true,
    doc: 'Accept these static bearer tokens (comma-separated)',
    defaultText: '(off; a token is generated on first start)',
    parse: (raw) => {
      const tokens = raw.split(',').map((s) => s.trim()).filter(Boolean)
      if (tokens.length === 0) fail('expected one or more comma-separated tokens')
      for (const [i, tok] of tokens.entries())
        if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(tok)) fail(`token #${i + 1} has characters a bearer token cannot carry (RFC 6750 b64token)`)
      return tokens
    },
  },
  { key: 'maxBody', env: 'SCIMD_MAX_BODY', flag: '--max-body', doc: 'Largest request body accepted (bytes, or with KiB/MiB/GiB)', defaultText: '10MiB', parse: parseSize },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level', doc: 'debug, info, warn, error or silent', defaultText: 'info', parse: oneOf('debug', 'info', 'warn', 'error', 'silent') },
  { key: 'logFormat', env: 'LOG_FORMAT', flag: '--log-format', doc: '`pretty` or `json` (one JSON object per line)', defaultText: 'pretty on a terminal, json otherwise', parse: oneOf('pretty', 'json') },
  { key: 'strict', env: 'SCIMD_STRICT', flag: '--strict', boolean: true, doc: 'Pure RFC 7643/7644: switch off the tolerances for what IdPs really send', defaultText: 'false', parse: parseBool },
  { key: 'sqliteCacheKiB', env: 'SCIMD_SQLITE_CACHE', flag: '--sqlite-cache', doc: 'SQLite page cache size (most of scimd’s memory beyond the runtime)', defaultText: '16MiB', parse: (r) => Math.ceil(parseSize(r) / 1024) },
  { key: 'pgPool', env: 'SCIMD_PG_POOL', flag: '--pg-pool', doc: 'PostgreSQL: connections in the pool of this process', defaultText: '10', parse: wholeNumber(1, 1000) },
  {
    key: 'pgStatementTimeoutMs',
    env: 'SCIMD_PG_STATEMENT_TIMEOUT',
    flag: '--pg-statement-timeout',
    doc: 'PostgreSQL: statement_timeout of every connection (a statement running longer is cancelled and answered 503); 0 = none',
    defaultText: '15s',
    parse: (r) => Math.round(parseDuration(r) * 1000),
  },
  { key: 'pgConnectTimeout', env: 'SCIMD_PG_CONNECT_TIMEOUT', flag: '--pg-connect-timeout', doc: 'PostgreSQL: seconds to wait for a connection before answering 503 with Retry-After', defaultText: '5s', parse: (r) => Math.max(1, Math.round(parseDuration(r))) },
  { key: 'pgIdleTimeout', env: 'SCIMD_PG_IDLE_TIMEOUT', flag: '--pg-idle-timeout', doc: 'PostgreSQL: seconds an idle pooled connection is kept open (0 = forever)', defaultText: '60s', parse: (r) => Math.round(parseDuration(r)) },
  { key: 'sqliteMmap', env: 'SCIMD_SQLITE_MMAP', flag: '--sqlite-mmap', doc: 'SQLite memory-mapped I/O size (0, the default, turns it off; mapped file pages count in RSS)', defaultText: '0', parse: (r) => (r.trim() === '0' ? 0 : parseSize(r)) },
  {
    key: 'cursorTtl',
    env: 'SCIMD_CURSOR_TTL',
    flag: '--cursor-ttl',
    doc: 'Seconds a pagination cursor (RFC 9865 nextCursor/previousCursor) stays valid; advertised as cursorTimeout',
    defaultText: '3600',
    parse: wholeNumber(1, 31_536_000),
  },
  {
    key: 'historyDays',
    env: 'SCIMD_HISTORY_DAYS',
    flag: '--history-days',
    doc: 'Days the change history (every write, shown by /admin and `scimd history`) is kept; 0 turns it off',
    defaultText: '30',
    parse: wholeNumber(0, 36_500),
  },
  {
    key: 'publicUrl',
    env: 'SCIMD_PUBLIC_URL',
    flag: '--public-url',
    doc: "Origin for meta.location and Location headers, when scimd sits behind a proxy (e.g. https://scim.example.com)",
    defaultText: "(the request's own origin)",
    parse: (raw) => {
      let u: URL
      try {
        u = new URL(raw)
      } catch {
        fail(`expected an absolute http(s) URL, got '${raw}'`)
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`expected an http or https URL, got '${raw}'`)
      return u.origin
    },
  },
  {
    key: 'schemaExtensions',
    env: 'SCIMD_SCHEMAS',
    flag: '--schemas',
    doc: 'JSON file declaring custom schema extensions (their URNs, attributes and the resource types they extend)',
    defaultText: '(none)',
    parse: parseSchemasFile,
  },
  ...(AUTH_OPTIONS as Option[]),
  ...(TOOLKIT_OPTIONS as Option[]),
  ...(SCIM_OPTIONS as Option[]),
]

/** SCIMD_SCHEMAS: reads and checks the extension file now, so a bad file stops start-up with one line. */
function parseSchemasFile(raw: string): LoadedExtensions {
  const path = raw.trim()
  if (path === '') fail('must name a JSON file')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    fail(code === 'ENOENT' ? `cannot read '${path}': no such file` : code === 'EISDIR' ? `cannot read '${path}': it is a directory` : `cannot read '${path}' (${code ?? (e as Error).message})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    fail(`'${path}' is not valid JSON: ${(e as Error).message}`)
  }
  try {
    const loaded = loadSchemaExtensions(json)
    defaultRegistry(loaded) // unknown resource types, clashes with the built-in schemas
    return loaded
  } catch (e) {
    fail(`'${path}': ${(e as Error).message}`)
  }
}

function parseDatabaseUrl(raw: string): string {
  const v = raw.trim()
  if (v === '') fail('must not be empty')
  if (/^postgres(ql)?:\/\//i.test(v)) {
    try {
      new URL(v)
    } catch {
      fail('is not a valid postgres:// URL')
    }
    return v
  }
  if (v === ':memory:') return v
  const path = v.replace(/^sqlite:(\/\/)?/i, '').replace(/^file:(\/\/)?/i, '')
  if (path === '') fail('must name a file')
  return path
}

export const DEFAULTS: Config = {
  port: 8080,
  host: '0.0.0.0',
  databaseUrl: './scimd.sqlite',
  basePath: '/scim/v2',
  bearerTokens: [],
  maxBody: 10 * 1024 * 1024,
  logLevel: 'info',
  logFormat: 'json',
  strict: false,
  sqliteCacheKiB: 16384,
  sqliteMmap: 0,
  pgPool: 10,
  pgStatementTimeoutMs: 15_000,
  pgConnectTimeout: 5,
  pgIdleTimeout: 60,
  ...AUTH_DEFAULTS,
  ...TOOLKIT_DEFAULTS,
  ...SCIM_DEFAULTS,
  cursorTtl: 3600,
  historyDays: 30,
}

/**
 * Builds the Config from environment variables, overridden by CLI flags (`--port 9000` or `--port=9000`;
 * a boolean flag such as `--strict` takes no value, `--strict=false` turns it off). Throws ConfigError listing every bad value; returns the rest of argv.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  argv: string[] = [],
  opts: { isTTY?: boolean } = {},
): { config: Config; rest: string[] } {
  const raw = new Map<keyof Config, { value: string; from: string }>()
  const problems: string[] = []
  for (const o of OPTIONS) {
    const v = env[o.env]
    if (v !== undefined) raw.set(o.key, { value: v, from: o.env })
  }
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const eq = arg.indexOf('=')
    const name = eq > 0 ? arg.slice(0, eq) : arg
    const o = arg.startsWith('--') ? OPTIONS.find((x) => x.flag === name) : undefined
    if (!o) {
      rest.push(arg)
      continue
    }
    let value: string
    if (eq > 0) value = arg.slice(eq + 1)
    else if (o.boolean) value = 'true' // a boolean flag alone means true; use --flag=false to turn it off
    else if (argv[i + 1] === undefined) {
      problems.push(`${o.flag}: expected a value`)
      continue
    } else value = argv[++i]
    raw.set(o.key, { value, from: o.flag })
  }
  const config: Config = { ...DEFAULTS, bearerTokens: [], logFormat: opts.isTTY ? 'pretty' : 'json' }
  for (const o of OPTIONS) {
    const r = raw.get(o.key)
    if (!r) continue
    try {
      ;(config as any)[o.key] = o.parse(r.value)
    } catch (e) {
      const msg = (e as Error).message
      problems.push(`${r.from}: ${o.secret ? msg.replace(r.value, '***') : msg}`)
    }
  }
  // SCIMD_PROFILE decides strictness unless SCIMD_STRICT / --strict is given too (which then wins)
  if (config.profile && !raw.has('strict')) config.strict = config.profile === 'strict'
  if (problems.length === 0) problems.push(...checkAuthSettings(config))
  if (problems.length) throw new ConfigError(problems)
  return { config, rest }
}

/** Lines for `--help` and the README table. */
export function describeOptions(): string {
  return OPTIONS.map((o) => `  ${(o.flag + ' / ' + o.env).padEnd(44)} ${o.doc} (default: ${o.defaultText})`).join('\n')
}

export { parseSize }
