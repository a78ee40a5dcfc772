/**
 * POST {base}/Bulk (RFC 7644 §3.7): the controller. Checks the limits advertised in ServiceProviderConfig.bulk
 * (413 with both limits in the detail) and hands the operations to bulk-service.ts.
 */
import { Elysia, t } from 'elysia'
import type { AppContext } from '../app'
import { methodNotAllowed, notImplemented } from '../scim/errors'
import { operationDoc } from '../http/openapi'
import { limitsError, runBulk, type BulkLimits } from './bulk-service'

/** The limits in force: maxPayloadSize never exceeds the general body limit (SCIMD_MAX_BODY). */
export function bulkLimits(config: { bulkMaxOperations: number; bulkMaxPayload: number; maxBody: number }): BulkLimits {
  return { maxOperations: config.bulkMaxOperations, maxPayloadSize: Math.min(config.bulkMaxPayload, config.maxBody) }
}

export function bulkRoutes(ctx: AppContext) {
  const limits = bulkLimits(ctx.config)
  return new Elysia({ name: 'scim.bulk', seed: ctx.config.basePath })
    .post(
      '/Bulk',
      async ({ request, body }) => {
        if (limits.maxOperations === 0) throw notImplemented('Bulk operations are switched off (SCIMD_BULK_MAX_OPERATIONS=0)')
        // the body was read up to SCIMD_MAX_BODY; the size is the declared one, or (chunked) the JSON's own
        const declared = Number(request.headers.get('content-length') ?? NaN)
        const size = Number.isFinite(declared) ? declared : Buffer.byteLength(JSON.stringify(body ?? null))
        if (size > limits.maxPayloadSize) throw limitsError(limits, `The request body has ${size} bytes`)
        // every operation is recorded in the change history with this request's id and principal
        return runBulk({ ...ctx.deps, audit: ctx.audit(request) }, (body as Record<string, unknown> | null) ?? null, ctx.origin(request), limits, ctx.log)
      },
      {
        body: t.Optional(t.Object({}, { additionalProperties: true, description: 'A BulkRequest (urn:ietf:params:scim:api:messages:2.0:BulkRequest)' })),
        detail: operationDoc({
          summary: 'Run POST/PUT/PATCH/DELETE operations on Users and Groups in one request (bulkId references resolved)',
          tags: ['Bulk'],
          ok: { status: 200, description: 'A BulkResponse: one entry per processed operation with its own status, location and version' },
          errors: ['400', '401', '413'],
        }),
      },
    )
    .all('/Bulk', ({ request }) => {
      throw methodNotAllowed(`${request.method} is not allowed on /Bulk`, 'POST')
    }, { detail: { hide: true } })
}
