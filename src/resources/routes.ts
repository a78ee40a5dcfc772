/**
 * The SCIM controller of one resource type: POST, GET (list), POST /.search, GET/PUT/PATCH/DELETE by id.
 * Thin: reads the request, calls the service, sets status and headers.
 */
import { Elysia, t } from 'elysia'
import type { Kind } from '../db/repo'
import { methodNotAllowed } from '../scim/errors'
import { cursorListResponse, listResponse, parseListParams, searchRequestParams, type ListParams } from '../scim/list'
import { project } from '../scim/projection'
import * as svc from './service'
import { cursorPage, cursorSecret, listPage, typedParts } from './list-service'
import { q, type Step } from '../db/store'
import type { StoredResource } from '../db/repo'
import { patchResource } from './patch-service'
import type { AppContext } from '../app'
import { operationDoc } from '../http/openapi'
import { hasQuery } from '../http/url'

const IdParams = t.Object({ id: t.String({ description: 'Server-assigned resource id' }) })

/** Whether a top-level attribute is asked for by attributes/excludedAttributes (for what must be loaded). */
export function wants(name: string, p: { attributes?: string[]; excludedAttributes?: string[] }): boolean {
  const n = name.toLowerCase()
  const top = (s: string) => {
    const bare = s.toLowerCase().replace(/^urn:ietf:params:scim:schemas:core:2\.0:(user|group):/, '')
    return bare.split('.')[0]
  }
  if (p.attributes?.length) return p.attributes.some((a) => top(a) === n)
  return !(p.excludedAttributes ?? []).some((a) => top(a) === n && !a.includes('.'))
}

