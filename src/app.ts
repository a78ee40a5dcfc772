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
import { scimHttp, scimJson, scimResponse, toScimError } from './http/scim-plugin'
import { openApiComponents } from './http/openapi'
import { docsUi } from './http/docs-ui'
import { resourceRoutes } from './resources/routes'
import { searchRoutes } from './resources/search-routes'
import { discoveryRoutes } from './resources/discovery'
import type { Origin, ServiceDeps } from './resources/service'
import { notFound } from './scim/errors'
import * as repo from './db/repo'
import { render } from './resources/service'
import { createToolkit, type Toolkit } from './toolkit/toolkit'
import { adminRoutes } from './toolkit/admin'

export interface AppDeps {
  config: Config
  db: Db
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
}

export function createApp(d: AppDeps) {
  const log = d.log ?? silentLogger
  const config = d.config
  const ctx: AppContext = {
    config,
    auth: d.auth,
    log,
    deps: { db: d.db, registry: d.registry, strict: config.strict, tenant: 'default', now: d.now ?? (() => new Date()) },
    origin(request) {
      const origin = config.publicUrl ?? new URL(request.url).origin
      return { origin, baseUrl: origin + config.basePath }
    },
  }

  const addressOf = (request: Request, server: { requestIP(r: Request): { address: string } | null } | null) =>
    d.clientAddress ? d.clientAddress(request) : (server?.requestIP(request)?.address ?? undefined)
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
      snapshot: (kind, id, request) => {
        const stored = repo.getResource(d.db, ctx.deps.tenant, kind, id)
        return stored ? render(ctx.deps, kind, stored, ctx.origin(request), { members: true, groups: true }) : null
      },
    })
  const publicDiscovery = config.publicDiscovery !== false
  const scim = new Elysia({ prefix: config.basePath })
    .use(scimHttp({ maxBody: config.maxBody, log }))
    .use(publicDiscovery ? discoveryRoutes(ctx) : new Elysia({ name: 'scim.discovery.closed' }))
    .resolve({ as: 'scoped' }, async ({ request, server }): Promise<{ principal: Principal }> => ({
      principal: await d.auth.authenticate(request, new URL(request.url), addressOf(request, server)),
    }))
    .onBeforeHandle({ as: 'scoped' }, ({ request, principal }) => toolkit.notePrincipal(request, principal))
    .use(publicDiscovery ? new Elysia({ name: 'scim.discovery.open' }) : discoveryRoutes(ctx))
    .use(resourceRoutes('User', ctx))
    .use(resourceRoutes('Group', ctx))
    .use(searchRoutes(ctx))

  const security = openApiSecurity(d.auth.schemes)
  const closedDocs = config.publicDocs === false ? new Set(['/docs', '/docs/', '/docs/json']) : undefined

  const app = new Elysia()
    // delay, faults, inspector and the console line around every request (src/toolkit/toolkit.ts)
    .wrap(toolkit.hoc as any)
    // SCIMD_PUBLIC_DOCS=false: the OpenAPI page and document need the same credentials as the SCIM routes
    .onRequest(async ({ request, server }) => {
      if (!closedDocs) return
      const url = new URL(request.url)
      if (!closedDocs.has(url.pathname)) return
      try {
        await d.auth.authenticate(request, url, addressOf(request, server))
      } catch (e) {
        return scimResponse(toScimError('', e, log))
      }
    })
    // RFC 6750 §2.2 form-body tokens are refused before the body is parsed (this hook runs before scim.http's)
    .onParse(async ({ request, contentType }) => {
      if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return
      const text = await peekText(request.clone(), config.maxBody)
      if (text !== undefined && formBodyHasToken(text)) throw d.auth.formTokenRefusal()
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
    .use(adminRoutes({ adminToken: config.adminToken, maxBody: config.maxBody, log, toolkit, secureCookie: (r) => (config.publicUrl ?? r.url).startsWith('https:') }))
    .use(scim)
    .all('*', () => {
      throw notFound('No such endpoint')
    }, { detail: { hide: true } })
  toolkit.bind(() => app.server)
  return Object.assign(app, { toolkit })
}

export type App = ReturnType<typeof createApp>

/** Reads a body as text up to `limit` bytes; undefined when it is larger (scim.http then answers 413). */
async function peekText(request: Request, limit: number): Promise<string | undefined> {
  if (Number(request.headers.get('content-length') ?? 0) > limit || !request.body) return request.body ? undefined : ''
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > limit) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
