/**
 * The app listening on a loopback port in this process: real HTTP, real sockets. With SCIMD_TEST_STORE=postgres the
 * app opens asynchronously: it listens once ready, and `send` waits for that (`listening`).
 */
import type { Config } from '../../src/config'
import { makeTestApp, readResponse, TEST_STORE, TOKEN } from './app'

export function listenTestApp(overrides: Partial<Config> = {}) {
  const t = makeTestApp(overrides)
  const at = { port: 0, base: '' }
  const listen = (app: typeof t.app) => {
    app.listen({ port: 0, hostname: '127.0.0.1' })
    at.port = app.server!.port!
    at.base = `http://127.0.0.1:${at.port}${t.config.basePath}`
  }
  const listening = TEST_STORE === 'postgres' ? t.ready.then((s) => listen(s.app as typeof t.app)) : Promise.resolve(listen(t.app))
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    await listening
    return readResponse(
      await fetch(at.base + path, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    )
  }
  // getters (Object.assign would copy their values once, before the PostgreSQL app listens)
  Object.defineProperties(t, {
    base: { get: () => at.base, enumerable: true },
    port: { get: () => at.port, enumerable: true },
  })
  return Object.assign(t as typeof t & { readonly base: string; readonly port: number }, {
    listening,
    send,
    close: async () => {
      await listening
      await (await t.ready).app.stop(true)
    },
  })
}
