/**
 * The admin API and console (/admin), protected by SCIMD_ADMIN_TOKEN.
 *  - Without SCIMD_ADMIN_TOKEN every /admin route answers 404 (the console is off: nothing to guess, nothing exposed).
 *  - API clients send `Authorization: Bearer <admin token>` (compared in constant time).
 *  - The page cannot put headers on an EventSource, so it logs in: POST /admin/login exchanges the token for a random
 *    session id in an HttpOnly, SameSite=Strict cookie scoped to /admin (12 h). Sessions live in memory only, are
 *    looked up by the SHA-256 of the id, and end with POST /admin/logout or a restart.
 * Views are plain HTML/CSS/JS embedded in the binary (page/), served with a strict Content-Security-Policy.
 */
import { Elysia } from 'elysia'
import { createHash, randomBytes } from 'node:crypto'
import { safeEqual } from '../auth'
import type { Logger } from '../log'
import { scimHttp } from '../http/scim-plugin'
import { invalidValue, notFound, ScimError } from '../scim/errors'
import { ChaosInputError, parseChaosInput } from './chaos'
import { summary, type Exchange } from './inspector'
import type { Toolkit } from './toolkit'
import pageHtml from './page/admin.html' with { type: 'text' }
import pageCss from './page/admin.css' with { type: 'text' }
import pageJs from './page/admin.js' with { type: 'text' }

export const SESSION_COOKIE = 'scimd_admin'
const SESSION_TTL_MS = 12 * 3600 * 1000
const MAX_SESSIONS = 200
export const MAX_STREAMS = 16
const HEARTBEAT_MS = 15_000
const STREAM_MAX_LIFE_MS = 30 * 60 * 1000

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/** A JSON answer under /admin (never cached); also used by the directory and tenants routes. */
export const adminJson = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers } })

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

class Sessions {
  private map = new Map<string, number>()
  create(): string {
    const sid = randomBytes(32).toString('base64url')
    const now = Date.now()
    for (const [k, exp] of this.map) if (exp < now) this.map.delete(k)
    while (this.map.size >= MAX_SESSIONS) this.map.delete(this.map.keys().next().value!)
    this.map.set(sha(sid), now + SESSION_TTL_MS)
    return sid
  }
  /** by hash: the lookup time depends on the hash, which an attacker cannot steer towards a real id */
  valid(sid: string): boolean {
    const k = sha(sid)
    const exp = this.map.get(k)
    if (exp === undefined) return false
    if (exp < Date.now()) {
      this.map.delete(k)
      return false
    }
    return true
  }
  drop(sid: string) {
    this.map.delete(sha(sid))
  }
}

