/**
 * `scimd import FILE` and `scimd export`: the command-line side (flags, progress, summary, exit codes) of
 * src/cli/import.ts and src/cli/export.ts. Both open the configured database (DATABASE_URL / --database-url: a
 * SQLite file or postgres://…) and bring its schema up to date first; they can run while `scimd serve` uses the
 * same database (SQLite WAL, or PostgreSQL shared by replicas; each import batch is one short write transaction).
 */
import type { Config } from '../config'
import type { Store } from '../db/store'
import { defaultRegistry } from '../scim/schema/registry'
import { isPostgresUrl, openStoreFor, redactDbUrl } from '../server'
import type { ServiceDeps } from '../resources/service'
import { exportAll } from './export'
import { importFile, type ImportProgress, type ImportSummary } from './import'
import { FormatError } from './records'

export interface Io {
  out: (s: string) => void
  err: (s: string) => void
  /** whether stderr is a terminal (progress bar) */
  isTTY: boolean
}

/** Exit codes: 0 all rows stored, 1 failure, 2 usage, 3 some rows or memberships rejected. */
export const EXIT_REJECTED = 3

/** The configured store for a command: SQLite (opened and migrated) or PostgreSQL (migrated under its advisory lock). */
export interface CliStore {
  store: Store
  close(): Promise<void>
}

/** openStoreFor (src/server.ts), its failure said in one line without the URL's password. */
export async function openCliStore(config: Config): Promise<CliStore> {
  try {
    return await openStoreFor(config)
  } catch (e) {
    const what = isPostgresUrl(config.databaseUrl) ? 'the PostgreSQL database' : 'the database'
    throw new Error(`cannot open ${what} ${redactDbUrl(config.databaseUrl)}: ${(e as Error).message}`)
  }
}

function depsFor(config: Config, store: Store): ServiceDeps {
  return { store, registry: defaultRegistry(config.schemaExtensions), strict: config.strict, tenant: 'default', now: () => new Date() }
}

const n = (x: number) => x.toLocaleString('en-US')

function progressReporter(io: Io) {
  const startedAt = performance.now()
  let lastDraw = 0
  let lastLine = 0
  let drawn = false
  const rate = (rows: number) => n(Math.round(rows / Math.max(0.001, (performance.now() - startedAt) / 1000)))
  return {
    update(p: ImportProgress) {
      const now = performance.now()
      if (io.isTTY) {
        if (now - lastDraw < 100) return
        lastDraw = now
        const width = 30
        const f = p.fraction ?? 0
        const bar = p.fraction === undefined ? '' : `[${'#'.repeat(Math.round(f * width)).padEnd(width, '-')}] ${String(Math.floor(f * 100)).padStart(3)}%  `
        io.err(`\r${bar}${n(p.rows)} rows  ${rate(p.rows)} rows/s  ${n(p.summary.rejected.length)} rejected\x1b[K`)
        drawn = true
      } else if (now - lastLine >= 2000 || p.fraction === 1) {
        lastLine = now
        const pct = p.fraction === undefined ? '' : ` (${Math.floor(p.fraction * 100)}%)`
        io.err(`import: ${p.rows} rows${pct}, ${p.summary.rejected.length} rejected\n`)
      }
    },
    done() {
      if (drawn) io.err('\r\x1b[K')
    },
  }
}

export function formatSummary(file: string, s: ImportSummary, maxReasons = 100): string {
  const lines = [
    `scimd import: ${file} (${s.format}): ${n(s.rows)} rows in ${s.seconds.toFixed(2)} s (${n(Math.round(s.rows / Math.max(s.seconds, 0.001)))} rows/s)`,
    `  users:       ${n(s.users.created)} created, ${n(s.users.updated)} updated, ${n(s.users.unchanged)} unchanged`,
    `  groups:      ${n(s.groups.created)} created, ${n(s.groups.updated)} updated, ${n(s.groups.unchanged)} unchanged`,
    `  memberships: ${n(s.memberships.added)} added, ${n(s.memberships.existing)} already present, ${n(s.membershipErrors.length)} rejected`,
    `  rejected:    ${n(s.rejected.length)} rows`,
  ]
  const list = (title: string, rs: { line: number; reason: string }[]) => {
    if (!rs.length) return
    lines.push(title)
    for (const r of rs.slice(0, maxReasons)) lines.push(`    line ${r.line}: ${r.reason}`)
    if (rs.length > maxReasons) lines.push(`    … and ${n(rs.length - maxReasons)} more`)
  }
  list('  rejected rows (nothing was stored for them):', s.rejected)
  list('  rejected memberships (the rows themselves were stored):', s.membershipErrors)
  return lines.join('\n') + '\n'
}

