import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { ConfigError, parseConfig } from '../../src/config'
import {
  formatDelayRule,
  parseDelayRule,
  parseDelayRules,
  parseDuration,
  pathMatches,
  ruleMatches,
  RuleSyntaxError,
  splitRules,
  type RuleMatch,
} from '../../src/toolkit/rules'
import { formatFaultRule, parseFaultRule, parseFaultRules, FAULT_KINDS } from '../../src/toolkit/faults'
import { Chaos, describeDecision, mulberry32, parseChaosInput, ChaosInputError } from '../../src/toolkit/chaos'

describe('durations', () => {
  test.each([
    ['2000', 2000, 2000],
    ['2s', 2000, 2000],
    ['1.5s', 1500, 1500],
    ['500ms', 500, 500],
    ['2m', 120000, 120000],
    ['500ms-3s', 500, 3000],
    [' 0 ', 0, 0],
  ])('%p', (raw, min, max) => expect(parseDuration(raw)).toEqual({ minMs: min, maxMs: max }))

  test.each(['', 'fast', '2h', '-1s', '3s-1s', '1s-', '11m', '2 s x'])('rejects %p', (raw) => {
    expect(() => parseDuration(raw)).toThrow()
  })
})

describe('rule syntax', () => {
  test('the examples of the issue', () => {
    const rules = parseDelayRules('PATCH /Groups/*=65s; GET /Users?filter=*=1.5s; * /Users/*=200ms-800ms')
    expect(rules.map((r) => [r.match, r.delay])).toEqual([
      [{ method: 'PATCH', path: '/Groups/*' }, { minMs: 65000, maxMs: 65000 }],
      [{ method: 'GET', path: '/Users', filter: '*' }, { minMs: 1500, maxMs: 1500 }],
      [{ method: '*', path: '/Users/*' }, { minMs: 200, maxMs: 800 }],
    ])
    expect(rules[1].source).toBe('GET /Users?filter=*=1.5s')
    const faults = parseFaultRules('POST /Users=429 p=0.3 retry-after=5; GET /Users/*=500 every=3; PATCH /Groups/*=hang; * /Groups=drop; GET /Users=truncate; GET /Groups=badjson')
    expect(faults.map((f) => f.fault)).toEqual([
      { kind: '429', p: 0.3, retryAfter: 5 },
      { kind: '500', every: 3 },
      { kind: 'hang' },
      { kind: 'drop' },
      { kind: 'truncate' },
      { kind: 'badjson' },
    ])
  })

  test('PATCH op conditions, quoted filters, omitted method, newlines', () => {
    expect(parseDelayRule('PATCH /Groups/* op=remove=2s').match).toEqual({ method: 'PATCH', path: '/Groups/*', op: { name: 'remove' } })
    expect(parseDelayRule('patch /Groups/* op=Remove:members=2s').match.op).toEqual({ name: 'remove', path: 'members' })
    expect(parseDelayRule('GET /Users?filter="userName eq *"=1s').match.filter).toBe('userName eq *')
    expect(parseDelayRule('/Users=1s').match.method).toBe('*')
    expect(parseDelayRule('*=1s').match).toEqual({ method: '*', path: '*' })
    expect(splitRules('a=1s\n b=2s ;; "x;y"=3s\r\n')).toEqual(['a=1s', 'b=2s', '"x;y"=3s'])
  })

  test.each([
    ['GIT /Users=1s', 'unknown method'],
    ['GET Users=1s', "must start with '/'"],
    ['GET /Users', "missing '='"],
    ['GET /Users=', 'nothing after'],
    ['GET /Users=soon', 'not a duration'],
    ['GET /Users?sort=x=1s', "only '?filter="],
    ['GET /Users op=remove=1s', 'only applies to PATCH'],
    ['PATCH /Users op=delete=1s', 'unknown PATCH op'],
    ['PATCH /Users foo=1=1s', 'unknown condition'],
    ['GET /Users?filter="abc=1s', 'unterminated'],
    ['GET /Users?filter=userName eq *=1s', 'quote a filter pattern'],
  ])('delay rule %p is refused: %p', (rule, why) => {
    let err: unknown
    try {
      parseDelayRule(rule)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(RuleSyntaxError)
    expect((err as Error).message).toContain(`'${rule}'`)
    expect((err as Error).message).toContain(why)
  })

  test.each([
    ['GET /Users=418', 'unknown fault'],
    ['GET /Users=500 p=1.5', 'at most 1'],
    ['GET /Users=500 p=0', 'more than 0'],
    ['GET /Users=500 every=0', 'every must'],
    ['GET /Users=500 p=0.5 every=2', 'either p= or every='],
    ['GET /Users=500 retry-after=5', 'only applies to 429 and 503'],
    ['GET /Users=429 retry-after=soon', 'retry-after must'],
    ['GET /Users=hang now', 'unknown fault parameter'],
  ])('fault rule %p is refused: %p', (rule, why) => {
    expect(() => parseFaultRule(rule)).toThrow(why)
  })

  test('a bad rule stops start-up: ConfigError names the variable and quotes the rule', () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig(env)
        return []
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        return (e as ConfigError).problems
      }
    }
    expect(problems({ SCIMD_DELAY_RULES: 'PATCH /Groups/*=65s; GET /Users=6x' })).toEqual([
      "SCIMD_DELAY_RULES: rule 2 'GET /Users=6x': '6x' is not a duration (2000, 500ms, 1.5s or 2m)",
    ])
    expect(problems({ SCIMD_FAULTS: 'POST /Users=429 p=3' })[0]).toStartWith("SCIMD_FAULTS: rule 1 'POST /Users=429 p=3':")
    expect(problems({ SCIMD_DELAY: 'slow' })[0]).toStartWith('SCIMD_DELAY:')
    expect(problems({ SCIMD_SEED: '-4' })[0]).toStartWith('SCIMD_SEED:')
    expect(problems({ SCIMD_ADMIN_TOKEN: 'short-secret' })).toEqual([expect.stringMatching(/^SCIMD_ADMIN_TOKEN: must be at least 16/)])
    expect(problems({ SCIMD_ADMIN_TOKEN: 'short-secret' })[0]).not.toContain('short-secret')
    const { config } = parseConfig({ SCIMD_DELAY: '500ms-3s', SCIMD_SEED: '42', SCIMD_INSPECT_SIZE: '10', SCIMD_ADMIN_TOKEN: 'a-long-enough-admin-token' })
    expect(config).toMatchObject({ delay: { minMs: 500, maxMs: 3000 }, seed: 42, inspectSize: 10, adminToken: 'a-long-enough-admin-token' })
  })
})

