/**
 * SCIM filter parser (RFC 7644 §3.4.2.2): recursive descent with one function per precedence level,
 * or < and < not < atom. `and`/`or` chains are parsed with loops (left-associative: `a and b and c` is
 * and(and(a, b), c)), so only grouping — `(`, `not`, `[` — recurses, and that is capped at LIMITS.maxFilterDepth
 * before any stack could overflow.
 *
 * Grammar accepted (tolerances beyond the RFC ABNF are marked *):
 *   filter   = or
 *   or       = and *("or" and)
 *   and      = not *("and" not)
 *   not      = "not" not | atom                         * `not` directly before an atom (RFC: only `not (…)`)
 *   atom     = "(" or ")" | attrExp | valuePath ["." subAttr (compOp value | "pr")]
 *   valuePath= attrPath "[" valFilter "]"               valFilter: same grammar, no nested valuePath,
 *                                                       paths are bare sub-attribute names
 *   attrExp  = attrPath "pr" | attrPath compOp value
 * `attr[f].sub op v` (Entra) is normalised to valuePath(attr, and(f, sub op v)).
 *
 * Literal/operator combinations rejected here (invalidFilter), whatever the attribute's type:
 *   - gt/ge/lt/le with true/false/null: RFC 7644 says ordering on booleans fails with invalidFilter; ordering
 *     against null has no meaning.
 *   - co/sw/ew with anything but a string (null, booleans, numbers): substring matching is defined on strings only.
 *   Type checks that need the schema (e.g. `active eq "x"`) happen in the back ends (evaluate.ts / to-sql.ts).
 */
import type { AttrPath, CompareOp, Filter, Literal } from './ast'
import { tokenize, type Token } from './lexer'
import { parseAttrPath } from '../attr-path'
import { invalidFilter, type ScimError } from '../errors'
import { LIMITS } from '../constants'

export interface ParserOptions {
  error: (detail: string) => ScimError
  noun: string
}

/** Shared by parseFilter and parsePatchPath (filter/path.ts). Not part of the public API. */
export class FilterParser {
  private i = 0
  private depth = 0

  constructor(
    private readonly tokens: Token[],
    private readonly opts: ParserOptions,
  ) {}

  peek(): Token {
    return this.tokens[this.i]
  }

  next(): Token {
    const t = this.tokens[this.i]
    if (t.kind !== 'eof') this.i++
    return t
  }

  /** Throws "Unexpected <token> at position N: expected <what>". */
  unexpected(t: Token, expected: string): never {
    const noun = this.opts.noun
    if (t.kind === 'eof') throw this.opts.error(`Unexpected end of ${noun} at position ${t.pos + 1}: expected ${expected}`)
    throw this.opts.error(`Unexpected ${describe(t)} at position ${t.pos + 1}: expected ${expected}`)
  }

  fail(t: Token, msg: string): never {
    throw this.opts.error(`Invalid ${this.opts.noun} at position ${t.pos + 1}: ${msg}`)
  }

  private enter(t: Token): void {
    if (++this.depth > LIMITS.maxFilterDepth)
      this.fail(t, `nesting deeper than ${LIMITS.maxFilterDepth} levels (parentheses, 'not' and '[…]')`)
  }

  private leave(): void {
    this.depth--
  }

  /** Top level: a whole filter up to eof. */
  parseWhole(): Filter {
    const f = this.parseOr(false)
    this.expectEnd()
    return f
  }

  expectEnd(): void {
    const t = this.peek()
    if (t.kind === 'eof') return
    if (t.kind === 'rparen') this.fail(t, "unbalanced ')' (no matching '(')")
    if (t.kind === 'rbracket') this.fail(t, "unbalanced ']' (no matching '[')")
    this.unexpected(t, `'and', 'or' or end of ${this.opts.noun}`)
  }

  parseOr(inValue: boolean): Filter {
    let left = this.parseAnd(inValue)
    while (this.peek().kind === 'or') {
      this.next()
      left = { kind: 'or', left, right: this.parseAnd(inValue) }
    }
    return left
  }

  private parseAnd(inValue: boolean): Filter {
    let left = this.parseNot(inValue)
    while (this.peek().kind === 'and') {
      this.next()
      left = { kind: 'and', left, right: this.parseNot(inValue) }
    }
    return left
  }

  private parseNot(inValue: boolean): Filter {
    const t = this.peek()
    if (t.kind !== 'not') return this.parseAtom(inValue)
    this.next()
    this.enter(t)
    const filter = this.parseNot(inValue)
    this.leave()
    return { kind: 'not', filter }
  }

