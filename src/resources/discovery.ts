/** /ServiceProviderConfig, /ResourceTypes, /Schemas (RFC 7644 §4), generated from the registry and live config. */
import { Elysia } from 'elysia'
import type { AppContext } from '../app'
import type { AuthMode } from '../auth'
import { LIMITS, URN } from '../scim/constants'
import { notFound } from '../scim/errors'
import { listResponse } from '../scim/list'
import type { ResourceTypeDef, SchemaDef } from '../scim/schema/types'
import type { Origin } from './service'
import { bulkLimits } from './bulk-routes'
import { scopeProfile } from '../tenants/router'

/** Vendor extension of ServiceProviderConfig naming the IdP profile in force (README: IdP profiles). */
export const PROFILE_URN = 'urn:scimd:params:scim:schemas:extension:profile:1.0'

/** RFC 7643 §5 authenticationSchemes entries, one per configured mode. */
const AUTH_SCHEME: Record<AuthMode, { type: string; name: string; description: string; specUri: string }> = {
  bearer: {
    type: 'oauthbearertoken',
    name: 'Bearer token',
    description: 'A static bearer token: Authorization: Bearer <token>',
    specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
  },
  jwt: {
    type: 'oauthbearertoken',
    name: 'OAuth 2.0 bearer token (JWT)',
    description: 'An OAuth 2.0 access token that is a signed JWT, verified with the configured keys: Authorization: Bearer <JWT>',
    specUri: 'https://www.rfc-editor.org/rfc/rfc7519',
  },
  introspection: {
    type: 'oauthbearertoken',
    name: 'OAuth 2.0 bearer token (introspection)',
    description: "An OAuth 2.0 access token checked at the authorization server's introspection endpoint (RFC 7662): Authorization: Bearer <token>",
    specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
  },
  basic: {
    type: 'httpbasic',
    name: 'HTTP Basic',
    description: 'Authorization: Basic <base64 user:password>',
    specUri: 'https://www.rfc-editor.org/rfc/rfc7617',
  },
}

export function serviceProviderConfig(ctx: AppContext, o: Origin) {
  const baseUrl = o.baseUrl
  const schemes = ctx.auth.schemes.map((s, i) => ({ ...AUTH_SCHEME[s], ...(i === 0 ? { primary: true } : {}) }))
  const bulk = bulkLimits(ctx.config)
  return {
    schemas: [URN.serviceProviderConfig, PROFILE_URN],
    documentationUri: `${o.origin}/docs`,
    patch: { supported: true },
    bulk: { supported: bulk.maxOperations > 0, maxOperations: bulk.maxOperations, maxPayloadSize: bulk.maxPayloadSize },
    filter: { supported: true, maxResults: LIMITS.maxResults },
    changePassword: { supported: true },
    sort: { supported: true },
    // RFC 9865 §4: both methods; index stays the default so clients that know only startIndex are unaffected
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: LIMITS.maxResults,
      maxPageSize: LIMITS.maxResults,
      cursorTimeout: ctx.config.cursorTtl,
    },
    etag: { supported: true },
    authenticationSchemes: schemes,
    // the IdP profile in force (SCIMD_PROFILE, SCIMD_STRICT, a tenant's override): a vendor extension, no nulls
    [PROFILE_URN]: { profile: scopeProfile(ctx.config), strict: ctx.deps.strict },
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  }
}

function resourceTypeJson(rt: ResourceTypeDef, baseUrl: string) {
  return {
    schemas: [URN.resourceType],
    id: rt.id,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description ?? rt.name,
    schema: rt.schema,
    schemaExtensions: rt.schemaExtensions.map((e) => ({ schema: e.schema, required: e.required })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${rt.id}` },
  }
}

function schemaJson(s: SchemaDef, baseUrl: string) {
  return {
    schemas: [URN.schema],
    id: s.id,
    name: s.name,
    description: s.description ?? s.name,
    attributes: s.attributes,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${s.id}` },
  }
}

export function discoveryRoutes(ctx: AppContext) {
  const reg = ctx.deps.registry
  const tags = ['Discovery']
  return new Elysia({ name: 'scim.discovery' })
    .get('/ServiceProviderConfig', ({ request }) => serviceProviderConfig(ctx, ctx.origin(request)), {
      detail: { tags, summary: 'Service provider configuration' },
    })
    .get(
      '/ResourceTypes',
      ({ request }) => {
        const all = reg.resourceTypes().map((rt) => resourceTypeJson(rt, ctx.origin(request).baseUrl))
        return listResponse(all.length, 1, all)
      },
      { detail: { tags, summary: 'Resource types' } },
    )
    .get(
      '/ResourceTypes/:id',
      ({ request, params }) => {
        const rt = reg.resourceType(params.id)
        if (!rt) throw notFound(`ResourceType '${params.id}' not found`)
        return resourceTypeJson(rt, ctx.origin(request).baseUrl)
      },
      { detail: { tags, summary: 'One resource type' } },
    )
    .get(
      '/Schemas',
      ({ request }) => {
        const all = reg.schemas().map((s) => schemaJson(s, ctx.origin(request).baseUrl))
        return listResponse(all.length, 1, all)
      },
      { detail: { tags, summary: 'Schemas' } },
    )
    .get(
      '/Schemas/:id',
      ({ request, params }) => {
        const s = reg.schema(params.id)
        if (!s) throw notFound(`Schema '${params.id}' not found`)
        return schemaJson(s, ctx.origin(request).baseUrl)
      },
      { detail: { tags, summary: 'One schema' } },
    )
}
