/**
 * The rule language of the troubleshooting toolkit (SCIMD_DELAY, SCIMD_DELAY_RULES, SCIMD_FAULTS, PUT /admin/chaos).
 *
 *   rules    := rule { (';' | newline) rule }            empty rules are ignored
 *   rule     := [method] path ['?filter=' value] { cond } '=' action
 *   method   := '*' | GET | POST | PUT | PATCH | DELETE  (case-insensitive; omitted = '*')
 *   path     := '*' | '/' …   relative to the base path; '*' matches within one segment, '**' across segments;
 *               a path of just '*' matches every path. Case-insensitive, trailing '/' ignored.
 *   value    := bare (no spaces, '=', ';', '"')  |  "JSON string"  (quote a filter pattern with spaces)
 *   cond     := 'op=' value      PATCH operation: 'remove' or 'remove:members' (op name, then a path prefix)
 *   action   := delay rules: duration ['-' duration]     2000 (ms), 500ms, 1.5s, 2m; a range is uniform
 *               fault rules: see faults.ts (429 p=0.3 retry-after=5, 500 every=3, hang, drop, truncate, badjson)
 *
 * The filter pattern ('*' = any characters) matches the request's `filter` query parameter (or a POST /.search
 * body's filter); a rule with a filter pattern never matches a request without a filter.
 * Framework-free: nothing here knows about HTTP servers.
 */

export const METHODS = ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
export type RuleMethod = (typeof METHODS)[number]
export const PATCH_OPS = ['add', 'remove', 'replace'] as const

export interface RuleMatch {
  method: RuleMethod
  /** '*' or a pattern starting with '/' */
  path: string
  filter?: string
  op?: { name: (typeof PATCH_OPS)[number]; path?: string }
}

/** A delay in milliseconds: fixed when min === max, else uniform in [min, max]. */
export interface Duration {
  minMs: number
  maxMs: number
}

export interface DelayRule {
  match: RuleMatch
  delay: Duration
  /** the rule as written (trimmed), for X-Scimd-Injected and error messages */
  source: string
}

/** Longest delay a rule may ask for (a longer wait is what the `hang` fault is for). */
export const MAX_DELAY_MS = 10 * 60 * 1000

export class RuleSyntaxError extends Error {
  constructor(
    readonly rule: string,
    readonly reason: string,
    readonly index?: number,
  ) {
    super(`${index !== undefined ? `rule ${index + 1} ` : ''}'${rule}': ${reason}`)
    this.name = 'RuleSyntaxError'
  }
}

/** Splits rule text at ';' and newlines outside double quotes; drops empty pieces. */
export function splitRules(text: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      cur += c
      if (c === '\\' && i + 1 < text.length) cur += text[++i]
      else if (c === '"') quoted = false
    } else if (c === '"') {
      quoted = true
      cur += c
    } else if (c === ';' || c === '\n' || c === '\r') {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  out.push(cur)
  return out.map((s) => s.trim()).filter((s) => s !== '')
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 }

function parseOneDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/i.exec(raw.trim())
  if (!m) throw new Error(`'${raw}' is not a duration (2000, 500ms, 1.5s or 2m)`)
  const ms = Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 'ms').toLowerCase()])
  if (!Number.isFinite(ms) || ms > MAX_DELAY_MS) throw new Error(`'${raw}' is longer than the 10m limit (use the hang fault for longer)`)
  return ms
}

/** "2000" | "2s" | "500ms-3s" → Duration. Throws Error with a readable reason. */
export function parseDuration(raw: string): Duration {
  const text = raw.trim()
  if (text === '') throw new Error('expected a duration such as 2000, 2s or 500ms-3s')
  const dash = text.indexOf('-')
  if (dash < 0) {
    const ms = parseOneDuration(text)
    return { minMs: ms, maxMs: ms }
  }
  const minMs = parseOneDuration(text.slice(0, dash))
  const maxMs = parseOneDuration(text.slice(dash + 1))
  if (maxMs < minMs) throw new Error(`range '${text}' ends before it starts`)
  return { minMs, maxMs }
}

