/**
 * Filter AST → parameterised SQL over the users/groups tables (SQLite dialect). Values are always bound,
 * never interpolated. Placeholder: `eq` on the indexed columns only; replaced by the full compiler.
 */
import { sql, type SQL } from 'drizzle-orm'
import type { Kind } from './repo'
import type { AttrPath, Filter } from '../scim/filter/ast'
import { invalidFilter } from '../scim/errors'
import { foldKey } from '../scim/text'

function column(kind: Kind, p: AttrPath): { col: SQL; fold: boolean } | undefined {
  const name = (p.attr + (p.sub ? '.' + p.sub : '')).toLowerCase()
  if (name === 'id') return { col: sql`r.id`, fold: false }
  if (name === 'externalid') return { col: sql`r.external_id`, fold: false }
  if (kind === 'User' && name === 'username') return { col: sql`r.user_name_key`, fold: true }
  if (name === 'displayname') return { col: sql`r.display_name_key`, fold: true }
  return undefined
}

export function filterToSql(kind: Kind, f: Filter): SQL {
  switch (f.kind) {
    case 'and':
      return sql`(${filterToSql(kind, f.left)}) and (${filterToSql(kind, f.right)})`
    case 'or':
      return sql`(${filterToSql(kind, f.left)}) or (${filterToSql(kind, f.right)})`
    case 'compare': {
      const c = column(kind, f.path)
      if (!c || f.op !== 'eq' || typeof f.value !== 'string') throw invalidFilter('Filter not supported yet')
      return sql`${c.col} = ${c.fold ? foldKey(f.value) : f.value}`
    }
    default:
      throw invalidFilter('Filter not supported yet')
  }
}

export function sortToSql(kind: Kind, p: AttrPath): SQL {
  const c = column(kind, p)
  if (!c) throw invalidFilter('sortBy not supported yet')
  return c.col
}
