/**
 * SCIM filter → PostgreSQL condition and sortBy → ORDER BY over the users/groups tables (alias `r`) of
 * src/db/pg/schema.ts: the PostgreSQL dialect of src/db/filter-core.ts, with the same contract as the SQLite one
 * (filterToSql, sortToSql, memberFilterToSql) and the same validation and folding (filterResolver, foldFor), so
 * both stores give the same answers and the same invalidFilter errors for the same filter. How the shared
 * decisions are written in PostgreSQL:
 *
 * - Booleans: every predicate is a boolean that may be NULL, NULL meaning false; `not` is `not coalesce(x, false)`.
 * - JSON: `data` is jsonb. A location is a jsonb expression (`r.data -> 'emails'`, keys bound as text parameters,
 *   NULL when absent) and is read through a typed accessor that yields NULL for the wrong JSON type — text of a
 *   jsonb string, numeric of a jsonb number, boolean of a jsonb boolean or of the strings "true"/"false" (ASCII
 *   case-insensitively), as the evaluator does. Casts sit inside CASE so they never run on the wrong type
 *   (PostgreSQL does not promise to evaluate AND/OR operands in order). Multi-valued attributes:
 *   jsonb_array_elements of the array (a non-array value counts as one element, like the evaluator's flatten).
 *   Undeclared extension attributes: exact key first, then the first key (in jsonb's own key order, which is also
 *   the order the evaluator sees after reading the row back) equal ASCII-case-insensitively; an array value is
 *   flattened.
 * - Case: caseExact=false → translate(x, 'A…Z', 'a…z'): ASCII only, exactly asciiFold. Never lower(): its result
 *   depends on the collation/ctype (an ICU or en_US database lowers 'É' too). The *_key columns are compared
 *   as stored, with the literal folded by foldKey in JS (their b-tree indexes serve eq and ranges).
 * - Order: every string comparison and sort key is `collate "C"` (code-point order = UTF-8 byte order, SQLite's
 *   BINARY, compareCodePoints). Text columns are declared COLLATE "C" already (schema.ts); text taken out of jsonb
 *   and built text (meta.version) would otherwise carry the database default collation.
 * - co/sw/ew: strpos()/starts_with()/right() with the literal's length in code points (never LIKE). All three are
 *   byte comparisons under a deterministic collation.
 * - NUL: PostgreSQL text and jsonb cannot hold U+0000 (and a parameter holding it is refused), so no stored
 *   string contains one: a string literal with a NUL compiles without sending it — eq/co/sw/ew are false, ne is
 *   true, and gt/ge/lt/le compare with the part before the first NUL (s > "p\0…" ⟺ s > "p"; s < "p\0…" ⟺ s ≤ "p").
 *   The store must refuse NUL in data (a SCIM 400), since PostgreSQL would fail the write.
 * - Numbers: jsonb numbers are exact numerics; the literal is sent as its JS text (shortest round-trip form) cast
 *   to numeric, so comparisons agree with the evaluator's doubles for every value that came from JSON.parse.
 *   Sort keys of numbers are float8 and of booleans 0/1 integers, so that they come back from the driver as JS
 *   numbers as they do from SQLite (numeric and int8 come back as strings).
 * - dateTime: as in SQLite, the literal normalised to toISOString() text and compared as text (collate "C").
 * - Group members: a group's first member (sortBy members.value) is the one with the lowest seq
 *   (group_members.seq replaces SQLite's rowid).
 */
import { sql, type SQL } from 'drizzle-orm'
import { invalidFilter } from '../../scim/errors'
import { asciiFold } from '../../scim/filter/evaluate'
import * as core from '../filter-core'
import type { Builder, Dialect, Val } from '../filter-core'

export type { FilterSqlContext } from '../filter-core'

