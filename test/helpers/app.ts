/** An in-process scimd on a fresh :memory: database with real migrations. */
import { DEFAULTS, type Config } from '../../src/config'
import { assemble } from '../../src/server'
import { silentLogger } from '../../src/log'

export const TOKEN = 'test-token-0123456789'
export const SCIM = 'application/scim+json'

export function makeTestApp(overrides: Partial<Config> = {}) {
  const config: Config = { ...DEFAULTS, databaseUrl: ':memory:', bearerTokens: [TOKEN], ...overrides }
  const started = assemble(config, silentLogger)
  const base = 'http://localhost' + config.basePath

  /** Sends a request; `body` objects are JSON-encoded as application/scim+json; auth added unless `auth: false`. */
  async function req(
    method: string,
    path: string,
    body?: unknown,
    opts: { auth?: string | false; headers?: Record<string, string>; raw?: boolean } = {},
  ) {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.auth !== false) headers.authorization = opts.auth ?? `Bearer ${TOKEN}`
    let payload: string | undefined
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body)
      headers['content-type'] ??= SCIM
    }
    const url = path.startsWith('http') ? path : path.startsWith('/') && !path.startsWith(config.basePath + '/') && opts.raw ? 'http://localhost' + path : base + path
    return readResponse(await started.app.handle(new Request(url, { method, headers, body: payload })))
  }
  return { ...started, config, req, base }
}

/** A response's status, headers and body as text, and as JSON where the body parses (else `json` is undefined). */
export async function readResponse(res: Response) {
  const text = await res.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, json, text }
}

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'
export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error'
export const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

export function user(userName: string, extra: Record<string, unknown> = {}) {
  return { schemas: [USER_URN], userName, ...extra }
}
