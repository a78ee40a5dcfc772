/**
 * SCIM filter (RFC 7644 §3.4.2.2) → a parameterised SQL condition over the users/groups tables (alias `r`), and
 * sortBy (§3.4.2.3) → an ORDER BY expression: the dialect-independent half, shared by the SQLite store
 * (src/db/filter-sql.ts) and the PostgreSQL one (src/db/pg/filter-sql.ts). Each supplies a `Dialect` — JSON access,
 * type tests, case folding, ordering, substring tests, literals, sort keys — and this module walks the filter,
 * resolves attributes and decides where each value lives. The in-memory evaluator (scim/filter/evaluate.ts) is the
 * reference for both: test/db/filter-sql.differential.test.ts and test/db/pg-filter-sql.differential.test.ts check
 * them on random data (harness: test/helpers/filter-differential.ts).
 *
 * - Validation: the whole filter first goes through compileFilter(filter, filterResolver(ctx)), so unknown
 *   attributes and bad operator/type combinations fail with the evaluator's invalidFilter messages, whatever the
 *   data and whatever the store.
 * - Values are always bound parameters; attribute names inside JSON are bound too. Generated table aliases (`e1`,
 *   `k2`, …) are the only raw SQL besides fixed text.
 * - Every predicate is an SQL boolean that may be NULL, NULL meaning "false"; `and`/`or` keep that reading, and
 *   `not` turns its operand two-valued first (`not coalesce(x, false)`), so `not (title eq "x")` holds for a user
 *   without a title (SQL three-valued logic would drop it).
 * - Where values live: id, externalId, meta.created, meta.lastModified, active → columns; userName/displayName →
 *   the *_key columns holding foldKey() (the literal is folded the same way; filterResolver gives the evaluator
 *   foldKey for these two, foldFor); meta.resourceType → the kind; meta.version → 'W/"<version>"'; Group members
 *   and User groups → group_members rows; everything else → the `data` JSON, relying on the canonical form written
 *   by validateResource (exact key names, multi-valued attributes stored as arrays, values of the declared type).
 *   Undeclared extension attributes (kept verbatim) are looked up like the evaluator does: exact key first, then
 *   the first key equal ASCII-case-insensitively, and an array value is flattened.
 * - Types: a stored value of the wrong JSON type counts as absent (strings for string/reference/binary/dateTime,
 *   numbers for integer/decimal, true/false — or the strings "true"/"false", any ASCII case — for booleans).
 * - Strings: caseExact=false → ASCII folding on the value (exactly asciiFold) and the literal folded in JS (the key
 *   columns are stored folded); ordering and sort keys by code point (compareCodePoints); co/sw/ew are exact
 *   substring tests, never LIKE.
 * - dateTime: the literal is normalised (parseDateTime → toISOString) and compared as a string with stored values,
 *   which are toISOString() output for declared dateTime attributes and the meta columns.
 * - ids: group_members.member_id/group_id are compared without folding although members.value and groups.value
 *   are caseExact=false: ids are server-assigned UUIDv7 text (lower-case hex), so fold(id) = id and the
 *   member_id / primary-key indexes stay usable. If ids ever admit upper-case ASCII, fold them.
 * - Not supported (invalidFilter, although the evaluator accepts them): meta.location, members.$ref, groups.$ref
 *   (they depend on the request's base URL).
 */
import { sql, type SQL } from 'drizzle-orm'
import type { AttrPath, CompareOp, Filter, Literal } from '../scim/filter/ast'
import { asciiFold, booleanValue, comparisonInfo, compileFilter, parseDateTime, type AttrInfo, type AttrResolver } from '../scim/filter/evaluate'
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

/** The evaluator's resolver that agrees with the SQL back ends (the SQL reference semantics). */
export function filterResolver(ctx: Pick<FilterSqlContext, 'registry' | 'rt' | 'strict'>): AttrResolver {
  return registryResolver(ctx.registry, ctx.rt, { strict: ctx.strict, foldFor })
}

