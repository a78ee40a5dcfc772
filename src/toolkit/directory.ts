/**
 * The admin console's directory and change history (issue 10): read-only JSON under /admin, behind the same admin
 * authentication as the rest of /admin (bearer SCIMD_ADMIN_TOKEN or the session cookie; 401 SCIM error otherwise).
 *  - GET /admin/users, /admin/groups: the SCIM filter language, sortBy/sortOrder, startIndex/count, paged in SQL
 *    (list-service.ts: the same compiler and indexes as GET /Users), compact rows for a table.
 *  - GET /admin/resources/{id}: the resource as SCIM renders it (never a password or its hash), its memberships.
 *  - GET /admin/resources/{id}/history, GET /admin/history: the change history (history.ts), newest first; a
 *    deleted resource's history stays readable by id.
 * Errors are SCIM errors; nothing here writes.
 */
import { Elysia, t } from 'elysia'
import type { AppContext } from '../app'
import * as repo from '../db/repo'
import type { Kind } from '../db/repo'
import { scimHttp } from '../http/scim-plugin'
import { HistoryQueryError, queryHistory, type HistoryEntry } from '../resources/history'
import { listPage } from '../resources/list-service'
import * as svc from '../resources/service'
import { q as qs, type Step } from '../db/store'
import type { ServiceDeps } from '../resources/service'
import { invalidValue, notFound } from '../scim/errors'
import { parseListParams } from '../scim/list'
import { adminDoc, adminJson as json, type AdminAuth } from './admin'
import { DEFAULT_TENANT } from '../tenants/context'
import pageDirectoryJs from './page/directory.js' with { type: 'text' }

/** Rows per page of the admin tables (and at most ADMIN_MAX_COUNT). */
export const ADMIN_PAGE = 50
export const ADMIN_MAX_COUNT = 500

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

export interface DirectoryOptions {
  /** absent: the console is off (adminRoutes answers 404 for all of /admin) */
  auth?: AdminAuth
  ctx: AppContext
  maxBody: number
  /** whether the inspector still holds the exchange of this request id */
  hasExchange?: (requestId: string) => boolean
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)

/** The columns of the users table in the console. */
function userRow(r: repo.StoredResource) {
  const d = r.data
  const emails = Array.isArray(d.emails) ? (d.emails as Record<string, unknown>[]) : []
  const email = emails.find((e) => e && e.primary === true) ?? emails[0]
  return {
    id: r.id,
    userName: str(d.userName) ?? '',
    displayName: str(d.displayName) ?? null,
    email: email ? (str(email.value) ?? null) : null,
    active: typeof d.active === 'boolean' ? d.active : null,
    externalId: str(d.externalId) ?? null,
    lastModified: r.lastModified,
  }
}

function groupRow(r: repo.StoredResource) {
  return { id: r.id, displayName: str(r.data.displayName) ?? '', externalId: str(r.data.externalId) ?? null, lastModified: r.lastModified }
}

function whole(name: string, raw: string | null, dflt: number, min: number, max: number): number {
  if (raw === null || raw === '') return dflt
  if (!/^\d+$/.test(raw)) throw invalidValue(`${name} must be a whole number, got '${raw}'`)
  return Math.min(Math.max(Number(raw), min), max)
}

const ListQuery = t.Object(
  {
    filter: t.Optional(t.String({ description: 'SCIM filter (RFC 7644 §3.4.2.2), e.g. userName sw "j" and active eq false' })),
    sortBy: t.Optional(t.String({ description: 'attribute path, e.g. userName or meta.lastModified' })),
    sortOrder: t.Optional(t.String({ description: 'ascending (default) or descending' })),
    startIndex: t.Optional(t.String({ description: '1-based index of the first row (default 1)' })),
    count: t.Optional(t.String({ description: `rows per page (default ${ADMIN_PAGE}, at most ${ADMIN_MAX_COUNT})` })),
    tenant: t.Optional(t.String({ description: 'tenant id (default: the default tenant)' })),
  },
  { additionalProperties: true },
)

