/**
 * The change history: every write to a user, group or membership leaves a row, written by the services INSIDE the
 * write's transaction (exact and atomic: a write that fails leaves no row, a row never describes a write that did
 * not happen). What is recorded: time, tenant, op, resource type and id, the request id (the inspector's
 * X-Scimd-Request-Id) and principal label from `deps.audit`, the stored attributes before and after, the top-level
 * attributes that changed, and for memberships the added/removed member ids (a count and the first
 * HISTORY_MEMBER_IDS ids: one row per write, never one per member).
 * Passwords never: the stored data never holds one (services split it off before storing), and snapshot() strips any
 * `password` key again so that no future path can leak it here.
 * Plain functions, no HTTP.
 */
import * as repo from '../db/repo'
import type { Db } from '../db/client'
import type { Kind, StoredResource } from '../db/repo'
import { isStore, q, type Maybe, type Step, type Store } from '../db/store'
import { sqliteStore } from '../db/sqlite-store'

export type HistoryOp = 'create' | 'replace' | 'patch' | 'delete' | 'member_add' | 'member_remove'
export const HISTORY_OPS: HistoryOp[] = ['create', 'replace', 'patch', 'delete', 'member_add', 'member_remove']

/** How many member ids a member_add/member_remove row lists (the count is always exact). */
export const HISTORY_MEMBER_IDS = 100

/** Who and which request caused a write; made per request by the routes (never a token: a label). */
export interface Audit {
  requestId?: string
  principal?: string
}

/** What the history needs from the service dependencies. */
export interface HistoryDeps {
  tenant: string
  now: () => Date
  /** false when SCIMD_HISTORY_DAYS=0 */
  history?: boolean
  audit?: Audit
}

const isSecretKey = (k: string) => k.toLowerCase() === 'password'

function stripSecrets(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    if (isSecretKey(k)) continue
    // extension attributes live one level down (urn:…:enterprise:2.0:User → { … })
    out[k] = k.startsWith('urn:') && x && typeof x === 'object' && !Array.isArray(x) ? stripSecrets(x as Record<string, unknown>) : x
  }
  return out
}

/** A stored resource as the history keeps it: id, attributes (no password), meta.version and lastModified. */
export function snapshot(r: StoredResource): Record<string, unknown> {
  return { id: r.id, ...stripSecrets(r.data), meta: { version: r.version, created: r.created, lastModified: r.lastModified } }
}

/** Top-level attributes (and extension attributes as `urn:…:attr`) whose values differ; meta is left out. */
export function changedPaths(before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined): string[] {
  const out: string[] = []
  const b = before ?? {}
  const a = after ?? {}
  for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (k === 'meta' || k === 'id') continue
    const x = b[k]
    const y = a[k]
    if (JSON.stringify(x) === JSON.stringify(y)) continue
    const isObj = (v: unknown) => v && typeof v === 'object' && !Array.isArray(v)
    if (k.startsWith('urn:') && (isObj(x) || isObj(y))) {
      for (const sub of changedPaths(isObj(x) ? (x as Record<string, unknown>) : {}, isObj(y) ? (y as Record<string, unknown>) : {}))
        out.push(`${k}:${sub}`)
    } else out.push(k)
  }
  return out
}

function base(deps: HistoryDeps, op: HistoryOp, kind: Kind, id: string) {
  return {
    tenant: deps.tenant,
    time: deps.now().toISOString(),
    op,
    resourceType: kind,
    resourceId: id,
    requestId: deps.audit?.requestId ?? null,
    principal: deps.audit?.principal ?? null,
  }
}

/** Records a create, replace, patch or delete of a resource (before/after: the stored resource, or none). */
export function* recordWrite(
  deps: HistoryDeps,
  op: 'create' | 'replace' | 'patch' | 'delete',
  kind: Kind,
  id: string,
  before: StoredResource | undefined,
  after: StoredResource | undefined,
): Step<void> {
  if (deps.history === false) return
  const b = before ? snapshot(before) : undefined
  const a = after ? snapshot(after) : undefined
  const row = {
    ...base(deps, op, kind, id),
    before: b ? JSON.stringify(b) : null,
    after: a ? JSON.stringify(a) : null,
    changed: JSON.stringify(changedPaths(b, a)),
    members: null,
  }
  yield* q((r) => r.insertHistory(row))
}

