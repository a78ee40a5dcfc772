/**
 * createApp: the whole HTTP surface as an Elysia instance, without listen(). Tests drive it through
 * app.handle(new Request('http://localhost/...')).
 */
import { Elysia } from 'elysia'
import { swagger } from '@elysiajs/swagger'
import type { Config } from './config'
import type { Db } from './db/client'
import type { Authenticator, Principal } from './auth'
import type { Logger } from './log'
import { silentLogger } from './log'
import type { SchemaRegistry } from './scim/schema/registry'
import { scimHttp, scimJson } from './http/scim-plugin'
import { openApiComponents } from './http/openapi'
import { resourceRoutes } from './resources/routes'
import { discoveryRoutes } from './resources/discovery'
import type { Origin, ServiceDeps } from './resources/service'
import { notFound } from './scim/errors'

export interface AppDeps {
  config: Config
  db: Db
  registry: SchemaRegistry
  auth: Authenticator
  log?: Logger
  now?: () => Date
  version?: string
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

  const scim = new Elysia({ prefix: config.basePath })
    .use(scimHttp({ maxBody: config.maxBody, log }))
    .use(discoveryRoutes(ctx))
    .resolve({ as: 'scoped' }, ({ request }): { principal: Principal } => ({
      principal: d.auth.authenticate(request, new URL(request.url)),
    }))
    .use(resourceRoutes('User', ctx))
    .use(resourceRoutes('Group', ctx))

  return new Elysia()
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
              ...(d.auth.schemes.includes('bearer') ? { bearerAuth: { type: 'http', scheme: 'bearer' } } : {}),
              ...(d.auth.schemes.includes('basic') ? { basicAuth: { type: 'http', scheme: 'basic' } } : {}),
            },
          },
          security: d.auth.schemes.map((s) => ({ [s === 'bearer' ? 'bearerAuth' : 'basicAuth']: [] })),
        },
        exclude: ['/docs', '/docs/json'],
        excludeStaticFile: false, // keep …/.search, which looks like a file name
      }),
    )
    .get('/healthz', () => scimJson({ status: 'ok' }), { detail: { tags: ['Operations'], summary: 'Liveness check (no auth)', security: [] } })
    .use(scim)
    .all('*', () => {
      throw notFound('No such endpoint')
    }, { detail: { hide: true } })
}

export type App = ReturnType<typeof createApp>
