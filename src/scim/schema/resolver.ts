/**
 * The registry seen as the filter evaluator's AttrResolver: case-insensitive, URN-aware; sub-attributes of a
 * multi-valued attribute report multiValued (their values across elements form a multi-set). `fold` gives the
 * case-folding that the store uses for an attribute (the indexed keys fold Unicode with foldKey; attributes in
 * JSON fold ASCII like SQLite's lower()), so in-memory evaluation and SQL agree.
 */
import type { AttrPath } from '../filter/ast'
import { formatAttrPath } from '../attr-path'
import { invalidFilter } from '../errors'
import type { AttrInfo, AttrResolver } from '../filter/evaluate'
import type { ResolvedAttr, SchemaRegistry } from './registry'
import type { ResourceTypeDef } from './types'

export interface ResolverOptions {
  strict?: boolean
  /** Folding per canonical path (e.g. `userName` → foldKey); default ASCII. */
  foldFor?: (canonical: AttrPath) => ((s: string) => string) | undefined
}

function toInfo(r: ResolvedAttr, opts: ResolverOptions): AttrInfo {
  // A `returned: never` attribute (password) is not stored where a filter could reach it, and a filter on it would
  // be an oracle for its value: refuse it rather than silently matching nothing.
  if (r.def.returned === 'never')
    throw invalidFilter(`Attribute '${formatAttrPath(r.canonical)}' is never returned and cannot be used to filter or sort`)
  const info: AttrInfo = {
    type: r.def.type,
    multiValued: r.def.multiValued || Boolean(r.parent?.multiValued),
    caseExact: r.def.caseExact,
    canonical: r.canonical,
  }
  const fold = opts.foldFor?.(r.canonical)
  if (fold) info.fold = fold
  if (!r.declared) info.untyped = true
  return info
}

export function registryResolver(registry: SchemaRegistry, rt: ResourceTypeDef, opts: ResolverOptions = {}): AttrResolver {
  const resolveOpts = { allowUndeclared: !opts.strict }
  const resolver: AttrResolver = (path, parent) => {
    if (parent) {
      const top = registry.resolve(rt, { uri: parent.uri, attr: parent.attr }, resolveOpts)
      if (!top) return undefined
      // `tags[value eq "x"]` on a multi-valued simple attribute: `value` names the element itself
      if (top.def.type !== 'complex') {
        if (path.attr.toLowerCase() !== 'value' || path.sub !== undefined) return undefined
        return { ...toInfo(top, opts), canonical: { ...top.canonical, sub: 'value' } }
      }
      if (path.sub !== undefined || path.uri !== undefined) return undefined
      const sub = registry.resolveSub(top, path.attr)
      return sub ? toInfo(sub, opts) : undefined
    }
    const r = registry.resolve(rt, path, resolveOpts)
    return r ? toInfo(r, opts) : undefined
  }
  return resolver
}
