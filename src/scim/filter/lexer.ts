/**
 * Hand-written scanner for SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
 *
 * - ATTRPATH: `[A-Za-z_$][A-Za-z0-9_$.-]*`, or, when the word begins with `urn:` (any case), everything up to
 *   whitespace, `[`, `]`, `(`, `)` or `"` (a URN contains ':' and '.' as in "2.0"). The parser validates the text
 *   with parseAttrPath.
 * - Keywords and operators are case-insensitive and reserved: eq ne co sw ew gt ge lt le pr and or not true false null.
 * - JSON strings (all JSON escapes; raw control characters rejected) and JSON numbers.
 * - `(` `)` `[` `]`, and `.` standing alone (after `]`, as in Entra's `emails[type eq "work"].value eq "x"`).
 * - Whitespace: space, tab, CR, LF.
 *
 * Offsets are 0-based UTF-16 indexes into the input; error messages report them 1-based as "position".
 */
import type { CompareOp, Literal } from './ast'
import { invalidFilter, type ScimError } from '../errors'

export type PunctKind = 'and' | 'or' | 'not' | 'lparen' | 'rparen' | 'lbracket' | 'rbracket' | 'dot' | 'eof'

interface TokenBase {
  /** source text of the token (empty for eof) */
  text: string
  /** 0-based offset of the first character */
  pos: number
  /** 0-based offset just past the last character */
  end: number
}

export type Token =
  | (TokenBase & { kind: 'attrPath' })
  | (TokenBase & { kind: 'op'; op: CompareOp | 'pr' })
  | (TokenBase & { kind: 'literal'; value: Literal })
  | (TokenBase & { kind: PunctKind })

export type TokenKind = Token['kind']

export interface TokenizeOptions {
  /** Error factory (default invalidFilter; PATCH paths use invalidPath). */
  error?: (detail: string) => ScimError
  /** Word used in messages ("filter", "path"). */
  noun?: string
}

const OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr'])

const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
const isDigit = (c: number) => c >= 0x30 && c <= 0x39
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
const isWordStart = (c: number) => isAlpha(c) || c === 0x5f /* _ */ || c === 0x24 /* $ */
const isWordChar = (c: number) =>
  isWordStart(c) || isDigit(c) || c === 0x2d /* - */ || c === 0x2e /* . */
/** Ends a URN-qualified path: whitespace [ ] ( ) " */
const endsUrn = (c: number) =>
  isWs(c) || c === 0x5b || c === 0x5d || c === 0x28 || c === 0x29 || c === 0x22
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)

/** Printable form of a character for messages. */
function showChar(s: string, i: number): string {
  const cp = s.codePointAt(i) ?? 0
  if (cp < 0x20 || cp === 0x7f) return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
  return `'${String.fromCodePoint(cp)}'`
}

export function tokenize(input: string, options: TokenizeOptions = {}): Token[] {
  const error = options.error ?? invalidFilter
  const noun = options.noun ?? 'filter'
  const tokens: Token[] = []
  const n = input.length
  let i = 0

  const fail = (at: number, msg: string): never => {
    throw error(`Invalid ${noun} at position ${at + 1}: ${msg}`)
  }

  while (i < n) {
    const c = input.charCodeAt(i)
    if (isWs(c)) {
      i++
      continue
    }
    const start = i
    switch (c) {
      case 0x28:
        tokens.push({ kind: 'lparen', text: '(', pos: start, end: ++i })
        continue
      case 0x29:
        tokens.push({ kind: 'rparen', text: ')', pos: start, end: ++i })
        continue
      case 0x5b:
        tokens.push({ kind: 'lbracket', text: '[', pos: start, end: ++i })
        continue
      case 0x5d:
        tokens.push({ kind: 'rbracket', text: ']', pos: start, end: ++i })
        continue
      case 0x2e:
        tokens.push({ kind: 'dot', text: '.', pos: start, end: ++i })
        continue
      case 0x22:
        i = scanString(input, start, tokens, fail)
        continue
    }
    if (isDigit(c) || (c === 0x2d && i + 1 < n && isDigit(input.charCodeAt(i + 1)))) {
      i = scanNumber(input, start, tokens, fail)
      continue
    }
    if (isWordStart(c)) {
      if (input.slice(i, i + 4).toLowerCase() === 'urn:') {
        while (i < n && !endsUrn(input.charCodeAt(i))) i++
      } else {
        while (i < n && isWordChar(input.charCodeAt(i))) i++
      }
      const text = input.slice(start, i)
      const lower = text.toLowerCase()
      if (OPS.has(lower)) tokens.push({ kind: 'op', op: lower as CompareOp | 'pr', text, pos: start, end: i })
      else if (lower === 'and' || lower === 'or' || lower === 'not')
        tokens.push({ kind: lower, text, pos: start, end: i })
      else if (lower === 'true' || lower === 'false')
        tokens.push({ kind: 'literal', value: lower === 'true', text, pos: start, end: i })
      else if (lower === 'null') tokens.push({ kind: 'literal', value: null, text, pos: start, end: i })
      else tokens.push({ kind: 'attrPath', text, pos: start, end: i })
      continue
    }
    fail(start, `unexpected character ${showChar(input, start)}`)
  }
  tokens.push({ kind: 'eof', text: '', pos: n, end: n })
  return tokens
}

