/**
 * SCIM filter (RFC 7644 §3.4.2.2) → parameterised PostgreSQL over the users/groups tables (alias `r`) of
 * src/db/pg/schema.ts, and sortBy (§3.4.2.3) → an ORDER BY expression: the PostgreSQL twin of src/db/filter-sql.ts,
 * with the same contract (filterToSql, sortToSql, memberFilterToSql). The in-memory evaluator
 * (scim/filter/evaluate.ts) is the reference for both; test/db/pg-filter-sql.differential.test.ts checks this one
 * on random data like the SQLite one. Validation is shared, not repeated: compileFilter with the SQLite module's
 * filterResolver (so both stores give the same invalidFilter errors for the same filter), and the same folding
 * (foldFor: foldKey for the userName/displayName key columns, asciiFold for everything else).
 *
 * How the SQLite decisions translate:
 * - Every predicate is a boolean that may be NULL, NULL meaning false; `not` is `not coalesce(x, false)`.
 * - JSON: `data` is jsonb. A value is a jsonb expression (`r.data -> 'emails'`, NULL when absent) and is read
 *   through a typed accessor that yields NULL for the wrong JSON type — text of a jsonb string, numeric of a
 *   jsonb number, boolean of a jsonb boolean or of the strings "true"/"false" (ASCII case-insensitively), as the
 *   evaluator does. Casts sit inside CASE so they never run on the wrong type (PostgreSQL does not promise to
 *   evaluate AND/OR operands in order). Multi-valued attributes: jsonb_array_elements of the array (a non-array
 *   value counts as one element, like the evaluator's flatten). Undeclared extension attributes: exact key first,
 *   then the first key (in jsonb's own key order, which is also the order the evaluator sees after reading the row
 *   back) equal ASCII-case-insensitively; an array value is flattened.
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
 * - Group members / User groups: group_members rows; a group's first member (sortBy members.value) is the one
 *   with the lowest seq (group_members.seq replaces SQLite's rowid); ids are compared without folding (see
 *   src/db/filter-sql.ts).
 * - Not supported (invalidFilter), as in SQLite: meta.location, members.$ref, groups.$ref.
 */
import { sql, type SQL } from 'drizzle-orm'
import type { AttrPath, CompareOp, Filter, Literal } from '../../scim/filter/ast'
import { asciiFold, comparisonInfo, compileFilter, parseDateTime, type AttrInfo, type AttrResolver } from '../../scim/filter/evaluate'
import { formatAttrPath } from '../../scim/attr-path'
import { invalidFilter, invalidValue } from '../../scim/errors'
import type { ResolvedAttr } from '../../scim/schema/registry'
import { filterResolver, type FilterSqlContext } from '../filter-sql'

export type { FilterSqlContext } from '../filter-sql'

// ── values ───────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * One value as SQL: `j` a jsonb expression (NULL when absent), or `v` a typed column/expression (NULL = absent).
 */
interface Val {
  j?: SQL
  v?: SQL
  known?: 'string' | 'boolean' | 'number'
  /** the value is already folded the way the attribute folds (key columns, ids) */
  prefolded?: boolean
}

/** The values of an attribute path: some(p) is true when some value satisfies p (NULL counts as false). */
interface Src {
  some: (p: (v: Val) => SQL) => SQL
}

const one = (val: Val): Src => ({ some: (p) => p(val) })

