/** The app listening on a loopback port in this process: real HTTP, real sockets. */
import type { Config } from '../../src/config'
import { makeTestApp, readResponse, TOKEN } from './app'

export function listenTestApp(overrides: Partial<Config> = {}) {
  const t = makeTestApp(overrides)
  t.app.listen({ port: 0, hostname: '127.0.0.1' })
  const port = t.app.server!.port
  const base = `http://127.0.0.1:${port}${t.config.basePath}`
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    readResponse(
      await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    )
  return { ...t, base, port, send, close: () => t.app.stop(true) }
}
