/**
 * In-memory filter semantics (RFC 7644 §3.4.2.2): the reference the SQL back end (to-sql.ts) is tested against.
 *
 * The filter is compiled against the schema first (compileFilter), so every attribute is resolved and every
 * operator/type combination checked before any resource is looked at: an invalid filter fails the same way
 * whatever the data (no short-circuit hiding an unknown attribute).
 *
 * Decisions (the SQL back end must mirror them):
 * - Values of an attribute path: the non-null values reached by walking the canonical path; arrays (multi-valued
 *   attributes, at either level) are flattened. Keys are looked up exactly first, then case-insensitively.
 *   Extension attributes (canonical.uri set) live under resource[uri].
 * - Multi-valued: a comparison matches when ANY value matches. A multi-valued complex attribute compared without a
 *   sub-attribute (`emails co "x"`) compares its `value` sub-attribute. A single-valued complex attribute compared
 *   without a sub-attribute (`name eq "x"`) → invalidFilter.
 * - `pr`: some value is present, where present = not null/undefined, not "", not [] (an array is present when an
 *   element is), and a complex value is present when one of its sub-values is present (RFC: "a non-empty value, or
 *   … a non-empty node for complex attributes"). Numbers and booleans (false, 0 included) are present.
 * - `eq null` ≡ `not (attr pr)`, `ne null` ≡ `attr pr` (RFC 7643 §2.5: null and unassigned are the same state).
 *   Other operators with null are rejected by the parser.
 * - `ne` on an absent attribute is TRUE: the attribute has no value identical to the literal. Precisely, with V the
 *   values of the path that have the attribute's type: `ne x` ≡ V is empty OR some v in V differs from x. For a
 *   single-valued attribute that is `not (eq x)`; for a multi-valued one it follows the RFC's "any value" rule
 *   (`emails.type ne "work"` is true for a user with a home and a work email). Use `not (… eq …)` for "none".
 * - Strings (string, reference, binary): when !caseExact both sides go through `fold` (default asciiFold, ASCII
 *   A–Z only, like SQLite's lower()). eq/co/sw/ew on the folded strings; gt/ge/lt/le by Unicode code point
 *   (compareCodePoints), which is how SQLite orders TEXT (memcmp over UTF-8) — plain JS `<` orders by UTF-16 code
 *   unit and disagrees for characters above U+FFFF vs U+E000–U+FFFF. gt/ge/lt/le on binary → invalidFilter.
 *   A non-string literal against a string attribute → invalidFilter.
 * - integer/decimal: numeric comparison; the literal must be a number; co/sw/ew → invalidFilter.
 * - boolean: eq/ne only; literal true/false (the strings "true"/"false", any case, are accepted too — IdPs send
 *   "True"); anything else → invalidFilter.
 * - dateTime: both sides parsed to epoch ms with parseDateTime (xsd:dateTime / RFC 3339; no offset = UTC); an
 *   unparsable literal → invalidFilter; co/sw/ew → invalidFilter.
 * - Stored values of the wrong type (e.g. a number in a string attribute, an unparsable stored dateTime) count as
 *   absent for comparisons; `pr` and `eq null` only look at presence.
 * - Value filters `attr[f]`: attr must be multi-valued or complex (else invalidFilter); matches when some element
 *   satisfies f. Names inside f are resolved with resolve(name, parentCanonical) and read from the element under
 *   canonical.sub ?? canonical.attr. An element that is not an object (multi-valued simple attribute) is seen as
 *   { value: element }.
 */
import type { AttrPath, CompareOp, Filter, Literal } from './ast'
import { formatAttrPath } from '../attr-path'
import { invalidFilter } from '../errors'

export interface AttrInfo {
  type: 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary'
  multiValued: boolean
  caseExact: boolean
  /** names as stored: uri set for extension attributes, which live under resource[uri] */
  canonical: AttrPath
  /** case-folding to use when !caseExact; default: asciiFold (A-Z → a-z), matching SQLite's lower() */
  fold?: (s: string) => string
  /**
   * An attribute of an undeclared extension, kept as sent: its type is not known, so a comparison takes the
   * literal's type (a number compares as decimal, true/false as boolean, a string as string).
   */
  untyped?: boolean
}

