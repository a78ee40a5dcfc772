/**
 * The tenants admin API (issue 9), behind the admin authentication of /admin (SCIMD_ADMIN_TOKEN or the console's
 * session cookie):
 *   POST   /admin/tenants              {"id": "acme", "profile": "okta"|"entra"|"strict"|null, "basicUser": "okta"}
 *                                      → 201 with the tenant, its base URL and its credentials (shown this once)
 *   GET    /admin/tenants              → the tenants (no secrets) with their user and group counts
 *   GET    /admin/tenants/{id}
 *   PATCH  /admin/tenants/{id}         {"profile": …, "auth": {"jwtJwksUrl": …, …}} → the tenant (secrets as "set")
 *   POST   /admin/tenants/{id}/rotate  → new credentials (shown once); the old ones stop working at once
 *   DELETE /admin/tenants/{id}         → the tenant and all its users, groups, memberships and history
 * Errors are SCIM errors.
 */
import { Elysia, t } from 'elysia'
import type { Store } from '../db/store'
import { scimHttp } from '../http/scim-plugin'
import type { Logger } from '../log'
import { notFound } from '../scim/errors'
import { adminDoc, adminJson as json, type AdminAuth } from '../toolkit/admin'
import { createTenant, findTenant, listTenantViews, removeTenant, rotateTenant, updateTenant, viewOf } from './service'

export interface TenantAdminOptions {
  auth?: AdminAuth
  store: Store
  maxBody: number
  log: Logger
  basePath: string
  publicUrl?: string
  /** after a tenant is deleted (its chaos rules are forgotten) */
  onDelete?: (id: string) => void
}

export function tenantAdminRoutes(o: TenantAdminOptions) {
  const app = new Elysia({ name: 'scimd.admin.tenants' })
  if (!o.auth) return app // adminRoutes answers 404 for everything under /admin
  const { guard } = o.auth
  const baseUrl = (request: Request, id: string) => `${o.publicUrl ?? new URL(request.url).origin}/t/${id}${o.basePath}`
  const Id = t.Object({ id: t.String({ description: 'Tenant id' }) })
  return app
    .use(scimHttp({ maxBody: o.maxBody, log: o.log }))
    .post(
      '/admin/tenants',
      async ({ request, body }) => {
        guard(request)
        const made = await createTenant(o.store, body)
        o.log.info('tenant created', { tenant: made.tenant.id, profile: made.tenant.profile })
        return json({ ...made.tenant, baseUrl: baseUrl(request, made.tenant.id), credentials: made.credentials }, 201)
      },
      {
        body: t.Optional(t.Object({}, { additionalProperties: true })),
        detail: adminDoc(
          'Create a tenant',
          'Body: {"id": "acme-okta", "profile": "okta" | "entra" | "strict" | null, "basicUser": "okta", "auth": {…}}. Answers 201 with the base URL (/t/{id}/scim/v2) and the credentials: a bearer token and, with basicUser, a Basic password. They are shown only here (stored as SHA-256 digests). 409 if the id exists. `auth` (optional) makes the tenant also accept OAuth tokens, with the names of the server settings: jwtJwksUrl, jwtPublicKey (PEM, JWK or JWKS), jwtSecret (HMAC, ≥ 32 bytes), jwtIssuer, jwtAudience, jwtAlgorithms (strings or arrays), requiredScopes, introspectionUrl, introspectionClientId, introspectionClientSecret. Secrets are never shown again (authSettings shows "set"). A bad value → 400 invalidValue naming the field (auth.jwtIssuer…).',
        ),
      },
    )
    .get(
      '/admin/tenants',
      async ({ request }) => {
        guard(request)
        return json({ tenants: (await listTenantViews(o.store)).map((v) => ({ ...v, baseUrl: baseUrl(request, v.id) })) })
      },
      { detail: adminDoc('List the tenants', 'Without secrets; with their user and group counts.') },
    )
    .get(
      '/admin/tenants/:id',
      async ({ request, params }) => {
        guard(request)
        const row = await findTenant(o.store, params.id)
        if (!row) throw notFound(`Tenant '${params.id}' not found`)
        return json({ ...viewOf(row), baseUrl: baseUrl(request, row.id) })
      },
      { params: Id, detail: adminDoc('One tenant') },
    )
    .patch(
      '/admin/tenants/:id',
      async ({ request, params, body }) => {
        guard(request)
        const r = await updateTenant(o.store, params.id, body)
        o.log.info('tenant updated', { tenant: params.id, changed: r.changed.join(',') })
        return json({ ...r.tenant, baseUrl: baseUrl(request, r.tenant.id) })
      },
      {
        params: Id,
        body: t.Optional(t.Object({}, { additionalProperties: true })),
        detail: adminDoc(
          'Change the profile or OAuth settings of a tenant',
          'Body: {"profile": "okta" | "entra" | "strict" | null, "auth": {"jwtJwksUrl": "https://…/keys", "jwtAudience": "scimd", "requiredScopes": "scim"} | null}. Keys given in `auth` replace, null removes one, absent ones are kept; `"auth": null` removes all (the tenant is back to its static token / Basic). A secret sent back as "set" keeps the stored one. The credentials stay: POST …/rotate changes them. Answers the tenant with secrets shown as "set".',
        ),
      },
    )
    .post(
      '/admin/tenants/:id/rotate',
      async ({ request, params }) => {
        guard(request)
        const r = await rotateTenant(o.store, params.id)
        o.log.info('tenant credentials rotated', { tenant: params.id })
        return json({ ...r.tenant, baseUrl: baseUrl(request, r.tenant.id), credentials: r.credentials })
      },
      { params: Id, detail: adminDoc('Rotate the credentials of a tenant', 'New bearer token (and Basic password when the tenant has Basic), shown once; the old ones stop working at once.') },
    )
    .delete(
      '/admin/tenants/:id',
      async ({ request, params }) => {
        guard(request)
        const removed = await removeTenant(o.store, params.id)
        o.onDelete?.(params.id)
        o.log.info('tenant deleted', { tenant: params.id, ...removed })
        return json({ deleted: params.id, ...removed })
      },
      { params: Id, detail: adminDoc('Delete a tenant and all its data', 'Its users, groups, memberships and change history go with it.') },
    )
}