// ── the dialect ──────────────────────────────────────────────────────────────────────────────────────────────

export type T = AttrInfo['type']

/**
 * One value as SQL: `v` a column or expression of a known type (NULL = absent), or `json` a value inside `data` in
 * the dialect's representation J (its JSON type is tested before use).
 */
export interface Val<J> {
  v?: SQL
  json?: J
  known?: 'string' | 'boolean' | 'number'
  /** the value is already folded the way the attribute folds (key columns, ids) */
  prefolded?: boolean
}

/** The values of an attribute path: some(p) is true when some value satisfies p (NULL counts as false). */
export interface Src<J> {
  some: (p: (v: Val<J>) => SQL) => SQL
}

export interface Builder<J> {
  d: Dialect<J>
  ctx: FilterSqlContext
  resolve: AttrResolver
  alias: (prefix: string) => SQL
}

/**
 * What differs between SQL dialects. A JSON location (`loc`) is an SQL expression naming a place inside r.data:
 * a JSON path (SQLite) or a jsonb value (PostgreSQL). Array elements are read through an alias `e` of a FROM item.
 */
export interface Dialect<J> {
  /** for internal error messages */
  name: string
  /** SQL boolean literals */
  true: SQL
  false: SQL
  /** a value that is always present (`meta`, a membership row) */
  always: Val<J>
  /** a string constant */
  text(s: string): SQL

  // JSON locations
  /** the location of a declared canonical path: uri, attr and (withSub) sub */
  at(c: AttrPath, withSub: boolean): SQL
  /** the location of key `name` in the object that is array element `e` */
  elemChild(e: SQL, name: string): SQL
  /** the value at a location */
  value(loc: SQL): J
  /** the FROM item iterating the elements of the array at loc as `e` (`ordered`: with elemOrder available) */
  elements(loc: SQL, e: SQL, ordered: boolean): SQL
  elemValue(e: SQL): J
  /** document order of the elements (needs elements(…, ordered)) */
  elemOrder(e: SQL): SQL
  /** a non-NULL boolean: array element e (an object) has `primary: true` */
  isPrimary(e: SQL): SQL
  /** the value at loc is an object */
  isObject(loc: SQL): SQL
  /** the location of an undeclared extension attribute: exact key first, then ASCII-case-insensitively */
  undeclared(b: Builder<J>, uri: string, attr: string): SQL
  /** the value at loc, or the elements of the array at loc */
  flatten(b: Builder<J>, loc: SQL): Src<J>
  /** the sort key of the value at loc, or of the first element of the array there with a non-NULL key */
  flattenFirst(b: Builder<J>, loc: SQL, key: (v: Val<J>) => SQL): SQL
  /** `$.name` of a users/groups row alias, as text */
  field(row: SQL, name: 'displayName' | 'userName'): SQL
  /** insertion order of group_members rows (alias m) */
  memberOrder(m: SQL): SQL

  // values and predicates
  /** RFC 7644 `pr` on one value (evaluate.ts isPresent) */
  present(val: Val<J>): SQL
  /** the value has the JSON type t asks for */
  typeOk(val: Val<J>, t: T): SQL
  /** the value as an SQL scalar of type t (text, number, boolean) */
  scalar(val: Val<J>, t: T): SQL
  /** `x`, a test on the scalar of val, made false (or NULL) for values of another type */
  guard(val: Val<J>, t: T, x: SQL): SQL
  /** ASCII case folding (asciiFold) of an SQL string */
  foldCase(x: SQL): SQL
  /** a string as compared and sorted: by code point */
  ordered(x: SQL): SQL
  /** a string test `a co/sw/ew lit`; lit is folded and not empty */
  substring(op: 'co' | 'sw' | 'ew', a: SQL, lit: string): SQL
  boolLit(b: boolean): SQL
  numberLit(n: number): SQL
  /** stored text cannot hold U+0000 (PostgreSQL): literals with one compile without sending it */
  noNul: boolean
  /** the ORDER BY key of one value, from its comparison form `x` (NULL for values of another type) */
  sortKey(val: Val<J>, t: T, x: SQL): SQL
}

