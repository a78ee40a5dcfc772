/**
 * POST /.search at the SCIM root (RFC 7644 §3.4.3): one SearchRequest over Users and Groups together. Each resource
 * in `Resources` carries its own `schemas` and `meta.resourceType`. Paging — by startIndex/count or by RFC 9865
 * cursor — runs over one merged order (sortBy value, then id; id alone by default), so pages are stable across
 * both types. Filter semantics for attributes only one type defines: see list-service.ts rootParts.
 */
import { Elysia, t } from 'elysia'
import type { AppContext } from '../app'
import { cursorListResponse, listResponse, searchRequestParams } from '../scim/list'
import { project } from '../scim/projection'
import type { PageRow } from '../db/repo'
import type { Step } from '../db/store'
import * as svc from './service'
import { cursorPage, cursorSecret, indexPageAcross, rootParts } from './list-service'
import { wants } from './routes'

const SearchBody = t.Object({}, { additionalProperties: true, description: 'A SearchRequest (urn:ietf:params:scim:api:messages:2.0:SearchRequest)' })

export function searchRoutes(ctx: AppContext) {
  const deps = ctx.deps
  return new Elysia({ name: 'scim.search', seed: ctx.config.basePath }).post(
    '/.search',
    async ({ request, body }) => {
      const params = searchRequestParams(body as Record<string, unknown> | null)
      const parts = rootParts(deps, params)
      const secret = params.cursor !== undefined ? await cursorSecret(deps) : undefined
      const origin = ctx.origin(request)
      const needs = { members: wants('members', params), groups: wants('groups', params) }
      return svc.storeOf(deps).snapshot(
        (function* (): Step<unknown> {
          const present = function* (rows: PageRow[]): Step<Record<string, unknown>[]> {
            const out: Record<string, unknown>[] = []
            for (const r of rows) out.push(project(deps.registry, svc.resourceType(deps, r.kind), yield* svc.renderStep(deps, r.kind, r, origin, needs), params))
            return out
          }
          if (params.cursor !== undefined) {
            const cp = yield* cursorPage(deps, secret!, 'root', parts, params, ctx.config.cursorTtl)
            return cursorListResponse(cp.total, yield* present(cp.rows), cp)
          }
          const page = yield* indexPageAcross(deps, parts, params)
          return listResponse(page.total, params.startIndex, yield* present(page.rows))
        })(),
      )
    },
    {
      body: t.Optional(SearchBody),
      detail: {
        tags: ['Search'],
        summary: 'Search Users and Groups together with a SearchRequest body (RFC 7644 §3.4.3)',
      },
    },
  )
}