/** The type a comparison uses: the declared one, or (untyped attributes) the literal's. */
export function comparisonInfo(info: AttrInfo, lit: Literal): AttrInfo {
  if (!info.untyped || lit === null) return info
  const type = typeof lit === 'number' ? 'decimal' : typeof lit === 'boolean' ? 'boolean' : 'string'
  return type === info.type ? info : { ...info, type }
}

/** `parent` is set (to the parent's canonical path) when resolving a sub-attribute name inside a value filter. */
export type AttrResolver = (path: AttrPath, parent?: AttrPath) => AttrInfo | undefined

/** ASCII-only lowercase (A–Z → a–z), exactly what SQLite's lower() does without ICU. */
export function asciiFold(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}

/**
 * Compares two strings by Unicode code point (the order of their UTF-8 bytes, i.e. SQLite's memcmp order for TEXT).
 * Returns <0, 0 or >0.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      // At the first differing unit, the code points starting there decide (a surrogate pair outranks any BMP unit).
      const cx = a.codePointAt(i) ?? x
      const cy = b.codePointAt(i) ?? y
      return cx < cy ? -1 : 1
    }
  }
  return a.length - b.length
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?([Zz]|[+-]\d{2}:?\d{2})?$/

/**
 * Parses an xsd:dateTime / RFC 3339 timestamp (`2011-05-13T04:42:34Z`, fractions, `+02:00` offsets; a date alone
 * or a missing offset is taken as UTC) to epoch milliseconds (fractions beyond ms truncated). undefined if invalid.
 */
export function parseDateTime(s: string): number | undefined {
  const m = DATE_TIME.exec(s)
  if (!m) return undefined
  const y = +m[1], mo = +m[2], d = +m[3]
  const h = m[4] ? +m[4] : 0, mi = m[5] ? +m[5] : 0, sec = m[6] ? +m[6] : 0
  const ms = m[7] ? +(m[7] + '00').slice(0, 3) : 0
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 60) return undefined
  let offset = 0
  const z = m[8]
  if (z && z !== 'Z' && z !== 'z') {
    const digits = z.slice(1).replace(':', '')
    const oh = +digits.slice(0, 2), om = +digits.slice(2)
    if (oh > 23 || om > 59) return undefined
    offset = (z[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000
  }
  const t = new Date(Date.UTC(2000, mo - 1, d, h, mi, sec, ms))
  t.setUTCFullYear(y) // Date.UTC maps years 0–99 to 1900–1999
  return t.getTime() - offset
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
}

// ---------------------------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>
type Matcher = (scope: Obj) => boolean

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Own property `key`, exact first, then case-insensitively. */
function getKey(o: unknown, key: string): unknown {
  if (!isObj(o)) return undefined
  if (Object.hasOwn(o, key)) return o[key]
  const lower = key.toLowerCase()
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k]
  return undefined
}

function flatten(v: unknown, out: unknown[] = []): unknown[] {
  if (v === null || v === undefined) return out
  if (Array.isArray(v)) {
    for (const x of v) if (x !== null && x !== undefined) out.push(x)
  } else out.push(v)
  return out
}

/** Values of a canonical top-level path in a resource. */
function readTop(resource: Obj, c: AttrPath): unknown[] {
  const base = c.uri !== undefined ? getKey(resource, c.uri) : resource
  const parents = flatten(getKey(base, c.attr))
  if (c.sub === undefined) return parents
  const out: unknown[] = []
  for (const p of parents) flatten(getKey(p, c.sub), out)
  return out
}

/** RFC 7644 `pr` on one value. */
export function isPresent(v: unknown): boolean {
  if (v === null || v === undefined) return false
  if (typeof v === 'string') return v.length > 0
  if (Array.isArray(v)) return v.some(isPresent)
  if (isObj(v)) return Object.values(v).some(isPresent)
  return true
}

interface Ctx {
  resolve: AttrResolver
  /** canonical path of the multi-valued/complex attribute whose value filter we are in */
  parent?: AttrPath
}

interface Resolved {
  info: AttrInfo
  name: string
  read: (scope: Obj) => unknown[]
}

