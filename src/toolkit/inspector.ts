/**
 * The request inspector: a ring buffer of the last N SCIM exchanges (SCIMD_INSPECT_SIZE, default 500), live
 * subscribers (the SSE stream of /admin/requests/stream) and an optional append-only JSON Lines file
 * (SCIMD_REQUEST_LOG). Entries are stored already redacted (redact.ts); bodies are capped at BODY_CAP.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { textMatches } from './rules'

/** Largest body kept per exchange (request and response each); longer ones end with a marker. */
export const BODY_CAP = 64 * 1024
export const TRUNCATED_MARKER = '…[truncated by scimd: body longer than 64 KiB]'

export interface Exchange {
  /** unique, time-ordered (UUIDv7); also sent as X-Scimd-Request-Id */
  id: string
  /** position in this process's sequence (for SSE resumption) */
  seq: number
  time: string
  client: string | null
  method: string
  /** path and query, secrets redacted */
  url: string
  path: string
  requestHeaders: Record<string, string>
  requestBody: string | null
  /** null while pending, or when no response was sent (hang, drop) */
  status: number | null
  responseHeaders: Record<string, string> | null
  responseBody: string | null
  durationMs: number
  /** what the toolkit injected (the X-Scimd-Injected text), or null */
  injected: string | null
  /** hang/drop: how the exchange ended */
  outcome: 'response' | 'hang' | 'drop'
  outcomeDetail?: string
  /** the scheme the client used: bearer, basic, none, or the unknown scheme's name */
  authMode: string
  /** the principal's non-secret label (Basic user, "token #1", a JWT's sub) */
  authSubject?: string
  tenant: string
  /** the IdP profile the request was handled with (SCIMD_PROFILE, SCIMD_STRICT or the tenant's override) */
  profile?: string
  resource?: { type: 'User' | 'Group'; id: string }
  before?: unknown
  after?: unknown
}

export type ExchangeSummary = Pick<Exchange, 'id' | 'seq' | 'time' | 'method' | 'url' | 'status' | 'durationMs' | 'injected' | 'outcome' | 'authMode' | 'client' | 'tenant'>

export function summary(e: Exchange): ExchangeSummary {
  return { id: e.id, seq: e.seq, time: e.time, method: e.method, url: e.url, status: e.status, durationMs: e.durationMs, injected: e.injected, outcome: e.outcome, authMode: e.authMode, client: e.client, tenant: e.tenant }
}

export function capBody(text: string | null): string | null {
  if (text === null) return null
  return text.length > BODY_CAP ? text.slice(0, BODY_CAP) + TRUNCATED_MARKER : text
}

export interface ExchangeFilter {
  method?: string
  /** substring of the path and query, or (with '*') a glob matched against the end of the path */
  path?: string
  /** exact status (201), or a class (4xx) */
  status?: string
  /** only entries after this seq */
  after?: number
  /** only this tenant's entries ('default' for /scim/v2) */
  tenant?: string
  limit?: number
}

export class Inspector {
  private buf: (Exchange | undefined)[]
  private next = 0
  private seqNo = 0
  private subs = new Set<(e: Exchange) => void>()
  private logFd: number | undefined

  constructor(
    readonly size: number,
    logPath?: string,
  ) {
    this.buf = new Array(Math.max(0, size))
    if (logPath) this.logFd = openSync(logPath, 'a', 0o600)
  }

  get enabled() {
    return this.size > 0 || this.logFd !== undefined
  }

  nextSeq() {
    return ++this.seqNo
  }

  add(e: Exchange) {
    if (this.size > 0) {
      this.buf[this.next] = e
      this.next = (this.next + 1) % this.size
    }
    if (this.logFd !== undefined) {
      try {
        writeSync(this.logFd, JSON.stringify(e) + '\n')
      } catch {
        // a full disk must not break requests; the ring buffer still has the entry
      }
    }
    for (const s of this.subs) {
      try {
        s(e)
      } catch {}
    }
  }

  /** newest first */
  list(f: ExchangeFilter = {}): Exchange[] {
    const out: Exchange[] = []
    const limit = Math.max(1, Math.min(f.limit ?? 100, this.size || 1))
    const method = f.method?.toUpperCase()
    const status = f.status?.trim().toLowerCase()
    for (let k = 1; k <= this.size && out.length < limit; k++) {
      const e = this.buf[(this.next - k + this.size * 2) % this.size]
      if (!e) break
      if (f.after !== undefined && e.seq <= f.after) break
      if (method && e.method !== method) continue
      if (f.tenant !== undefined && e.tenant !== f.tenant) continue
      if (f.path) {
        const p = e.url
        if (f.path.includes('*') ? !textMatches(f.path.startsWith('*') ? f.path : '*' + f.path, e.path) : !p.toLowerCase().includes(f.path.toLowerCase())) continue
      }
      if (status) {
        const s = e.status === null ? '' : String(e.status)
        if (/^\dxx$/.test(status) ? s[0] !== status[0] : s !== status) continue
      }
      out.push(e)
    }
    return out
  }

  get(id: string): Exchange | undefined {
    for (const e of this.buf) if (e && e.id === id) return e
    return undefined
  }

  subscribe(fn: (e: Exchange) => void): () => void {
    this.subs.add(fn)
    return () => this.subs.delete(fn)
  }

  get subscribers() {
    return this.subs.size
  }

  close() {
    if (this.logFd !== undefined) {
      try {
        closeSync(this.logFd)
      } catch {}
      this.logFd = undefined
    }
  }
}
