/**
 * Cursors for RFC 9865 cursor-based pagination: opaque, URL-safe (only RFC 3986 unreserved characters), signed with
 * HMAC-SHA256 under a server secret, bound to the query they page (a hash of scope + filter + sortBy + sortOrder)
 * and with an expiry. A cursor names a place in the query's order — just after (or just before) a row's sort key
 * and id — never an offset, so inserts and deletes elsewhere cannot shift it.
 *
 *   <base64url(JSON payload)>.<base64url(HMAC-SHA256(secret, "scimd-cursor-v1." + payload))>
 *
 * The payload is signed, not encrypted: it carries the boundary row's id and sort value, both of which the client
 * already received in the page that produced the cursor. Clients must treat it as opaque (RFC 9865 §2).
 *
 * Errors (RFC 9865 §2.1, Table 3): anything that does not verify — garbled, forged, signed by another secret, or
 * issued for a different query — is 400 invalidCursor; a genuine cursor past its expiry is 400 expiredCursor.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { expiredCursor, invalidCursor } from './errors'

export interface CursorPosition {
  /** 'next': the rows after this place; 'prev': the rows before it. */
  dir: 'next' | 'prev'
  /** Sort value of the boundary row (null: it has none, or the query has no sortBy). */
  key: string | number | null
  /** id of the boundary row. */
  id: string
}

interface Payload {
  v: 1
  /** query binding */
  q: string
  d: 'n' | 'p'
  k: string | number | null
  i: string
  /** expiry, Unix seconds */
  x: number
}

const CONTEXT = 'scimd-cursor-v1.'
/** base64url segments joined by one '.': every character is RFC 3986 unreserved. */
const SHAPE = /^[A-Za-z0-9_-]{1,8192}\.[A-Za-z0-9_-]{43}$/

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url')

/** A short, stable digest of what a cursor is bound to. */
export function queryBinding(parts: { scope: string; filter?: string; sortBy?: string; sortOrder: string }): string {
  const canon = JSON.stringify([parts.scope, parts.filter ?? null, parts.sortBy ?? null, parts.sortBy ? parts.sortOrder : null])
  return createHash('sha256').update(canon).digest('base64url').slice(0, 22)
}

export interface CursorCodec {
  encode(pos: CursorPosition, binding: string, nowMs: number): string
  /** Throws ScimError invalidCursor / expiredCursor. */
  decode(cursor: string, binding: string, nowMs: number): CursorPosition
}

/** `secret`: the HMAC key (32 random bytes kept by the server); `ttlSeconds`: how long an issued cursor lives. */
export function cursorCodec(secret: Uint8Array, ttlSeconds: number): CursorCodec {
  const key = Buffer.from(secret)
  const sign = (body: string) => createHmac('sha256', key).update(CONTEXT + body).digest()
  const invalid = () =>
    invalidCursor('The cursor is not valid for this query: send an empty cursor for the first page, then the nextCursor or previousCursor of the previous response with otherwise identical parameters')
  return {
    encode(pos, binding, nowMs) {
      const payload: Payload = { v: 1, q: binding, d: pos.dir === 'next' ? 'n' : 'p', k: pos.key, i: pos.id, x: Math.floor(nowMs / 1000) + ttlSeconds }
      const body = b64u(JSON.stringify(payload))
      return `${body}.${b64u(sign(body))}`
    },
    decode(cursor, binding, nowMs) {
      if (!SHAPE.test(cursor)) throw invalid()
      const dot = cursor.indexOf('.')
      const body = cursor.slice(0, dot)
      const mac = Buffer.from(cursor.slice(dot + 1), 'base64url')
      const want = sign(body)
      if (mac.length !== want.length || !timingSafeEqual(mac, want)) throw invalid()
      let p: Payload
      try {
        p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
      } catch {
        throw invalid()
      }
      const keyOk = p.k === null || typeof p.k === 'string' || (typeof p.k === 'number' && Number.isFinite(p.k))
      if (!p || p.v !== 1 || (p.d !== 'n' && p.d !== 'p') || typeof p.i !== 'string' || !keyOk || typeof p.x !== 'number')
        throw invalid()
      if (p.q !== binding) throw invalid()
      if (Math.floor(nowMs / 1000) >= p.x)
        throw expiredCursor('The cursor has expired: start again with an empty cursor, and request the next page within the advertised cursorTimeout')
      return { dir: p.d === 'n' ? 'next' : 'prev', key: p.k, id: p.i }
    },
  }
}
