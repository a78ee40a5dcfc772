import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { parseFilter } from '../../../src/scim/filter/parser'
import { stringifyFilter } from '../../../src/scim/filter/stringify'
import type { Filter } from '../../../src/scim/filter/ast'
import { filterArb, RFC_7644_FILTER_EXAMPLES } from './arbitrary'

describe('stringifyFilter', () => {
  test.each<[string, string]>([
    ['userName Eq "john"', 'userName eq "john"'],
    ['a pr or b pr and c pr', 'a pr or b pr and c pr'],
    ['(a pr or b pr) and c pr', '(a pr or b pr) and c pr'],
    ['a pr and (b pr and c pr)', 'a pr and (b pr and c pr)'],
    ['a pr or (b pr or c pr)', 'a pr or (b pr or c pr)'],
    ['(a pr and b pr) or c pr', 'a pr and b pr or c pr'],
    ['((a pr))', 'a pr'],
    ['not a pr and b pr', 'not (a pr) and b pr'],
    ['NOT (a pr Or b pr)', 'not (a pr or b pr)'],
    ['x eq TRUE and y ne Null', 'x eq true and y ne null'],
    ['x ge -1.50E2', 'x ge -150'],
    ['x eq -0', 'x eq -0'],
    ['x eq "a\\"b\\\\c\\/d\\u0001\\u00e9"', 'x eq "a\\"b\\\\c/d\\u0001é"'],
    ['emails[type eq "work"].value eq "x"', 'emails[type eq "work" and value eq "x"]'],
    ['emails[type eq "work" or primary eq true].value co "x"', 'emails[(type eq "work" or primary eq true) and value co "x"]'],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr'],
  ])('%s → %s', (input, expected) => {
    expect(stringifyFilter(parseFilter(input))).toBe(expected)
  })

  test.each(RFC_7644_FILTER_EXAMPLES)('RFC example round-trips: %s', (text, ast) => {
    // The one RFC example with redundant parentheses loses them.
    expect(stringifyFilter(ast)).toBe(text.replace('(emails.type eq "work")', 'emails.type eq "work"'))
    expect(parseFilter(stringifyFilter(ast))).toEqual(ast)
  })

  test('property: parseFilter(stringifyFilter(f)) deep-equals f', () => {
    fc.assert(
      fc.property(filterArb, (f: Filter) => {
        const text = stringifyFilter(f)
        expect(parseFilter(text)).toEqual(f)
        expect(stringifyFilter(parseFilter(text))).toBe(text)
      }),
      { numRuns: 3000 },
    )
  })
})