/**
 * The net membership change of one write: adding then removing the same member in one PATCH is no change.
 * The services give it to the repo's member functions (`out` arrays) and record it at the end.
 */
export class MemberDelta {
  readonly added = new Set<string>()
  readonly removed = new Set<string>()
  add(ids: Iterable<string>) {
    for (const id of ids) if (!this.removed.delete(id)) this.added.add(id)
  }
  remove(ids: Iterable<string>) {
    for (const id of ids) if (!this.added.delete(id)) this.removed.add(id)
  }
  get empty() {
    return this.added.size === 0 && this.removed.size === 0
  }
}

function memberSummary(ids: Set<string>) {
  const list: string[] = []
  for (const id of ids) {
    if (list.length >= HISTORY_MEMBER_IDS) break
    list.push(id)
  }
  return JSON.stringify({ count: ids.size, ids: list, truncated: ids.size > list.length })
}

/** Records a group's membership change: one member_add and/or one member_remove row. */
export function* recordMembers(deps: HistoryDeps, groupId: string, delta: MemberDelta): Step<void> {
  if (deps.history === false) return
  for (const [op, ids] of [
    ['member_add', delta.added],
    ['member_remove', delta.removed],
  ] as const) {
    if (ids.size === 0) continue
    const row = { ...base(deps, op, 'Group', groupId), before: null, after: null, changed: '["members"]', members: memberSummary(ids) }
    yield* q((r) => r.insertHistory(row))
  }
}

// ── retention ─────────────────────────────────────────────────────────────────────────────────────────────

export const PRUNE_BATCH = 500
export const PRUNE_INTERVAL_MS = 60_000

/**
 * Deletes history rows older than `days` in batches of `batch` rows (each its own short statement), at most
 * `maxBatches` per call so that one call never holds the database for long. Returns how many rows went.
 */
export function pruneHistory(target: Store | Db, days: number, now: Date, opts: { batch?: number; maxBatches?: number } = {}): Maybe<number> {
  if (days <= 0) return 0
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString()
  const batch = opts.batch ?? PRUNE_BATCH
  const maxBatches = opts.maxBatches ?? 20
  // outside a transaction: each batch is its own short statement
  return asStore(target).read(
    (function* (): Step<number> {
      let total = 0
      for (let i = 0; i < maxBatches; i++) {
        const n = yield* q((r) => r.pruneHistory(cutoff, batch))
        total += n
        if (n < batch) break
      }
      return total
    })(),
  )
}

const asStore = (t: Store | Db): Store => (isStore(t) ? t : sqliteStore(t))

/**
 * Prunes on a timer (unref'd: it never keeps the process alive). Each tick deletes at most a few batches; when it
 * had more to do it comes back soon (yielding to requests in between) instead of deleting everything at once.
 */
export function startHistoryPruner(target: Store | Db, days: number, opts: { now?: () => Date; intervalMs?: number; firstDelayMs?: number; onError?: (e: unknown) => void } = {}): () => void {
  if (days <= 0) return () => {}
  const now = opts.now ?? (() => new Date())
  const interval = opts.intervalMs ?? PRUNE_INTERVAL_MS
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  const tick = () => {
    if (stopped) return
    const maxBatches = 4
    const next = (more: boolean) => {
      if (stopped) return
      timer = setTimeout(tick, more ? 50 : interval)
      timer.unref?.()
    }
    try {
      const n = pruneHistory(target, days, now(), { maxBatches })
      if (n instanceof Promise)
        n.then(
          (x) => next(x >= PRUNE_BATCH * maxBatches),
          (e) => (opts.onError?.(e), next(false)),
        )
      else next(n >= PRUNE_BATCH * maxBatches)
    } catch (e) {
      opts.onError?.(e)
      next(false)
    }
  }
  timer = setTimeout(tick, opts.firstDelayMs ?? 1_000)
  timer.unref?.()
  return () => {
    stopped = true
    if (timer) clearTimeout(timer)
  }
}