export function resourceRoutes(kind: Kind, ctx: AppContext) {
  const endpoint = '/' + svc.endpointOf(kind)
  const tag = svc.endpointOf(kind)
  const deps = ctx.deps

  const store = () => svc.storeOf(deps)

  /** The resource as answered: rendered (members / groups read unless given) and projected. */
  function* presentStep(
    request: Request,
    stored: StoredResource,
    q: { attributes?: string[]; excludedAttributes?: string[] },
    groupsOf?: Map<string, { id: string; display: string }[]>,
  ): Step<Record<string, unknown>> {
    const rt = svc.resourceType(deps, kind)
    const full = yield* svc.renderStep(deps, kind, stored, ctx.origin(request), { members: wants('members', q), groups: wants('groups', q), groupsOf })
    return project(deps.registry, rt, full, q)
  }
  const present = (request: Request, stored: StoredResource, q: { attributes?: string[]; excludedAttributes?: string[] }) =>
    store().read(presentStep(request, stored, q))

  const projectionOf = (url: URL) =>
    parseListParams({ attributes: url.searchParams.get('attributes') ?? undefined, excludedAttributes: url.searchParams.get('excludedAttributes') ?? undefined })

  const list = async (request: Request, params: ListParams) => {
    const secret = params.cursor !== undefined ? await cursorSecret(deps) : undefined
    const origin = ctx.origin(request)
    const rt = svc.resourceType(deps, kind)
    const needs = { members: wants('members', params), groups: wants('groups', params) }
    // one snapshot: the page, its total and what its rows render (a page of 100 users reads their groups at once)
    return store().snapshot(
      (function* (): Step<unknown> {
        const render = function* (rows: StoredResource[]): Step<Record<string, unknown>[]> {
          const pageNeeds = kind === 'User' && needs.groups ? { ...needs, groupsOf: yield* q((r) => r.groupsOfMembers(deps.tenant, rows.map((x) => x.id))) } : needs
          const out: Record<string, unknown>[] = []
          for (const r of rows) out.push(project(deps.registry, rt, yield* svc.renderStep(deps, kind, r, origin, pageNeeds), params))
          return out
        }
        if (params.cursor !== undefined) {
          const cp = yield* cursorPage(deps, secret!, kind, typedParts(deps, kind, params), params, ctx.config.cursorTtl)
          return cursorListResponse(cp.total, yield* render(cp.rows), cp)
        }
        const page = yield* listPage(deps, kind, params)
        return listResponse(page.total, params.startIndex, yield* render(page.rows))
      })(),
    )
  }

  /** the dependencies of a write: who and which request, for the change history */
  const writer = (request: Request): svc.ServiceDeps => ({ ...deps, audit: ctx.audit(request) })

  const withEtag = (set: { headers: Record<string, any> }, version: number) => {
    set.headers['etag'] = svc.etagOf(version)
  }

  return new Elysia({ name: `scim.${tag}`, seed: ctx.config.basePath })
    .post(
      endpoint,
      async ({ request, body, set }) => {
        const url = new URL(request.url)
        const stored = await svc.createResource(writer(request), kind, body)
        set.status = 201
        set.headers['location'] = `${ctx.origin(request).baseUrl}${endpoint}/${stored.id}`
        withEtag(set, stored.version)
        return present(request, stored, projectionOf(url))
      },
      { detail: operationDoc({ summary: `Create a ${kind}`, tags: [tag], request: kind, ok: { status: 201, ref: kind, description: 'Created; Location and ETag headers' }, errors: ['400', '401', '409', '413'] }) },
    )
    .get(
      endpoint,
      ({ request }) => {
        const url = new URL(request.url)
        const q = url.searchParams
        return list(
          request,
          parseListParams({
            filter: q.get('filter') ?? undefined,
            sortBy: q.get('sortBy') ?? undefined,
            sortOrder: q.get('sortOrder') ?? undefined,
            startIndex: q.get('startIndex') ?? undefined,
            count: q.get('count') ?? undefined,
            attributes: q.get('attributes') ?? undefined,
            excludedAttributes: q.get('excludedAttributes') ?? undefined,
            // `?cursor` and `?cursor=` both ask for the first cursor page (RFC 9865 §2)
            cursor: q.has('cursor') ? (q.get('cursor') ?? '') : undefined,
          }),
        )
      },
      {
        query: t.Object(
          {
            filter: t.Optional(t.String({ description: 'RFC 7644 §3.4.2.2 filter, e.g. userName eq "bjensen"' })),
            startIndex: t.Optional(t.String({ description: '1-based index of the first result' })),
            count: t.Optional(t.String({ description: 'Page size (capped to filter.maxResults)' })),
            sortBy: t.Optional(t.String()),
            sortOrder: t.Optional(t.String({ description: 'ascending or descending' })),
            attributes: t.Optional(t.String()),
            excludedAttributes: t.Optional(t.String()),
            cursor: t.Optional(
              t.String({ description: 'RFC 9865 cursor pagination: empty for the first page, then the nextCursor/previousCursor of the previous response' }),
            ),
          },
          { additionalProperties: true },
        ),
        detail: operationDoc({ summary: `List or filter ${tag}`, tags: [tag], ok: { status: 200, ref: `${kind}ListResponse`, description: 'A ListResponse' }, errors: ['400', '401'] }),
      },
    )
    .post(endpoint + '/.search', ({ request, body }) => list(request, searchRequestParams(body as Record<string, unknown> | null)), {
      detail: operationDoc({ summary: `Search ${tag} with a SearchRequest body`, tags: [tag], request: 'SearchRequest', ok: { status: 200, ref: `${kind}ListResponse`, description: 'A ListResponse' }, errors: ['400', '401', '413'] }),
    })
    .get(
      endpoint + '/:id',
      ({ request, params, set }) => {
        const proj = hasQuery(request.url) ? projectionOf(new URL(request.url)) : {}
        return store().read(
          (function* (): Step<unknown> {
            // a user with its groups: one statement (the hottest read of an IdP's sync)
            const withGroups = kind === 'User' && wants('groups', proj) ? yield* svc.getUserWithGroupsStep(deps, params.id) : undefined
            const stored = withGroups?.stored ?? (yield* svc.getStoredStep(deps, kind, params.id))
            const etag = svc.etagOf(stored.version)
            const inm = request.headers.get('if-none-match')
            if (inm && inm.split(',').some((x) => x.trim() === '*' || x.trim().replace(/^W\//, '') === etag.replace(/^W\//, ''))) {
              return new Response(null, { status: 304, headers: { etag } })
            }
            withEtag(set, stored.version)
            return yield* presentStep(request, stored, proj, withGroups && new Map([[stored.id, withGroups.groups]]))
          })(),
        )
      },
      { params: IdParams, detail: operationDoc({ summary: `Get a ${kind} (If-None-Match → 304)`, tags: [tag], ok: { status: 200, ref: kind, description: 'The resource; ETag header' }, errors: ['401', '404'] }) },
    )
    .put(
      endpoint + '/:id',
      async ({ request, params, body, set }) => {
        const stored = await svc.replaceResource(writer(request), kind, params.id, body, request.headers.get('if-match'))
        withEtag(set, stored.version)
        return present(request, stored, projectionOf(new URL(request.url)))
      },
      { params: IdParams, detail: operationDoc({ summary: `Replace a ${kind} (If-Match honoured)`, tags: [tag], request: kind, ok: { status: 200, ref: kind, description: 'The replaced resource' }, errors: ['400', '401', '404', '409', '412', '413'] }) },
    )
    .patch(
      endpoint + '/:id',
      async ({ request, params, body, set }) => {
        const stored = await patchResource(writer(request), kind, params.id, body, request.headers.get('if-match'))
        withEtag(set, stored.version)
        return present(request, stored, projectionOf(new URL(request.url)))
      },
      { params: IdParams, detail: operationDoc({ summary: `Modify a ${kind} with PATCH operations (If-Match honoured)`, tags: [tag], request: 'PatchOp', ok: { status: 200, ref: kind, description: 'The modified resource' }, errors: ['400', '401', '404', '409', '412', '413'] }) },
    )
    .delete(
      endpoint + '/:id',
      async ({ request, params, set }) => {
        await svc.deleteResource(writer(request), kind, params.id, request.headers.get('if-match'))
        set.status = 204
        return undefined
      },
      { params: IdParams, detail: operationDoc({ summary: `Delete a ${kind} (If-Match honoured)`, tags: [tag], ok: { status: 204, description: 'Deleted' }, errors: ['401', '404', '412'] }) },
    )
    .all(endpoint, ({ request }) => {
      throw methodNotAllowed(`${request.method} is not allowed on ${endpoint}`, 'GET, POST')
    }, { detail: { hide: true } })
    .all(endpoint + '/:id', ({ request }) => {
      throw methodNotAllowed(`${request.method} is not allowed on ${endpoint}/{id}`, 'GET, PUT, PATCH, DELETE')
    }, { detail: { hide: true } })
}

