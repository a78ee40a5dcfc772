/**
 * SCIM filter → SQLite condition and sortBy → ORDER BY over the users/groups tables (alias `r`): the SQLite dialect
 * of src/db/filter-core.ts, which holds the semantics both stores share (validation, where each value lives, NULL
 * as false, `ne`, sorting by the primary value) and their RFC references. How they are written in SQLite:
 *
 * - JSON: `data` is JSON text. A location is a JSON path, bound as a parameter (built from canonical schema names,
 *   quoted `$."name"`; a name holding '"' is refused) or computed from an array element (`e.fullkey || '."sub"'`);
 *   values are read with json_type/json_extract, arrays with json_each (document order: its `id`), `pr` inside
 *   objects and arrays with json_tree. An undeclared key: exact first, then the first `lower(key)` match in
 *   json_each order.
 * - Types: json_type 'text' for strings/references/binary/dateTimes, 'integer'/'real' for numbers, 'true'/'false' —
 *   or the strings "true"/"false" — for booleans. Values from JSON are compared inside `(type test and …)`.
 * - Case and order: lower() (ASCII only in SQLite, exactly asciiFold); TEXT compares with the BINARY collation
 *   (memcmp of UTF-8 = code point order, like compareCodePoints); co/sw/ew use instr()/substr() on BLOB casts
 *   (byte-exact, embedded NULs included; never LIKE).
 * - Booleans are 1/0; a group's first member (sortBy members.value) is the lowest group_members rowid.
 */
import { sql, type SQL } from 'drizzle-orm'
import { invalidFilter } from '../scim/errors'
import { asciiFold } from '../scim/filter/evaluate'
import * as core from './filter-core'
import type { Builder, Dialect, Val } from './filter-core'

export { filterResolver, foldFor, type FilterSqlContext } from './filter-core'

/** A value inside `data`: its json_type ('text', 'integer', …; NULL when absent) and its SQL value (JSON text for objects/arrays). */
interface J {
  jt: SQL
  v: SQL
}

const q = (name: string): string => {
  if (name.includes('"')) throw invalidFilter(`Attribute name '${name}' cannot be used in a filter`)
  return `."${name}"`
}

const at = (loc: SQL): J => ({ jt: sql`json_type(r.data, ${loc})`, v: sql`json_extract(r.data, ${loc})` })
const elem = (e: SQL): J => ({ jt: sql`${e}.type`, v: sql`${e}.value` })
/** the SQL value of a column or of a JSON value */
const raw = (val: Val<J>): SQL => val.v ?? val.json!.v

/** A path expression for `name` inside the object at `parent`: exact key first, then ASCII case-insensitively. */
function keyPath(b: Builder<J>, parent: SQL, name: string): SQL {
  const k1 = b.alias('k')
  const k2 = b.alias('k')
  return sql`coalesce((select ${k1}.fullkey from json_each(r.data, ${parent}) as ${k1} where ${k1}.key = ${name}), (select ${k2}.fullkey from json_each(r.data, ${parent}) as ${k2} where lower(${k2}.key) = ${asciiFold(name)} order by ${k2}.id limit 1))`
}

function typeOk(val: Val<J>, t: core.T): SQL {
  if (!val.json) return sql`${val.v} is not null`
  const jt = val.json.jt
  switch (t) {
    case 'integer':
    case 'decimal':
      return sql`${jt} in ('integer', 'real')`
    case 'boolean':
      return sql`(${jt} in ('true', 'false') or (${jt} = 'text' and lower(${val.json.v}) in ('true', 'false')))`
    default:
      return sql`${jt} = 'text'`
  }
}

const sqlite: Dialect<J> = {
  name: 'filter-sql',
  true: sql.raw('1'),
  false: sql.raw('0'),
  always: { v: sql`1`, known: 'number' },
  text: (s) => sql`${s}`,

  at: (c, withSub) => sql`${'$' + (c.uri !== undefined ? q(c.uri) : '') + q(c.attr) + (withSub && c.sub !== undefined ? q(c.sub) : '')}`,
  elemChild: (e, name) => sql`${e}.fullkey || ${q(name)}`,
  value: at,
  elements: (loc, e) => sql`json_each(r.data, ${loc}) as ${e}`,
  elemValue: elem,
  elemOrder: (e) => sql`${e}.id`,
  // `is`, not `=`: an element without `primary` must rank with `primary: false` (NULL sorts below 0)
  isPrimary: (e) => sql`(json_type(r.data, ${e}.fullkey || '."primary"') is 'true')`,
  isObject: (loc) => sql`json_type(r.data, ${loc}) = 'object'`,
  undeclared: (b, uri, attr) => keyPath(b, keyPath(b, sql`${'$'}`, uri), attr),
  flatten: (b, loc) => ({
    some: (p) => {
      const e = b.alias('e')
      return sql`(coalesce(${p({ json: at(loc) })}, 0) or exists (select 1 from json_each(r.data, ${loc}) as ${e} where json_type(r.data, ${loc}) = 'array' and ${p({ json: elem(e) })}))`
    },
  }),
  flattenFirst: (b, loc, key) => {
    const e = b.alias('e')
    const first = key({ json: elem(e) })
    return sql`(case when json_type(r.data, ${loc}) = 'array' then (select ${first} from json_each(r.data, ${loc}) as ${e} where ${first} is not null order by ${e}.id limit 1) else ${key({ json: at(loc) })} end)`
  },
  field: (row, name) => sql`json_extract(${row}.data, ${sql.raw(`'$.${name}'`)})`,
  memberOrder: (m) => sql`${m}.rowid`,

  present: (val) => {
    if (!val.json) return val.known === 'string' ? sql`${val.v} <> ''` : sql`${val.v} is not null`
    const { jt, v } = val.json
    const t = sql.raw('t')
    return sql`(case when ${jt} in ('integer', 'real', 'true', 'false') then 1 when ${jt} = 'text' then ${v} <> '' when ${jt} in ('object', 'array') then exists (select 1 from json_tree(${v}) as ${t} where ${t}.type in ('integer', 'real', 'true', 'false') or (${t}.type = 'text' and ${t}.atom <> '')) else 0 end)`
  },
  typeOk,
  scalar: (val, t) =>
    t === 'boolean' && val.json
      ? sql`(case ${val.json.jt} when 'true' then 1 when 'false' then 0 else lower(${val.json.v}) = 'true' end)`
      : raw(val),
  guard: (val, t, x) => (val.json ? sql`(${typeOk(val, t)} and ${x})` : x),
  foldCase: (x) => sql`lower(${x})`,
  ordered: (x) => x,
  substring: (op, s, lit) => {
    const a = sql`cast(${s} as blob)`
    const l = sql`cast(${lit} as blob)`
    const n = Buffer.byteLength(lit, 'utf8')
    return op === 'co' ? sql`instr(${a}, ${l}) > 0` : op === 'sw' ? sql`substr(${a}, 1, ${n}) = ${l}` : sql`substr(${a}, ${-n}) = ${l}`
  },
  boolLit: (b) => sql`${b ? 1 : 0}`,
  numberLit: (n) => sql`${n}`,
  noNul: false,
  sortKey: (val, t, x) => (val.json ? sql`(case when ${typeOk(val, t)} then ${x} end)` : x),
}

export const { filterToSql, sortToSql, memberFilterToSql } = core.compilerFor(sqlite)