function formatMs(ms: number): string {
  return ms !== 0 && ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

export function formatDuration(d: Duration): string {
  return d.minMs === d.maxMs ? formatMs(d.minMs) : `${formatMs(d.minMs)}-${formatMs(d.maxMs)}`
}

/** A cursor over one rule's text. */
class Reader {
  i = 0
  constructor(readonly s: string) {}
  get done() {
    return this.i >= this.s.length
  }
  peek() {
    return this.s[this.i]
  }
  skipWs() {
    while (!this.done && /\s/.test(this.s[this.i])) this.i++
  }
  /** bare characters up to whitespace or one of `stops` */
  bare(stops: string): string {
    const start = this.i
    while (!this.done && !/\s/.test(this.s[this.i]) && !stops.includes(this.s[this.i])) this.i++
    return this.s.slice(start, this.i)
  }
  /** a bare value, or a double-quoted JSON string */
  value(): string {
    if (this.peek() !== '"') {
      const v = this.bare('=";')
      if (v === '') throw new Error(`expected a value at column ${this.i + 1}`)
      return v
    }
    const start = this.i++
    while (!this.done && this.s[this.i] !== '"') this.i += this.s[this.i] === '\\' ? 2 : 1
    if (this.done) throw new Error('unterminated quoted value')
    this.i++
    try {
      return JSON.parse(this.s.slice(start, this.i)) as string
    } catch {
      throw new Error(`bad quoted value ${this.s.slice(start, this.i)}`)
    }
  }
}

/**
 * Parses the match part and returns it with the raw action text (after the separating '=').
 * Throws Error with a reason (callers wrap it into RuleSyntaxError).
 */
export function parseMatch(rule: string): { match: RuleMatch; action: string } {
  const r = new Reader(rule)
  r.skipWs()
  let method: RuleMethod = '*'
  if (r.peek() !== '/') {
    const word = r.bare('=')
    const up = word.toUpperCase()
    if (word === '*' && (r.done || r.peek() === '=')) {
      // "*=1s": the path '*' with no method
      r.i -= 1
    } else {
      if (!(METHODS as readonly string[]).includes(up)) throw new Error(`unknown method '${word}' (GET, POST, PUT, PATCH, DELETE or *)`)
      method = up as RuleMethod
      r.skipWs()
    }
  }
  const path = r.bare('?=";')
  if (path === '') throw new Error("expected a path such as /Users/* after the method")
  if (path !== '*' && !path.startsWith('/')) throw new Error(`path '${path}' must start with '/' (relative to the base path) or be '*'`)
  const match: RuleMatch = { method, path }
  if (r.peek() === '?') {
    r.i++
    const key = r.s.slice(r.i, r.i + 7)
    if (key.toLowerCase() !== 'filter=') throw new Error("only '?filter=<pattern>' may follow the path")
    r.i += 7
    match.filter = r.value()
  }
  for (;;) {
    r.skipWs()
    if (r.done) throw new Error("missing '=' and an action after the match")
    if (r.peek() === '=') break
    const key = r.bare('=";')
    if (r.peek() !== '=') {
      if (match.filter !== undefined) throw new Error(`unexpected '${key || r.peek()}': quote a filter pattern that has spaces, e.g. ?filter="userName eq *"`)
      throw new Error(`unexpected '${key || r.peek()}' (expected '=' and an action, or op=<name>)`)
    }
    if (key.toLowerCase() !== 'op') throw new Error(`unknown condition '${key}' (only op=add|remove|replace[:path])`)
    r.i++
    if (match.op) throw new Error('op= given twice')
    const v = r.value()
    const colon = v.indexOf(':')
    const name = (colon < 0 ? v : v.slice(0, colon)).toLowerCase()
    if (!(PATCH_OPS as readonly string[]).includes(name)) throw new Error(`unknown PATCH op '${v}' (add, remove or replace, optionally :path)`)
    if (method !== 'PATCH' && method !== '*') throw new Error('op= only applies to PATCH rules')
    match.op = { name: name as (typeof PATCH_OPS)[number] }
    if (colon >= 0) {
      const p = v.slice(colon + 1)
      if (p === '') throw new Error(`empty path after ':' in op=${v}`)
      match.op.path = p
    }
  }
  r.i++ // '='
  const action = r.s.slice(r.i).trim()
  if (action === '') throw new Error("nothing after '=' (expected an action)")
  return { match, action }
}

const BARE_OK = /^[^\s=";]+$/

function formatValue(v: string): string {
  // A JSON string with non-ASCII escaped, so that the text is safe in an HTTP header.
  return BARE_OK.test(v) && /^[\x21-\x7e]+$/.test(v) ? v : JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

export function formatMatch(m: RuleMatch): string {
  let s = `${m.method} ${m.path}`
  if (m.filter !== undefined) s += `?filter=${formatValue(m.filter)}`
  if (m.op) s += ` op=${formatValue(m.op.path !== undefined ? `${m.op.name}:${m.op.path}` : m.op.name)}`
  return s
}

export function parseDelayRule(rule: string, index?: number): DelayRule {
  try {
    const { match, action } = parseMatch(rule)
    return { match, delay: parseDuration(action), source: rule.trim() }
  } catch (e) {
    throw new RuleSyntaxError(rule.trim(), (e as Error).message, index)
  }
}

/** SCIMD_DELAY_RULES → rules in order (first match wins). Throws RuleSyntaxError quoting the bad rule. */
export function parseDelayRules(text: string): DelayRule[] {
  return splitRules(text).map((r, i) => parseDelayRule(r, i))
}

export function formatDelayRule(r: Pick<DelayRule, 'match' | 'delay'>): string {
  return `${formatMatch(r.match)}=${formatDuration(r.delay)}`
}

/** What a rule is matched against: a SCIM request, its path relative to the base path. */
export interface RequestFacts {
  method: string
  /** path below the base path, starting with '/' (e.g. /Users/123) */
  path: string
  filter?: string
  /** PATCH operations of the body, when it parsed */
  ops?: { op: string; path?: string }[]
}

const compiled = new Map<string, RegExp>()

function globToRegExp(pattern: string, segmentStar: boolean): RegExp {
  const key = (segmentStar ? 'p' : 'f') + pattern
  let re = compiled.get(key)
  if (re) return re
  let src = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '*') {
      if (segmentStar && pattern[i + 1] === '*') {
        src += '.*'
        i++
      } else src += segmentStar ? '[^/]*' : '.*'
    } else src += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  }
  re = new RegExp(`^${src}$`, 'is')
  if (compiled.size > 1000) compiled.clear()
  compiled.set(key, re)
  return re
}

/** Glob match for paths: '*' within a segment, '**' across; case-insensitive; trailing '/' ignored. */
export function pathMatches(pattern: string, path: string): boolean {
  if (pattern === '*' || pattern === '**') return true
  const norm = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p)
  return globToRegExp(norm(pattern), true).test(norm(path))
}