type Builder = {
  ctx: FilterSqlContext
  resolve: AttrResolver
  alias: (prefix: string) => SQL
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

function not(x: SQL): SQL {
  return sql`(not coalesce(${x}, false))`
}

/** The array itself, or a one-element array of a non-array value; NULL when absent. */
const arrayOf = (j: SQL): SQL => sql`(case when jsonb_typeof(${j}) = 'array' then ${j} when ${j} is not null then jsonb_build_array(${j}) end)`

const jText = (j: SQL): SQL => sql`(case when jsonb_typeof(${j}) = 'string' then ${j} #>> '{}' end)`
const jNumeric = (j: SQL): SQL => sql`(case when jsonb_typeof(${j}) = 'number' then (${j})::numeric end)`
const jFloat = (j: SQL): SQL => sql`(case when jsonb_typeof(${j}) = 'number' then (${j})::float8 end)`
const jBool = (j: SQL): SQL =>
  sql`(case jsonb_typeof(${j}) when 'boolean' then (${j})::boolean when 'string' then (case ${fold(sql`${j} #>> '{}'`)} when 'true' then true when 'false' then false end) end)`

/** A JSON location; `multi` when it holds an array whose elements are the values. */
function jsonSrc(b: Builder, j: SQL, multi: boolean): Src {
  if (!multi) return one({ j })
  return {
    some: (p) => {
      const e = b.alias('e')
      return sql`exists (select 1 from jsonb_array_elements(${arrayOf(j)}) as ${e} where ${p({ j: sql`${e}.value` })})`
    },
  }
}

/**
 * The value under `name` in the object `parent`: exact key first, then the first key equal ASCII-case-insensitively.
 * `parent` is evaluated once (it may itself be a keyGet).
 */
function keyGet(b: Builder, parent: SQL, name: string): SQL {
  const p = b.alias('p')
  const k = b.alias('k')
  return sql`(select coalesce(${p}.v -> ${key(name)}, (select ${k}.value from jsonb_each(case when jsonb_typeof(${p}.v) = 'object' then ${p}.v end) with ordinality as ${k}(key, value, n) where ${fold(sql`${k}.key`)} = ${text(asciiFold(name))} order by ${k}.n limit 1)) from (select ${parent} as v) as ${p})`
}

/** Values of a location whose shape is unknown (undeclared extensions): the value itself, or an array's elements. */
function flattenSrc(b: Builder, j: SQL): Src {
  return {
    some: (p) => {
      const x = b.alias('x')
      const e = b.alias('e')
      const v = sql`${x}.v`
      return sql`exists (select 1 from (select ${j} as v) as ${x} where coalesce(${p({ j: v })}, false) or exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${v}) = 'array' then ${v} end) as ${e} where ${p({ j: sql`${e}.value` })}))`
    },
  }
}

function lookup(ctx: FilterSqlContext, c: AttrPath): ResolvedAttr | undefined {
  return ctx.registry.resolve(ctx.rt, c, { allowUndeclared: !ctx.strict })
}

const unsupported = (c: AttrPath) =>
  invalidFilter(`Filtering on '${formatAttrPath(c)}' is not supported (it depends on the request URL)`)

/** `meta` sub-attributes, from columns. */
function metaSub(ctx: FilterSqlContext, sub: string): Val {
  switch (sub) {
    case 'created':
      return { v: sql`r.created`, known: 'string' }
    case 'lastModified':
      return { v: sql`r.last_modified`, known: 'string' }
    case 'resourceType':
      return { v: text(ctx.kind), known: 'string' }
    case 'version':
      return { v: sql`('W/"' || r.version || '"')`, known: 'string' }
    default:
      throw unsupported({ attr: 'meta', sub })
  }
}

/** One element of Group.members (alias m) or User.groups (alias m joined to groups g). */
function memberSub(ctx: FilterSqlContext, sub: string, m: SQL, g: SQL): Val {
  if (ctx.kind === 'Group') {
    switch (sub) {
      case 'value':
        return { v: sql`${m}.member_id`, known: 'string', prefolded: true }
      case 'type':
        return { v: sql`${m}.member_type`, known: 'string' }
      case 'display':
        // as repo.listMembers renders it (a user's displayName, else userName; a group's displayName)
        return {
          v: sql`coalesce((select coalesce(u.data ->> 'displayName', u.data ->> 'userName') from users u where ${m}.member_type = 'User' and u.id = ${m}.member_id), (select g2.data ->> 'displayName' from groups g2 where ${m}.member_type = 'Group' and g2.id = ${m}.member_id))`,
          known: 'string',
        }
      default:
        throw unsupported({ attr: 'members', sub })
    }
  }
  switch (sub) {
    case 'value':
      return { v: sql`${m}.group_id`, known: 'string', prefolded: true }
    case 'display':
      return { v: sql`${g}.data ->> 'displayName'`, known: 'string' }
    case 'type':
      return { v: text('direct'), known: 'string' }
    default:
      throw unsupported({ attr: 'groups', sub })
  }
}

/** `r.id in (rows of the membership table where cond)`: Group.members or User.groups. */
function membership(b: Builder, cond: (m: SQL, g: SQL) => SQL): SQL {
  const m = b.alias('m')
  const g = b.alias('g')
  if (b.ctx.kind === 'Group') return sql`r.id in (select ${m}.group_id from group_members as ${m} where ${cond(m, g)})`
  return sql`r.id in (select ${m}.member_id from group_members as ${m} join groups as ${g} on ${g}.id = ${m}.group_id where ${cond(m, g)})`
}

const isMembership = (ctx: FilterSqlContext, c: AttrPath) =>
  c.uri === undefined && ((ctx.kind === 'Group' && c.attr === 'members') || (ctx.kind === 'User' && c.attr === 'groups'))

/** r.data -> uri -> attr (-> sub): the jsonb at a declared canonical path. */
function dataAt(c: AttrPath, withSub: boolean): SQL {
  let j = sql`r.data`
  if (c.uri !== undefined) j = sql`${j} -> ${key(c.uri)}`
  j = sql`${j} -> ${key(c.attr)}`
  if (withSub && c.sub !== undefined) j = sql`${j} -> ${key(c.sub)}`
  return j
}

/** The values of a canonical top-level path. */
function topSrc(b: Builder, c: AttrPath): Src {
  const { ctx } = b
  if (c.uri === undefined) {
    if (c.sub === undefined) {
      switch (c.attr) {
        case 'id':
          return one({ v: sql`r.id`, known: 'string' })
        case 'externalId':
          return one({ v: sql`r.external_id`, known: 'string' })
        case 'displayName':
          return one({ v: sql`r.display_name_key`, known: 'string', prefolded: true })
        case 'meta':
          return one({ v: sql`true`, known: 'boolean' }) // always present
      }
      if (ctx.kind === 'User' && c.attr === 'userName') return one({ v: sql`r.user_name_key`, known: 'string', prefolded: true })
      if (ctx.kind === 'User' && c.attr === 'active') return one({ v: sql`r.active`, known: 'boolean' })
    } else if (c.attr === 'meta') {
      return one(metaSub(ctx, c.sub))
    }
    if (isMembership(ctx, c)) {
      const sub = c.sub
      // the attribute itself (`members pr`): every rendered element has a value, so any row
      return { some: (p) => membership(b, (m, g) => p(sub === undefined ? { v: sql`true`, known: 'boolean' } : memberSub(ctx, sub, m, g))) }
    }
  }
  const r = lookup(ctx, c)
  if (!r) throw invalidFilter(`Unknown attribute '${formatAttrPath(c)}' in filter`)
  if (!r.declared) return flattenSrc(b, keyGet(b, keyGet(b, sql`r.data`, c.uri!), c.attr))
  if (c.sub === undefined) return jsonSrc(b, dataAt(c, false), r.def.multiValued)
  const top = r.parent!
  if (!top.multiValued) return jsonSrc(b, dataAt(c, true), r.def.multiValued)
  const sub = key(c.sub)
  return {
    some: (p) => {
      const e = b.alias('e')
      return sql`exists (select 1 from jsonb_array_elements(${arrayOf(dataAt(c, false))}) as ${e} where ${jsonSrc(b, sql`${e}.value -> ${sub}`, r.def.multiValued).some(p)})`
    },
  }
}

// ── predicates ───────────────────────────────────────────────────────────────────────────────────────────────

type T = AttrInfo['type']

/** The value as an SQL scalar of the attribute's type (text, numeric, boolean), NULL when absent or of another type. */
function typed(val: Val, t: T): SQL {
  if (!val.j) return val.v!
  switch (t) {
    case 'integer':
    case 'decimal':
      return jNumeric(val.j)
    case 'boolean':
      return jBool(val.j)
    default:
      return jText(val.j)
  }
}

function typeOk(val: Val, t: T): SQL {
  return sql`${typed(val, t)} is not null`
}

/** Something present anywhere inside a JSON object/array (a number, a boolean, or a non-empty string). */
const PRESENT_INSIDE = `strict $.** ? (@.type() == "number" || @.type() == "boolean" || (@.type() == "string" && @ != ""))`

/** RFC 7644 `pr` on one value (evaluate.ts isPresent). */
function present(val: Val): SQL {
  if (!val.j) return val.known === 'string' ? sql`${val.v} <> ''` : sql`${val.v} is not null`
  const j = val.j
  return sql`(case jsonb_typeof(${j}) when 'number' then true when 'boolean' then true when 'string' then (${j} #>> '{}') <> '' when 'object' then jsonb_path_exists(${j}, ${sql.raw(`'${PRESENT_INSIDE}'`)}) when 'array' then jsonb_path_exists(${j}, ${sql.raw(`'${PRESENT_INSIDE}'`)}) else false end)`
}

function boolLiteral(lit: Literal): boolean | undefined {
  if (typeof lit === 'boolean') return lit
  if (typeof lit === 'string') {
    const l = lit.toLowerCase()
    if (l === 'true') return true
    if (l === 'false') return false
  }
  return undefined
}

/** A dateTime literal as the toISOString() text it equals; beyond year 9999 a text above every stored value. */
function dateTimeLiteral(lit: string): string {
  const ms = parseDateTime(lit)
  if (ms === undefined) throw invalidFilter(`${JSON.stringify(lit)} is not a valid dateTime`)
  const iso = new Date(ms).toISOString()
  return iso.startsWith('+') ? '~' : iso
}

const ORDER_SQL: Partial<Record<CompareOp, string>> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }

/** Code points of a string (PostgreSQL's left/right count characters, not UTF-16 units). */
const codePoints = (s: string) => [...s].length

/** `values op lit` with the evaluator's semantics (valueTest in evaluate.ts); lit is not null here. */
function compareSrc(src: Src, declared: AttrInfo, op: CompareOp, lit: Exclude<Literal, null>): SQL {
  const info = comparisonInfo(declared, lit)
  const typedOk = (val: Val) => typeOk(val, info.type)
  let norm: (val: Val) => SQL
  let L: SQL
  let o = op
  switch (info.type) {
    case 'string':
    case 'reference':
    case 'binary': {
      const f = info.caseExact ? (s: string) => s : (info.fold ?? asciiFold)
      let s = f(lit as string)
      norm = (val) => {
        const x = typed(val, info.type)
        if (info.caseExact || val.prefolded) return C(x)
        if (info.fold && info.fold !== asciiFold)
          throw new Error(`pg filter-sql: '${formatAttrPath(info.canonical)}' folds with a custom function but is not stored folded`)
        return C(fold(x))
      }
      const nul = s.indexOf('\u0000')
      if (op === 'co' || op === 'sw' || op === 'ew') {
        if (s === '') return src.some(typedOk)
        if (nul >= 0) return sql`false` // nothing stored holds a NUL
        const n = codePoints(s)
        const l = text(s)
        return src.some((val) => {
          const a = norm(val)
          return op === 'co' ? sql`strpos(${a}, ${l}) > 0` : op === 'sw' ? sql`starts_with(${a}, ${l})` : sql`right(${a}, ${n}) = ${l}`
        })
      }
      if (nul >= 0) {
        // stored strings hold no NUL: compare with the part before it (see the header)
        if (op === 'eq') return sql`false`
        if (op === 'ne') return sql`true`
        s = s.slice(0, nul)
        o = op === 'gt' || op === 'ge' ? 'gt' : 'le'
      }
      L = C(text(s))
      break
    }
    case 'boolean':
      L = sql`${boolLiteral(lit) ? 'true' : 'false'}::boolean`
      norm = (val) => typed(val, 'boolean')
      break
    case 'integer':
    case 'decimal':
      L = sql`${String(lit as number)}::numeric`
      norm = (val) => typed(val, info.type)
      break
    case 'dateTime':
      L = C(text(dateTimeLiteral(lit as string)))
      norm = (val) => C(typed(val, 'dateTime'))
      break
    default:
      throw invalidFilter(`Cannot compare the complex attribute '${formatAttrPath(info.canonical)}' with a value`)
  }
  // norm(val) is NULL for a value of another type, so a comparison with it is NULL (false)
  const cmp = (val: Val, x: CompareOp) => sql`${norm(val)} ${sql.raw(ORDER_SQL[x]!)} ${L}`
  if (o === 'ne') {
    // no value of the attribute's type, or one that differs
    return sql`(${not(src.some(typedOk))} or coalesce(${src.some((val) => cmp(val, 'ne'))}, false))`
  }
  return src.some((val) => cmp(val, o))
}