function cookieOf(request: Request, name: string): string | undefined {
  const h = request.headers.get('cookie')
  if (!h) return undefined
  for (const part of h.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

const ADMIN_SECURITY: Record<string, string[]>[] = [{ adminToken: [] }, { adminSession: [] }]
/** The inspector and the chaos rules live in each scimd process: with several replicas on PostgreSQL, each has its own. */
const PER_PROCESS = ' Per process: with several scimd replicas (DATABASE_URL=postgres://…) each one keeps its own, for the requests that pass through it.'

const doc = (summary: string, description?: string, extra: Record<string, unknown> = {}) => ({
  tags: ['Admin'],
  summary,
  ...(description ? { description } : {}),
  security: ADMIN_SECURITY,
  ...extra,
})

/**
 * The admin authentication shared by every /admin route (the console's own, the directory's, …): the bearer
 * SCIMD_ADMIN_TOKEN or a session cookie from POST /admin/login. One per app (the sessions live here).
 */
export interface AdminAuth {
  /** throws the 401 SCIM error unless the request carries the admin token or a live session */
  guard(request: Request): void
  sessions: Sessions
  unauthorized(detail?: string): ScimError
}

export function createAdminAuth(token: string): AdminAuth {
  const sessions = new Sessions()
  const unauthorized = (detail = 'Admin authentication required: Authorization: Bearer <SCIMD_ADMIN_TOKEN>, or log in at /admin') =>
    new ScimError(401, detail, undefined, { 'www-authenticate': 'Bearer realm="scimd-admin"' })
  const authorized = (request: Request): boolean => {
    const h = request.headers.get('authorization')
    if (h) {
      const sp = h.indexOf(' ')
      return sp > 0 && h.slice(0, sp).toLowerCase() === 'bearer' && safeEqual(h.slice(sp + 1).trim(), token)
    }
    const sid = cookieOf(request, SESSION_COOKIE)
    return sid !== undefined && sessions.valid(sid)
  }
  return {
    sessions,
    unauthorized,
    guard(request) {
      if (!authorized(request)) throw unauthorized()
    },
  }
}

/** The admin doc fields (tag Admin, admin security) for the routes of other files. */
export const adminDoc = (summary: string, description?: string, extra: Record<string, unknown> = {}) => doc(summary, description, extra)

export interface AdminOptions {
  adminToken?: string
  /** shared with the other /admin route groups; made here when absent */
  auth?: AdminAuth
  maxBody: number
  log: Logger
  toolkit: Toolkit
  /** whether the site is served over https (the session cookie then gets Secure) */
  secureCookie?: (request: Request) => boolean
  /** whether a named tenant exists (?tenant= of /admin/chaos); default: any name */
  tenantExists?: (id: string) => boolean | Promise<boolean>
}

export function adminRoutes(o: AdminOptions) {
  const app = new Elysia({ name: 'scimd.admin' }).use(scimHttp({ maxBody: o.maxBody, log: o.log }))
  const token = o.adminToken
  if (!token) {
    const off = () => {
      throw notFound('The admin console is disabled: set SCIMD_ADMIN_TOKEN to enable it')
    }
    return app.all('/admin', off, { detail: { hide: true } }).all('/admin/*', off, { detail: { hide: true } })
  }
  const { sessions, unauthorized, guard } = o.auth ?? createAdminAuth(token)
  const { toolkit } = o
  const inspector = toolkit.inspector
  let streams = 0
  /** ?tenant=acme: that tenant's own latency and fault rules (issue 9); absent or 'default': the server's */
  const chaosOf = async (request: Request) => {
    const tenant = new URL(request.url).searchParams.get('tenant') || 'default'
    if (tenant !== 'default' && o.tenantExists && !(await o.tenantExists(tenant))) throw notFound(`Tenant '${tenant.slice(0, 64)}' not found`)
    return toolkit.chaosFor(tenant, true)!
  }

  const asset = (body: string, type: string) => () =>
    new Response(body, { headers: { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'content-security-policy': CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' } })
  const html = asset(pageHtml as unknown as string, 'text/html; charset=utf-8')

  const cookie = (request: Request, value: string, maxAge: number) => {
    const secure = o.secureCookie?.(request) ?? new URL(request.url).protocol === 'https:'
    return `${SESSION_COOKIE}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`
  }

  return app
    .get('/admin', html, { detail: { hide: true } })
    .get('/admin/', html, { detail: { hide: true } })
    .get('/admin/assets/admin.css', asset(pageCss, 'text/css; charset=utf-8'), { detail: { hide: true } })
    .get('/admin/assets/admin.js', asset(pageJs, 'text/javascript; charset=utf-8'), { detail: { hide: true } })
    .post(
      '/admin/login',
      async ({ request, body }) => {
        const given = body && typeof body === 'object' ? (body as Record<string, unknown>).token : undefined
        if (typeof given !== 'string' || !safeEqual(given, token)) {
          await Bun.sleep(250) // slows guessing a little; the token itself must be long (16+ characters)
          throw unauthorized('Wrong admin token')
        }
        return new Response(null, { status: 204, headers: { 'set-cookie': cookie(request, sessions.create(), SESSION_TTL_MS / 1000), 'cache-control': 'no-store' } })
      },
      {
        detail: {
          tags: ['Admin'],
          summary: 'Log in to the admin console',
          description: 'Exchanges the admin token ({"token": "…"}) for an HttpOnly, SameSite=Strict session cookie `scimd_admin` (Path=/admin, 12 h). Used by the /admin page, whose EventSource cannot send an Authorization header.',
          security: [],
        },
      },
    )
    .post(
      '/admin/logout',
      ({ request }) => {
        const sid = cookieOf(request, SESSION_COOKIE)
        if (sid) sessions.drop(sid)
        return new Response(null, { status: 204, headers: { 'set-cookie': cookie(request, '', 0) } })
      },
      { detail: { tags: ['Admin'], summary: 'End the admin console session', security: [] } },
    )
    .get(
      '/admin/session',
      ({ request }) => {
        guard(request)
        return adminJson({ authenticated: true, inspectSize: inspector.size, streams })
      },
      { detail: doc('Check the admin session (200, or 401)') },
    )
    .get(
      '/admin/chaos',
      async ({ request }) => {
        guard(request)
        return adminJson((await chaosOf(request)).toJSON())
      },
      { detail: doc('Current latency and fault rules', 'delay (SCIMD_DELAY), delayRules (SCIMD_DELAY_RULES), faults (SCIMD_FAULTS) as rule text, the PRNG seed, and the parsed rules (with how many requests each fault rule has seen).' + PER_PROCESS) },
    )
    .put(
      '/admin/chaos',
      async ({ request, body }) => {
        guard(request)
        const chaos = await chaosOf(request)
        try {
          chaos.set(parseChaosInput(body))
        } catch (e) {
          if (e instanceof ChaosInputError) throw invalidValue(e.message)
          throw e
        }
        o.log.info('chaos rules changed', { tenant: new URL(request.url).searchParams.get('tenant') ?? 'default', delay: chaos.toJSON().delay, delayRules: chaos.settings.delayRules.length, faults: chaos.settings.faults.length })
        return adminJson(chaos.toJSON())
      },
      {
        detail: doc(
          'Change latency and fault rules at run time',
          'Body: {"delay": "500ms-3s" | null, "delayRules": "PATCH /Groups/*=65s; …" | ["rule", …], "faults": "POST /Users=429 p=0.3" | [...], "seed": 42}. Fields left out keep their value; null or "" clears. Every change resets the every=N counters; a seed restarts the PRNG. A rule that does not parse → 400 invalidValue quoting it; nothing is changed.' + PER_PROCESS,
        ),
      },
    )
    .get(
      '/admin/requests',
      ({ request }) => {
        guard(request)
        const q = new URL(request.url).searchParams
        const limit = q.get('limit')
        if (limit !== null && !/^\d+$/.test(limit)) throw invalidValue(`limit must be a whole number, got '${limit}'`)
        const after = q.get('after')
        if (after !== null && !/^\d+$/.test(after)) throw invalidValue(`after must be a whole number, got '${after}'`)
        const entries = inspector.list({
          method: q.get('method') || undefined,
          path: q.get('path') || undefined,
          status: q.get('status') || undefined,
          tenant: q.get('tenant') || undefined,
          limit: limit === null ? 100 : Number(limit),
          after: after === null ? undefined : Number(after),
        })
        const full = ['1', 'true'].includes(q.get('full') ?? '')
        return adminJson({ size: inspector.size, count: entries.length, entries: full ? entries : entries.map(summary) })
      },
      {
        detail: doc(
          'Recent SCIM exchanges (newest first)',
          'Filters: method (GET…), path (substring of path+query, or a glob with * matched against the end of the path), status (201 or 4xx), after (seq), limit (default 100). full=true returns whole exchanges instead of summaries. Secrets are redacted.' + PER_PROCESS,
        ),
      },
    )
    .get(
      '/admin/requests/stream',
      ({ request }) => {
        guard(request)
        if (streams >= MAX_STREAMS) throw new ScimError(503, `Too many inspector streams open (at most ${MAX_STREAMS})`, undefined, { 'retry-after': '5' })
        const url = new URL(request.url)
        const afterRaw = url.searchParams.get('after') ?? request.headers.get('last-event-id')
        const after = afterRaw !== null && /^\d+$/.test(afterRaw) ? Number(afterRaw) : undefined
        // ?tenant=acme: that tenant's exchanges only ('default': /scim/v2), as /admin/requests?tenant=
        const tenant = url.searchParams.get('tenant') || undefined
        const enc = new TextEncoder()
        let cleanup = () => {}
        streams++
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            let open = true
            const close = () => {
              if (!open) return
              open = false
              cleanup()
              try {
                c.close()
              } catch {}
            }
            const send = (e: Exchange) => {
              if (!open || (tenant !== undefined && e.tenant !== tenant)) return
              if ((c.desiredSize ?? 0) < -1000) return close() // a client that stopped reading
              c.enqueue(enc.encode(`id: ${e.seq}\nevent: exchange\ndata: ${JSON.stringify(summary(e))}\n\n`))
            }
            c.enqueue(enc.encode('retry: 2000\n: scimd inspector stream\n\n'))
            if (after !== undefined) for (const e of inspector.list({ after, tenant, limit: inspector.size }).reverse()) send(e)
            const unsub = inspector.subscribe(send)
            const hb = setInterval(() => open && c.enqueue(enc.encode(': ping\n\n')), HEARTBEAT_MS)
            const life = setTimeout(close, STREAM_MAX_LIFE_MS) // the EventSource reconnects (with Last-Event-ID)
            toolkit.closed.addEventListener('abort', close)
            request.signal.addEventListener('abort', close)
            cleanup = () => {
              streams--
              unsub()
              clearInterval(hb)
              clearTimeout(life)
              toolkit.closed.removeEventListener('abort', close)
              request.signal.removeEventListener('abort', close)
              cleanup = () => {}
            }
          },
          cancel() {
            cleanup()
          },
        })
        return new Response(stream, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } })
      },
      {
        detail: doc(
          'Live stream of new exchanges (server-sent events)',
          `Each new exchange is an \`event: exchange\` whose data is its summary (id, seq, time, method, url, status, durationMs, injected…) and whose id is its seq; ?after=<seq> or Last-Event-ID replays what the buffer still holds; ?tenant=<id> keeps one tenant's exchanges ('default': /scim/v2). A comment heartbeat every ${HEARTBEAT_MS / 1000} s; at most ${MAX_STREAMS} streams; each ends after ${STREAM_MAX_LIFE_MS / 60000} min (EventSource reconnects).` + PER_PROCESS,
        ),
      },
    )
    .get(
      '/admin/requests/:id',
      ({ request, params }) => {
        guard(request)
        const e = inspector.get(params.id)
        if (!e) throw notFound(`No exchange '${params.id}' in the inspector (it keeps the last ${inspector.size})`)
        return adminJson(e)
      },
      { detail: doc('One exchange in full', 'Request and response headers and bodies (redacted), timing, what was injected, auth mode, and for writes the resource before and after.') },
    )
    .all('/admin/*', () => {
      throw notFound('No such admin endpoint')
    }, { detail: { hide: true } })
}