// ── where values live ────────────────────────────────────────────────────────────────────────────────────────

const one = <J>(val: Val<J>): Src<J> => ({ some: (p) => p(val) })

function not<J>(b: Builder<J>, x: SQL): SQL {
  return sql`(not coalesce(${x}, ${b.d.false}))`
}

/** A JSON location; `multi` when it holds an array whose elements are the values. */
function jsonSrc<J>(b: Builder<J>, loc: SQL, multi: boolean): Src<J> {
  const { d } = b
  if (!multi) return one({ json: d.value(loc) })
  return {
    some: (p) => {
      const e = b.alias('e')
      return sql`exists (select 1 from ${d.elements(loc, e, false)} where ${p({ json: d.elemValue(e) })})`
    },
  }
}

function lookup(ctx: FilterSqlContext, c: AttrPath): ResolvedAttr | undefined {
  return ctx.registry.resolve(ctx.rt, c, { allowUndeclared: !ctx.strict })
}

const unsupported = (c: AttrPath) =>
  invalidFilter(`Filtering on '${formatAttrPath(c)}' is not supported (it depends on the request URL)`)

/** `meta` sub-attributes, from columns. */
function metaSub<J>(b: Builder<J>, sub: string): Val<J> {
  switch (sub) {
    case 'created':
      return { v: sql`r.created`, known: 'string' }
    case 'lastModified':
      return { v: sql`r.last_modified`, known: 'string' }
    case 'resourceType':
      return { v: b.d.text(b.ctx.kind), known: 'string' }
    case 'version':
      return { v: sql`('W/"' || r.version || '"')`, known: 'string' }
    default:
      throw unsupported({ attr: 'meta', sub })
  }
}

/** One element of Group.members (alias m) or User.groups (alias m joined to groups g). */
function memberSub<J>(b: Builder<J>, sub: string, m: SQL, g: SQL): Val<J> {
  const { d } = b
  if (b.ctx.kind === 'Group') {
    switch (sub) {
      case 'value':
        return { v: sql`${m}.member_id`, known: 'string', prefolded: true }
      case 'type':
        return { v: sql`${m}.member_type`, known: 'string' }
      case 'display': {
        // as the repo renders it (a user's displayName, else userName; a group's displayName)
        const [u, g2] = [sql.raw('u'), sql.raw('g2')]
        return {
          v: sql`coalesce((select coalesce(${d.field(u, 'displayName')}, ${d.field(u, 'userName')}) from users u where ${m}.member_type = 'User' and u.id = ${m}.member_id), (select ${d.field(g2, 'displayName')} from groups g2 where ${m}.member_type = 'Group' and g2.id = ${m}.member_id))`,
          known: 'string',
        }
      }
      default:
        throw unsupported({ attr: 'members', sub })
    }
  }
  switch (sub) {
    case 'value':
      return { v: sql`${m}.group_id`, known: 'string', prefolded: true }
    case 'display':
      return { v: d.field(g, 'displayName'), known: 'string' }
    case 'type':
      return { v: d.text('direct'), known: 'string' }
    default:
      throw unsupported({ attr: 'groups', sub })
  }
}

/** `r.id in (rows of the membership table where cond)`: Group.members or User.groups. */
function membership<J>(b: Builder<J>, cond: (m: SQL, g: SQL) => SQL): SQL {
  const m = b.alias('m')
  const g = b.alias('g')
  if (b.ctx.kind === 'Group') return sql`r.id in (select ${m}.group_id from group_members as ${m} where ${cond(m, g)})`
  return sql`r.id in (select ${m}.member_id from group_members as ${m} join groups as ${g} on ${g}.id = ${m}.group_id where ${cond(m, g)})`
}

const isMembership = (ctx: FilterSqlContext, c: AttrPath) =>
  c.uri === undefined && ((ctx.kind === 'Group' && c.attr === 'members') || (ctx.kind === 'User' && c.attr === 'groups'))