// ── filters ──────────────────────────────────────────────────────────────────────────────────────────────────

/** Reading sub-attributes inside a value filter `attr[…]`. */
type Scope = (info: AttrInfo) => Src

interface Level {
  scope?: Scope
  parent?: AttrPath
}

function resolveFor(b: Builder, path: AttrPath, lv: Level, forCompare: boolean): AttrInfo {
  let info = b.resolve(path, lv.parent)
  if (!info) throw invalidFilter(`Unknown attribute '${formatAttrPath(path)}' in filter`)
  if (!lv.parent && forCompare && info.type === 'complex' && info.multiValued && path.sub === undefined) {
    info = b.resolve({ ...path, sub: 'value' })
    if (!info) throw invalidFilter(`Cannot compare '${formatAttrPath(path)}': it has no 'value' sub-attribute`)
  }
  return info
}

function build(b: Builder, f: Filter, lv: Level): SQL {
  switch (f.kind) {
    case 'and':
      return sql`(${build(b, f.left, lv)} and ${build(b, f.right, lv)})`
    case 'or':
      return sql`(${build(b, f.left, lv)} or ${build(b, f.right, lv)})`
    case 'not':
      return not(build(b, f.filter, lv))
    case 'present': {
      const info = resolveFor(b, f.path, lv, false)
      const src = lv.scope ? lv.scope(info) : topSrc(b, info.canonical)
      return src.some(present)
    }
    case 'compare': {
      const info = resolveFor(b, f.path, lv, true)
      const src = lv.scope ? lv.scope(info) : topSrc(b, info.canonical)
      if (f.value === null) {
        const pr = src.some(present)
        return f.op === 'eq' ? not(pr) : pr
      }
      return compareSrc(src, info, f.op, f.value)
    }
    case 'valuePath':
      return valuePath(b, f.path, f.filter)
  }
}