describe('matching', () => {
  test('paths: * within a segment, ** across, case-insensitive, trailing slash ignored', () => {
    expect(pathMatches('/Users/*', '/Users/abc')).toBe(true)
    expect(pathMatches('/Users/*', '/users/abc/')).toBe(true)
    expect(pathMatches('/Users/*', '/Users')).toBe(false)
    expect(pathMatches('/Users/*', '/Users/a/b')).toBe(false)
    expect(pathMatches('/Users/**', '/Users/a/b')).toBe(true)
    expect(pathMatches('*', '/Groups/x')).toBe(true)
    expect(pathMatches('/Users', '/Users/')).toBe(true)
    expect(pathMatches('/Us.rs', '/Users')).toBe(false)
  })

  test('filters and PATCH ops', () => {
    const [byFilter, byOp] = parseDelayRules('GET /Users?filter="userName eq*"=1s; PATCH /Groups/* op=remove:members=2s')
    expect(ruleMatches(byFilter.match, { method: 'GET', path: '/Users', filter: 'userName eq "bob"' })).toBe(true)
    expect(ruleMatches(byFilter.match, { method: 'GET', path: '/Users' })).toBe(false)
    expect(ruleMatches(byFilter.match, { method: 'GET', path: '/Users', filter: 'externalId eq "1"' })).toBe(false)
    const patch = (ops: { op: string; path?: string }[]) => ruleMatches(byOp.match, { method: 'PATCH', path: '/Groups/g1', ops })
    expect(patch([{ op: 'Remove', path: 'members[value eq "u1"]' }])).toBe(true)
    expect(patch([{ op: 'add', path: 'members' }])).toBe(false)
    expect(patch([{ op: 'remove', path: 'displayName' }])).toBe(false)
    expect(ruleMatches(byOp.match, { method: 'PATCH', path: '/Groups/g1' })).toBe(false)
  })

  test('first matching delay rule wins; SCIMD_DELAY applies when none matches', () => {
    const chaos = new Chaos({ delay: parseDuration('100ms'), delayRules: parseDelayRules('GET /Users/*=1s; GET /Users/**=2s'), seed: 1 })
    expect(chaos.decide({ method: 'GET', path: '/Users/1' })).toMatchObject({ delayMs: 1000 })
    expect(chaos.decide({ method: 'GET', path: '/Users/1/x' })).toMatchObject({ delayMs: 2000 })
    const d = chaos.decide({ method: 'POST', path: '/Users' })
    expect(d).toMatchObject({ delayMs: 100, defaultDelay: true })
    expect(describeDecision(d)).toBe('delay=100ms; rule="SCIMD_DELAY"')
    expect(describeDecision(chaos.decide({ method: 'GET', path: '/Users/1' }))).toBe('delay=1000ms; rule="GET /Users/*=1s"')
  })
})

