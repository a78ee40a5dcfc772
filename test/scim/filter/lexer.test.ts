import { describe, expect, test } from 'bun:test'
import { tokenize, type Token } from '../../../src/scim/filter/lexer'
import { ScimError } from '../../../src/scim/errors'

/** Compact view: kind plus value/op/text. */
function view(ts: Token[]): string[] {
  return ts.map((t) => {
    switch (t.kind) {
      case 'literal':
        return `lit:${JSON.stringify(t.value)}`
      case 'op':
        return `op:${t.op}`
      case 'attrPath':
        return `path:${t.text}`
      default:
        return t.kind
    }
  })
}

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

describe('tokenize', () => {
  test.each<[string, string[]]>([
    ['userName eq "bjensen"', ['path:userName', 'op:eq', 'lit:"bjensen"', 'eof']],
    ['name.familyName co "O\'Malley"', ['path:name.familyName', 'op:co', `lit:"O'Malley"`, 'eof']],
    [`${ENT}:employeeNumber eq "701984"`, [`path:${ENT}:employeeNumber`, 'op:eq', 'lit:"701984"', 'eof']],
    [`URN:ietf:params:scim:schemas:core:2.0:User:name.givenName pr`, ['path:URN:ietf:params:scim:schemas:core:2.0:User:name.givenName', 'op:pr', 'eof']],
    [`${ENT}:manager.value eq "x"`, [`path:${ENT}:manager.value`, 'op:eq', 'lit:"x"', 'eof']],
    [`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]`, ['path:urn:ietf:params:scim:schemas:core:2.0:User:emails', 'lbracket', 'path:type', 'op:eq', 'lit:"work"', 'rbracket', 'eof']],
    ['(urn:a:b:c pr)', ['lparen', 'path:urn:a:b:c', 'op:pr', 'rparen', 'eof']],
    ['members.$ref pr', ['path:members.$ref', 'op:pr', 'eof']],
    ['$ref eq "x"', ['path:$ref', 'op:eq', 'lit:"x"', 'eof']],
    ['emails[type eq "work"].value eq "x"', ['path:emails', 'lbracket', 'path:type', 'op:eq', 'lit:"work"', 'rbracket', 'dot', 'path:value', 'op:eq', 'lit:"x"', 'eof']],
    ['a EQ 1 AnD b Ne 2 oR NOT (c Pr)', ['path:a', 'op:eq', 'lit:1', 'and', 'path:b', 'op:ne', 'lit:2', 'or', 'not', 'lparen', 'path:c', 'op:pr', 'rparen', 'eof']],
    ['x eq TRUE or x eq False or x eq nULL', ['path:x', 'op:eq', 'lit:true', 'or', 'path:x', 'op:eq', 'lit:false', 'or', 'path:x', 'op:eq', 'lit:null', 'eof']],
    ['a co "x" and a sw "y" and a ew "z" and a gt 1 and a ge 2 and a lt 3 and a le 4', ['path:a', 'op:co', 'lit:"x"', 'and', 'path:a', 'op:sw', 'lit:"y"', 'and', 'path:a', 'op:ew', 'lit:"z"', 'and', 'path:a', 'op:gt', 'lit:1', 'and', 'path:a', 'op:ge', 'lit:2', 'and', 'path:a', 'op:lt', 'lit:3', 'and', 'path:a', 'op:le', 'lit:4', 'eof']],
    ['n eq -12', ['path:n', 'op:eq', 'lit:-12', 'eof']],
    ['n eq 0', ['path:n', 'op:eq', 'lit:0', 'eof']],
    ['n eq 3.25', ['path:n', 'op:eq', 'lit:3.25', 'eof']],
    ['n eq -0.5E-2', ['path:n', 'op:eq', 'lit:-0.005', 'eof']],
    ['n eq 1e3', ['path:n', 'op:eq', 'lit:1000', 'eof']],
    ['n eq 2E+2', ['path:n', 'op:eq', 'lit:200', 'eof']],
    ['a pr\tand\nb pr\r\n', ['path:a', 'op:pr', 'and', 'path:b', 'op:pr', 'eof']],
    ['  ', ['eof']],
    ['a-b_c1 pr', ['path:a-b_c1', 'op:pr', 'eof']],
  ])('%s', (input, expected) => {
    expect(view(tokenize(input))).toEqual(expected)
  })

  test('JSON string escapes', () => {
    // (not String.raw: bun rewrites non-ASCII characters inside raw templates as escapes)
    const [t] = tokenize('"q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9\\u20AC \\ud83d\\ude00 é😀"')
    expect(t.kind).toBe('literal')
    expect(t.kind === 'literal' && t.value).toBe('q" b\\ s/ \b\f\n\r\t é€ 😀 é😀')
  })

  test('offsets', () => {
    const ts = tokenize('userName  eq "a b"')
    expect(ts.map((t) => [t.pos, t.end])).toEqual([
      [0, 8],
      [10, 12],
      [13, 18],
      [18, 18],
    ])
    expect(ts[2].text).toBe('"a b"')
  })

  test.each<[string, number, string]>([
    ['userName eq "abc', 13, 'unterminated string'],
    ['userName eq "abc\\', 13, 'unterminated string'],
    ['a eq "\\x"', 7, "invalid escape '\\x'"],
    ['a eq "\\u12G4"', 7, 'invalid \\u escape'],
    ['a eq "\\u12"', 7, 'invalid \\u escape'],
    ['a eq "x\ny"', 8, 'control character U+000A'],
    ['a eq 01', 6, 'malformed number'],
    ['a eq 1.', 8, 'expected a digit after the decimal point'],
    ['a eq 1e', 8, 'expected a digit in the exponent'],
    ['a eq 12abc', 6, 'malformed number'],
    ['a eq 1e999', 6, 'out of range'],
    ['a eq -', 6, "unexpected character '-'"],
    ['a eq \'x\'', 6, "unexpected character '''"],
    ['a # b', 3, "unexpected character '#'"],
    ['a eq {', 6, "unexpected character '{'"],
    ['a\u0000', 2, 'unexpected character U+0000'],
  ])('error: %s', (input, pos, msg) => {
    let err: unknown
    try {
      tokenize(input)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ScimError)
    const e = err as ScimError
    expect(e.status).toBe(400)
    expect(e.scimType).toBe('invalidFilter')
    expect(e.detail).toContain(`position ${pos}`)
    expect(e.detail).toContain(msg)
  })
})