function valuePath(b: Builder, path: AttrPath, inner: Filter): SQL {
  const { ctx } = b
  const info = b.resolve(path)
  if (!info) throw invalidFilter(`Unknown attribute '${formatAttrPath(path)}' in filter`)
  const c = info.canonical
  const subName = (i: AttrInfo) => i.canonical.sub ?? i.canonical.attr
  if (c.uri === undefined && c.attr === 'meta') {
    return build(b, inner, { parent: c, scope: (i) => one(metaSub(ctx, subName(i))) })
  }
  if (isMembership(ctx, c)) {
    return membership(b, (m, g) => build(b, inner, { parent: c, scope: (i) => one(memberSub(ctx, subName(i), m, g)) }))
  }
  const r = lookup(ctx, c)
  if (!r || !r.declared) throw invalidFilter(`'${formatAttrPath(path)}' cannot take a value filter '[…]'`)
  const base = dataAt(c, false)
  const complex = r.def.type === 'complex'
  const subMulti = (i: AttrInfo) => Boolean(complex && ctx.registry.resolveSub(r, subName(i))?.def.multiValued)
  if (r.def.multiValued) {
    const e = b.alias('e')
    const scope: Scope = (i) =>
      complex
        ? jsonSrc(b, sql`${e}.value -> ${key(subName(i))}`, subMulti(i))
        : one({ j: sql`${e}.value` }) // `value` names the element of a multi-valued simple attribute
    return sql`exists (select 1 from jsonb_array_elements(${arrayOf(base)}) as ${e} where ${build(b, inner, { parent: c, scope })})`
  }
  const scope: Scope = (i) => jsonSrc(b, sql`${base} -> ${key(subName(i))}`, subMulti(i))
  return sql`(jsonb_typeof(${base}) = 'object' and coalesce(${build(b, inner, { parent: c, scope })}, false))`
}

function builder(ctx: FilterSqlContext): Builder {
  let n = 0
  return { ctx, resolve: filterResolver(ctx), alias: (prefix) => sql.raw(`${prefix}${++n}`) }
}

/**
 * The WHERE condition (over alias `r` of ctx.kind's table) selecting the resources `filter` matches.
 * Throws ScimError invalidFilter for unknown attributes and invalid comparisons (the evaluator's checks).
 */
export function filterToSql(ctx: FilterSqlContext, filter: Filter): SQL {
  const b = builder(ctx)
  compileFilter(filter, b.resolve) // validation only: identical errors to the in-memory evaluator and SQLite
  return build(b, filter, {})
}

// ── sorting ──────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * ORDER BY expression for sortBy: the same rules as src/db/filter-sql.ts sortToSql (see there for the RFC text):
 * NULL when a resource has no value; strings by code point (collate "C"), ASCII-folded unless caseExact; numbers as
 * float8, booleans as 0/1, dateTimes as text; a multi-valued attribute by its primary element, else its first.
 */