// ── reading ───────────────────────────────────────────────────────────────────────────────────────────────

export interface HistoryEntry {
  seq: number
  time: string
  tenant: string
  op: string
  resourceType: string
  resourceId: string
  requestId: string | null
  principal: string | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  changed: string[]
  members: { count: number; ids: string[]; truncated: boolean } | null
}

const parseJson = (s: string | null) => (s === null ? null : JSON.parse(s))

export function toEntry(r: repo.HistoryRow): HistoryEntry {
  return {
    seq: r.seq,
    time: r.time,
    tenant: r.tenant,
    op: r.op,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    requestId: r.requestId,
    principal: r.principal,
    before: parseJson(r.before),
    after: parseJson(r.after),
    changed: parseJson(r.changed) ?? [],
    members: parseJson(r.members),
  }
}

/** Thrown for a bad time, type or op (the routes turn it into 400 invalidValue, the CLI into a usage error). */
export class HistoryQueryError extends Error {}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * A point in time: an ISO 8601 date or time (`2026-11-28`, `2026-11-28T14:00:00Z`), or a duration back from now
 * (`90s`, `15m`, `1h`, `2d`, `1w`, also `1h30m`). Returns an ISO string (comparable with the stored times).
 */
export function parseTimeArg(raw: string, now: Date, name = 'time'): string {
  const v = raw.trim()
  if (/^(\d+(ms|s|m|h|d|w))+$/i.test(v)) {
    let ms = 0
    for (const m of v.toLowerCase().matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(m[1]) * UNIT_MS[m[2]]
    return new Date(now.getTime() - ms).toISOString()
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(v)) {
    const t = new Date(v.length === 10 ? v + 'T00:00:00Z' : v.replace(' ', 'T'))
    if (!Number.isNaN(t.getTime())) return t.toISOString()
  }
  throw new HistoryQueryError(`${name} must be an ISO time (2026-11-28T14:00:00Z) or a duration back from now (90s, 15m, 1h, 2d), got '${raw}'`)
}

export function parseTypeArg(raw: string): Kind {
  const v = raw.trim().toLowerCase()
  if (v === 'user' || v === 'users') return 'User'
  if (v === 'group' || v === 'groups') return 'Group'
  throw new HistoryQueryError(`type must be User or Group, got '${raw}'`)
}

export function parseOpArg(raw: string): HistoryOp[] {
  const ops = raw
    .split(',')
    .map((s) => s.trim().toLowerCase().replace('-', '_'))
    .filter(Boolean)
  for (const o of ops) if (!HISTORY_OPS.includes(o as HistoryOp)) throw new HistoryQueryError(`op must be one or more of ${HISTORY_OPS.join(', ')} (comma-separated), got '${raw}'`)
  return ops as HistoryOp[]
}

export interface HistoryFilter {
  tenant?: string
  since?: string
  until?: string
  type?: string
  op?: string
  id?: string
}

/** Reads history with the filters as given on the wire / command line (raw strings); newest first. */
export function queryHistory(target: Store | Db, f: HistoryFilter, page: { offset: number; limit: number; ascending?: boolean }, now: Date): Maybe<{ total: number; entries: HistoryEntry[] }> {
  const query = {
    tenant: f.tenant,
    resourceId: f.id || undefined,
    resourceType: f.type ? parseTypeArg(f.type) : undefined,
    op: f.op ? parseOpArg(f.op) : undefined,
    since: f.since ? parseTimeArg(f.since, now, 'since') : undefined,
    until: f.until ? parseTimeArg(f.until, now, 'until') : undefined,
    ascending: page.ascending,
    offset: page.offset,
    limit: page.limit,
  }
  return asStore(target).read(
    (function* (): Step<{ total: number; entries: HistoryEntry[] }> {
      const { total, rows } = yield* q((r) => r.listHistory(query))
      return { total, entries: rows.map(toEntry) }
    })(),
  )
}
