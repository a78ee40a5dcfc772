import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { parsePatchPath, stringifyPatchPath } from '../../../src/scim/filter/path'
import type { PatchPath } from '../../../src/scim/filter/ast'
import { ScimError } from '../../../src/scim/errors'
import { LIMITS } from '../../../src/scim/constants'
import { catchScimError } from '../../helpers/errors'
import { ENTERPRISE_URN, patchPathArb } from './arbitrary'

const pathError = (text: string) => catchScimError(() => parsePatchPath(text), `parsed without error: ${text}`)

describe('parsePatchPath', () => {
  test.each<[string, PatchPath]>([
    ['userName', { attr: { attr: 'userName' } }],
    ['name.givenName', { attr: { attr: 'name', sub: 'givenName' } }],
    ['members', { attr: { attr: 'members' } }],
    ['members[value eq "2819c223-7f76-453a-919d-413861904646"]', {
      attr: { attr: 'members' },
      filter: { kind: 'compare', path: { attr: 'value' }, op: 'eq', value: '2819c223-7f76-453a-919d-413861904646' },
    }],
    ['emails[type eq "work"].value', {
      attr: { attr: 'emails' },
      filter: { kind: 'compare', path: { attr: 'type' }, op: 'eq', value: 'work' },
      sub: 'value',
    }],
    ['addresses[type eq "work" and primary eq true].streetAddress', {
      attr: { attr: 'addresses' },
      filter: {
        kind: 'and',
        left: { kind: 'compare', path: { attr: 'type' }, op: 'eq', value: 'work' },
        right: { kind: 'compare', path: { attr: 'primary' }, op: 'eq', value: true },
      },
      sub: 'streetAddress',
    }],
    [`${ENTERPRISE_URN}:manager`, { attr: { uri: ENTERPRISE_URN, attr: 'manager' } }],
    [`${ENTERPRISE_URN}:manager.value`, { attr: { uri: ENTERPRISE_URN, attr: 'manager', sub: 'value' } }],
    [`${ENTERPRISE_URN}:employeeNumber`, { attr: { uri: ENTERPRISE_URN, attr: 'employeeNumber' } }],
    ['urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]', {
      attr: { uri: 'urn:ietf:params:scim:schemas:core:2.0:User', attr: 'emails' },
      filter: { kind: 'compare', path: { attr: 'type' }, op: 'eq', value: 'work' },
    }],
    ['members[value eq "a" or value eq "b"]', {
      attr: { attr: 'members' },
      filter: {
        kind: 'or',
        left: { kind: 'compare', path: { attr: 'value' }, op: 'eq', value: 'a' },
        right: { kind: 'compare', path: { attr: 'value' }, op: 'eq', value: 'b' },
      },
    }],
    ['  Emails[Type EQ "work"].Value ', {
      attr: { attr: 'Emails' },
      filter: { kind: 'compare', path: { attr: 'Type' }, op: 'eq', value: 'work' },
      sub: 'Value',
    }],
  ])('%s', (text, expected) => {
    expect(parsePatchPath(text)).toEqual(expected)
  })

  test.each<[string, string]>([
    ['', 'Empty path at position 1'],
    ['   ', 'Empty path at position 1'],
    ['"x"', 'Unexpected value "x" at position 1: expected an attribute path'],
    ['a.b.c', "position 1: 'a.b.c' is not a valid attribute path"],
    ['emails[type eq "work"', "Unexpected end of path at position 22: expected ']'"],
    ['emails[type eq "work"].', 'Unexpected end of path at position 24: expected a sub-attribute name'],
    ['emails[type eq "work"].value.x', "position 24: expected a sub-attribute name, got 'value.x'"],
    ['emails[type eq "work"] x', "Unexpected 'x' at position 24"],
    ['emails[type[value eq "x"]]', 'position 12: value filters cannot be nested'],
    ['emails]', "Unexpected ']' at position 7"],
    ['name.givenName[value eq "x"]', 'position 15: a value filter applies to an attribute'],
    ['emails[type eq]', "Unexpected ']' at position 15: expected a value after 'eq'"],
    ['userName eq "x"', "Unexpected operator 'eq' at position 10: expected '[' or end of path"],
    ['emails[type eq "x', 'position 16: unterminated string'],
    ['a b', "Unexpected 'b' at position 3"],
  ])('invalidPath: %s', (text, detail) => {
    const e = pathError(text)
    expect(e.status).toBe(400)
    expect(e.scimType).toBe('invalidPath')
    expect(e.detail).toContain(detail)
  })

  test('too long / too deep → invalidPath', () => {
    expect(pathError('a'.repeat(LIMITS.maxFilterLength + 1)).scimType).toBe('invalidPath')
    const e = pathError('emails[' + '('.repeat(100) + 'type pr' + ')'.repeat(100) + ']')
    expect(e.scimType).toBe('invalidPath')
    expect(e.detail).toContain('nesting deeper')
  })

  test('property: parsePatchPath(stringifyPatchPath(p)) deep-equals p', () => {
    fc.assert(
      fc.property(patchPathArb, (p) => {
        expect(parsePatchPath(stringifyPatchPath(p))).toEqual(p)
      }),
      { numRuns: 2000 },
    )
  })

  test('property: random input never throws anything but invalidPath', () => {
    const pieces = fc.constantFrom('emails', 'members', 'name.givenName', `${ENTERPRISE_URN}:manager`, '[', ']', '.', 'value', ' eq ', '"x"', ' pr', ' and ', '(', ')', '"', 'not ', ' ')
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.array(pieces, { maxLength: 12 }).map((xs) => xs.join(''))), (s) => {
        try {
          parsePatchPath(s)
        } catch (e) {
          if (!(e instanceof ScimError)) throw e
          expect(e.scimType).toBe('invalidPath')
          expect(e.detail).toMatch(/position \d+/)
        }
      }),
      { numRuns: 3000 },
    )
  })
})
