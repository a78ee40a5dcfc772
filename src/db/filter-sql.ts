/**
 * SCIM filter (RFC 7644 §3.4.2.2) → parameterised SQLite over the users/groups tables (alias `r`), and sortBy
 * (§3.4.2.3) → an ORDER BY expression. The in-memory evaluator (scim/filter/evaluate.ts) is the reference: this
 * back end mirrors its decisions exactly (test/db/filter-sql.differential.test.ts checks it on random data).
 *
 * - Validation: the whole filter first goes through compileFilter(filter, filterResolver(ctx)), so unknown
 *   attributes and bad operator/type combinations fail with the evaluator's invalidFilter messages, whatever the data.
 * - Values are always bound parameters; JSON paths are bound too (built from canonical schema names, quoted
 *   `$."name"`). Generated table aliases (`e1`, `k2`, …) are the only raw SQL besides fixed text.
 * - Every predicate is an SQL boolean that is 1, 0, or NULL where NULL means "false"; `and`/`or` keep that reading,
 *   and `not` turns its operand two-valued first (`not coalesce(x, 0)`), so `not (title eq "x")` holds for a user
 *   without a title (SQL three-valued logic would drop it).
 * - Where values live: id, externalId, meta.created, meta.lastModified, active → columns; userName/displayName →
 *   the *_key columns holding foldKey() (the literal is folded the same way; filterResolver gives the evaluator
 *   foldKey for these two); meta.resourceType → the kind; meta.version → 'W/"<version>"'; Group members and User
 *   groups → group_members rows; everything else → `data` JSON via json_extract/json_each/json_tree, relying on
 *   the canonical form written by validateResource (exact key names, multi-valued attributes stored as arrays,
 *   values of the declared type). Undeclared extension attributes (kept verbatim) are looked up like the evaluator
 *   does: exact key first, then case-insensitively (ASCII), and an array value is flattened.
 * - Types: a stored value of the wrong JSON type counts as absent (json_type 'text' for strings/references/binary/
 *   dateTimes, 'integer'/'real' for numbers, 'true'/'false' — or the strings "true"/"false" — for booleans).
 * - Strings: caseExact=false → lower() on the value (ASCII, as asciiFold) and the literal folded in JS; ordering
 *   compares TEXT with the BINARY collation (memcmp of UTF-8 = code point order, like compareCodePoints);
 *   co/sw/ew use instr()/substr() on BLOB casts (byte-exact, embedded NULs included; never LIKE).
 * - dateTime: the literal is normalised (parseDateTime → toISOString) and compared as a string with stored values,
 *   which are toISOString() output for declared dateTime attributes and the meta columns.
 * - ids: group_members.member_id/group_id are compared without lower() although members.value and groups.value
 *   are caseExact=false: ids are server-assigned UUIDv7 text (lower-case hex), so lower(id) = id and the
 *   member_id / primary-key indexes stay usable. If ids ever admit upper-case ASCII, wrap them in lower().
 * - Not supported (invalidFilter, although the evaluator accepts them): meta.location, members.$ref, groups.$ref
 *   (they depend on the request's base URL).
 */
import { sql, type SQL } from 'drizzle-orm'
import type { AttrPath, CompareOp, Filter, Literal } from '../scim/filter/ast'
import { asciiFold, comparisonInfo, compileFilter, parseDateTime, type AttrInfo, type AttrResolver } from '../scim/filter/evaluate'
import { formatAttrPath } from '../scim/attr-path'
import { invalidFilter, invalidValue } from '../scim/errors'
import type { ResolvedAttr, SchemaRegistry } from '../scim/schema/registry'
import { registryResolver } from '../scim/schema/resolver'
import type { ResourceTypeDef } from '../scim/schema/types'
import { foldKey } from '../scim/text'
import type { Kind } from './repo'

export interface FilterSqlContext {
  registry: SchemaRegistry
  rt: ResourceTypeDef
  kind: Kind
  /** strict: URN-qualified attributes of undeclared extensions are unknown attributes. */
  strict: boolean
}

