/**
 * The troubleshooting toolkit wired around every request: an Elysia higher-order function (`app.wrap`) sees the raw
 * Request and the final Response of every route (including SCIM errors from onError and 404s), so that
 *  - SCIM requests (under the base path) get their delay (a timer before the handler: never inside a database
 *    transaction, never blocking other requests) and faults, and X-Scimd-Injected / X-Scimd-Request-Id headers;
 *  - the inspector records the exchange (redacted), with the resource before and after a write;
 *  - every request gets one console line (method, path without secrets, status, duration, what was injected).
 * A wrapper is used rather than onRequest/mapResponse hooks because it also sees responses built by onError and by
 * Bun's static routes, and can hold a request open (hang) or reset its connection (drop).
 */
import type { Server } from 'bun'
import type { Logger } from '../log'
import { Chaos, describeDecision, type ChaosSettings, type Decision } from './chaos'
import { badJsonBody, dropResponse, HANG_CAP_MS, STATUS_FAULTS, statusFaultResponse, truncateBody } from './faults'
import { capBody, Inspector, type Exchange } from './inspector'
import { redactBodyText, redactHeaders, redactUrl } from './redact'
import { needsBody, type RequestFacts } from './rules'
import { DEFAULT_TENANT, tenantScope } from '../tenants/context'
import { rawPath } from '../http/url'

/** the rules of a tenant that has none */
const NO_CHAOS = new Chaos({})

export interface ToolkitOptions {
  basePath: string
  chaos?: Partial<ChaosSettings>
  inspectSize: number
  requestLog?: string
  /** Largest request body read for matching and capture (the SCIM layer enforces the real limit). */
  maxBody: number
  log: Logger
  /** Reads a resource for the before/after of a write (null when absent). */
  snapshot?: (kind: 'User' | 'Group', id: string, request: Request) => unknown
  /** Whether the inspector should record (the admin console is enabled, or a request log is set). */
  record: boolean
  /** The IdP profile name of the request being handled (for the inspector entry). */
  profileOf?: () => string
}

type Handler = (request: Request) => Response | Promise<Response>

const WRITE_PATH = /^\/(Users|Groups)(?:\/([^/]+))?\/?$/i

/** The id segment of a path, decoded; a malformed escape (%ZZ) is kept as sent (the route answers it with a 400). */
const decodeSegment = (s: string) => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

export interface Toolkit {
  /** the default tenant's latency and fault rules */
  chaos: Chaos
  /** a tenant's own rules ('default' → chaos); made empty on first use when `create`, else undefined */
  chaosFor(tenant: string, create?: boolean): Chaos | undefined
  /** forgets a deleted tenant's rules */
  dropTenant(tenant: string): void
  inspector: Inspector
  /** for `app.wrap(...)` */
  hoc: (fn: Handler, request: Request) => Handler
  /** tells the toolkit how to reach the Bun server (client address, per-request idle timeout) */
  bind(getServer: () => Server<any> | null | undefined): void
  /** records the authenticated principal of a request (its auth mode goes into the inspector) */
  notePrincipal(request: Request, principal: { mode: string; subject?: string } | undefined): void
  /** the inspector id of a request being handled (X-Scimd-Request-Id; made on first use when not recorded) */
  requestIdOf(request: Request): string
  /** the authenticated principal noted for a request being handled (the change history's principal label) */
  principalOf(request: Request): { mode: string; subject?: string } | undefined
  /** releases hung requests and closes the request log (on shutdown) */
  close(): void
  readonly closed: AbortSignal
}

