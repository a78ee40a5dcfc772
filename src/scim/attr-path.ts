/**
 * Attribute path text (`[urn:…:]attr[.sub]`, RFC 7644 §3.10) ↔ AttrPath. Used by `attributes=`,
 * `excludedAttributes=`, `sortBy=`, and by the filter lexer for ATTRPATH tokens.
 */
import type { AttrPath } from './filter/ast'

const NAME = /^\$?[A-Za-z_][A-Za-z0-9_$-]*$/

/** Parses `[urn:…:]attr[.sub]`; returns undefined when the text is not an attribute path. */
export function parseAttrPath(text: string): AttrPath | undefined {
  let uri: string | undefined
  let rest = text
  if (/^urn:/i.test(text)) {
    const cut = text.lastIndexOf(':')
    uri = text.slice(0, cut)
    rest = text.slice(cut + 1)
    if (uri.length <= 4) return undefined
  }
  const parts = rest.split('.')
  if (parts.length > 2 || !parts.every((p) => NAME.test(p))) return undefined
  const path: AttrPath = { attr: parts[0] }
  if (uri) path.uri = uri
  if (parts.length === 2) path.sub = parts[1]
  return path
}

export function formatAttrPath(p: AttrPath): string {
  return (p.uri ? p.uri + ':' : '') + p.attr + (p.sub ? '.' + p.sub : '')
}
