/**
 * PATCH paths (RFC 7644 §3.5.2): `attrPath` | `attr[valFilter]` | `attr[valFilter].subAttr`, URN-qualified too
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`). Reuses the filter lexer and
 * parser; every error is ScimError invalidPath (400) with the 1-based position in the detail.
 */
import type { PatchPath } from './ast'
import { FilterParser, tokensFor, type ParserOptions } from './parser'
import { formatAttrPath } from '../attr-path'
import { invalidPath } from '../errors'
import { stringifyFilter } from './stringify'

export function parsePatchPath(text: string): PatchPath {
  const opts: ParserOptions = { error: invalidPath, noun: 'path' }
  const p = new FilterParser(tokensFor(text, opts), opts)
  const t = p.peek()
  if (t.kind !== 'attrPath') p.unexpected(t, 'an attribute path')
  p.next()
  const attr = p.attrPath(t)
  const result: PatchPath = { attr }
  if (p.peek().kind === 'lbracket') {
    const open = p.next()
    if (attr.sub !== undefined) p.fail(open, `a value filter applies to an attribute, not to the sub-attribute '${t.text}'`)
    const filter = p.parseOr(true)
    const close = p.peek()
    if (close.kind !== 'rbracket')
      p.unexpected(close, `']' to close the '[' at position ${open.pos + 1}` + (close.kind === 'eof' ? '' : ", or 'and'/'or'"))
    p.next()
    result.filter = filter
    if (p.peek().kind === 'dot') {
      p.next()
      const st = p.peek()
      if (st.kind !== 'attrPath') p.unexpected(st, "a sub-attribute name after '].'")
      p.next()
      result.sub = p.subAttr(st).attr
    }
  }
  const end = p.peek()
  if (end.kind !== 'eof') p.unexpected(end, result.filter ? "'.subAttribute' or end of path" : "'[' or end of path")
  return result
}

/** Canonical text of a PATCH path; parsePatchPath(stringifyPatchPath(p)) deep-equals p. */
export function stringifyPatchPath(p: PatchPath): string {
  let s = formatAttrPath(p.attr)
  if (p.filter) s += `[${stringifyFilter(p.filter)}]`
  if (p.sub !== undefined) s += '.' + p.sub
  return s
}
