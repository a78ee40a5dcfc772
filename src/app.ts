/**
 * createApp: the whole HTTP surface as an Elysia instance, without listen(). Tests drive it through
 * app.handle(new Request('http://localhost/...')).
 */
import { Elysia } from 'elysia'
import { swagger } from '@elysiajs/swagger'
import type { Config } from './config'
import type { Db } from './db/client'
import { formBodyHasToken, openApiSecurity, type Authenticator, type Principal } from './auth'
import type { Logger } from './log'
import { silentLogger } from './log'
import type { SchemaRegistry } from './scim/schema/registry'
import { readLimited, scimHttp, scimJson, scimResponse, toScimError } from './http/scim-plugin'
import { openApiComponents } from './http/openapi'
import { docsUi } from './http/docs-ui'
import { originOf, rawPath } from './http/url'
import { resourceRoutes } from './resources/routes'
import { searchRoutes } from './resources/search-routes'
import { bulkRoutes } from './resources/bulk-routes'
import { meRoutes } from './resources/me-routes'
import { discoveryRoutes } from './resources/discovery'
import type { Origin, ServiceDeps } from './resources/service'
import { notFound } from './scim/errors'
import { q, type Step, type Store } from './db/store'
import { renderStep, storeOf } from './resources/service'
import { createToolkit, type Toolkit } from './toolkit/toolkit'
import { adminRoutes, createAdminAuth } from './toolkit/admin'
import { directoryRoutes } from './toolkit/directory'
import { currentTenant, tenantScope } from './tenants/context'
import { scopeProfile, scopeStrict, tenantRouter } from './tenants/router'
import { tenantAdminRoutes } from './tenants/admin-routes'
import { startHistoryPruner, type Audit } from './resources/history'

export interface AppDeps {
  config: Config
  /** the SQLite database; absent when `store` is PostgreSQL */
  db?: Db
  /** where resources live (default: the SQLite store of `db`) */
  store?: Store
  registry: SchemaRegistry
  auth: Authenticator
  log?: Logger
  now?: () => Date
  version?: string
  /** The local JWT key set (`scimd token`) served at /.well-known/jwks.json while it is in use. */
  jwks?: () => { keys: unknown[] } | undefined
  /** The client's address for the brake on failed authentication; default: the socket's peer (tests inject one). */
  clientAddress?: (request: Request) => string | undefined
  /** Latency/fault injection and the request inspector; made from config when absent. */
  toolkit?: Toolkit
}

export interface AppContext {
  config: Config
  deps: ServiceDeps
  auth: Authenticator
  log: Logger
  origin(request: Request): Origin
  /** who and which request (for the change history): the inspector's request id and the principal's label */
  audit(request: Request): Audit
}

