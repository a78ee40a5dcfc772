/**
 * SCIM errors (RFC 7644 §3.12). Everything in scim/ and the services throws ScimError; the HTTP layer
 * turns it into `application/scim+json` with `status` as a string.
 */
import { URN } from './constants'

/** scimType values exactly as RFC 7644 Table 9 spells them, plus RFC 9865's cursor errors. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  | 'invalidCursor'
  | 'expiredCursor'

/** The status each scimType goes with (RFC 7644 Table 9; RFC 9865 §7). */
const STATUS_OF: Record<ScimType, number> = {
  invalidFilter: 400,
  tooMany: 400,
  uniqueness: 409,
  mutability: 400,
  invalidSyntax: 400,
  invalidPath: 400,
  noTarget: 400,
  invalidValue: 400,
  invalidVers: 400,
  sensitive: 400,
  invalidCursor: 400,
  expiredCursor: 400,
}

export interface ScimErrorBody {
  schemas: [typeof URN.error]
  status: string
  scimType?: ScimType
  detail: string
}

export class ScimError extends Error {
  readonly status: number
  readonly scimType?: ScimType
  readonly detail: string
  /** Extra response headers (e.g. Retry-After, WWW-Authenticate, Allow). */
  readonly headers: Record<string, string>

  constructor(status: number, detail: string, scimType?: ScimType, headers: Record<string, string> = {}) {
    super(detail)
    this.name = 'ScimError'
    this.status = status
    this.detail = detail
    this.scimType = scimType
    this.headers = headers
  }

  toJSON(): ScimErrorBody {
    const body: ScimErrorBody = { schemas: [URN.error], status: String(this.status), detail: this.detail }
    if (this.scimType) body.scimType = this.scimType
    return body
  }
}

function typed(scimType: ScimType) {
  return (detail: string) => new ScimError(STATUS_OF[scimType], detail, scimType)
}

export const invalidFilter = typed('invalidFilter')
export const tooMany = typed('tooMany')
export const uniqueness = typed('uniqueness')
export const mutability = typed('mutability')
export const invalidSyntax = typed('invalidSyntax')
export const invalidPath = typed('invalidPath')
export const noTarget = typed('noTarget')
export const invalidValue = typed('invalidValue')
export const invalidVers = typed('invalidVers')
export const sensitive = typed('sensitive')
export const invalidCursor = typed('invalidCursor')
export const expiredCursor = typed('expiredCursor')

export const badRequest = (detail: string) => new ScimError(400, detail)
export const unauthorized = (detail: string, wwwAuthenticate: string) =>
  new ScimError(401, detail, undefined, { 'WWW-Authenticate': wwwAuthenticate })
export const forbidden = (detail: string, headers: Record<string, string> = {}) =>
  new ScimError(403, detail, undefined, headers)
export const notFound = (detail: string) => new ScimError(404, detail)
export const methodNotAllowed = (detail: string, allow: string) =>
  new ScimError(405, detail, undefined, { Allow: allow })
export const conflict = (detail: string) => new ScimError(409, detail)
export const preconditionFailed = (detail: string) => new ScimError(412, detail)
export const payloadTooLarge = (detail: string) => new ScimError(413, detail)
export const notImplemented = (detail: string) => new ScimError(501, detail)
export const serviceUnavailable = (detail: string, retryAfterSeconds?: number) =>
  new ScimError(503, detail, undefined, retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : {})