describe('randomness', () => {
  test('mulberry32 is repeatable and spreads', () => {
    const a = mulberry32(7)
    const b = mulberry32(7)
    const xs = Array.from({ length: 1000 }, () => a())
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()))
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(mean).toBeGreaterThan(0.45)
    expect(mean).toBeLessThan(0.55)
  })

  test('p and every decisions; the same seed gives the same sequence', () => {
    const run = (seed: number) => {
      const chaos = new Chaos({ faults: parseFaultRules('POST /Users=429 p=0.3; GET /Users/*=500 every=3'), seed })
      return Array.from({ length: 300 }, () => chaos.decide({ method: 'POST', path: '/Users' }).fault?.kind ?? '-').join('')
    }
    const s = run(42)
    expect(run(42)).toBe(s)
    expect(run(43)).not.toBe(s)
    const hits = [...s].filter((c) => c === '4').length
    expect(hits).toBeGreaterThan(60)
    expect(hits).toBeLessThan(120)
    const chaos = new Chaos({ faults: parseFaultRules('GET /Users/*=500 every=3') })
    expect(Array.from({ length: 6 }, () => chaos.decide({ method: 'GET', path: '/Users/1' }).fault?.kind ?? '-')).toEqual(['-', '-', '500', '-', '-', '500'])
  })

  test('delay ranges stay in range', () => {
    const chaos = new Chaos({ delayRules: parseDelayRules('*=200ms-800ms'), seed: 9 })
    const ds = Array.from({ length: 500 }, () => chaos.decide({ method: 'GET', path: '/x' }).delayMs)
    expect(Math.min(...ds)).toBeGreaterThanOrEqual(200)
    expect(Math.max(...ds)).toBeLessThanOrEqual(800)
    expect(new Set(ds).size).toBeGreaterThan(100)
  })
})