async function readCapped(request: Request, cap: number): Promise<string | null> {
  if (!request.body) return null
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      total += value.byteLength
      if (total > cap) {
        void reader.cancel().catch(() => {})
        break
      }
    }
  } catch {
    // the client went away mid-body: keep what arrived
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

/** The auth mode when no principal was resolved: the scheme the client tried (and whether it was refused). */
function authModeOf(request: Request, status: number | null): string {
  const h = request.headers.get('authorization')
  if (!h) return 'none'
  if (status === 401) return `${authModeOf(request, null)} (refused)`
  const scheme = h.trim().split(/\s+/)[0].toLowerCase()
  if (scheme === 'bearer') {
    const cred = h.trim().slice(6).trim()
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(cred) ? 'bearer (JWT)' : 'bearer'
  }
  if (scheme === 'basic') return 'basic'
  return scheme.replace(/[^a-z0-9._-]/g, '').slice(0, 32) || 'unknown'
}

/** Sleeps until `until` (performance.now() time): never returns early, so measured times are at least the delay. */
async function sleepUntil(until: number, signal: AbortSignal) {
  for (;;) {
    const left = until - performance.now()
    if (left <= 0 || signal.aborted) return
    await Bun.sleep(Math.ceil(left))
  }
}

export function createToolkit(o: ToolkitOptions): Toolkit {
  const chaos = new Chaos(o.chaos)
  // a named tenant (/t/{tenant}/…) has its own rules, none until set through /admin/chaos?tenant=…
  const tenantChaos = new Map<string, Chaos>()
  const chaosFor = (tenant: string, create = false): Chaos | undefined => {
    if (tenant === DEFAULT_TENANT) return chaos
    let c = tenantChaos.get(tenant)
    if (!c && create) tenantChaos.set(tenant, (c = new Chaos({})))
    return c
  }
  const inspector = new Inspector(o.record ? o.inspectSize : 0, o.requestLog)
  const ids = new WeakMap<Request, string>()
  const principals = new WeakMap<Request, { mode: string; subject?: string }>()
  const closer = new AbortController()
  let getServer: () => Server<any> | null | undefined = () => undefined
  const base = o.basePath
  const reserved = /^\/(admin|docs|healthz)(\/|$)/

  const isScim = (path: string) => (base === '' ? !reserved.test(path) : path === base || path.startsWith(base + '/'))

  const logLine = (request: Request, url: URL, status: number | string, ms: number, injected?: string) => {
    const path = url.pathname
    const level = path === '/healthz' ? 'debug' : 'info'
    if (!o.log.enabled(level)) return
    const fields: Record<string, unknown> = { method: request.method, path: redactUrl(url), status, ms: Math.round(ms * 10) / 10 }
    if (injected) fields.injected = injected
    o.log[level]('request', fields)
  }

  const serverOf = () => {
    try {
      return getServer() ?? undefined
    } catch {
      return undefined
    }
  }

  /** Never answers until the client gives up, the cap passes or scimd shuts down. */
  const hang = (request: Request): Promise<{ res: Response; detail: string }> =>
    new Promise((resolve) => {
      const t0 = performance.now()
      const secs = () => ((performance.now() - t0) / 1000).toFixed(1)
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = (why: 'client' | 'cap' | 'shutdown') => {
        if (timer) clearTimeout(timer)
        request.signal.removeEventListener('abort', onAbort)
        closer.signal.removeEventListener('abort', onClose)
        const detail = why === 'client' ? `client gave up after ${secs()}s` : why === 'cap' ? `dropped by scimd after the ${HANG_CAP_MS / 60000} min cap` : `dropped at shutdown after ${secs()}s`
        resolve({ res: dropResponse(), detail })
      }
      const onAbort = () => done('client')
      const onClose = () => done('shutdown')
      if (request.signal.aborted) return done('client')
      if (closer.signal.aborted) return done('shutdown')
      request.signal.addEventListener('abort', onAbort)
      closer.signal.addEventListener('abort', onClose)
      timer = setTimeout(() => done('cap'), HANG_CAP_MS)
    })

  async function handleScim(request: Request, url: URL, fn: Handler, t0: number): Promise<Response> {
    // a tenant's request arrives here without its /t/{tenant} prefix (src/tenants/router.ts); the original is kept
    // for the inspector, the log line and the socket (client address, idle timeout, abort)
    const scope = tenantScope.getStore()
    const tenant = scope?.tenant ?? DEFAULT_TENANT
    const original = scope?.original ?? request
    const shownUrl = scope ? new URL(original.url) : url
    const chaos = chaosFor(tenant) ?? NO_CHAOS
    const method = request.method.toUpperCase()
    const rel = url.pathname.slice(base.length) || '/'
    const recording = inspector.enabled
    const id = Bun.randomUUIDv7()
    ids.set(request, id)
    const bodyPromise = recording || chaos.active ? (request.body ? readCapped(request.clone(), o.maxBody) : Promise.resolve(null)) : Promise.resolve(null)

    let decision: Decision = { delayMs: 0 }
    if (chaos.active) {
      const facts: RequestFacts = { method, path: rel, filter: url.searchParams.get('filter') ?? undefined }
      if (needsBody(chaos.rules, method, rel)) {
        const text = await bodyPromise
        try {
          const body = text ? JSON.parse(text) : null
          if (body && typeof body === 'object') {
            const ops = Object.entries(body).find(([k]) => k.toLowerCase() === 'operations')?.[1]
            if (Array.isArray(ops)) facts.ops = ops.filter((x) => x && typeof x === 'object').map((x) => {
              const get = (n: string) => Object.entries(x).find(([k]) => k.toLowerCase() === n)?.[1]
              return { op: String(get('op') ?? ''), path: typeof get('path') === 'string' ? (get('path') as string) : undefined }
            })
            const f = Object.entries(body).find(([k]) => k.toLowerCase() === 'filter')?.[1]
            if (typeof f === 'string' && facts.filter === undefined) facts.filter = f
          }
        } catch {}
      }
      decision = chaos.decide(facts)
    }
    const injected = describeDecision(decision)
    if (decision.delayMs > 0 || decision.fault?.kind === 'hang') serverOf()?.timeout(original, 0) // Bun's idle timeout would cut a long wait
    if (decision.delayMs > 0) await sleepUntil(t0 + decision.delayMs, closer.signal)

    const m = WRITE_PATH.exec(rel)
    const kind = m ? ((m[1].toLowerCase() === 'users' ? 'User' : 'Group') as 'User' | 'Group') : undefined
    const snap = async (k: 'User' | 'Group', rid: string) => {
      try {
        return (await o.snapshot?.(k, rid, request)) ?? null
      } catch {
        return null
      }
    }
    const isWrite = kind && ((m![2] && ['PUT', 'PATCH', 'DELETE'].includes(method)) || (!m![2] && method === 'POST'))
    const before = recording && isWrite && m![2] ? await snap(kind!, decodeSegment(m![2])) : undefined

    let res: Response
    let outcome: Exchange['outcome'] = 'response'
    let outcomeDetail: string | undefined
    let bodyText: string | null = null
    const fault = decision.fault
    if (fault && STATUS_FAULTS.includes(fault.kind)) res = statusFaultResponse(fault)
    else if (fault?.kind === 'hang') {
      const h = await hang(original)
      res = h.res
      outcome = 'hang'
      outcomeDetail = h.detail
    } else if (fault?.kind === 'drop') {
      res = dropResponse()
      outcome = 'drop'
      outcomeDetail = 'connection closed without a response'
    } else res = await fn(request)

    if (outcome === 'response' && !recording && !injected) {
      // nothing injected, nothing to record: pass the response through untouched
      logLine(request, shownUrl, res.status, performance.now() - t0)
      return res
    }
    if (outcome === 'response') {
      bodyText = res.body ? await res.text() : null
      let sent = bodyText
      if (fault?.kind === 'truncate' && bodyText !== null) sent = truncateBody(bodyText)
      if (fault?.kind === 'badjson') sent = badJsonBody(bodyText ?? '')
      const headers = new Headers(res.headers)
      if (recording) headers.set('x-scimd-request-id', id)
      if (injected) headers.set('x-scimd-injected', injected)
      if (sent !== bodyText) headers.delete('content-length')
      res = new Response(sent, { status: res.status, statusText: res.statusText, headers })
      bodyText = sent
    }
    const durationMs = performance.now() - t0
    logLine(request, shownUrl, outcome === 'response' ? res.status : outcome, durationMs, injected)

    if (recording) {
      const requestBody = await bodyPromise
      const status = outcome === 'response' ? res.status : null
      let after: unknown
      let resourceId = m?.[2] ? decodeSegment(m[2]) : undefined
      if (isWrite && status !== null && status >= 200 && status < 300 && method !== 'DELETE') {
        if (!resourceId && bodyText) {
          try {
            resourceId = (JSON.parse(bodyText) as { id?: string }).id
          } catch {}
        }
        if (resourceId) after = await snap(kind!, resourceId)
      } else if (isWrite && method === 'DELETE' && status === 204) after = null
      const entry: Exchange = {
        id,
        seq: inspector.nextSeq(),
        time: new Date(Date.now() - durationMs).toISOString(),
        client: serverOf()?.requestIP(original)?.address ?? null,
        method,
        url: redactUrl(shownUrl),
        path: shownUrl.pathname,
        requestHeaders: redactHeaders(request.headers),
        requestBody: capBody(requestBody === null ? null : redactBodyText(requestBody)),
        status,
        responseHeaders: outcome === 'response' ? redactHeaders(res.headers) : null,
        responseBody: capBody(bodyText === null ? null : redactBodyText(bodyText)),
        durationMs: Math.round(durationMs * 10) / 10,
        injected: injected ?? null,
        outcome,
        ...(outcomeDetail ? { outcomeDetail } : {}),
        authMode: principals.get(request)?.mode ?? authModeOf(request, status),
        ...(principals.get(request)?.subject ? { authSubject: principals.get(request)!.subject } : {}),
        tenant,
        ...(o.profileOf ? { profile: o.profileOf() } : {}),
        ...(kind && resourceId ? { resource: { type: kind, id: resourceId } } : {}),
        ...(isWrite ? { before: before ?? null, after: after ?? null } : {}),
      }
      inspector.add(entry)
    }
    return res
  }

  return {
    chaos,
    chaosFor,
    dropTenant: (t) => void tenantChaos.delete(t),
    inspector,
    closed: closer.signal,
    bind(g) {
      getServer = g
    },
    requestIdOf(r) {
      // made on first use when the request was not recorded (the change history still ties its rows together)
      let id = ids.get(r)
      if (!id) ids.set(r, (id = Bun.randomUUIDv7()))
      return id
    },
    principalOf: (r) => principals.get(r),
    notePrincipal(r, p) {
      if (p) principals.set(r, { mode: p.mode, subject: p.subject })
    },
    hoc: (fn) => (request: Request) => {
      const t0 = performance.now()
      const path = rawPath(request.url)
      if (isScim(path)) {
        if (inspector.enabled || chaosFor(tenantScope.getStore()?.tenant ?? DEFAULT_TENANT)?.active) return handleScim(request, new URL(request.url), fn, t0)
        // nothing to inject or record (the common case): the response passes through untouched
        if (!o.log.enabled('info')) return fn(request)
        return Promise.resolve(fn(request)).then((res) => {
          logLine(request, new URL((tenantScope.getStore()?.original ?? request).url), res.status, performance.now() - t0)
          return res
        })
      }
      const out = fn(request)
      if (!o.log.enabled('info') && !(path === '/healthz' && o.log.enabled('debug'))) return out
      return Promise.resolve(out).then((res) => {
        logLine(request, new URL(request.url), res.status, performance.now() - t0)
        return res
      })
    },
    close() {
      closer.abort()
      inspector.close()
    },
  }
}
