/** Listing for every resource type: filter → SQL, sort, page (by index or by RFC 9865 cursor); the root search. */
import { randomBytes } from 'node:crypto'
import type { Kind, PageRow, QueryPart, StoredResource } from '../db/repo'
import { filterResolver, type FilterSqlContext } from '../db/filter-sql'
import { q, type Maybe, type Step, type Store } from '../db/store'
import { formatAttrPath } from '../scim/attr-path'
import { cursorCodec, queryBinding, type CursorCodec } from '../scim/cursor'
import { invalidFilter } from '../scim/errors'
import { filterPaths, pruneFilter } from '../scim/filter/prune'
import { stringifyFilter } from '../scim/filter/stringify'
import type { ListParams } from '../scim/list'
import { resourceType, storeOf, type ServiceDeps } from './service'
import { DEFAULT_TENANT } from '../tenants/context'

const sqlCtx = (deps: ServiceDeps, kind: Kind): FilterSqlContext => ({
  registry: deps.registry,
  rt: resourceType(deps, kind),
  kind,
  strict: deps.strict,
})

export function* listPage(deps: ServiceDeps, kind: Kind, p: ListParams): Step<{ total: number; rows: StoredResource[] }> {
  const ctx = sqlCtx(deps, kind)
  const { filterToSql, sortToSql } = storeOf(deps).sql
  const query = {
    where: p.filter ? filterToSql(ctx, p.filter) : undefined,
    orderBy: p.sortBy ? sortToSql(ctx, p.sortBy) : undefined,
    descending: p.sortOrder === 'descending',
    offset: p.startIndex - 1,
    limit: p.count,
  }
  return yield* q((r) => r.listResources(deps.tenant, kind, query))
}

/** The query of one resource type's endpoint as a repo QueryPart. */
export function typedParts(deps: ServiceDeps, kind: Kind, p: ListParams): QueryPart[] {
  const ctx = sqlCtx(deps, kind)
  const { filterToSql, sortToSql } = storeOf(deps).sql
  return [{ kind, where: p.filter ? filterToSql(ctx, p.filter) : undefined, orderBy: p.sortBy ? sortToSql(ctx, p.sortBy) : undefined }]
}

export const ROOT_KINDS: Kind[] = ['User', 'Group']

/**
 * The query of a search at the server root (RFC 7644 §3.4.3) over Users and Groups together. An attribute that
 * only one type defines is unassigned in the other (scim/filter/prune.ts folds those leaves: `userName eq "x"` finds
 * no Group, `not (userName eq "x")` every Group); an attribute that no type defines is 400 invalidFilter, as on a
 * resource endpoint. sortBy on an attribute one type lacks sorts that type's resources as having no value.
 */
export function rootParts(deps: ServiceDeps, p: ListParams): QueryPart[] {
  const { filterToSql, sortToSql } = storeOf(deps).sql
  const ctxs = ROOT_KINDS.map((kind) => sqlCtx(deps, kind))
  const resolvers = ctxs.map((c) => filterResolver(c))
  if (p.filter) {
    for (const path of filterPaths(p.filter))
      if (!resolvers.some((r) => r(path) !== undefined))
        throw invalidFilter(`Unknown attribute '${formatAttrPath(path)}' in filter: neither Users nor Groups define it`)
  }
  const sortKnown = p.sortBy ? resolvers.map((r) => r(p.sortBy!) !== undefined) : []
  const parts: QueryPart[] = []
  ctxs.forEach((ctx, i) => {
    let where: QueryPart['where']
    if (p.filter) {
      const pruned = pruneFilter(p.filter, (path) => resolvers[i](path) !== undefined)
      if (pruned === false) return
      if (pruned !== true) where = filterToSql(ctx, pruned)
    }
    let orderBy: QueryPart['orderBy']
    if (p.sortBy && (sortKnown[i] || !sortKnown.some(Boolean))) orderBy = sortToSql(ctx, p.sortBy)
    parts.push({ kind: ctx.kind, where, orderBy })
  })
  return parts
}

/** Index paging over parts (the root search). */
export function* indexPageAcross(deps: ServiceDeps, parts: QueryPart[], p: ListParams): Step<{ total: number; rows: PageRow[] }> {
  const total = yield* q((r) => r.countParts(deps.tenant, parts))
  const page = { descending: Boolean(p.sortBy) && p.sortOrder === 'descending', offset: p.startIndex - 1, limit: p.count }
  const rows = yield* q((r) => r.listAcross(deps.tenant, parts, page))
  return { total, rows }
}

