import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { parseFilter } from '../../../src/scim/filter/parser'
import type { AttrPath, CompareOp, Filter, Literal } from '../../../src/scim/filter/ast'
import { ScimError } from '../../../src/scim/errors'
import { LIMITS } from '../../../src/scim/constants'
import { catchScimError } from '../../helpers/errors'
import { RFC_7644_FILTER_EXAMPLES } from './arbitrary'

const a = (attr: string, sub?: string, uri?: string): AttrPath => {
  const out: AttrPath = { attr }
  if (uri !== undefined) out.uri = uri
  if (sub !== undefined) out.sub = sub
  return out
}
const cmp = (attr: string | AttrPath, op: CompareOp, value: Literal): Filter => ({
  kind: 'compare',
  path: typeof attr === 'string' ? a(attr) : attr,
  op,
  value,
})
const pr = (attr: string | AttrPath): Filter => ({ kind: 'present', path: typeof attr === 'string' ? a(attr) : attr })
const and = (left: Filter, right: Filter): Filter => ({ kind: 'and', left, right })
const or = (left: Filter, right: Filter): Filter => ({ kind: 'or', left, right })
const not = (filter: Filter): Filter => ({ kind: 'not', filter })
const vp = (attr: string | AttrPath, filter: Filter): Filter => ({
  kind: 'valuePath',
  path: typeof attr === 'string' ? a(attr) : attr,
  filter,
})

const parseError = (text: string) => catchScimError(() => parseFilter(text), `parsed without error: ${text}`)

describe('RFC 7644 §3.4.2.2 examples', () => {
  test.each(RFC_7644_FILTER_EXAMPLES)('filter=%s', (text, ast) => {
    expect(parseFilter(text)).toEqual(ast)
  })
})

describe('precedence and grouping', () => {
  const A = pr('a'), B = pr('b'), C = pr('c'), D = pr('d')
  test.each<[string, Filter]>([
    ['a pr or b pr and c pr', or(A, and(B, C))],
    ['a pr and b pr or c pr', or(and(A, B), C)],
    ['a pr and b pr or c pr and d pr', or(and(A, B), and(C, D))],
    ['a pr or b pr or c pr', or(or(A, B), C)],
    ['a pr and b pr and c pr', and(and(A, B), C)],
    ['a pr and (b pr and c pr)', and(A, and(B, C))],
    ['(a pr or b pr) and c pr', and(or(A, B), C)],
    ['not (a pr) and b pr', and(not(A), B)],
    ['not a pr and b pr', and(not(A), B)],
    ['not (a pr and b pr)', not(and(A, B))],
    ['not (a pr) or b pr', or(not(A), B)],
    ['a pr or not (b pr) and c pr', or(A, and(not(B), C))],
    ['not not (a pr)', not(not(A))],
    ['not(a pr)', not(A)],
    ['((a pr))', A],
    ['(a pr) and ((b pr) or (c pr))', and(A, or(B, C))],
    ['a pr and not (b pr or c pr) and d pr', and(and(A, not(or(B, C))), D)],
  ])('%s', (text, ast) => {
    expect(parseFilter(text)).toEqual(ast)
  })
})

describe('syntax', () => {
  test.each<[string, Filter]>([
    ['userName Eq "john"', cmp('userName', 'eq', 'john')],
    ['Username eq "john"', cmp('Username', 'eq', 'john')],
    ['USERNAME EQ "john" AND TITLE PR OR NOT (ACTIVE EQ TRUE)', or(and(cmp('USERNAME', 'eq', 'john'), pr('TITLE')), not(cmp('ACTIVE', 'eq', true)))],
    ['active eq false', cmp('active', 'eq', false)],
    ['title eq null', cmp('title', 'eq', null)],
    ['title ne NULL', cmp('title', 'ne', null)],
    ['x ge -1.5e2', cmp('x', 'ge', -150)],
    ['x lt 0', cmp('x', 'lt', 0)],
    ['userName eq "a\\"b\\\\c\\u00e9\\n"', cmp('userName', 'eq', 'a"b\\cé\n')],
    ['userName eq ""', cmp('userName', 'eq', '')],
    ['displayName co "\u{1F600}"', cmp('displayName', 'co', '\u{1F600}')],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"', cmp(a('employeeNumber', undefined, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'), 'eq', '701984')],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"', cmp(a('manager', 'value', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'), 'eq', 'x')],
    ['members.$ref pr', pr(a('members', '$ref'))],
    ['emails[type eq "work"]', vp('emails', cmp('type', 'eq', 'work'))],
    ['emails[type eq "work"].value eq "x"', vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'eq', 'x')))],
    ['emails[type eq "work"].value pr', vp('emails', and(cmp('type', 'eq', 'work'), pr('value')))],
    ['emails[type eq "work" or primary eq true].value co "x"', vp('emails', and(or(cmp('type', 'eq', 'work'), cmp('primary', 'eq', true)), cmp('value', 'co', 'x')))],
    ['emails[not (type eq "work")]', vp('emails', not(cmp('type', 'eq', 'work')))],
    ['emails[(type eq "work")]', vp('emails', cmp('type', 'eq', 'work'))],
    ['urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]', vp(a('emails', undefined, 'urn:ietf:params:scim:schemas:core:2.0:User'), cmp('type', 'eq', 'work'))],
    ['userName eq "x" and emails[value eq "y"] or title pr', or(and(cmp('userName', 'eq', 'x'), vp('emails', cmp('value', 'eq', 'y'))), pr('title'))],
    ['  userName\teq\n"x"  ', cmp('userName', 'eq', 'x')],
  ])('%s', (text, ast) => {
    expect(parseFilter(text)).toEqual(ast)
  })
})