/** A value inside `data`: a jsonb expression, NULL when absent. */
interface J {
  j: SQL
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'
/** asciiFold in SQL: A–Z → a–z and nothing else, whatever the database's collation and ctype. */
const fold = (x: SQL): SQL => sql`translate(${x}, ${sql.raw(`'${UPPER}'`)}, ${sql.raw(`'${LOWER}'`)})`
const C = (x: SQL): SQL => sql`(${x}) collate "C"`
const text = (s: string): SQL => sql`${s}::text`

/** A key of a JSON object, as a bound parameter (names as in src/db/filter-sql.ts: a '"' is refused there too). */
function key(name: string): SQL {
  if (name.includes('"')) throw invalidFilter(`Attribute name '${name}' cannot be used in a filter`)
  return text(name)
}

/** The array itself, or a one-element array of a non-array value; NULL when absent. */
const arrayOf = (j: SQL): SQL => sql`(case when jsonb_typeof(${j}) = 'array' then ${j} when ${j} is not null then jsonb_build_array(${j}) end)`

const jText = (j: SQL): SQL => sql`(case when jsonb_typeof(${j}) = 'string' then ${j} #>> '{}' end)`
const jNumeric = (j: SQL): SQL => sql`(case when jsonb_typeof(${j}) = 'number' then (${j})::numeric end)`
const jFloat = (j: SQL): SQL => sql`(case when jsonb_typeof(${j}) = 'number' then (${j})::float8 end)`
const jBool = (j: SQL): SQL =>
  sql`(case jsonb_typeof(${j}) when 'boolean' then (${j})::boolean when 'string' then (case ${fold(sql`${j} #>> '{}'`)} when 'true' then true when 'false' then false end) end)`

/**
 * The value under `name` in the object `parent`: exact key first, then the first key equal ASCII-case-insensitively.
 * `parent` is evaluated once (it may itself be a keyGet).
 */
function keyGet(b: Builder<J>, parent: SQL, name: string): SQL {
  const p = b.alias('p')
  const k = b.alias('k')
  return sql`(select coalesce(${p}.v -> ${key(name)}, (select ${k}.value from jsonb_each(case when jsonb_typeof(${p}.v) = 'object' then ${p}.v end) with ordinality as ${k}(key, value, n) where ${fold(sql`${k}.key`)} = ${text(asciiFold(name))} order by ${k}.n limit 1)) from (select ${parent} as v) as ${p})`
}

/** The value as an SQL scalar of the attribute's type (text, numeric, boolean), NULL when absent or of another type. */
function typed(val: Val<J>, t: core.T): SQL {
  if (!val.json) return val.v!
  switch (t) {
    case 'integer':
    case 'decimal':
      return jNumeric(val.json.j)
    case 'boolean':
      return jBool(val.json.j)
    default:
      return jText(val.json.j)
  }
}

/** Something present anywhere inside a JSON object/array (a number, a boolean, or a non-empty string). */
const PRESENT_INSIDE = `strict $.** ? (@.type() == "number" || @.type() == "boolean" || (@.type() == "string" && @ != ""))`

const postgres: Dialect<J> = {
  name: 'pg filter-sql',
  true: sql`true`,
  false: sql`false`,
  always: { v: sql`true`, known: 'boolean' },
  text,

  at: (c, withSub) => {
    let j = sql`r.data`
    if (c.uri !== undefined) j = sql`${j} -> ${key(c.uri)}`
    j = sql`${j} -> ${key(c.attr)}`
    if (withSub && c.sub !== undefined) j = sql`${j} -> ${key(c.sub)}`
    return j
  },
  elemChild: (e, name) => sql`${e}.value -> ${key(name)}`,
  value: (j) => ({ j }),
  elements: (loc, e, ordered) =>
    ordered ? sql`jsonb_array_elements(${arrayOf(loc)}) with ordinality as ${e}(value, n)` : sql`jsonb_array_elements(${arrayOf(loc)}) as ${e}`,
  elemValue: (e) => ({ j: sql`${e}.value` }),
  elemOrder: (e) => sql`${e}.n`,
  isPrimary: (e) => sql`coalesce(${e}.value -> 'primary' = 'true'::jsonb, false)`,
  isObject: (loc) => sql`jsonb_typeof(${loc}) = 'object'`,
  undeclared: (b, uri, attr) => keyGet(b, keyGet(b, sql`r.data`, uri), attr),
  flatten: (b, j) => ({
    some: (p) => {
      const x = b.alias('x')
      const e = b.alias('e')
      const v = sql`${x}.v`
      return sql`exists (select 1 from (select ${j} as v) as ${x} where coalesce(${p({ json: { j: v } })}, false) or exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${v}) = 'array' then ${v} end) as ${e} where ${p({ json: { j: sql`${e}.value` } })}))`
    },
  }),
  flattenFirst: (b, j, sortKey) => {
    const e = b.alias('e')
    const x = b.alias('x')
    const v = sql`${x}.v`
    const first = sortKey({ json: { j: sql`${e}.value` } })
    return sql`(select case when jsonb_typeof(${v}) = 'array' then (select ${first} from jsonb_array_elements(${v}) with ordinality as ${e}(value, n) where ${first} is not null order by ${e}.n limit 1) else ${sortKey({ json: { j: v } })} end from (select ${j} as v) as ${x})`
  },
  field: (row, name) => sql`${row}.data ->> ${sql.raw(`'${name}'`)}`,
  memberOrder: (m) => sql`${m}.seq`,

  present: (val) => {
    if (!val.json) return val.known === 'string' ? sql`${val.v} <> ''` : sql`${val.v} is not null`
    const j = val.json.j
    return sql`(case jsonb_typeof(${j}) when 'number' then true when 'boolean' then true when 'string' then (${j} #>> '{}') <> '' when 'object' then jsonb_path_exists(${j}, ${sql.raw(`'${PRESENT_INSIDE}'`)}) when 'array' then jsonb_path_exists(${j}, ${sql.raw(`'${PRESENT_INSIDE}'`)}) else false end)`
  },
  typeOk: (val, t) => sql`${typed(val, t)} is not null`,
  scalar: typed,
  // typed() is NULL for a value of another type, so a test on it is NULL (false)
  guard: (_val, _t, x) => x,
  foldCase: fold,
  ordered: C,
  substring: (op, a, lit) => {
    const l = text(lit)
    // PostgreSQL's right() counts characters (code points), not UTF-16 units
    return op === 'co' ? sql`strpos(${a}, ${l}) > 0` : op === 'sw' ? sql`starts_with(${a}, ${l})` : sql`right(${a}, ${[...lit].length}) = ${l}`
  },
  boolLit: (b) => sql`${b ? 'true' : 'false'}::boolean`,
  numberLit: (n) => sql`${String(n)}::numeric`,
  noNul: true,
  sortKey: (val, t, x) => {
    switch (t) {
      case 'boolean':
        return sql`(${x})::int`
      case 'integer':
      case 'decimal':
        return val.json ? jFloat(val.json.j) : sql`(${val.v})::float8`
      default:
        return x
    }
  },
}

export const { filterToSql, sortToSql, memberFilterToSql } = core.compilerFor(postgres)