export function sortToSql(ctx: FilterSqlContext, path: AttrPath): SQL {
  const b = builder(ctx)
  let info = b.resolve(path)
  if (!info) {
    if (ctx.strict) throw invalidValue(`Unknown attribute '${formatAttrPath(path)}' in sortBy`)
    return sql`null`
  }
  if (info.type === 'complex') {
    const valueInfo = info.multiValued && path.sub === undefined ? b.resolve({ ...path, sub: 'value' }) : undefined
    if (!valueInfo)
      throw invalidValue(`sortBy '${formatAttrPath(path)}' is a complex attribute: name a sub-attribute (e.g. '${formatAttrPath(path)}.value')`)
    info = valueInfo
  }
  const t = info.type
  const c = info.canonical
  const norm = (val: Val): SQL => {
    switch (t) {
      case 'boolean':
        return sql`(${typed(val, 'boolean')})::int`
      case 'integer':
      case 'decimal':
        return val.j ? jFloat(val.j) : sql`(${val.v})::float8`
      case 'dateTime':
        return C(typed(val, t))
      default:
        return info.caseExact || val.prefolded ? C(typed(val, t)) : C(fold(typed(val, t)))
    }
  }
  if (c.uri === undefined && c.attr === 'meta' && c.sub === 'version') return sql`r.version`
  if (isMembership(ctx, c)) {
    const m = b.alias('m')
    const g = b.alias('g')
    const v = norm(memberSub(ctx, c.sub ?? 'value', m, g))
    if (ctx.kind === 'Group') return sql`(select ${v} from group_members as ${m} where ${m}.group_id = r.id order by ${m}.seq limit 1)`
    return sql`(select ${v} from group_members as ${m} join groups as ${g} on ${g}.id = ${m}.group_id where ${m}.member_id = r.id order by ${m}.group_id limit 1)`
  }
  const r = lookup(ctx, c)
  if (!r) return sql`null`
  if (!r.declared) {
    // kept verbatim: the value itself, or an array's first element of the right type
    const e = b.alias('e')
    const x = b.alias('x')
    const v = sql`${x}.v`
    const elem = norm({ j: sql`${e}.value` })
    return sql`(select case when jsonb_typeof(${v}) = 'array' then (select ${elem} from jsonb_array_elements(${v}) with ordinality as ${e}(value, n) where ${elem} is not null order by ${e}.n limit 1) else ${norm({ j: v })} end from (select ${keyGet(b, keyGet(b, sql`r.data`, c.uri!), c.attr)} as v) as ${x})`
  }
  if (!r.def.multiValued && !r.parent?.multiValued) {
    // single-valued (columns included): its one value
    let value: SQL | undefined
    topSrc(b, c).some((val) => ((value = norm(val)), sql`true`))
    return value!
  }
  const e = b.alias('e')
  if (r.parent?.multiValued) {
    // multi-valued complex: the primary element's sub-attribute, else the first element's
    const v = norm({ j: sql`${e}.value -> ${key(c.sub!)}` })
    const hasPrimary = r.parent.subAttributes?.some((s) => s.name === 'primary' && s.type === 'boolean')
    const primaryFirst = hasPrimary ? sql`coalesce(${e}.value -> 'primary' = 'true'::jsonb, false) desc, ` : sql``
    return sql`(select ${v} from jsonb_array_elements(${arrayOf(dataAt(c, false))}) with ordinality as ${e}(value, n) where ${v} is not null order by ${primaryFirst}${e}.n limit 1)`
  }
  // multi-valued simple (possibly a sub-attribute of a single-valued complex): the first value
  const v = norm({ j: sql`${e}.value` })
  return sql`(select ${v} from jsonb_array_elements(${arrayOf(dataAt(c, true))}) with ordinality as ${e}(value, n) where ${v} is not null order by ${e}.n limit 1)`
}

/**
 * The condition over one group_members row (alias `m`) for a Group value filter `members[inner]` — for PATCH
 * `remove members[value eq "x"]`. Same validation and semantics as filterToSql.
 */
export function memberFilterToSql(ctx: Omit<FilterSqlContext, 'kind'>, inner: Filter): SQL {
  const c: FilterSqlContext = { ...ctx, kind: 'Group' }
  const b = builder(c)
  const parent: AttrPath = { attr: 'members' }
  compileFilter({ kind: 'valuePath', path: parent, filter: inner }, b.resolve)
  const m = sql.raw('m')
  return build(b, inner, { parent, scope: (i) => one(memberSub(c, i.canonical.sub ?? i.canonical.attr, m, m)) })
}