// ── cursors ──────────────────────────────────────────────────────────────────────────────────────────────────

const SECRET_KEY = 'cursor.hmac_secret'
const secrets = new WeakMap<Store, Uint8Array>()

/**
 * The HMAC key of cursors: 32 random bytes made on first use and kept in the settings table, so cursors survive
 * restarts and every replica sharing the database signs and verifies with the same key (the first writer wins).
 * Read before a page's snapshot (which is read-only on PostgreSQL), and cached per store.
 */
export function cursorSecret(deps: ServiceDeps): Maybe<Uint8Array> {
  const store = storeOf(deps)
  const known = secrets.get(store)
  if (known) return known
  const keep = (stored: string) => {
    const s = new Uint8Array(Buffer.from(stored, 'base64url'))
    secrets.set(store, s)
    return s
  }
  const make = function* (): Step<string> {
    const stored = yield* q((r) => r.getSetting(SECRET_KEY))
    if (stored) return stored
    const fresh = randomBytes(32).toString('base64url')
    return yield* q((r) => r.putSettingOnce(SECRET_KEY, fresh))
  }
  const got = store.write(make)
  return got instanceof Promise ? got.then(keep) : keep(got)
}

export interface CursorPage {
  total: number
  rows: PageRow[]
  next?: string
  previous?: string
}

/**
 * One page of RFC 9865 cursor pagination over parts. `scope` names the endpoint ('User', 'Group', 'root'); with the
 * tenant added, a cursor only works where it was issued. Keyset paging (repo.seekPage): the next page starts just
 * after the last row returned, whatever was inserted or deleted meanwhile. nextCursor is given unless this is the last page;
 * previousCursor unless it is the first (RFC 9865 Table 2). A backward step that reaches the start returns the
 * first page, full.
 */
export function* cursorPage(deps: ServiceDeps, secret: Uint8Array, scope: string, parts: QueryPart[], p: ListParams, ttlSeconds: number): Step<CursorPage> {
  const codec: CursorCodec = cursorCodec(secret, ttlSeconds)
  const binding = queryBinding({
    // a named tenant's too: a cursor issued in one tenant is invalidCursor in every other (the default tenant's
    // binding is the bare scope, so that its cursors stay valid across an upgrade)
    scope: deps.tenant === DEFAULT_TENANT ? scope : `${scope}@${deps.tenant}`,
    filter: p.filter ? stringifyFilter(p.filter) : undefined,
    sortBy: p.sortBy ? formatAttrPath(p.sortBy).toLowerCase() : undefined,
    sortOrder: p.sortOrder,
  })
  const now = deps.now().getTime()
  const pos = p.cursor ? codec.decode(p.cursor, binding, now) : undefined
  const total = yield* q((r) => r.countParts(deps.tenant, parts))
  if (p.count <= 0) return { total, rows: [] }

  const desc = Boolean(p.sortBy) && p.sortOrder === 'descending'
  const seek = (backward: boolean, after: { key: PageRow['sortKey']; id: string } | undefined, limit: number) =>
    q((r) => r.seekPage(deps.tenant, parts, { descending: backward ? !desc : desc, after, limit }))
  const at = (r: PageRow) => ({ key: r.sortKey, id: r.id })
  const n = p.count

  let rows: PageRow[]
  let hasNext: boolean
  let hasPrev: boolean
  function* firstPage(): Step<void> {
    const got = yield* seek(false, undefined, n + 1)
    rows = got.slice(0, n)
    hasNext = got.length > n
    hasPrev = false
  }
  if (!pos) yield* firstPage()
  else if (pos.dir === 'next') {
    const got = yield* seek(false, pos, n + 1)
    rows = got.slice(0, n)
    hasNext = got.length > n
    hasPrev = rows.length > 0 && (yield* seek(true, at(rows[0]), 1)).length > 0
  } else {
    const got = yield* seek(true, pos, n + 1)
    if (got.length <= n) yield* firstPage()
    else {
      rows = got.slice(0, n).reverse()
      hasPrev = true
      hasNext = (yield* seek(false, at(rows[rows.length - 1]), 1)).length > 0
    }
  }
  const out: CursorPage = { total, rows: rows! }
  if (hasNext! && rows!.length) out.next = codec.encode({ dir: 'next', ...at(rows![rows!.length - 1]) }, binding, now)
  if (hasPrev! && rows!.length) out.previous = codec.encode({ dir: 'prev', ...at(rows![0]) }, binding, now)
  return out
}