  private parseAtom(inValue: boolean): Filter {
    const t = this.peek()
    if (t.kind === 'lparen') {
      this.next()
      this.enter(t)
      const f = this.parseOr(inValue)
      const close = this.peek()
      if (close.kind !== 'rparen')
        this.unexpected(close, `')' to close the '(' at position ${t.pos + 1}` + (close.kind === 'eof' ? '' : ", or 'and'/'or'"))
      this.next()
      this.leave()
      return f
    }
    if (t.kind !== 'attrPath') {
      this.unexpected(t, inValue ? "a sub-attribute name, 'not' or '('" : "an attribute path, 'not' or '('")
    }
    this.next()
    const path = inValue ? this.subAttr(t) : this.attrPath(t)

    if (this.peek().kind === 'lbracket') {
      const open = this.next()
      if (inValue) this.fail(open, 'value filters cannot be nested')
      if (path.sub !== undefined)
        this.fail(open, `a value filter applies to an attribute, not to the sub-attribute '${t.text}'`)
      this.enter(open)
      const inner = this.parseOr(true)
      const close = this.peek()
      if (close.kind !== 'rbracket')
        this.unexpected(close, `']' to close the '[' at position ${open.pos + 1}` + (close.kind === 'eof' ? '' : ", or 'and'/'or'"))
      this.next()
      this.leave()
      if (this.peek().kind !== 'dot') return { kind: 'valuePath', path, filter: inner }
      this.next()
      const st = this.peek()
      if (st.kind !== 'attrPath') this.unexpected(st, "a sub-attribute name after '].'")
      this.next()
      const sub = this.subAttr(st)
      const tail = this.attrExp(sub, st)
      return { kind: 'valuePath', path, filter: { kind: 'and', left: inner, right: tail } }
    }
    return this.attrExp(path, t)
  }

  /** After an attribute path: `pr` or `op value`. */
  private attrExp(path: AttrPath, pathTok: Token): Filter {
    const opTok = this.peek()
    if (opTok.kind !== 'op')
      this.unexpected(opTok, `an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after '${pathTok.text}'`)
    this.next()
    if (opTok.op === 'pr') {
      const after = this.peek()
      if (after.kind === 'literal') this.fail(after, `'pr' takes no value (got ${describe(after)})`)
      return { kind: 'present', path }
    }
    const op = opTok.op
    const vt = this.peek()
    if (vt.kind !== 'literal') this.unexpected(vt, `a value after '${opTok.text}'`)
    this.next()
    const value: Literal = vt.value
    if ((op === 'gt' || op === 'ge' || op === 'lt' || op === 'le') && (value === null || typeof value === 'boolean'))
      this.fail(vt, `'${op}' cannot compare with ${vt.text.toLowerCase()}: it needs a string, number or dateTime value`)
    if ((op === 'co' || op === 'sw' || op === 'ew') && typeof value !== 'string')
      this.fail(vt, `'${op}' needs a string value (got ${vt.text})`)
    return { kind: 'compare', path, op, value }
  }

  /** A full attribute path (`[urn:…:]attr[.sub]`). */
  attrPath(t: Token): AttrPath {
    const p = parseAttrPath(t.text)
    if (!p) this.fail(t, `'${t.text}' is not a valid attribute path`)
    return p
  }

  /** A bare sub-attribute name (inside `[…]` or after `].`). */
  subAttr(t: Token): AttrPath {
    const p = parseAttrPath(t.text)
    if (!p || p.uri !== undefined || p.sub !== undefined)
      this.fail(t, `expected a sub-attribute name, got '${t.text}'`)
    return p
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input'
    case 'literal':
      return typeof t.value === 'string' ? `value ${abbreviate(t.text)}` : `value ${t.text}`
    case 'op':
      return `operator '${t.text}'`
    case 'attrPath':
      return `'${abbreviate(t.text)}'`
    default:
      return `'${t.text}'`
  }
}

function abbreviate(s: string): string {
  return s.length > 40 ? s.slice(0, 37) + '...' : s
}

/** Shared entry: length/empty checks, then tokenize. */
export function tokensFor(text: string, opts: ParserOptions): Token[] {
  if (text.length > LIMITS.maxFilterLength)
    throw opts.error(
      `The ${opts.noun} is too long at position ${LIMITS.maxFilterLength + 1}: ${text.length} characters, at most ${LIMITS.maxFilterLength} are accepted`,
    )
  if (text.trim() === '') throw opts.error(`Empty ${opts.noun} at position 1: expected an attribute path`)
  return tokenize(text, { error: opts.error, noun: opts.noun })
}

/** Parses a SCIM filter. Throws ScimError invalidFilter (400) with the 1-based position in the detail. */
export function parseFilter(text: string): Filter {
  const opts: ParserOptions = { error: invalidFilter, noun: 'filter' }
  return new FilterParser(tokensFor(text, opts), opts).parseWhole()
}
