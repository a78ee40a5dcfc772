/**
 * The chaos state that changes at run time (PUT /admin/chaos): the default delay, the delay rules, the fault rules,
 * and a seeded PRNG (mulberry32) for ranges and probabilities. Same seed + same request sequence → same decisions.
 */
import { formatDelayRule, formatDuration, parseDelayRules, parseDuration, ruleMatches, RuleSyntaxError, type DelayRule, type Duration, type RequestFacts } from './rules'
import { formatFaultRule, parseFaultRules, type FaultAction, type FaultRule } from './faults'

/** mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]
}

export interface ChaosSettings {
  delay?: Duration
  delayRules: DelayRule[]
  faults: FaultRule[]
  seed?: number
}

export interface Decision {
  delayMs: number
  delayRule?: DelayRule
  /** true when the delay came from SCIMD_DELAY rather than a rule */
  defaultDelay?: boolean
  fault?: FaultAction
  faultRule?: FaultRule
}

/** What was injected, as sent in X-Scimd-Injected: `delay=1500ms; rule="GET /Users?filter=*=1.5s"`. */
export function describeDecision(d: Decision): string | undefined {
  const parts: string[] = []
  const q = (s: string) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
  if (d.delayMs > 0 || d.delayRule) {
    parts.push(`delay=${d.delayMs}ms`)
    parts.push(d.delayRule ? `rule=${q(d.delayRule.source)}` : 'rule="SCIMD_DELAY"')
  }
  if (d.fault) {
    parts.push(`fault=${d.fault.kind}`)
    if (d.faultRule) parts.push(`rule=${q(d.faultRule.source)}`)
  }
  return parts.length ? parts.join('; ') : undefined
}

export class Chaos {
  private s: ChaosSettings = { delayRules: [], faults: [] }
  private seed = 0
  private rand: () => number = Math.random
  private counters: number[] = []

  constructor(initial: Partial<ChaosSettings> = {}) {
    this.set(initial, true)
  }

  /** Replaces the given parts; resets the every-N counters; reseeds when a seed is given (or on first use). */
  set(next: Partial<ChaosSettings>, reseed = false) {
    if ('delay' in next) this.s.delay = next.delay
    if (next.delayRules) this.s.delayRules = [...next.delayRules]
    if (next.faults) this.s.faults = [...next.faults]
    if (next.seed !== undefined || reseed) {
      this.seed = next.seed ?? this.s.seed ?? randomSeed()
      this.s.seed = this.seed
      this.rand = mulberry32(this.seed)
    }
    this.counters = this.s.faults.map(() => 0)
  }

  get settings(): Readonly<ChaosSettings> & { seed: number } {
    return { ...this.s, seed: this.seed }
  }

  /** Whether any rule could need the request body to decide (PATCH op= conditions, filters in /.search bodies). */
  get rules(): { match: DelayRule['match'] }[] {
    return [...this.s.delayRules, ...this.s.faults]
  }

  get active(): boolean {
    return this.s.delay !== undefined || this.s.delayRules.length > 0 || this.s.faults.length > 0
  }

  private draw(d: Duration): number {
    return d.minMs === d.maxMs ? d.minMs : d.minMs + Math.floor(this.rand() * (d.maxMs - d.minMs + 1))
  }

  decide(req: RequestFacts): Decision {
    const out: Decision = { delayMs: 0 }
    const rule = this.s.delayRules.find((r) => ruleMatches(r.match, req))
    if (rule) {
      out.delayRule = rule
      out.delayMs = this.draw(rule.delay)
    } else if (this.s.delay) {
      out.defaultDelay = true
      out.delayMs = this.draw(this.s.delay)
    }
    for (let i = 0; i < this.s.faults.length; i++) {
      const f = this.s.faults[i]
      if (!ruleMatches(f.match, req)) continue
      const n = ++this.counters[i]
      const fires = f.fault.every !== undefined ? n % f.fault.every === 0 : f.fault.p !== undefined ? this.rand() < f.fault.p : true
      if (fires) {
        out.fault = f.fault
        out.faultRule = f
        break
      }
    }
    return out
  }

  /** The JSON of GET /admin/chaos. */
  toJSON() {
    return {
      delay: this.s.delay ? formatDuration(this.s.delay) : null,
      delayRules: this.s.delayRules.map((r) => r.source),
      faults: this.s.faults.map((r) => r.source),
      seed: this.seed,
      parsed: {
        delay: this.s.delay ?? null,
        delayRules: this.s.delayRules.map((r) => ({ rule: r.source, canonical: formatDelayRule(r), ...r.match, delay: r.delay })),
        faults: this.s.faults.map((r, i) => ({ rule: r.source, canonical: formatFaultRule(r), ...r.match, ...r.fault, seen: this.counters[i] })),
      },
    }
  }
}

export class ChaosInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
  }
}

/** Rules given as text ("a; b" or lines) or as an array of rule strings. */
function ruleText(field: string, v: unknown): string {
  if (v === null) return ''
  if (typeof v === 'string') return v
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    for (const x of v) if (/[;\n]/.test(x.replace(/"(?:[^"\\]|\\.)*"/g, ''))) throw new ChaosInputError(field, `one rule per array element: '${x}'`)
    return v.join('\n')
  }
  throw new ChaosInputError(field, 'expected rules as a string ("rule; rule") or an array of rule strings')
}

/** Validates the body of PUT /admin/chaos into a partial ChaosSettings. Throws ChaosInputError quoting the bad rule. */
export function parseChaosInput(body: unknown): Partial<ChaosSettings> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ChaosInputError('body', 'expected a JSON object with delay, delayRules, faults and/or seed')
  const b = body as Record<string, unknown>
  for (const k of Object.keys(b))
    if (!['delay', 'delayRules', 'faults', 'seed'].includes(k)) throw new ChaosInputError(k, 'unknown field (delay, delayRules, faults or seed)')
  const out: Partial<ChaosSettings> = {}
  const wrap = <T>(field: string, f: () => T): T => {
    try {
      return f()
    } catch (e) {
      if (e instanceof ChaosInputError) throw e
      throw new ChaosInputError(field, e instanceof RuleSyntaxError ? e.message : (e as Error).message)
    }
  }
  if ('delay' in b) {
    const d = b.delay
    if (d === null || d === '' || d === 0) out.delay = undefined
    else if (typeof d === 'string' || typeof d === 'number') out.delay = wrap('delay', () => parseDuration(String(d)))
    else throw new ChaosInputError('delay', 'expected a duration such as "2s" or "500ms-3s", or null')
  }
  if ('delayRules' in b) out.delayRules = wrap('delayRules', () => parseDelayRules(ruleText('delayRules', b.delayRules)))
  if ('faults' in b) out.faults = wrap('faults', () => parseFaultRules(ruleText('faults', b.faults)))
  if ('seed' in b) {
    const s = b.seed
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 0xffffffff) throw new ChaosInputError('seed', 'expected a whole number from 0 to 4294967295')
    out.seed = s
  }
  return out
}