export function createApp(d: AppDeps) {
  const log = d.log ?? silentLogger
  const config = d.config
  const ctx: AppContext = {
    config,
    auth: d.auth,
    log,
    deps: {
      db: d.db,
      store: d.store,
      registry: d.registry,
      // the tenant (and its profile) of the request being handled: src/tenants/context.ts
      get strict() {
        return scopeStrict(config)
      },
      get tenant() {
        return currentTenant()
      },
      now: d.now ?? (() => new Date()),
      history: config.historyDays > 0,
    },
    audit(request) {
      const p = toolkit.principalOf(request)
      return { requestId: toolkit.requestIdOf(request), principal: p ? `${p.mode}:${p.subject ?? ''}` : undefined }
    },
    origin(request) {
      const origin = config.publicUrl ?? originOf(request.url)
      return { origin, baseUrl: origin + (tenantScope.getStore()?.prefix ?? '') + config.basePath }
    },
  }

  // a tenant's request reaches the routes without its /t/{tenant} prefix: the socket belongs to the original
  const addressOf = (request: Request, server: { requestIP(r: Request): { address: string } | null } | null) => {
    const original = tenantScope.getStore()?.original ?? request
    return d.clientAddress ? d.clientAddress(original) : (server?.requestIP(original)?.address ?? undefined)
  }
  const tenantHoc = tenantRouter({ store: storeOf(ctx.deps), basePath: config.basePath, auth: config, log })
  const toolkit =
    d.toolkit ??
    createToolkit({
      basePath: config.basePath,
      chaos: { delay: config.delay, delayRules: config.delayRules, faults: config.faults, seed: config.seed },
      inspectSize: config.inspectSize,
      requestLog: config.requestLog,
      maxBody: config.maxBody,
      log,
      record: Boolean(config.adminToken || config.requestLog),
      profileOf: () => scopeProfile(config),
      snapshot: (kind, id, request) =>
        storeOf(ctx.deps).read(
          (function* (): Step<unknown> {
            const stored = yield* q((r) => r.getResource(ctx.deps.tenant, kind, id))
            return stored ? yield* renderStep(ctx.deps, kind, stored, ctx.origin(request), { members: true, groups: true }) : null
          })(),
        ),
    })
  const publicDiscovery = config.publicDiscovery !== false
  // one admin authentication (token or session cookie) for every /admin route group
  const adminAuth = config.adminToken ? createAdminAuth(config.adminToken) : undefined
  const scim = new Elysia({ prefix: config.basePath })
    .use(scimHttp({ maxBody: config.maxBody, log }))
    .use(publicDiscovery ? discoveryRoutes(ctx) : new Elysia({ name: 'scim.discovery.closed' }))
    .resolve({ as: 'scoped' }, async ({ request, server }): Promise<{ principal: Principal }> => ({
      principal: await (tenantScope.getStore()?.auth ?? d.auth).authenticate(request, undefined, () => addressOf(request, server)),
    }))
    .onBeforeHandle({ as: 'scoped' }, ({ request, principal }) => toolkit.notePrincipal(request, principal))
    .use(publicDiscovery ? new Elysia({ name: 'scim.discovery.open' }) : discoveryRoutes(ctx))
    .use(resourceRoutes('User', ctx))
    .use(resourceRoutes('Group', ctx))
    .use(searchRoutes(ctx))
    .use(bulkRoutes(ctx))
    .use(meRoutes(ctx))

  const security = openApiSecurity(d.auth.schemes)
  const closedDocs = config.publicDocs === false ? new Set(['/docs', '/docs/', '/docs/json']) : undefined

  const outer = new Elysia()
    // delay, faults, inspector and the console line around every request (src/toolkit/toolkit.ts)
    // outermost: /t/{tenant}/… → the tenant's scope, then the same routes without the prefix (src/tenants/router.ts)
    .wrap(((fn: any) => tenantHoc((toolkit.hoc as any)(fn))) as any)
  // SCIMD_PUBLIC_DOCS=false: the OpenAPI page and document need the same credentials as the SCIM routes. Registered
  // only then: an onRequest hook runs (and makes every route's handler async) on every request.
  if (closedDocs)
    outer.onRequest(async ({ request, server }) => {
      if (!closedDocs.has(rawPath(request.url))) return
      try {
        await d.auth.authenticate(request, undefined, () => addressOf(request, server))
      } catch (e) {
        return scimResponse(toScimError('', e, log))
      }
    })
  const app = outer
    // RFC 6750 §2.2 form-body tokens are refused before the body is parsed (this hook runs before scim.http's)
    .onParse(async ({ request, contentType }) => {
      if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return
      let text: string
      try {
        text = new TextDecoder().decode(await readLimited(request.clone(), config.maxBody))
      } catch {
        return // over the limit: scim.http answers 413
      }
      if (formBodyHasToken(text)) throw d.auth.formTokenRefusal()
    })
    .use(scimHttp({ maxBody: config.maxBody, log }))
    .use(
      swagger({
        path: '/docs',
        specPath: '/docs/json',
        documentation: {
          info: {
            title: 'scimd',
            version: d.version ?? '0.0.0',
            description: 'A SCIM 2.0 server (RFC 7643 / RFC 7644). Requests and responses use application/scim+json.',
          },
          components: {
            schemas: openApiComponents(d.registry) as any,
            securitySchemes: {
              ...(security.securitySchemes as any),
              ...(config.adminToken
                ? {
                    adminToken: { type: 'http', scheme: 'bearer', description: 'SCIMD_ADMIN_TOKEN (the /admin routes only)' },
                    adminSession: { type: 'apiKey', in: 'cookie', name: 'scimd_admin', description: 'Session cookie from POST /admin/login' },
                  }
                : {}),
            },
          },
          security: security.security,
        },
        exclude: ['/docs', '/docs/json'],
        excludeStaticFile: false, // keep …/.search, which looks like a file name
      }),
    )
    // replaces the plugin's CDN-loading /docs page with one whose assets are served from the binary
    .use(docsUi({ title: 'scimd API', specUrl: '/docs/json' }))
    .get('/healthz', () => scimJson({ status: 'ok' }), { detail: { tags: ['Operations'], summary: 'Liveness check (no auth)', security: [] } })
    .get(
      '/.well-known/jwks.json',
      () => {
        const set = d.jwks?.()
        if (!set) throw notFound('No local signing key is in use')
        return new Response(JSON.stringify(set), { headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' } })
      },
      { detail: { tags: ['Operations'], summary: 'Public key of `scimd token` (while the local key is in use; no auth)', security: [] } },
    )
    .use(directoryRoutes({ auth: adminAuth, ctx, maxBody: config.maxBody, hasExchange: (id) => toolkit.inspector.get(id) !== undefined }))
    .use(adminRoutes({ adminToken: config.adminToken, auth: adminAuth, maxBody: config.maxBody, log, toolkit, secureCookie: (r) => (config.publicUrl ?? r.url).startsWith('https:'), tenantExists: async (id) => (await storeOf(ctx.deps).read(q((r) => r.getTenant(id)))) !== undefined }))
    .use(tenantAdminRoutes({ auth: adminAuth, store: storeOf(ctx.deps), maxBody: config.maxBody, log, basePath: config.basePath, publicUrl: config.publicUrl, onDelete: (id) => toolkit.dropTenant(id) }))
    .use(scim)
    .all('*', () => {
      throw notFound('No such endpoint')
    }, { detail: { hide: true } })
  toolkit.bind(() => app.server)
  // SCIMD_HISTORY_DAYS: old history rows go in small batches on an unref'd timer (never blocking a request)
  const stopPruner = startHistoryPruner(storeOf(ctx.deps), config.historyDays, { now: ctx.deps.now, onError: (e) => log.warn('history pruning failed', { error: String(e) }) })
  toolkit.closed.addEventListener('abort', stopPruner)
  return Object.assign(app, { toolkit })
}

export type App = ReturnType<typeof createApp>