/** Glob match for text ('*' = any characters, case-insensitive). */
export function textMatches(pattern: string, text: string): boolean {
  return globToRegExp(pattern, false).test(text)
}

export function ruleMatches(m: RuleMatch, req: RequestFacts): boolean {
  if (m.method !== '*' && m.method !== req.method.toUpperCase()) return false
  if (!pathMatches(m.path, req.path)) return false
  if (m.filter !== undefined && (req.filter === undefined || !textMatches(m.filter, req.filter))) return false
  if (m.op) {
    if (req.method.toUpperCase() !== 'PATCH' || !req.ops) return false
    const want = m.op
    const hit = req.ops.some(
      (o) =>
        typeof o.op === 'string' &&
        o.op.toLowerCase() === want.name &&
        (want.path === undefined || (typeof o.path === 'string' && o.path.toLowerCase().startsWith(want.path.toLowerCase()))),
    )
    if (!hit) return false
  }
  return true
}

/** Whether matching needs the request body (PATCH op conditions, or a filter inside a POST /.search body). */
export function needsBody(rules: { match: RuleMatch }[], method: string, path: string): boolean {
  const up = method.toUpperCase()
  return rules.some(
    (r) =>
      (r.match.op && up === 'PATCH') ||
      (r.match.filter !== undefined && up === 'POST' && /\/\.search\/?$/i.test(path)),
  )
}
