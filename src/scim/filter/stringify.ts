/**
 * Canonical filter text: lowercase operators, JSON-encoded literals, parentheses only where the parse would
 * otherwise differ. parseFilter(stringifyFilter(f)) deep-equals f for every valid AST (parser output is
 * left-associative, so a right operand of the same operator keeps its parentheses: `a and (b and c)`).
 * `not` always prints as `not (…)` (RFC 7644 requires the parentheses). Depth-limited ASTs only (the parser's
 * limit), recursion is fine.
 */
import type { Filter, Literal } from './ast'
import { formatAttrPath } from '../attr-path'
import { invalidFilter } from '../errors'

/** Binding strength: or 1, and 2, everything else (not, atoms, value paths) 3. */
function level(f: Filter): number {
  return f.kind === 'or' ? 1 : f.kind === 'and' ? 2 : 3
}

export function stringifyLiteral(v: Literal): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalidFilter(`Cannot write the number ${v} in a filter`)
    if (Object.is(v, -0)) return '-0'
  }
  return JSON.stringify(v)
}

function go(f: Filter, min: number): string {
  let s: string
  switch (f.kind) {
    case 'compare':
      s = `${formatAttrPath(f.path)} ${f.op} ${stringifyLiteral(f.value)}`
      break
    case 'present':
      s = `${formatAttrPath(f.path)} pr`
      break
    case 'and':
      s = `${go(f.left, 2)} and ${go(f.right, 3)}`
      break
    case 'or':
      s = `${go(f.left, 1)} or ${go(f.right, 2)}`
      break
    case 'not':
      s = `not (${go(f.filter, 0)})`
      break
    case 'valuePath':
      s = `${formatAttrPath(f.path)}[${go(f.filter, 0)}]`
      break
  }
  return level(f) < min ? `(${s})` : s
}

export function stringifyFilter(f: Filter): string {
  return go(f, 0)
}
