/**
 * `scimd history`: the change history (src/resources/history.ts) in a terminal, read straight from the database
 * (DATABASE_URL / --database-url: a SQLite file or postgres://…; it can run while `scimd serve` uses it). Oldest first, like a log;
 * --json prints one JSON object per line (the entries of GET /admin/history).
 */
import type { Config } from '../config'
import { openCliStore, type CliStore } from './data'
import { HistoryQueryError, queryHistory, type HistoryEntry, type HistoryFilter } from '../resources/history'

export interface HistoryIo {
  out: (s: string) => void
  err: (s: string) => void
  /** colours on a terminal */
  isTTY: boolean
}

export const HISTORY_HELP = `Usage: scimd history [--since T] [--until T] [--type User|Group] [--op OP[,OP…]] [--id ID]
                     [--tenant T] [--limit N] [--json] [options]

Prints the change history: every create, replace (PUT), patch, delete and membership change of users and
groups, oldest first, one line each: time, operation, resource, what changed, the principal (auth mode and
subject label) and the request id (X-Scimd-Request-Id; GET /admin/requests/{id} while the inspector still
holds it). Reads the database directly (DATABASE_URL / --database-url: a SQLite file or postgres://…),
also while scimd serve runs.

  --since T     from this time: ISO 8601 (2026-11-28T14:00:00Z, 2026-11-28) or a duration back from
                now (90s, 15m, 1h, 2d, 1w)
  --until T     before this time (same forms)
  --type K      User or Group
  --op OP       create, replace, patch, delete, member_add, member_remove (comma-separated for several)
  --id ID       one resource (also a deleted one)
  --tenant T    tenant id (default: the default tenant)
  --limit N     at most N entries (the newest N when more match)
  --json        one JSON object per line (before/after included) instead of text

History is kept SCIMD_HISTORY_DAYS days (default 30; 0 keeps none).
Exit status: 0 ok (also when nothing matches), 1 the database cannot be opened, 2 bad usage.
`

const VALUE_FLAGS = ['since', 'until', 'type', 'op', 'id', 'tenant', 'limit'] as const
type Flag = (typeof VALUE_FLAGS)[number]

export function parseHistoryArgs(args: string[]): { filter: HistoryFilter; limit?: number; json: boolean } {
  const v: Partial<Record<Flag, string>> = {}
  let json = false
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--json') {
      json = true
      continue
    }
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a)
    const name = m?.[1] as Flag | undefined
    if (!m || !name || !VALUE_FLAGS.includes(name)) throw new HistoryQueryError(`unknown argument '${a}' (see scimd history --help)`)
    const value = m[2] ?? args[++i]
    if (value === undefined) throw new HistoryQueryError(`--${name} needs a value`)
    v[name] = value
  }
  let limit: number | undefined
  if (v.limit !== undefined) {
    if (!/^\d+$/.test(v.limit) || Number(v.limit) < 1) throw new HistoryQueryError(`--limit must be a whole number from 1, got '${v.limit}'`)
    limit = Number(v.limit)
  }
  return { filter: { since: v.since, until: v.until, type: v.type, op: v.op, id: v.id, tenant: v.tenant ?? 'default' }, limit, json }
}

/** What happened, in a few words (the same headline as the console's timeline). */
export function describeEntry(e: HistoryEntry): string {
  switch (e.op) {
    case 'create':
      return 'created'
    case 'delete':
      return 'deleted'
    case 'member_add':
    case 'member_remove': {
      const m = e.members!
      const shown = m.ids.slice(0, 3).join(', ') + (m.count > 3 ? `, … (+${m.count - 3})` : '')
      return `${m.count} member${m.count === 1 ? '' : 's'} ${e.op === 'member_add' ? 'added' : 'removed'}: ${shown}`
    }
  }
  const b = e.before ?? {}
  const a = e.after ?? {}
  if (b.active !== false && a.active === false) return 'deactivated (active → false)'
  if (b.active === false && a.active === true) return 'reactivated (active → true)'
  return e.changed.length ? `changed ${e.changed.join(', ')}` : 'no attribute changed'
}

function nameOf(e: HistoryEntry): string {
  const r = (e.after ?? e.before ?? {}) as Record<string, unknown>
  const n = r.userName ?? r.displayName
  return typeof n === 'string' ? ` ${JSON.stringify(n)}` : ''
}

export function formatEntry(e: HistoryEntry, color: boolean): string {
  const c = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s)
  const opColor = e.op === 'delete' || e.op === 'member_remove' ? '31' : e.op === 'create' || e.op === 'member_add' ? '32' : '33'
  const what = describeEntry(e)
  return [
    c('2', e.time),
    c(opColor, e.op.padEnd(13)),
    `${e.resourceType} ${e.resourceId}${nameOf(e)}`,
    '—',
    what.startsWith('deactivated') || what === 'deleted' ? c('1', what) : what,
    c('2', `by ${e.principal ?? '?'} request ${e.requestId ?? '-'}`),
  ].join('  ')
}

/** Returns the exit code. */
export async function historyMain(config: Config, args: string[], io: HistoryIo, now: () => Date = () => new Date()): Promise<number> {
  let parsed: ReturnType<typeof parseHistoryArgs>
  try {
    parsed = parseHistoryArgs(args)
  } catch (e) {
    if (e instanceof HistoryQueryError) {
      io.err(`scimd history: ${e.message}\n`)
      return 2
    }
    throw e
  }
  let opened: CliStore
  try {
    opened = await openCliStore(config)
  } catch (e) {
    io.err(`scimd history: ${(e as Error).message}\n`)
    return 1
  }
  const store = opened.store
  try {
    const at = now()
    // with --limit, the newest N (read newest first, printed oldest first); else every match in pages
    let entries: HistoryEntry[]
    if (parsed.limit !== undefined) entries = (await queryHistory(store, parsed.filter, { offset: 0, limit: parsed.limit }, at)).entries.reverse()
    else {
      entries = []
      const PAGE = 1000
      for (let offset = 0; ; offset += PAGE) {
        const page = (await queryHistory(store, parsed.filter, { offset, limit: PAGE, ascending: true }, at)).entries
        entries.push(...page)
        if (page.length < PAGE) break
      }
    }
    for (const e of entries) io.out((parsed.json ? JSON.stringify(e) : formatEntry(e, io.isTTY)) + '\n')
    if (!parsed.json && entries.length === 0) io.err('scimd history: no changes match\n')
    return 0
  } catch (e) {
    if (e instanceof HistoryQueryError) {
      io.err(`scimd history: ${e.message}\n`)
      return 2
    }
    throw e
  } finally {
    await opened.close()
  }
}