/** The values of a canonical top-level path. */
function topSrc<J>(b: Builder<J>, c: AttrPath): Src<J> {
  const { ctx, d } = b
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
          return one(d.always) // always present
      }
      if (ctx.kind === 'User' && c.attr === 'userName') return one({ v: sql`r.user_name_key`, known: 'string', prefolded: true })
      if (ctx.kind === 'User' && c.attr === 'active') return one({ v: sql`r.active`, known: 'boolean' })
    } else if (c.attr === 'meta') {
      return one(metaSub(b, c.sub))
    }
    if (isMembership(ctx, c)) {
      const sub = c.sub
      // the attribute itself (`members pr`): every rendered element has a value, so any row
      return { some: (p) => membership(b, (m, g) => p(sub === undefined ? d.always : memberSub(b, sub, m, g))) }
    }
  }
  const r = lookup(ctx, c)
  if (!r) throw invalidFilter(`Unknown attribute '${formatAttrPath(c)}' in filter`)
  if (!r.declared) return d.flatten(b, d.undeclared(b, c.uri!, c.attr))
  if (c.sub === undefined) return jsonSrc(b, d.at(c, false), r.def.multiValued)
  const top = r.parent!
  if (!top.multiValued) return jsonSrc(b, d.at(c, true), r.def.multiValued)
  const sub = c.sub
  return {
    some: (p) => {
      const e = b.alias('e')
      return sql`exists (select 1 from ${d.elements(d.at(c, false), e, false)} where ${jsonSrc(b, d.elemChild(e, sub), r.def.multiValued).some(p)})`
    },
  }
}

// ── comparisons ──────────────────────────────────────────────────────────────────────────────────────────────

/** A dateTime literal as the toISOString() text it equals; beyond year 9999 a text above every stored value. */
function dateTimeLiteral(lit: string): string {
  const ms = parseDateTime(lit)
  if (ms === undefined) throw invalidFilter(`${JSON.stringify(lit)} is not a valid dateTime`)
  const iso = new Date(ms).toISOString()
  return iso.startsWith('+') ? '~' : iso
}

const ORDER_SQL: Partial<Record<CompareOp, string>> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }

/** A string value as compared: folded unless caseExact (or stored folded), in code-point order. */
function stringForm<J>(d: Dialect<J>, info: AttrInfo, val: Val<J>): SQL {
  const x = d.scalar(val, info.type)
  if (info.caseExact || val.prefolded) return d.ordered(x)
  if (info.fold && info.fold !== asciiFold)
    throw new Error(`${d.name}: '${formatAttrPath(info.canonical)}' folds with a custom function but is not stored folded`)
  return d.ordered(d.foldCase(x))
}

/** A value of a non-complex attribute as compared and sorted. */
function comparable<J>(d: Dialect<J>, info: AttrInfo, val: Val<J>): SQL {
  switch (info.type) {
    case 'boolean':
    case 'integer':
    case 'decimal':
      return d.scalar(val, info.type)
    case 'dateTime':
      return d.ordered(d.scalar(val, 'dateTime'))
    default:
      return stringForm(d, info, val)
  }
}