function takeFlag(rest: string[], name: string): string | undefined {
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]
    if (a === name) {
      const v = rest[i + 1]
      if (v === undefined) throw new FormatError(`${name}: expected a value`)
      rest.splice(i, 2)
      return v
    }
    if (a.startsWith(name + '=')) {
      rest.splice(i, 1)
      return a.slice(name.length + 1)
    }
  }
  return undefined
}

export async function importMain(config: Config, rest: string[], io: Io): Promise<number> {
  let file: string
  let format: string | undefined
  let batchSize = 1000
  try {
    format = takeFlag(rest, '--format')
    const bs = takeFlag(rest, '--batch-size')
    if (bs !== undefined) {
      if (!/^\d+$/.test(bs) || Number(bs) < 1 || Number(bs) > 100_000) throw new FormatError(`--batch-size: expected a whole number from 1 to 100000, got '${bs}'`)
      batchSize = Number(bs)
    }
    const unknown = rest.filter((a) => a.startsWith('-') && a !== '-')
    if (unknown.length) throw new FormatError(`unknown option '${unknown[0]}' (see scimd import --help)`)
    if (rest.length !== 1) throw new FormatError('expected one FILE (or - for standard input); see scimd import --help')
    file = rest[0]
  } catch (e) {
    io.err(`scimd import: ${(e as Error).message}\n`)
    return 2
  }
  let opened: CliStore
  try {
    opened = await openCliStore(config)
  } catch (e) {
    io.err(`scimd import: ${(e as Error).message}\n`)
    return 1
  }
  const deps = depsFor(config, opened.store)
  const progress = progressReporter(io)
  try {
    const summary = await importFile(deps, file, { format, batchSize, onProgress: progress.update })
    progress.done()
    io.out(formatSummary(file, summary))
    return summary.rejected.length || summary.membershipErrors.length ? EXIT_REJECTED : 0
  } catch (e) {
    progress.done()
    if (e instanceof FormatError) {
      io.err(`scimd import: ${e.message}\n`)
      return 2
    }
    io.err(`scimd import: ${(e as Error).message}\n(batches written before this point are stored)\n`)
    return 1
  } finally {
    await opened.close()
  }
}

export async function exportMain(config: Config, rest: string[], io: Io): Promise<number> {
  let out: string | undefined
  try {
    out = takeFlag(rest, '--out') ?? takeFlag(rest, '-o')
    if (rest.length) throw new FormatError(`unexpected argument '${rest[0]}' (see scimd export --help)`)
  } catch (e) {
    io.err(`scimd export: ${(e as Error).message}\n`)
    return 2
  }
  let opened: CliStore
  try {
    opened = await openCliStore(config)
  } catch (e) {
    io.err(`scimd export: ${(e as Error).message}\n`)
    return 1
  }
  const deps = depsFor(config, opened.store)
  const sink = out === undefined || out === '-' ? Bun.stdout.writer() : Bun.file(out).writer()
  try {
    const started = performance.now()
    const s = await exportAll(deps, async (chunk) => {
      sink.write(chunk)
      await sink.flush()
    })
    await sink.end()
    io.err(
      `scimd export: ${n(s.users)} users, ${n(s.groups)} groups, ${n(s.memberships)} memberships` +
        `${out && out !== '-' ? ` to ${out}` : ''} in ${((performance.now() - started) / 1000).toFixed(2)} s\n`,
    )
    return 0
  } catch (e) {
    io.err(`scimd export: ${(e as Error).message}\n`)
    return 1
  } finally {
    await opened.close()
  }
}
