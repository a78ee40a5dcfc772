/** An in-process scimd for the authentication tests: the client address comes from an `x-test-client` header. */
import { afterAll, beforeAll } from 'bun:test'
import { DEFAULTS, type Config } from '../../src/config'
import { assemble } from '../../src/server'
import { createLogger } from '../../src/log'
import { readResponse } from './app'
import { SignJWT, type JWTPayload } from "jose"
import type { KeyObject } from "node:crypto"

export const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error'

export function makeAuthApp(overrides: Partial<Config> = {}) {
  const config: Config = { ...DEFAULTS, databaseUrl: ':memory:', bearerTokens: [], ...overrides }
  const lines: string[] = []
  const log = createLogger('debug', 'json', (l) => lines.push(l))
  const started = assemble(config, log, { clientAddress: (r) => r.headers.get('x-test-client') ?? undefined })
  async function req(path: string, opts: { auth?: string; method?: string; headers?: Record<string, string>; body?: string; client?: string } = {}) {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.auth !== undefined) headers.authorization = opts.auth
    if (opts.client !== undefined) headers['x-test-client'] = opts.client
    const url = path.startsWith('/scim/') || path.startsWith('/docs') || path.startsWith('/.well-known') || path === '/healthz' ? path : config.basePath + path
    return readResponse(await started.app.handle(new Request('http://localhost' + url, { method: opts.method ?? 'GET', headers, body: opts.body })))
  }
  return { ...started, config, req, lines }
}

/**
 * A stand-in authorization server endpoint (JWKS, introspection) on a loopback port, started before the tests of
 * the calling file and stopped after them. `url(path)` is valid once the tests run.
 */
export function loopbackEndpoint(fetch: (req: Request) => Response | Promise<Response>) {
  let server: ReturnType<typeof Bun.serve> | undefined
  beforeAll(() => {
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch })
  })
  afterAll(() => server?.stop(true))
  return { url: (path: string) => `http://127.0.0.1:${server!.port}${path}` }
}

/** Signs claims (iat/exp filled in unless given) with the given key. */
export async function sign(claims: JWTPayload, key: CryptoKey | Uint8Array | KeyObject, header: { alg: string; kid?: string }) {
  const now = Math.floor(Date.now() / 1000)
  return await new SignJWT({ iat: now, exp: now + 300, ...claims }).setProtectedHeader({ typ: 'JWT', ...header }).sign(key)
}

/** Asserts a SCIM error answer. */
export function scimError(r: { status: number; headers: Headers; json: any }, status: number) {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.json)}`)
  if (!r.headers.get('content-type')?.startsWith('application/scim+json')) throw new Error('not application/scim+json')
  if (r.json?.schemas?.[0] !== ERROR_URN || r.json?.status !== String(status)) throw new Error(`not a SCIM error body: ${JSON.stringify(r.json)}`)
  return r.json as { detail: string; status: string }
}