/** `values op lit` with the evaluator's semantics (valueTest in evaluate.ts); lit is not null here. */
function compareSrc<J>(b: Builder<J>, src: Src<J>, declared: AttrInfo, op: CompareOp, lit: Exclude<Literal, null>): SQL {
  const { d } = b
  const info = comparisonInfo(declared, lit)
  const t = info.type
  const typeOk = (val: Val<J>) => d.typeOk(val, t)
  let L: SQL
  switch (t) {
    case 'string':
    case 'reference':
    case 'binary': {
      const f = info.caseExact ? (s: string) => s : (info.fold ?? asciiFold)
      let s = f(lit as string)
      const nul = d.noNul ? s.indexOf('\u0000') : -1
      if (op === 'co' || op === 'sw' || op === 'ew') {
        if (s === '') return src.some(typeOk)
        if (nul >= 0) return d.false // nothing stored holds a NUL
        const [subOp, needle] = [op, s] // narrowed copies for the closure (op is reassigned below)
        return src.some((val) => d.guard(val, t, d.substring(subOp, stringForm(d, info, val), needle)))
      }
      if (nul >= 0) {
        // stored strings hold no NUL: compare with the part before it (s > "p\0…" ⟺ s > "p"; s < "p\0…" ⟺ s ≤ "p")
        if (op === 'eq') return d.false
        if (op === 'ne') return d.true
        s = s.slice(0, nul)
        op = op === 'gt' || op === 'ge' ? 'gt' : 'le'
      }
      L = d.ordered(d.text(s))
      break
    }
    case 'boolean':
      L = d.boolLit(booleanValue(lit) ?? false)
      break
    case 'integer':
    case 'decimal':
      L = d.numberLit(lit as number)
      break
    case 'dateTime':
      L = d.ordered(d.text(dateTimeLiteral(lit as string)))
      break
    default:
      throw invalidFilter(`Cannot compare the complex attribute '${formatAttrPath(info.canonical)}' with a value`)
  }
  const cmp = (val: Val<J>, o: CompareOp) => d.guard(val, t, sql`${comparable(d, info, val)} ${sql.raw(ORDER_SQL[o]!)} ${L}`)
  if (op === 'ne') {
    // no value of the attribute's type, or one that differs
    return sql`(${not(b, src.some(typeOk))} or coalesce(${src.some((val) => cmp(val, 'ne'))}, ${d.false}))`
  }
  const o = op
  return src.some((val) => cmp(val, o))
}

// ── filters ──────────────────────────────────────────────────────────────────────────────────────────────────

/** Reading sub-attributes inside a value filter `attr[…]`. */
type Scope<J> = (info: AttrInfo) => Src<J>

interface Level<J> {
  scope?: Scope<J>
  parent?: AttrPath
}

function resolveFor<J>(b: Builder<J>, path: AttrPath, lv: Level<J>, forCompare: boolean): AttrInfo {
  let info = b.resolve(path, lv.parent)
  if (!info) throw invalidFilter(`Unknown attribute '${formatAttrPath(path)}' in filter`)
  if (!lv.parent && forCompare && info.type === 'complex' && info.multiValued && path.sub === undefined) {
    info = b.resolve({ ...path, sub: 'value' })
    if (!info) throw invalidFilter(`Cannot compare '${formatAttrPath(path)}': it has no 'value' sub-attribute`)
  }
  return info
}

function build<J>(b: Builder<J>, f: Filter, lv: Level<J>): SQL {
  switch (f.kind) {
    case 'and':
      return sql`(${build(b, f.left, lv)} and ${build(b, f.right, lv)})`
    case 'or':
      return sql`(${build(b, f.left, lv)} or ${build(b, f.right, lv)})`
    case 'not':
      return not(b, build(b, f.filter, lv))
    case 'present': {
      const info = resolveFor(b, f.path, lv, false)
      const src = lv.scope ? lv.scope(info) : topSrc(b, info.canonical)
      return src.some((v) => b.d.present(v))
    }
    case 'compare': {
      const info = resolveFor(b, f.path, lv, true)
      const src = lv.scope ? lv.scope(info) : topSrc(b, info.canonical)
      if (f.value === null) {
        const pr = src.some((v) => b.d.present(v))
        return f.op === 'eq' ? not(b, pr) : pr
      }
      return compareSrc(b, src, info, f.op, f.value)
    }
    case 'valuePath':
      return valuePath(b, f.path, f.filter)
  }
}

