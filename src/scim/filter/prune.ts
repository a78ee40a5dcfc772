/**
 * Filters over several resource types at once (a search at the server root, RFC 7644 §3.4.3): a filter may name
 * an attribute that only some of the types define (`userName` is a User's, `members` a Group's). For a type that
 * does not define it, the attribute is unassigned in every resource of that type, so each comparison on it has a
 * fixed answer — the one the evaluator gives for an absent attribute (evaluate.ts): `pr` false, `eq`/`co`/`sw`/
 * `ew`/`gt`/`ge`/`lt`/`le` false, `ne "x"` true, `eq null` true, `ne null` false, `attr[…]` false. pruneFilter
 * replaces those leaves by their answers and folds the and/or/not around them.
 */
import type { AttrPath, Filter } from './ast'

/** The filter for one type (leaves on attributes it does not define folded away), or a constant answer. */
export function pruneFilter(f: Filter, defines: (path: AttrPath) => boolean): Filter | boolean {
  switch (f.kind) {
    case 'present':
      return defines(f.path) ? f : false
    case 'valuePath':
      return defines(f.path) ? f : false
    case 'compare':
      if (defines(f.path)) return f
      if (f.value === null) return f.op === 'eq'
      return f.op === 'ne'
    case 'not': {
      const x = pruneFilter(f.filter, defines)
      return typeof x === 'boolean' ? !x : { kind: 'not', filter: x }
    }
    case 'and': {
      const l = pruneFilter(f.left, defines)
      if (l === false) return false
      const r = pruneFilter(f.right, defines)
      if (r === false) return false
      if (l === true) return r
      if (r === true) return l
      return { kind: 'and', left: l, right: r }
    }
    case 'or': {
      const l = pruneFilter(f.left, defines)
      if (l === true) return true
      const r = pruneFilter(f.right, defines)
      if (r === true) return true
      if (l === false) return r
      if (r === false) return l
      return { kind: 'or', left: l, right: r }
    }
  }
}

/** The top-level attribute paths a filter names (value-filter insides are relative to their attribute). */
export function filterPaths(f: Filter, out: AttrPath[] = []): AttrPath[] {
  switch (f.kind) {
    case 'present':
    case 'compare':
    case 'valuePath':
      out.push(f.path)
      break
    case 'not':
      filterPaths(f.filter, out)
      break
    case 'and':
    case 'or':
      filterPaths(f.left, out)
      filterPaths(f.right, out)
  }
  return out
}