describe('errors are invalidFilter (400) with a position', () => {
  test.each<[label: string, text: string, detail: string]>([
    ['empty', '', 'Empty filter at position 1'],
    ['blank', '   ', 'Empty filter at position 1'],
    ['unterminated string', 'userName eq "bjensen', 'position 13: unterminated string'],
    ['missing value (eof)', 'userName eq', "Unexpected end of filter at position 12: expected a value after 'eq'"],
    ['missing value (keyword)', 'userName eq and title pr', "Unexpected 'and' at position 13: expected a value after 'eq'"],
    ['missing value before )', '(userName eq)', "Unexpected ')' at position 13: expected a value after 'eq'"],
    ['value is an attribute', 'userName eq bjensen', "Unexpected 'bjensen' at position 13: expected a value after 'eq'"],
    ['unknown operator', 'userName xx "a"', "Unexpected 'xx' at position 10: expected an operator"],
    ['missing operator', 'userName', 'Unexpected end of filter at position 9: expected an operator'],
    ['value after pr', 'title pr "x"', "position 10: 'pr' takes no value"],
    ['value after pr (number)', 'title pr 1', "position 10: 'pr' takes no value"],
    ['unbalanced (', '(title pr', "Unexpected end of filter at position 10: expected ')' to close the '(' at position 1"],
    ['unbalanced ((', '((title pr)', "Unexpected end of filter at position 12: expected ')' to close the '(' at position 1"],
    ['unbalanced )', 'title pr)', "position 9: unbalanced ')'"],
    ['unbalanced [', 'emails[type eq "work"', "Unexpected end of filter at position 22: expected ']' to close the '[' at position 7"],
    ['unbalanced ]', 'title pr]', "position 9: unbalanced ']'"],
    ['bracket closed by paren', '(emails[type pr)]', "Unexpected ')' at position 16: expected ']' to close the '['"],
    ['empty parens', '()', "Unexpected ')' at position 2: expected an attribute path"],
    ['empty brackets', 'emails[]', "Unexpected ']' at position 8: expected a sub-attribute name"],
    ['nested value filter', 'emails[type[value eq "x"]]', 'position 12: value filters cannot be nested'],
    ['value filter on sub-attribute', 'name.x[value eq "y"]', "position 7: a value filter applies to an attribute, not to the sub-attribute 'name.x'"],
    ['dotted path in value filter', 'emails[emails.type eq "work"]', "position 8: expected a sub-attribute name, got 'emails.type'"],
    ['URN in value filter', 'emails[urn:x:y:type eq "work"]', 'position 8: expected a sub-attribute name'],
    ['dot without sub', 'emails[type pr].', 'Unexpected end of filter at position 17: expected a sub-attribute name'],
    ['dot sub without op', 'emails[type pr].value', "Unexpected end of filter at position 22: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'value'"],
    ['dotted sub after ]', 'emails[type pr].value.x eq "a"', "position 17: expected a sub-attribute name, got 'value.x'"],
    ['trailing garbage', 'userName eq "a" foo', "Unexpected 'foo' at position 17: expected 'and', 'or' or end of filter"],
    ['trailing value', 'userName eq "a" "b"', 'Unexpected value "b" at position 17'],
    ['trailing and', 'userName eq "a" and', 'Unexpected end of filter at position 20: expected an attribute path'],
    ['leading and', 'and title pr', "Unexpected 'and' at position 1: expected an attribute path"],
    ['not without operand', 'not', 'Unexpected end of filter at position 4'],
    ['bad path', 'a.b.c pr', "position 1: 'a.b.c' is not a valid attribute path"],
    ['bad URN', 'urn: pr', "'urn:' is not a valid attribute path"],
    ['gt true', 'active gt true', "position 11: 'gt' cannot compare with true"],
    ['le null', 'x le null', "'le' cannot compare with null"],
    ['co null', 'x co null', "position 6: 'co' needs a string value"],
    ['sw false', 'x sw false', "'sw' needs a string value"],
    ['ew number', 'x ew 1', "'ew' needs a string value"],
    ['bad character', 'userName eq "x" && title pr', "position 17: unexpected character '&'"],
    ['single quotes', "userName eq 'x'", "position 13: unexpected character '''"],
  ])('%s', (_label, text, detail) => {
    const e = parseError(text)
    expect(e.status).toBe(400)
    expect(e.scimType).toBe('invalidFilter')
    expect(e.toJSON().status).toBe('400')
    expect(e.detail).toContain(detail)
    expect(e.detail).toMatch(/position \d+/)
  })

  test('too long', () => {
    const text = 'title pr' + ' '.repeat(LIMITS.maxFilterLength)
    const e = parseError(text)
    expect(e.scimType).toBe('invalidFilter')
    expect(e.detail).toContain(`position ${LIMITS.maxFilterLength + 1}`)
    expect(parseFilter(('title pr' + ' '.repeat(LIMITS.maxFilterLength)).slice(0, LIMITS.maxFilterLength))).toEqual(pr('title'))
  })

  test('100,000 "(" → invalidFilter, no stack overflow', () => {
    const e = parseError('('.repeat(100_000) + 'title pr' + ')'.repeat(100_000))
    expect(e.scimType).toBe('invalidFilter')
  })

  test('too deep within the length limit: parentheses, not, brackets', () => {
    const depth = LIMITS.maxFilterDepth
    expect(parseFilter('('.repeat(depth) + 'title pr' + ')'.repeat(depth))).toEqual(pr('title'))
    const e = parseError('('.repeat(depth + 1) + 'title pr' + ')'.repeat(depth + 1))
    expect(e.detail).toContain(`position ${depth + 1}: nesting deeper than ${depth}`)
    const many = parseError('('.repeat(4_000) + 'title pr' + ')'.repeat(4_000))
    expect(many.detail).toContain('nesting deeper')
    expect(parseError('not '.repeat(2_000) + 'title pr').detail).toContain('nesting deeper')
    expect(parseError('not ('.repeat(1_500) + 'title pr' + ')'.repeat(1_500)).detail).toContain('nesting deeper')
    expect(parseError('('.repeat(depth) + 'emails[type pr]' + ')'.repeat(depth)).detail).toContain('nesting deeper')
  })

  test('long flat chains parse iteratively', () => {
    const n = 700
    const f = parseFilter(Array.from({ length: n }, (_, i) => `a${i} pr`).join(' and '))
    let depth = 0
    for (let g: Filter = f; g.kind === 'and'; g = g.left) depth++
    expect(depth).toBe(n - 1)
  })
})

describe('property: random input never throws anything but ScimError', () => {
  const pieces = fc.constantFrom(
    'userName', 'emails', 'name.givenName', 'urn:ietf:params:scim:schemas:core:2.0:User:userName', '$ref',
    ' eq ', ' ne ', ' co ', ' pr', ' gt ', ' and ', ' or ', 'not ', '(', ')', '[', ']', '.', '"x"', '"', '\\', '\\u12',
    '1', '-', '1e', '0.5', 'true', 'null', ' ', '\n', ':', 'urn:', '"\\"', '\u{1F600}', '\u0000',
  )
  const check = (s: string) => {
    try {
      parseFilter(s)
    } catch (e) {
      if (!(e instanceof ScimError)) throw e
      expect(e.status).toBe(400)
      expect(e.scimType).toBe('invalidFilter')
      expect(e.detail).toMatch(/position \d+/)
    }
  }
  test('arbitrary unicode strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), check), { numRuns: 2000 })
  })
  test('token soup', () => {
    fc.assert(fc.property(fc.array(pieces, { maxLength: 25 }).map((xs) => xs.join('')), check), { numRuns: 5000 })
  })
})