function valuePath<J>(b: Builder<J>, path: AttrPath, inner: Filter): SQL {
  const { ctx, d } = b
  const info = b.resolve(path)
  if (!info) throw invalidFilter(`Unknown attribute '${formatAttrPath(path)}' in filter`)
  const c = info.canonical
  const subName = (i: AttrInfo) => i.canonical.sub ?? i.canonical.attr
  if (c.uri === undefined && c.attr === 'meta') {
    return build(b, inner, { parent: c, scope: (i) => one(metaSub(b, subName(i))) })
  }
  if (isMembership(ctx, c)) {
    return membership(b, (m, g) => build(b, inner, { parent: c, scope: (i) => one(memberSub(b, subName(i), m, g)) }))
  }
  const r = lookup(ctx, c)
  if (!r || !r.declared) throw invalidFilter(`'${formatAttrPath(path)}' cannot take a value filter '[…]'`)
  const base = d.at(c, false)
  const complex = r.def.type === 'complex'
  const subMulti = (i: AttrInfo) => Boolean(complex && ctx.registry.resolveSub(r, subName(i))?.def.multiValued)
  if (r.def.multiValued) {
    const e = b.alias('e')
    const scope: Scope<J> = (i) =>
      complex
        ? jsonSrc(b, d.elemChild(e, subName(i)), subMulti(i))
        : one({ json: d.elemValue(e) }) // `value` names the element of a multi-valued simple attribute
    return sql`exists (select 1 from ${d.elements(base, e, false)} where ${build(b, inner, { parent: c, scope })})`
  }
  const scope: Scope<J> = (i) => jsonSrc(b, d.at({ ...c, sub: subName(i) }, true), subMulti(i))
  return sql`(${d.isObject(base)} and coalesce(${build(b, inner, { parent: c, scope })}, ${d.false}))`
}

function builder<J>(d: Dialect<J>, ctx: FilterSqlContext): Builder<J> {
  let n = 0
  return { d, ctx, resolve: filterResolver(ctx), alias: (prefix) => sql.raw(`${prefix}${++n}`) }
}

/**
 * The WHERE condition (over alias `r` of ctx.kind's table) selecting the resources `filter` matches.
 * Throws ScimError invalidFilter for unknown attributes and invalid comparisons (the evaluator's checks).
 */
export function filterToSql<J>(d: Dialect<J>, ctx: FilterSqlContext, filter: Filter): SQL {
  const b = builder(d, ctx)
  compileFilter(filter, b.resolve) // validation only: identical errors to the in-memory evaluator, in every store
  return build(b, filter, {})
}

/**
 * The condition over one group_members row (alias `m`) for a Group value filter `members[inner]` — for PATCH
 * `remove members[value eq "x"]` (the repo's removeMembersWhere). Same validation and semantics as filterToSql.
 */
export function memberFilterToSql<J>(d: Dialect<J>, ctx: Omit<FilterSqlContext, 'kind'>, inner: Filter): SQL {
  const b = builder(d, { ...ctx, kind: 'Group' })
  const parent: AttrPath = { attr: 'members' }
  compileFilter({ kind: 'valuePath', path: parent, filter: inner }, b.resolve)
  const m = sql.raw('m')
  return build(b, inner, { parent, scope: (i) => one(memberSub(b, i.canonical.sub ?? i.canonical.attr, m, m)) })
}

// ── sorting ──────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * ORDER BY expression for sortBy (RFC 7644 §3.4.2.3): NULL when a resource has no value (the repo orders those
 * apart: NULLS LAST ascending, FIRST descending). Strings sort case-insensitively (ASCII folding, or the folded key
 * columns) unless caseExact, by code point; wrong-typed stored values count as no value; an empty string is a value
 * (it sorts first ascending).
 *
 * §3.4.2.3: "if it's a multi-valued attribute, resources are sorted by the value of the primary attribute (see
 * Section 2.4 of [RFC7643]), if any, or else the first value in the list, if any" — a multi-valued complex
 * attribute named without a sub-attribute sorts by its `value`; an element without `primary` ranks like one with
 * `primary: false`. Group members and User groups have no primary: the first as rendered (members in insertion
 * order, groups by id).
 * §3.4.2.3: "If the attribute is complex, the attribute name must be a path to a sub-attribute in standard
 * attribute notation" — `sortBy=name` → 400 invalidValue.
 *
 * Unknown attribute: §3.4.2.3 has no error for it; it says "For all attribute types, if there is no data for the
 * specified "sortBy" value, they are sorted via the "sortOrder" parameter, i.e., they are ordered last if
 * ascending and first if descending." An attribute the schema does not define has no data in any resource, so
 * every resource ties and the order is the tie-break (id): we return SQL NULL rather than failing the request.
 * In strict mode an unknown attribute is refused (400 invalidValue) so that typos surface.
 */
