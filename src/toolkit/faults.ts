/**
 * Fault rules (SCIMD_FAULTS): the rule language of rules.ts with a fault as the action.
 *
 *   action := kind { param }
 *   kind   := 429 | 500 | 502 | 503      a SCIM error body (429 always carries Retry-After, default 1 s)
 *           | hang                       never answer: the connection stays open until the client gives up
 *                                        (bounded server-side by HANG_CAP_MS, and released on shutdown)
 *           | drop                       close the connection without any response (the client sees a network error)
 *           | truncate                   the real response, headers intact, body cut in the middle of the JSON
 *           | badjson                    the real response with a body that is not JSON
 *   param  := p=<0..1>                   fire with this probability (SCIMD_SEED makes the draws repeatable)
 *           | every=<N>                  fire on every Nth request the rule sees (N ≥ 1)
 *           | retry-after=<seconds>      Retry-After of a 429 or 503
 *
 * With neither p nor every, a rule always fires. Rules are tried in order; the first that matches the request and
 * fires wins. Status faults, hang and drop happen before the handler (nothing is written); truncate and badjson mangle
 * the real response after the handler ran (the write happened — as when a proxy cuts a response).
 */
import { formatMatch, parseMatch, RuleSyntaxError, splitRules, type RuleMatch } from './rules'
import { SCIM_CONTENT_TYPE } from '../scim/constants'

export const FAULT_KINDS = ['429', '500', '502', '503', 'hang', 'drop', 'truncate', 'badjson'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]
export const STATUS_FAULTS: readonly FaultKind[] = ['429', '500', '502', '503']

/** Server-side bound of a hang: the connection is then dropped so nothing is held forever. */
export const HANG_CAP_MS = 10 * 60 * 1000

export interface FaultAction {
  kind: FaultKind
  p?: number
  every?: number
  retryAfter?: number
}

export interface FaultRule {
  match: RuleMatch
  fault: FaultAction
  source: string
}

export function parseFaultAction(action: string): FaultAction {
  const words = action.trim().split(/\s+/)
  const kind = words[0].toLowerCase() as FaultKind
  if (!FAULT_KINDS.includes(kind)) throw new Error(`unknown fault '${words[0]}' (429, 500, 502, 503, hang, drop, truncate or badjson)`)
  const out: FaultAction = { kind }
  for (const w of words.slice(1)) {
    const eq = w.indexOf('=')
    const key = (eq < 0 ? w : w.slice(0, eq)).toLowerCase()
    const value = eq < 0 ? '' : w.slice(eq + 1)
    if (key === 'p') {
      if (out.p !== undefined) throw new Error('p= given twice')
      if (!/^(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i.test(value)) throw new Error(`p must be a probability from 0 to 1, got '${value}'`)
      const p = Number(value)
      if (!(p > 0 && p <= 1)) throw new Error(`p must be more than 0 and at most 1, got '${value}'`)
      out.p = p
    } else if (key === 'every') {
      if (out.every !== undefined) throw new Error('every= given twice')
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1_000_000) throw new Error(`every must be a whole number from 1 to 1000000, got '${value}'`)
      out.every = Number(value)
    } else if (key === 'retry-after') {
      if (out.retryAfter !== undefined) throw new Error('retry-after= given twice')
      if (kind !== '429' && kind !== '503') throw new Error('retry-after only applies to 429 and 503')
      if (!/^\d+$/.test(value) || Number(value) > 86_400) throw new Error(`retry-after must be whole seconds from 0 to 86400, got '${value}'`)
      out.retryAfter = Number(value)
    } else throw new Error(`unknown fault parameter '${w}' (p=, every= or retry-after=)`)
  }
  if (out.p !== undefined && out.every !== undefined) throw new Error('give either p= or every=, not both')
  return out
}

export function formatFaultAction(a: FaultAction): string {
  let s: string = a.kind
  if (a.p !== undefined) s += ` p=${a.p}`
  if (a.every !== undefined) s += ` every=${a.every}`
  if (a.retryAfter !== undefined) s += ` retry-after=${a.retryAfter}`
  return s
}

export function parseFaultRule(rule: string, index?: number): FaultRule {
  try {
    const { match, action } = parseMatch(rule)
    return { match, fault: parseFaultAction(action), source: rule.trim() }
  } catch (e) {
    throw new RuleSyntaxError(rule.trim(), (e as Error).message, index)
  }
}

/** SCIMD_FAULTS → rules in order. Throws RuleSyntaxError quoting the bad rule. */
export function parseFaultRules(text: string): FaultRule[] {
  return splitRules(text).map((r, i) => parseFaultRule(r, i))
}

export function formatFaultRule(r: Pick<FaultRule, 'match' | 'fault'>): string {
  return `${formatMatch(r.match)}=${formatFaultAction(r.fault)}`
}

const STATUS_TEXT: Record<string, string> = {
  '429': 'Too many requests (injected by scimd: SCIMD_FAULTS)',
  '500': 'Internal server error (injected by scimd: SCIMD_FAULTS)',
  '502': 'Bad gateway (injected by scimd: SCIMD_FAULTS)',
  '503': 'Service unavailable (injected by scimd: SCIMD_FAULTS)',
}

/** The response of a status fault: a SCIM error body (RFC 7644 §3.12), Retry-After for 429 (default 1 s) and 503. */
export function statusFaultResponse(a: FaultAction): Response {
  const status = Number(a.kind)
  const headers: Record<string, string> = { 'content-type': SCIM_CONTENT_TYPE }
  const retryAfter = a.retryAfter ?? (a.kind === '429' ? 1 : undefined)
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  // no scimType: RFC 7644 Table 9 has none for these statuses ('tooMany' is a 400 about result size)
  const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail: STATUS_TEXT[a.kind] }
  return new Response(JSON.stringify(body), { status, headers })
}

/** A response whose body errors before the first byte: Bun resets the connection, a client sees a network error. */
export function dropResponse(): Response {
  return new Response(
    new ReadableStream({
      pull(c) {
        c.error(undefined)
      },
    }),
  )
}

/** The real body cut in the middle (at most half, at least one byte short): headers stay valid. */
export function truncateBody(text: string): string {
  if (text.length <= 1) return ''
  return text.slice(0, Math.max(1, Math.floor(text.length / 2)))
}

/** A body that is certainly not JSON, built from the real one. */
export function badJsonBody(text: string): string {
  return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],,${text.slice(1, 200)} <!-- scimd: badjson -->`
}