function resolvePath(path: AttrPath, ctx: Ctx, forCompare: boolean): Resolved {
  if (ctx.parent) {
    const name = formatAttrPath(ctx.parent) + '.' + path.attr
    if (path.uri !== undefined || path.sub !== undefined)
      throw invalidFilter(`Inside a value filter, '${formatAttrPath(path)}' must be a bare sub-attribute name`)
    const info = ctx.resolve(path, ctx.parent)
    if (!info) throw invalidFilter(`Unknown attribute '${name}' in filter`)
    if (forCompare && info.type === 'complex') throw invalidFilter(`Cannot compare the complex attribute '${name}'`)
    const key = info.canonical.sub ?? info.canonical.attr
    return { info, name, read: (el) => flatten(getKey(el, key)) }
  }
  const name = formatAttrPath(path)
  let info = ctx.resolve(path)
  if (!info) throw invalidFilter(`Unknown attribute '${name}' in filter`)
  if (forCompare && info.type === 'complex') {
    if (!info.multiValued || path.sub !== undefined)
      throw invalidFilter(
        `Cannot compare the complex attribute '${name}' with a value: name a sub-attribute (e.g. '${name}.value')`,
      )
    const valuePath: AttrPath = { ...path, sub: 'value' }
    const v = ctx.resolve(valuePath)
    if (!v) throw invalidFilter(`Cannot compare '${name}': it has no 'value' sub-attribute`)
    info = v
  }
  const c = info.canonical
  return { info, name, read: (r) => readTop(r, c) }
}

const ORDERING: ReadonlySet<CompareOp> = new Set(['gt', 'ge', 'lt', 'le'])
const SUBSTRING: ReadonlySet<CompareOp> = new Set(['co', 'sw', 'ew'])

function fromOrder(op: CompareOp, c: number): boolean {
  switch (op) {
    case 'eq': return c === 0
    case 'ne': return c !== 0
    case 'gt': return c > 0
    case 'ge': return c >= 0
    case 'lt': return c < 0
    case 'le': return c <= 0
    default: return false
  }
}

/** A boolean literal or value: true/false, or the strings "true"/"false" in any case (IdPs send "True"). */
export function booleanValue(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v
  if (typeof v === 'string') {
    const l = v.toLowerCase()
    if (l === 'true') return true
    if (l === 'false') return false
  }
  return undefined
}

