/**
 * 'scim.http': the SCIM wire format for every route mounted after it.
 * - bodies: any content type is read as JSON (application/scim+json and application/json, but also curl's default
 *   form type), up to maxBody; malformed JSON → 400 invalidSyntax; a body that is not an object → 400 invalidSyntax.
 * - responses: objects go out as application/scim+json.
 * - errors: ScimError as its own SCIM body; Elysia's NOT_FOUND/PARSE/VALIDATION mapped to SCIM errors; anything else
 *   logged and answered with a generic 500 (never a stack trace).
 */
import { Elysia } from 'elysia'
import { SCIM_CONTENT_TYPE } from '../scim/constants'
import { invalidSyntax, invalidValue, notFound, payloadTooLarge, ScimError, serviceUnavailable, uniqueness } from '../scim/errors'
import type { Logger } from '../log'
import { pgErrorToScim } from '../db/pg/errors'

export function scimResponse(err: ScimError): Response {
  return new Response(JSON.stringify(err.toJSON()), {
    status: err.status,
    headers: { 'content-type': SCIM_CONTENT_TYPE, ...err.headers },
  })
}

export function scimJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': SCIM_CONTENT_TYPE, ...headers } })
}

/** Reads a body up to maxBody bytes, stopping as soon as it is over (chunked bodies have no Content-Length). */
export async function readLimited(request: Request, maxBody: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  const tooLarge = (n: number | string) => payloadTooLarge(`Request body of ${n} bytes exceeds the limit of ${maxBody} bytes`)
  if (declared > maxBody) throw tooLarge(declared)
  if (!request.body) return new Uint8Array(0)
  // a declared length is the body's length (HTTP framing): read it whole, natively, rather than chunk by chunk
  if (Number.isInteger(declared) && declared >= 0) return new Uint8Array(await request.arrayBuffer())
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > maxBody) throw tooLarge(`more than ${maxBody}`)
    chunks.push(chunk)
  }
  if (chunks.length === 1) return chunks[0]
  const buf = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    buf.set(c, at)
    at += c.byteLength
  }
  return buf
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Reads a request body as a JSON object, enforcing the size limit. */
export async function readJsonObject(request: Request, maxBody: number): Promise<Record<string, unknown> | null> {
  const buf = await readLimited(request, maxBody)
  if (buf.byteLength === 0) return null
  let text: string
  try {
    text = utf8.decode(buf)
  } catch {
    throw invalidSyntax('Request body is not valid UTF-8')
  }
  if (text.trim() === '') return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw invalidSyntax(`Request body is not valid JSON: ${(e as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidSyntax('Request body must be a JSON object')
  // U+0000 cannot be stored by every store (PostgreSQL refuses it in text and jsonb): refused on both, the same way.
  // Only the escape can carry it (a raw NUL inside a JSON string is invalid JSON), so the walk runs only then.
  if (text.includes('\\u0000') && holdsNul(value)) throw invalidValue('A string in the request holds U+0000 (NUL), which scimd does not store')
  return value as Record<string, unknown>
}

function holdsNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\u0000')
  if (Array.isArray(v)) return v.some(holdsNul)
  if (v && typeof v === 'object') return Object.entries(v).some(([k, x]) => k.includes('\u0000') || holdsNul(x))
  return false
}

/** Maps whatever reached onError to a SCIM error. */
export function toScimError(code: string | number, error: unknown, log?: Logger): ScimError {
  if (error instanceof ScimError) return error
  const cause = (error as { cause?: unknown } | undefined)?.cause
  if (cause instanceof ScimError) return cause
  const sqliteCode = (error as { code?: unknown } | undefined)?.code
  if (sqliteCode === 'SQLITE_BUSY' || sqliteCode === 'SQLITE_LOCKED')
    return serviceUnavailable('The database is busy; retry shortly', 1)
  if (sqliteCode === 'SQLITE_CONSTRAINT_UNIQUE' || sqliteCode === 'SQLITE_CONSTRAINT_PRIMARYKEY')
    return uniqueness('A resource with the same unique attribute already exists')
  const pg = pgErrorToScim(error)
  if (pg) return pg
  switch (code) {
    case 'NOT_FOUND':
      return notFound('No such endpoint')
    case 'PARSE':
      return invalidSyntax('Request body is not valid JSON')
    case 'VALIDATION': {
      const e = error as { valueError?: { path?: string; message?: string }; type?: string }
      const where = e.valueError?.path ? ` at '${e.valueError.path}'` : ''
      return invalidValue(`Invalid request${where}: ${e.valueError?.message ?? 'value does not match the schema'}`)
    }
    case 'INVALID_COOKIE_SIGNATURE':
      return new ScimError(400, 'Invalid cookie signature')
  }
  log?.error('unhandled error', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  return new ScimError(500, 'Internal server error')
}

export const scimHttp = (opts: { maxBody: number; log?: Logger }) =>
  new Elysia({ name: 'scim.http', seed: opts.maxBody })
    .onParse({ as: 'scoped' }, ({ request }) => readJsonObject(request, opts.maxBody))
    .mapResponse({ as: 'scoped' }, ({ response, set }) => {
      if (response instanceof Response) return response
      if (response === undefined || response === null) return new Response(null, { status: (set.status as number) ?? 204, headers: set.headers as any })
      if (typeof response === 'object') {
        set.headers['content-type'] = SCIM_CONTENT_TYPE
        return new Response(JSON.stringify(response), { status: (set.status as number) ?? 200, headers: set.headers as any })
      }
    })
    .onError({ as: 'scoped' }, ({ code, error }) => scimResponse(toScimError(code, error, opts.log)))