describe('PUT /admin/chaos input', () => {
  test('text or arrays; null clears; bad rules are quoted', () => {
    expect(parseChaosInput({ delay: '2s', delayRules: ['GET /Users=1s', 'PATCH /Groups/*=65s'], faults: 'POST /Users=429 p=0.3', seed: 5 })).toMatchObject({
      delay: { minMs: 2000, maxMs: 2000 },
      seed: 5,
    })
    expect(parseChaosInput({ delay: null }).delay).toBeUndefined()
    expect(() => parseChaosInput({ faults: ['GET /Users=500', 'GET /Groups=404'] })).toThrow("faults: rule 2 'GET /Groups=404': unknown fault")
    expect(() => parseChaosInput({ delayRules: ['a=1s; b=2s'] })).toThrow(ChaosInputError)
    expect(() => parseChaosInput({ nope: 1 })).toThrow('unknown field')
    expect(() => parseChaosInput([])).toThrow(ChaosInputError)
    expect(() => parseChaosInput({ seed: -1 })).toThrow('seed')
  })
})

describe('properties', () => {
  const bare = fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/)
  const segment = fc.oneof(bare, fc.constant('*'), fc.constant('**'))
  const path = fc.oneof(fc.constant('*'), fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => '/' + s.join('/')))
  const anyText = fc.string({ minLength: 1, maxLength: 12, unit: 'binary' })
  const match: fc.Arbitrary<RuleMatch> = fc
    .record({
      method: fc.constantFrom('*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
      path,
      filter: fc.option(anyText, { nil: undefined }),
      op: fc.option(fc.record({ name: fc.constantFrom('add', 'remove', 'replace'), path: fc.option(anyText, { nil: undefined }) }), { nil: undefined }),
    })
    .map((m) => {
      const out: RuleMatch = { method: m.method as RuleMatch['method'], path: m.path }
      if (m.filter !== undefined) out.filter = m.filter
      if (m.op && (m.method === 'PATCH' || m.method === '*')) out.op = m.op.path === undefined ? { name: m.op.name } : { name: m.op.name, path: m.op.path }
      return out
    })
  const ms = fc.integer({ min: 0, max: 600_000 })
  const duration = fc.tuple(ms, ms).map(([a, b]) => ({ minMs: Math.min(a, b), maxMs: Math.max(a, b) }))
  const fault = fc
    .record({
      kind: fc.constantFrom(...FAULT_KINDS),
      chance: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 1000 }).map((n) => ({ p: n / 1000 })), fc.integer({ min: 1, max: 50 }).map((n) => ({ every: n }))),
      retryAfter: fc.option(fc.integer({ min: 0, max: 86400 }), { nil: undefined }),
    })
    .map((f) => ({ kind: f.kind, ...(f.chance ?? {}), ...(f.retryAfter !== undefined && (f.kind === '429' || f.kind === '503') ? { retryAfter: f.retryAfter } : {}) }))

  test('parse(format(delay rule)) round-trips', () => {
    fc.assert(
      fc.property(match, duration, (m, d) => {
        const text = formatDelayRule({ match: m, delay: d })
        const back = parseDelayRule(text)
        expect(back.match).toEqual(m)
        expect(back.delay).toEqual(d)
        expect(parseDelayRules(`${text}; ${text}`)).toHaveLength(2)
      }),
      { numRuns: 500 },
    )
  })

  test('parse(format(fault rule)) round-trips', () => {
    fc.assert(
      fc.property(match, fault, (m, f) => {
        const back = parseFaultRule(formatFaultRule({ match: m, fault: f as any }))
        expect(back.match).toEqual(m)
        expect(back.fault).toEqual(f as any)
      }),
      { numRuns: 500 },
    )
  })

  test('junk never throws anything but RuleSyntaxError', () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 40, unit: 'binary' }),
      fc.array(fc.constantFrom('GET', ' ', '/Users', '*', '=', '?filter=', '"', '\\', ';', 'op=', 'remove', 'p=', '0.5', 'ms', '2s', '-', '429', 'hang', 'every=', '\n'), { maxLength: 12 }).map((a) => a.join('')),
    )
    fc.assert(
      fc.property(junk, (text) => {
        for (const parse of [parseDelayRules, parseFaultRules]) {
          try {
            parse(text)
          } catch (e) {
            expect(e).toBeInstanceOf(RuleSyntaxError)
          }
        }
      }),
      { numRuns: 2000 },
    )
  })
})