/** Builds the test for the values of one attribute: (values) => boolean. */
function valueTest(r: Resolved, op: CompareOp, lit: Literal): (values: unknown[]) => boolean {
  const { name } = r
  const info = comparisonInfo(r.info, lit)
  if (lit === null) {
    if (op === 'eq') return (vs) => !vs.some(isPresent)
    if (op === 'ne') return (vs) => vs.some(isPresent)
    throw invalidFilter(`'${op}' cannot compare '${name}' with null`)
  }
  let norm: (v: unknown) => unknown
  let cmp: (a: never, b: never) => number
  let L: unknown
  switch (info.type) {
    case 'string':
    case 'reference':
    case 'binary': {
      if (typeof lit !== 'string') throw invalidFilter(`'${name}' is a ${info.type} attribute: compare it with a string, not ${JSON.stringify(lit)}`)
      if (info.type === 'binary' && ORDERING.has(op)) throw invalidFilter(`'${op}' is not supported on the binary attribute '${name}'`)
      const fold = info.caseExact ? (s: string) => s : (info.fold ?? asciiFold)
      L = fold(lit)
      norm = (v) => (typeof v === 'string' ? fold(v) : undefined)
      cmp = compareCodePoints as (a: never, b: never) => number
      if (SUBSTRING.has(op)) {
        const l = L as string
        const t = op === 'co' ? (s: string) => s.includes(l) : op === 'sw' ? (s: string) => s.startsWith(l) : (s: string) => s.endsWith(l)
        return (vs) => vs.some((v) => typeof v === 'string' && t(fold(v)))
      }
      break
    }
    case 'boolean': {
      if (op !== 'eq' && op !== 'ne') throw invalidFilter(`'${op}' is not supported on the boolean attribute '${name}' (only eq and ne)`)
      const b = booleanValue(lit)
      if (b === undefined) throw invalidFilter(`'${name}' is a boolean attribute: compare it with true or false, not ${JSON.stringify(lit)}`)
      L = b
      norm = booleanValue
      cmp = ((a: boolean, b2: boolean) => (a === b2 ? 0 : 1)) as (a: never, b: never) => number
      break
    }
    case 'integer':
    case 'decimal': {
      if (SUBSTRING.has(op)) throw invalidFilter(`'${op}' is not supported on the ${info.type} attribute '${name}'`)
      if (typeof lit !== 'number' || !Number.isFinite(lit)) throw invalidFilter(`'${name}' is a number attribute: compare it with a number, not ${JSON.stringify(lit)}`)
      L = lit
      norm = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
      cmp = ((a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0)) as (a: never, b: never) => number
      break
    }
    case 'dateTime': {
      if (SUBSTRING.has(op)) throw invalidFilter(`'${op}' is not supported on the dateTime attribute '${name}'`)
      const t = typeof lit === 'string' ? parseDateTime(lit) : undefined
      if (t === undefined) throw invalidFilter(`'${name}' is a dateTime attribute: ${JSON.stringify(lit)} is not a valid dateTime (e.g. "2011-05-13T04:42:34Z")`)
      L = t
      norm = (v) => (typeof v === 'string' ? parseDateTime(v) : v instanceof Date ? v.getTime() : undefined)
      cmp = ((a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0)) as (a: never, b: never) => number
      break
    }
    case 'complex':
      throw invalidFilter(`Cannot compare the complex attribute '${name}' with a value`)
  }
  const c = cmp as (a: unknown, b: unknown) => number
  if (op === 'ne') {
    return (vs) => {
      let any = false
      for (const v of vs) {
        const x = norm(v)
        if (x === undefined) continue
        any = true
        if (c(x, L) !== 0) return true
      }
      return !any
    }
  }
  return (vs) =>
    vs.some((v) => {
      const x = norm(v)
      return x !== undefined && fromOrder(op, c(x, L))
    })
}

function compile(f: Filter, ctx: Ctx): Matcher {
  switch (f.kind) {
    case 'and': {
      const l = compile(f.left, ctx), r = compile(f.right, ctx)
      return (s) => l(s) && r(s)
    }
    case 'or': {
      const l = compile(f.left, ctx), r = compile(f.right, ctx)
      return (s) => l(s) || r(s)
    }
    case 'not': {
      const m = compile(f.filter, ctx)
      return (s) => !m(s)
    }
    case 'present': {
      const r = resolvePath(f.path, ctx, false)
      return (s) => r.read(s).some(isPresent)
    }
    case 'compare': {
      const r = resolvePath(f.path, ctx, true)
      const test = valueTest(r, f.op, f.value)
      return (s) => test(r.read(s))
    }
    case 'valuePath': {
      const name = formatAttrPath(f.path)
      if (ctx.parent) throw invalidFilter(`Value filters cannot be nested ('${name}[…]' inside '${formatAttrPath(ctx.parent)}[…]')`)
      if (f.path.sub !== undefined) throw invalidFilter(`A value filter applies to an attribute, not to the sub-attribute '${name}'`)
      const info = ctx.resolve(f.path)
      if (!info) throw invalidFilter(`Unknown attribute '${name}' in filter`)
      if (!info.multiValued && info.type !== 'complex')
        throw invalidFilter(`'${name}' is neither multi-valued nor complex: it cannot take a value filter '[…]'`)
      const c = info.canonical
      const inner = compile(f.filter, { resolve: ctx.resolve, parent: c })
      return (s) => readTop(s, c).some((el) => inner(isObj(el) ? el : { value: el }))
    }
  }
}

/** Resolves and type-checks `filter` once (throws invalidFilter), returning a matcher for resources. */
export function compileFilter(filter: Filter, resolve: AttrResolver): (resource: Record<string, unknown>) => boolean {
  return compile(filter, { resolve })
}

export function evaluateFilter(filter: Filter, resource: Record<string, unknown>, resolve: AttrResolver): boolean {
  return compileFilter(filter, resolve)(resource)
}