/** The folding the store uses per canonical path: foldKey for the indexed userName/displayName keys. */
export function foldFor(c: AttrPath): ((s: string) => string) | undefined {
  if (c.uri === undefined && c.sub === undefined && (c.attr === 'userName' || c.attr === 'displayName')) return foldKey
  return undefined
}

/** The evaluator's resolver that agrees with this back end (the SQL reference semantics). */
export function filterResolver(ctx: Pick<FilterSqlContext, 'registry' | 'rt' | 'strict'>): AttrResolver {
  return registryResolver(ctx.registry, ctx.rt, { strict: ctx.strict, foldFor })
}

// ── values ───────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * One value as SQL. With `jt` it comes from JSON: jt is its json_type ('text', 'integer', …; NULL when absent)
 * and v its SQL value (JSON text for objects/arrays). Without `jt` it is a column of a known type, NULL = absent.
 */
interface Val {
  v: SQL
  jt?: SQL
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

const q = (name: string): string => {
  if (name.includes('"')) throw invalidFilter(`Attribute name '${name}' cannot be used in a filter`)
  return `."${name}"`
}

function not(x: SQL): SQL {
  return sql`(not coalesce(${x}, 0))`
}

/** A JSON location (path expression over r.data); `multi` when it holds an array whose elements are the values. */
function jsonSrc(b: Builder, path: SQL, multi: boolean): Src {
  if (!multi) return one({ jt: sql`json_type(r.data, ${path})`, v: sql`json_extract(r.data, ${path})` })
  return {
    some: (p) => {
      const e = b.alias('e')
      return sql`exists (select 1 from json_each(r.data, ${path}) as ${e} where ${p({ jt: sql`${e}.type`, v: sql`${e}.value` })})`
    },
  }
}

/** A path expression for `name` inside the object at `parent`: exact key first, then ASCII case-insensitively. */
function keyPath(b: Builder, parent: SQL, name: string): SQL {
  const k1 = b.alias('k')
  const k2 = b.alias('k')
  return sql`coalesce((select ${k1}.fullkey from json_each(r.data, ${parent}) as ${k1} where ${k1}.key = ${name}), (select ${k2}.fullkey from json_each(r.data, ${parent}) as ${k2} where lower(${k2}.key) = ${asciiFold(name)} order by ${k2}.id limit 1))`
}

/** Values of a location whose shape is unknown (undeclared extensions): the value itself, or an array's elements. */
function flattenSrc(b: Builder, path: SQL): Src {
  return {
    some: (p) => {
      const e = b.alias('e')
      return sql`(coalesce(${p({ jt: sql`json_type(r.data, ${path})`, v: sql`json_extract(r.data, ${path})` })}, 0) or exists (select 1 from json_each(r.data, ${path}) as ${e} where json_type(r.data, ${path}) = 'array' and ${p({ jt: sql`${e}.type`, v: sql`${e}.value` })}))`
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
      return { v: sql`${ctx.kind}`, known: 'string' }
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
        // as repo.listMembers renders it
        return {
          v: sql`coalesce((select coalesce(json_extract(u.data, '$.displayName'), json_extract(u.data, '$.userName')) from users u where ${m}.member_type = 'User' and u.id = ${m}.member_id), (select json_extract(g2.data, '$.displayName') from groups g2 where ${m}.member_type = 'Group' and g2.id = ${m}.member_id))`,
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
      return { v: sql`json_extract(${g}.data, '$.displayName')`, known: 'string' }
    case 'type':
      return { v: sql`${'direct'}`, known: 'string' }
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
          return one({ v: sql`1`, known: 'number' }) // always present
      }
      if (ctx.kind === 'User' && c.attr === 'userName') return one({ v: sql`r.user_name_key`, known: 'string', prefolded: true })
      if (ctx.kind === 'User' && c.attr === 'active') return one({ v: sql`r.active`, known: 'boolean' })
    } else if (c.attr === 'meta') {
      return one(metaSub(ctx, c.sub))
    }
    if (isMembership(ctx, c)) {
      const sub = c.sub
      // the attribute itself (`members pr`): every rendered element has a value, so any row
      return { some: (p) => membership(b, (m, g) => p(sub === undefined ? { v: sql`1`, known: 'number' } : memberSub(ctx, sub, m, g))) }
    }
  }
  const r = lookup(ctx, c)
  if (!r) throw invalidFilter(`Unknown attribute '${formatAttrPath(c)}' in filter`)
  if (!r.declared) {
    const urn = keyPath(b, sql`${'$'}`, c.uri!)
    return flattenSrc(b, keyPath(b, urn, c.attr))
  }
  const base = '$' + (c.uri !== undefined ? q(c.uri) : '') + q(c.attr)
  if (c.sub === undefined) return jsonSrc(b, sql`${base}`, r.def.multiValued)
  const top = r.parent!
  if (!top.multiValued) return jsonSrc(b, sql`${base + q(c.sub)}`, r.def.multiValued)
  const subKey = q(c.sub)
  return {
    some: (p) => {
      const e = b.alias('e')
      return sql`exists (select 1 from json_each(r.data, ${base}) as ${e} where ${jsonSrc(b, sql`${e}.fullkey || ${subKey}`, r.def.multiValued).some(p)})`
    },
  }
}

// ── predicates ───────────────────────────────────────────────────────────────────────────────────────────────

type T = AttrInfo['type']

function typeOk(val: Val, t: T): SQL {
  if (!val.jt) return sql`${val.v} is not null`
  switch (t) {
    case 'integer':
    case 'decimal':
      return sql`${val.jt} in ('integer', 'real')`
    case 'boolean':
      return sql`(${val.jt} in ('true', 'false') or (${val.jt} = 'text' and lower(${val.v}) in ('true', 'false')))`
    default:
      return sql`${val.jt} = 'text'`
  }
}

/** RFC 7644 `pr` on one value (evaluate.ts isPresent). */
function present(val: Val): SQL {
  if (!val.jt) return val.known === 'string' ? sql`${val.v} <> ''` : sql`${val.v} is not null`
  const t = sql.raw('t')
  return sql`(case when ${val.jt} in ('integer', 'real', 'true', 'false') then 1 when ${val.jt} = 'text' then ${val.v} <> '' when ${val.jt} in ('object', 'array') then exists (select 1 from json_tree(${val.v}) as ${t} where ${t}.type in ('integer', 'real', 'true', 'false') or (${t}.type = 'text' and ${t}.atom <> '')) else 0 end)`
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

/** `values op lit` with the evaluator's semantics (valueTest in evaluate.ts); lit is not null here. */
function compareSrc(src: Src, declared: AttrInfo, op: CompareOp, lit: Exclude<Literal, null>): SQL {
  const info = comparisonInfo(declared, lit)
  let norm: (val: Val) => SQL
  let L: string | number
  switch (info.type) {
    case 'string':
    case 'reference':
    case 'binary': {
      const fold = info.caseExact ? (s: string) => s : (info.fold ?? asciiFold)
      L = fold(lit as string)
      norm = (val) => {
        if (info.caseExact || val.prefolded) return val.v
        if (info.fold && info.fold !== asciiFold)
          throw new Error(`filter-sql: '${formatAttrPath(info.canonical)}' folds with a custom function but is not stored folded`)
        return sql`lower(${val.v})`
      }
      if (op === 'co' || op === 'sw' || op === 'ew') {
        const lit2 = L
        const n = Buffer.byteLength(lit2, 'utf8')
        const test = (val: Val): SQL => {
          if (n === 0) return typeOk(val, info.type)
          const a = sql`cast(${norm(val)} as blob)`
          const l = sql`cast(${lit2} as blob)`
          const t =
            op === 'co' ? sql`instr(${a}, ${l}) > 0` : op === 'sw' ? sql`substr(${a}, 1, ${n}) = ${l}` : sql`substr(${a}, ${-n}) = ${l}`
          return val.jt ? sql`(${typeOk(val, info.type)} and ${t})` : t
        }
        return src.some(test)
      }
      break
    }
    case 'boolean': {
      L = boolLiteral(lit) ? 1 : 0
      norm = (val) =>
        val.jt ? sql`(case ${val.jt} when 'true' then 1 when 'false' then 0 else lower(${val.v}) = 'true' end)` : val.v
      break
    }
    case 'integer':
    case 'decimal':
      L = lit as number
      norm = (val) => val.v
      break
    case 'dateTime':
      L = dateTimeLiteral(lit as string)
      norm = (val) => val.v
      break
    default:
      throw invalidFilter(`Cannot compare the complex attribute '${formatAttrPath(info.canonical)}' with a value`)
  }
  const cmp = (val: Val, o: CompareOp) => sql`${norm(val)} ${sql.raw(ORDER_SQL[o]!)} ${L}`
  const typed = (val: Val, x: SQL) => (val.jt ? sql`(${typeOk(val, info.type)} and ${x})` : x)
  if (op === 'ne') {
    // no value of the attribute's type, or one that differs
    return sql`(${not(src.some((val) => typeOk(val, info.type)))} or coalesce(${src.some((val) => typed(val, cmp(val, 'ne')))}, 0))`
  }
  return src.some((val) => typed(val, cmp(val, op)))
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
  const base = '$' + (c.uri !== undefined ? q(c.uri) : '') + q(c.attr)
  const complex = r.def.type === 'complex'
  const subMulti = (i: AttrInfo) => Boolean(complex && ctx.registry.resolveSub(r, subName(i))?.def.multiValued)
  if (r.def.multiValued) {
    const e = b.alias('e')
    const scope: Scope = (i) =>
      complex
        ? jsonSrc(b, sql`${e}.fullkey || ${q(subName(i))}`, subMulti(i))
        : one({ jt: sql`${e}.type`, v: sql`${e}.value` }) // `value` names the element of a multi-valued simple attribute
    return sql`exists (select 1 from json_each(r.data, ${base}) as ${e} where ${build(b, inner, { parent: c, scope })})`
  }
  const scope: Scope = (i) => jsonSrc(b, sql`${base + q(subName(i))}`, subMulti(i))
  return sql`(json_type(r.data, ${base}) = 'object' and coalesce(${build(b, inner, { parent: c, scope })}, 0))`
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
  compileFilter(filter, b.resolve) // validation only: identical errors to the in-memory evaluator
  return build(b, filter, {})
}

// ── sorting ──────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * ORDER BY expression for sortBy (RFC 7644 §3.4.2.3): NULL when a resource has no value (repo.listResources
 * orders those apart). Strings sort case-insensitively (ASCII lower(), or the folded key columns) unless caseExact,
 * by code point; wrong-typed stored values count as no value.
 *
 * §3.4.2.3: "if it's a multi-valued attribute, resources are sorted by the value of the primary attribute (see
 * Section 2.4 of [RFC7643]), if any, or else the first value in the list, if any" — a multi-valued complex
 * attribute named without a sub-attribute sorts by its `value`. Group members and User groups have no primary:
 * the first as rendered (members in insertion order, groups by id).
 * §3.4.2.3: "If the attribute is complex, the attribute name must be a path to a sub-attribute in standard
 * attribute notation" — `sortBy=name` → 400 invalidValue.
 *
 * Unknown attribute: §3.4.2.3 has no error for it; it says "For all attribute types, if there is no data for the
 * specified "sortBy" value, they are sorted via the "sortOrder" parameter, i.e., they are ordered last if
 * ascending and first if descending." An attribute the schema does not define has no data in any resource, so
 * every resource ties and the order is the tie-break (id): we return SQL NULL rather than failing the request.
 * In strict mode an unknown attribute is refused (400 invalidValue) so that typos surface.
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
  const c = info.canonical
  const norm = (val: Val): SQL => {
    const typed = val.jt ? typeOk(val, info.type) : undefined
    let v: SQL
    switch (info.type) {
      case 'boolean':
        v = val.jt ? sql`(case ${val.jt} when 'true' then 1 when 'false' then 0 else lower(${val.v}) = 'true' end)` : val.v
        break
      case 'integer':
      case 'decimal':
      case 'dateTime':
        v = val.v
        break
      default:
        v = info.caseExact || val.prefolded ? val.v : sql`lower(${val.v})`
    }
    return typed ? sql`(case when ${typed} then ${v} end)` : v
  }
  if (c.uri === undefined && c.attr === 'meta' && c.sub === 'version') return sql`r.version`
  if (isMembership(ctx, c)) {
    const m = b.alias('m')
    const g = b.alias('g')
    const v = norm(memberSub(ctx, c.sub ?? 'value', m, g))
    if (ctx.kind === 'Group') return sql`(select ${v} from group_members as ${m} where ${m}.group_id = r.id order by ${m}.rowid limit 1)`
    return sql`(select ${v} from group_members as ${m} join groups as ${g} on ${g}.id = ${m}.group_id where ${m}.member_id = r.id order by ${m}.group_id limit 1)`
  }
  const r = lookup(ctx, c)
  if (!r) return sql`null`
  if (!r.declared) {
    // kept verbatim: the value itself, or an array's first element of the right type
    const e = b.alias('e')
    const p = keyPath(b, keyPath(b, sql`${'$'}`, c.uri!), c.attr)
    const elem = norm({ jt: sql`${e}.type`, v: sql`${e}.value` })
    const self = norm({ jt: sql`json_type(r.data, ${p})`, v: sql`json_extract(r.data, ${p})` })
    return sql`(case when json_type(r.data, ${p}) = 'array' then (select ${elem} from json_each(r.data, ${p}) as ${e} where ${elem} is not null order by ${e}.id limit 1) else ${self} end)`
  }
  const base = '$' + (c.uri !== undefined ? q(c.uri) : '') + q(c.attr)
  if (!r.def.multiValued && !r.parent?.multiValued) {
    // single-valued (columns included): its one value
    let value: SQL | undefined
    topSrc(b, c).some((val) => ((value = norm(val)), sql`1`))
    return value!
  }
  const e = b.alias('e')
  if (r.parent?.multiValued) {
    // multi-valued complex: the primary element's sub-attribute, else the first element's
    const subPath = sql`${e}.fullkey || ${q(c.sub!)}`
    const v = norm({ jt: sql`json_type(r.data, ${subPath})`, v: sql`json_extract(r.data, ${subPath})` })
    const hasPrimary = r.parent.subAttributes?.some((s) => s.name === 'primary' && s.type === 'boolean')
    const primaryFirst = hasPrimary ? sql`(json_type(r.data, ${e}.fullkey || '."primary"') = 'true') desc, ` : sql``
    return sql`(select ${v} from json_each(r.data, ${base}) as ${e} where ${v} is not null order by ${primaryFirst}${e}.id limit 1)`
  }
  // multi-valued simple (possibly a sub-attribute of a single-valued complex): the first value
  const arr = c.sub === undefined ? base : base + q(c.sub)
  const v = norm({ jt: sql`${e}.type`, v: sql`${e}.value` })
  return sql`(select ${v} from json_each(r.data, ${arr}) as ${e} where ${v} is not null order by ${e}.id limit 1)`
}

/**
 * The condition over one group_members row (alias `m`) for a Group value filter `members[inner]` — for PATCH
 * `remove members[value eq "x"]` with repo.removeMembersWhere. Same validation and semantics as filterToSql.
 */
export function memberFilterToSql(ctx: Omit<FilterSqlContext, 'kind'>, inner: Filter): SQL {
  const c: FilterSqlContext = { ...ctx, kind: 'Group' }
  const b = builder(c)
  const parent: AttrPath = { attr: 'members' }
  compileFilter({ kind: 'valuePath', path: parent, filter: inner }, b.resolve)
  const m = sql.raw('m')
  return build(b, inner, { parent, scope: (i) => one(memberSub(c, i.canonical.sub ?? i.canonical.attr, m, m)) })
}