export function sortToSql<J>(d: Dialect<J>, ctx: FilterSqlContext, path: AttrPath): SQL {
  const b = builder(d, ctx)
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
  const sorted = info
  const c = sorted.canonical
  const key = (val: Val<J>): SQL => d.sortKey(val, sorted.type, comparable(d, sorted, val))
  if (c.uri === undefined && c.attr === 'meta' && c.sub === 'version') return sql`r.version`
  if (isMembership(ctx, c)) {
    const m = b.alias('m')
    const g = b.alias('g')
    const v = key(memberSub(b, c.sub ?? 'value', m, g))
    if (ctx.kind === 'Group') return sql`(select ${v} from group_members as ${m} where ${m}.group_id = r.id order by ${d.memberOrder(m)} limit 1)`
    return sql`(select ${v} from group_members as ${m} join groups as ${g} on ${g}.id = ${m}.group_id where ${m}.member_id = r.id order by ${m}.group_id limit 1)`
  }
  const r = lookup(ctx, c)
  if (!r) return sql`null`
  // kept verbatim: the value itself, or an array's first element of the right type
  if (!r.declared) return d.flattenFirst(b, d.undeclared(b, c.uri!, c.attr), key)
  if (!r.def.multiValued && !r.parent?.multiValued) {
    // single-valued (columns included): its one value
    let value: SQL | undefined
    topSrc(b, c).some((val) => ((value = key(val)), d.true))
    return value!
  }
  const e = b.alias('e')
  if (r.parent?.multiValued) {
    // multi-valued complex: the primary element's sub-attribute, else the first element's
    const v = key({ json: d.value(d.elemChild(e, c.sub!)) })
    const hasPrimary = r.parent.subAttributes?.some((s) => s.name === 'primary' && s.type === 'boolean')
    const primaryFirst = hasPrimary ? sql`${d.isPrimary(e)} desc, ` : sql``
    return sql`(select ${v} from ${d.elements(d.at(c, false), e, true)} where ${v} is not null order by ${primaryFirst}${d.elemOrder(e)} limit 1)`
  }
  // multi-valued simple (possibly a sub-attribute of a single-valued complex): the first value
  const v = key({ json: d.elemValue(e) })
  return sql`(select ${v} from ${d.elements(d.at(c, true), e, true)} where ${v} is not null order by ${d.elemOrder(e)} limit 1)`
}

/** The public functions of one dialect, with the signatures src/db/store.ts names (Store's filterToSql, …). */
export function compilerFor<J>(d: Dialect<J>) {
  return {
    /**
     * The WHERE condition (over alias `r` of ctx.kind's table) selecting the resources `filter` matches.
     * Throws ScimError invalidFilter for unknown attributes and invalid comparisons (the evaluator's checks).
     */
    filterToSql: (ctx: FilterSqlContext, filter: Filter): SQL => filterToSql(d, ctx, filter),
    /** ORDER BY expression for sortBy (RFC 7644 §3.4.2.3, see sortToSql above): NULL when a resource has no value. */
    sortToSql: (ctx: FilterSqlContext, path: AttrPath): SQL => sortToSql(d, ctx, path),
    /** The condition over one group_members row (alias `m`) for PATCH `remove members[…]` (removeMembersWhere). */
    memberFilterToSql: (ctx: Omit<FilterSqlContext, 'kind'>, inner: Filter): SQL => memberFilterToSql(d, ctx, inner),
  }
}
