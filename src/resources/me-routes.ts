/**
 * {base}/Me (RFC 7644 §3.11): GET, PUT, PATCH and DELETE on the User of the authenticated subject.
 * The subject: Basic → the user name; JWT / introspection → the claim SCIMD_ME_CLAIM (default `sub`). It is
 * matched against SCIMD_ME_MATCH: `userName` (case-insensitive, like the uniqueness of userName), `id` or
 * `externalId`. A static bearer token names no one → 501 with a SCIM error saying so; a subject with no User → 404.
 * The answers are those of /Users/{id} (meta.location and Location point at /Users/{id}).
 */
import { Elysia } from 'elysia'
import type { AppContext } from '../app'
import type { Principal } from '../auth'
import type * as repo from '../db/repo'
import { q, type Step } from '../db/store'
import { methodNotAllowed, notFound, notImplemented } from '../scim/errors'
import { parseListParams } from '../scim/list'
import { project } from '../scim/projection'
import { foldKey } from '../scim/text'
import { operationDoc } from '../http/openapi'
import { listPage } from './list-service'
import { patchResource } from './patch-service'
import { wants } from './routes'
import * as svc from './service'
import type { ServiceDeps } from './service'

/** The subject of the credentials as /Me sees it; throws 501 for modes without one. */
export function meSubject(principal: Principal | undefined, claim: string): string {
  if (!principal) throw notImplemented('/Me needs an authenticated subject')
  if (principal.mode === 'bearer')
    throw notImplemented('/Me is not available with a static bearer token: it names no subject. Use Basic, a JWT or an introspected OAuth token.')
  if (principal.mode === 'basic') return principal.subject
  const v = principal.claims?.[claim]
  if (typeof v === 'string' && v !== '') return v
  if (typeof v === 'number') return String(v)
  throw notFound(`The access token has no '${claim}' claim (SCIMD_ME_CLAIM) to find the /Me user by`)
}

/** The id of the User the subject names, or 404. */
export function* meUserId(deps: ServiceDeps, subject: string, match: 'userName' | 'id' | 'externalId'): Step<string> {
  let id: string | undefined
  if (match === 'userName') id = yield* q((r) => r.findUserIdByKey(deps.tenant, foldKey(subject)))
  else if (match === 'id') id = (yield* q((r) => r.getResource(deps.tenant, 'User', subject)))?.id
  else id = (yield* listPage(deps, 'User', parseListParams({ filter: `externalId eq ${JSON.stringify(subject)}`, count: '2' }))).rows[0]?.id
  if (!id) throw notFound(`No User matches the authenticated subject (SCIMD_ME_MATCH=${match})`)
  return id
}

export function meRoutes(ctx: AppContext) {
  const deps = ctx.deps
  // writes carry the request's id and principal into the change history
  const writer = (request: Request): ServiceDeps => ({ ...deps, audit: ctx.audit(request) })
  const tags = ['Me']
  const store = () => svc.storeOf(deps)
  const userOf = (c: unknown) => store().read(meUserId(deps, meSubject((c as { principal?: Principal }).principal, ctx.config.meClaim), ctx.config.meMatch))
  const present = (request: Request, stored: repo.StoredResource, set: { headers: Record<string, any> }) => {
    const url = new URL(request.url)
    const q = parseListParams({ attributes: url.searchParams.get('attributes') ?? undefined, excludedAttributes: url.searchParams.get('excludedAttributes') ?? undefined })
    const origin = ctx.origin(request)
    set.headers['etag'] = svc.etagOf(stored.version)
    set.headers['content-location'] = `${origin.baseUrl}/Users/${stored.id}`
    return store().read(
      (function* (): Step<Record<string, unknown>> {
        const full = yield* svc.renderStep(deps, 'User', stored, origin, { members: false, groups: wants('groups', q) })
        return project(deps.registry, svc.resourceType(deps, 'User'), full, q)
      })(),
    )
  }
  const errors = ['401', '404'] as const
  return new Elysia({ name: 'scim.me', seed: ctx.config.basePath })
    .get('/Me', async (c) => present(c.request, await svc.getStored(deps, 'User', await userOf(c)), c.set), {
      detail: operationDoc({ summary: 'The User of the authenticated subject (501 for static bearer tokens)', tags, ok: { status: 200, ref: 'User', description: 'The user' }, errors: [...errors] }),
    })
    .put('/Me', async (c) => present(c.request, await svc.replaceResource(writer(c.request), 'User', await userOf(c), c.body, c.request.headers.get('if-match')), c.set), {
      detail: operationDoc({ summary: 'Replace the User of the authenticated subject', tags, request: 'User', ok: { status: 200, ref: 'User', description: 'The replaced user' }, errors: ['400', ...errors, '409', '412'] }),
    })
    .patch('/Me', async (c) => present(c.request, await patchResource(writer(c.request), 'User', await userOf(c), c.body, c.request.headers.get('if-match')), c.set), {
      detail: operationDoc({ summary: 'Modify the User of the authenticated subject', tags, request: 'PatchOp', ok: { status: 200, ref: 'User', description: 'The modified user' }, errors: ['400', ...errors, '412'] }),
    })
    .delete(
      '/Me',
      async (c) => {
        await svc.deleteResource(writer(c.request), 'User', await userOf(c), c.request.headers.get('if-match'))
        c.set.status = 204
        return undefined
      },
      { detail: operationDoc({ summary: 'Delete the User of the authenticated subject', tags, ok: { status: 204, description: 'Deleted' }, errors: [...errors, '412'] }) },
    )
    .all('/Me', ({ request }) => {
      throw methodNotAllowed(`${request.method} is not allowed on /Me`, 'GET, PUT, PATCH, DELETE')
    }, { detail: { hide: true } })
}