type Fail = (at: number, msg: string) => never

/** Scans a JSON string starting at the opening quote; returns the index after the closing quote. */
function scanString(s: string, start: number, out: Token[], fail: Fail): number {
  const n = s.length
  let i = start + 1
  let value = ''
  let chunk = i
  while (true) {
    if (i >= n) fail(start, 'unterminated string (missing closing \'"\')')
    const c = s.charCodeAt(i)
    if (c === 0x22) break
    if (c < 0x20) fail(i, `control character ${showChar(s, i)} in string must be escaped`)
    if (c !== 0x5c) {
      i++
      continue
    }
    value += s.slice(chunk, i)
    if (i + 1 >= n) fail(start, 'unterminated string (missing closing \'"\')')
    const e = s.charCodeAt(i + 1)
    switch (e) {
      case 0x22: value += '"'; i += 2; break
      case 0x5c: value += '\\'; i += 2; break
      case 0x2f: value += '/'; i += 2; break
      case 0x62: value += '\b'; i += 2; break
      case 0x66: value += '\f'; i += 2; break
      case 0x6e: value += '\n'; i += 2; break
      case 0x72: value += '\r'; i += 2; break
      case 0x74: value += '\t'; i += 2; break
      case 0x75: {
        for (let k = 2; k < 6; k++) {
          if (i + k >= n || !isHex(s.charCodeAt(i + k))) fail(i, 'invalid \\u escape: expected 4 hex digits')
        }
        value += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16))
        i += 6
        break
      }
      default:
        fail(i, `invalid escape '\\${s[i + 1]}' in string`)
    }
    chunk = i
  }
  value += s.slice(chunk, i)
  i++ // closing quote
  out.push({ kind: 'literal', value, text: s.slice(start, i), pos: start, end: i })
  return i
}

/** Scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function scanNumber(s: string, start: number, out: Token[], fail: Fail): number {
  const n = s.length
  let i = start
  if (s.charCodeAt(i) === 0x2d) i++
  if (s.charCodeAt(i) === 0x30) {
    i++
  } else {
    while (i < n && isDigit(s.charCodeAt(i))) i++
  }
  if (i < n && s.charCodeAt(i) === 0x2e) {
    i++
    if (!(i < n && isDigit(s.charCodeAt(i)))) fail(i, 'expected a digit after the decimal point')
    while (i < n && isDigit(s.charCodeAt(i))) i++
  }
  if (i < n && (s.charCodeAt(i) === 0x65 || s.charCodeAt(i) === 0x45)) {
    i++
    if (i < n && (s.charCodeAt(i) === 0x2b || s.charCodeAt(i) === 0x2d)) i++
    if (!(i < n && isDigit(s.charCodeAt(i)))) fail(i, 'expected a digit in the exponent')
    while (i < n && isDigit(s.charCodeAt(i))) i++
  }
  // A number runs into a word or another number ("12abc", "01"): not a JSON number.
  if (i < n && (isWordChar(s.charCodeAt(i)) || isDigit(s.charCodeAt(i))))
    fail(start, `malformed number '${s.slice(start, Math.min(n, i + 1))}'`)
  const text = s.slice(start, i)
  const value = Number(text)
  if (!Number.isFinite(value)) fail(start, `number ${text} is out of range`)
  out.push({ kind: 'literal', value, text, pos: start, end: i })
  return i
}