const HistoryQuery = t.Object(
  {
    since: t.Optional(t.String({ description: 'from this time on: ISO 8601 (2026-11-28T14:00:00Z) or a duration back from now (15m, 1h, 2d)' })),
    until: t.Optional(t.String({ description: 'before this time (same forms as since)' })),
    type: t.Optional(t.String({ description: 'User or Group' })),
    op: t.Optional(t.String({ description: 'create, replace, patch, delete, member_add, member_remove (comma-separated for several)' })),
    id: t.Optional(t.String({ description: 'resource id (also of a deleted resource)' })),
    startIndex: t.Optional(t.String({ description: '1-based index of the first entry (default 1)' })),
    count: t.Optional(t.String({ description: `entries per page (default ${ADMIN_PAGE}, at most ${ADMIN_MAX_COUNT})` })),
    order: t.Optional(t.String({ description: 'newest (default) or oldest first' })),
    tenant: t.Optional(t.String({ description: 'tenant id (default: the default tenant)' })),
  },
  { additionalProperties: true },
)

export function directoryRoutes(o: DirectoryOptions) {
  const app = new Elysia({ name: 'scimd.admin.directory' })
  if (!o.auth) return app // adminRoutes answers 404 for everything under /admin
  const { guard } = o.auth
  const { ctx } = o
  const depsFor = (q: URLSearchParams): ServiceDeps => {
    const tenant = q.get('tenant')
    return tenant ? { ...ctx.deps, tenant } : ctx.deps
  }

  const list = (kind: Kind) => async (request: Request) => {
    guard(request)
    const q = new URL(request.url).searchParams
    const deps = depsFor(q)
    const p = parseListParams(
      {
        filter: q.get('filter') || undefined,
        sortBy: q.get('sortBy') || undefined,
        sortOrder: q.get('sortOrder') || undefined,
        startIndex: q.get('startIndex') || undefined,
        count: q.get('count') || String(ADMIN_PAGE),
      },
      ADMIN_MAX_COUNT,
    )
    const page = await svc.storeOf(deps).read(listPage(deps, kind, p))
    return json({
      totalResults: page.total,
      startIndex: p.startIndex,
      itemsPerPage: page.rows.length,
      rows: page.rows.map((r): Record<string, unknown> => (kind === 'User' ? userRow(r) : groupRow(r))),
    })
  }

  const withLinks = (e: HistoryEntry) => ({ ...e, inInspector: e.requestId ? Boolean(o.hasExchange?.(e.requestId)) : false })

  const history = async (request: Request, id?: string) => {
    const q = new URL(request.url).searchParams
    const count = whole('count', q.get('count'), ADMIN_PAGE, 0, ADMIN_MAX_COUNT)
    const startIndex = whole('startIndex', q.get('startIndex'), 1, 1, Number.MAX_SAFE_INTEGER)
    const order = q.get('order')
    if (order && order !== 'newest' && order !== 'oldest') throw invalidValue(`order must be newest or oldest, got '${order}'`)
    try {
      const { total, entries } = await queryHistory(
        svc.storeOf(ctx.deps),
        {
          tenant: q.get('tenant') || ctx.deps.tenant,
          since: q.get('since') || undefined,
          until: q.get('until') || undefined,
          type: q.get('type') || undefined,
          op: q.get('op') || undefined,
          id: id ?? (q.get('id') || undefined),
        },
        { offset: startIndex - 1, limit: count, ascending: order === 'oldest' },
        ctx.deps.now(),
      )
      return json({ totalResults: total, startIndex, itemsPerPage: entries.length, historyDays: ctx.config.historyDays, entries: entries.map(withLinks) })
    } catch (e) {
      if (e instanceof HistoryQueryError) throw invalidValue(e.message)
      throw e
    }
  }

  return app
    .use(scimHttp({ maxBody: o.maxBody }))
    .get(
      '/admin/assets/directory.js',
      () =>
        new Response(pageDirectoryJs as unknown as string, {
          headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'content-security-policy': CSP },
        }),
      { detail: { hide: true } },
    )
    .get('/admin/users', ({ request }) => list('User')(request), {
      query: ListQuery,
      detail: adminDoc(
        'Users for the console (filter, sort, page)',
        `The SCIM filter language, sortBy/sortOrder and startIndex/count (default ${ADMIN_PAGE}, at most ${ADMIN_MAX_COUNT}), paged in the database. Answers {totalResults, startIndex, itemsPerPage, rows: [{id, userName, displayName, email, active, externalId, lastModified}]}. A bad filter is 400 invalidFilter.`,
      ),
    })
    .get('/admin/groups', ({ request }) => list('Group')(request), {
      query: ListQuery,
      detail: adminDoc('Groups for the console (filter, sort, page)', 'As /admin/users; rows: [{id, displayName, externalId, lastModified}].'),
    })
    .get(
      '/admin/resources/:id',
      ({ request, params }) => {
        guard(request)
        const q = new URL(request.url).searchParams
        const deps = depsFor(q)
        // outside the tenant router: a named tenant's resources live under /t/{tenant}{basePath}
        const here = ctx.origin(request)
        const origin = deps.tenant === DEFAULT_TENANT ? here : { ...here, baseUrl: `${here.origin}/t/${deps.tenant}${ctx.config.basePath}` }
        const count = whole('membersCount', q.get('membersCount'), 100, 0, 1000)
        const start = whole('membersStartIndex', q.get('membersStartIndex'), 1, 1, Number.MAX_SAFE_INTEGER)
        return svc.storeOf(deps).snapshot(
          (function* (): Step<Response> {
            const found = yield* qs((r) => r.resolveMemberIds(deps.tenant, [params.id]))
            const kind = found.get(params.id)
            if (!kind) throw notFound(`No User or Group '${params.id}' (GET /admin/resources/${params.id}/history still shows the history of a deleted one)`)
            const stored = yield* svc.getStoredStep(deps, kind, params.id)
            const resource = svc.renderWith(deps, kind, stored, origin, { members: false, groups: false })
            const body: Record<string, unknown> = { resourceType: kind, resource }
            if (kind === 'User') body.groups = yield* qs((r) => r.groupsOfMember(deps.tenant, stored.id))
            else {
              const page = yield* qs((r) => r.membersPage(stored.id, start - 1, count))
              body.members = { totalResults: page.total, startIndex: start, rows: page.rows.map((m) => ({ value: m.memberId, type: m.memberType, display: m.display })) }
            }
            return json(body)
          })(),
        )
      },
      {
        params: t.Object({ id: t.String() }),
        detail: adminDoc(
          'One user or group, with its memberships',
          'The resource as SCIM renders it (a password or its hash never appears), plus for a User the groups it is a direct member of, for a Group a page of its members (membersStartIndex, membersCount: default 100, at most 1000) and how many it has. 404 when no resource has this id.',
        ),
      },
    )
    .get(
      '/admin/resources/:id/history',
      ({ request, params }) => {
        guard(request)
        return history(request, params.id)
      },
      {
        params: t.Object({ id: t.String() }),
        query: HistoryQuery,
        detail: adminDoc(
          "A resource's timeline of changes",
          'The change history of one resource id (also after it was deleted), newest first: as /admin/history with id fixed.',
        ),
      },
    )
    .get(
      '/admin/history',
      ({ request }) => {
        guard(request)
        return history(request)
      },
      {
        query: HistoryQuery,
        detail: adminDoc(
          'The change history (every write)',
          'Newest first (order=oldest reverses). Filters: since/until (ISO time or a duration back from now: 15m, 1h, 2d), type (User, Group), op (create, replace, patch, delete, member_add, member_remove; comma-separated), id. Each entry: seq, time, tenant, op, resourceType, resourceId, requestId (the inspector id: X-Scimd-Request-Id), inInspector (whether GET /admin/requests/{requestId} still has it), principal (the auth mode and subject label, never a credential), before and after (the stored attributes; never a password), changed (the attributes that differ), members ({count, ids (first 100), truncated} for member_add/member_remove). Kept SCIMD_HISTORY_DAYS days.',
        ),
      },
    )
}
