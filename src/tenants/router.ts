/**
 * The tenant router: the outermost wrapper of every request (app.ts). A request to /t/{tenant}{basePath}/… is
 * answered by the same SCIM routes as the default tenant's {basePath}/…: the router loads the tenant, builds its
 * scope (id, path prefix, credentials, profile) and hands the routes the request without the /t/{tenant} prefix,
 * inside tenantScope.run(). The services read the tenant from the scope (ServiceDeps getters), so ids, uniqueness,
 * filters and memberships stay inside it; Location and meta.location keep the prefix (ctx.origin).
 * Unknown tenant → 404 SCIM error; /t/{tenant}/anything-else → 404.
 */
import { q, type Store } from '../db/store'
import { scimResponse, toScimError } from '../http/scim-plugin'
import { rawPath } from '../http/url'
import { notFound } from '../scim/errors'
import { profileName, type Profile } from '../scim-options'
import { tenantScope, type TenantScope } from './context'
import { tenantAuthCache, type TenantAuthServer } from './auth'
import type { Logger } from '../log'

type Handler = (request: Request) => Response | Promise<Response>

const TENANT_PATH = /^\/t\/([^/]+)(\/.*)?$/

/**
 * `auth`: the server-level settings the tenants' authenticators share (clock skew, JWKS cooldown, introspection cache,
 * the brake SCIMD_AUTH_FAIL_*: one brake per tenant, so failures count per client address and per tenant).
 */
export function tenantRouter(o: { store: Store; basePath: string; auth?: TenantAuthServer; log?: Logger }) {
  const getTenant = (id: string) => o.store.read(q((r) => r.getTenant(id)))
  const auths = tenantAuthCache(o.auth, o.log)
  return (fn: Handler): Handler =>
    (request) => {
      // most requests are the default tenant's: decided on the raw path, without parsing the URL
      if (!rawPath(request.url).startsWith('/t/')) return fn(request)
      const url = new URL(request.url)
      const m = TENANT_PATH.exec(url.pathname)
      if (!m) return fn(request)
      let id: string
      try {
        id = decodeURIComponent(m[1])
      } catch {
        return scimResponse(notFound('No such tenant'))
      }
      const rest = m[2] ?? '/'
      if (o.basePath !== '' && rest !== o.basePath && !rest.startsWith(o.basePath + '/'))
        return scimResponse(notFound(`No such endpoint: a tenant's SCIM endpoints are under /t/{tenant}${o.basePath}`))
      const found = getTenant(id)
      // on PostgreSQL the lookup can fail (database unreachable): a SCIM error (503 with Retry-After), never a raw one
      return found instanceof Promise ? found.then((row) => enter(row), (e) => scimResponse(toScimError('', e, o.log))) : enter(found)
      function enter(row: Awaited<typeof found>): Response | Promise<Response> {
        if (!row) {
          auths.drop(id)
          return scimResponse(notFound(`No tenant '${id.slice(0, 64)}'`))
        }
        const scope: TenantScope = {
          tenant: row.id,
          prefix: `/t/${row.id}`,
          profile: (row.profile as Profile | null) ?? undefined,
          auth: auths.get(row),
          original: request,
        }
        // the body stays a stream (scim.http still enforces its size limit while reading it)
        const inner = new Request(url.origin + rest + url.search, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          signal: request.signal,
          // @ts-expect-error: Bun's RequestInit knows duplex, the DOM typings do not
          duplex: 'half',
        })
        return tenantScope.run(scope, () => fn(inner))
      }
    }
}

/** Strict mode of the request being handled: the tenant's profile when it has one, else the server's setting. */
export function scopeStrict(config: { strict: boolean }): boolean {
  const p = tenantScope.getStore()?.profile
  return p ? p === 'strict' : config.strict
}

/** The profile name of the request being handled (ServiceProviderConfig, inspector). */
export function scopeProfile(config: { profile?: Profile; strict: boolean }): string {
  const p = tenantScope.getStore()?.profile
  return p ?? profileName(config)
}
