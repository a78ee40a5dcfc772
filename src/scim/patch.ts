/**
 * SCIM PATCH (RFC 7644 §3.5.2) as a pure function: canonical resource + operations → new canonical resource, plus
 * the operations on attributes stored outside the resource (Group `members`). Framework-free.
 *
 * `applyPatch` works on a structuredClone of its input, applies the operations in order (each sees the result of
 * the previous one, §3.5.2) and throws ScimError on the first failing operation, prefixing the detail with
 * `Operations[i]`: nothing is applied (the caller discards the clone; §3.5.2: "the original SCIM resource MUST be
 * restored"). The result is in the canonical form of validateResource (names as the schema spells them, schema
 * order, extension attributes under their URN, `schemas` = core URN + the extensions present, empty values absent).
 *
 * Decisions (RFC reason in brackets):
 * - add (§3.5.2.1): single-valued → replaced; complex → sub-attributes merged; multi-valued → elements appended,
 *   an element equal to an existing one (every sub-attribute equal, strings compared per caseExact) is not added
 *   again ["If the target location already contains the value specified, no changes SHOULD be made"].
 *   Path-less → the value object's keys are applied one by one as if they were paths.
 * - add with a value filter (`emails[type eq "work"]`, `…].value`): the RFC's add text does not cover filters; we
 *   treat it like replace on the matching elements, except that a whole-element value is merged into each match
 *   (add on a complex value merges). No match → noTarget [Table 9: "the specified path … contains a filter that
 *   yields no match"], except for Entra's creating form (tolerances).
 * - replace (§3.5.2.3): absent target → add; multi-valued without filter → whole list replaced; single-valued
 *   complex → merged sub-attribute by sub-attribute ["Sub-attributes that are not specified in the value
 *   parameter are left unchanged"], a sub-attribute sent as null is removed; `attr[filter]` → each matching element
 *   replaced by the value; `attr[filter].sub` → sub set on each match; no match → noTarget [§3.5.2.3].
 *   Path-less replace: each key replaces that attribute (complex attributes merged as above). A path equal to an
 *   extension URN takes an object of that extension's attributes and behaves like the path-less form.
 * - null (RFC 7643 §2.5: null ≡ unassigned): replace with null (or []) unassigns the target, with remove's checks;
 *   add with null adds nothing (no-op; strict mode rejects it in parsePatchRequest: add "MUST contain a value").
 * - remove (§3.5.2.2): no path → noTarget [§3.5.2.2]; removing an absent attribute is a no-op (nothing to remove,
 *   and unassigned ≡ null); a filter that matches nothing → noTarget in strict mode [Table 9], a no-op otherwise
 *   (Okta removes members that may already be gone; removal is idempotent); elements that become empty after
 *   removing a sub-attribute are dropped, and so is a list or complex value that becomes empty.
 * - remove with a value: strict mode → 400 invalidValue [remove defines no value; "remove all" would silently
 *   delete every member when Entra meant a few], tolerant → see tolerances.
 * - Paths: parsePatchPath (syntax → invalidPath); unknown attribute → invalidPath; a value filter on an attribute
 *   that is not multi-valued → invalidPath [the path is malformed for that attribute; the RFC only defines
 *   valuePath filters over multi-valued attributes]; filter attribute/operator problems → invalidFilter [Table 9
 *   lists invalidFilter for "PATCH (Path Filter)"]; `attr.sub` on a multi-valued attribute without a filter →
 *   invalidPath (ambiguous: name the elements with `attr[filter].sub`); as a key of a path-less value object
 *   (`"emails.value": …`) it is dropped when tolerant (as validateResource drops it) and invalidValue when strict. A path equal to a schema URN targets that
 *   extension's object (the core URN: the resource, like no path). In strict mode an extension attribute must be
 *   URN-qualified (invalidPath otherwise).
 * - Value filters are evaluated with evaluate.ts (compileFilter over a one-element pseudo-resource).
 * - Values go through coerceValue (types, canonical sub-attribute names, readOnly sub-attributes dropped);
 *   wrong type → invalidValue. A required string set to "" → invalidValue (as validateResource).
 * - Mutability [§3.5.2: "a client MUST NOT modify an attribute that has mutability readOnly or immutable …
 *   MAY add a value to an immutable attribute if the attribute had no previous value"]: an explicit path to a
 *   readOnly attribute or sub-attribute (id, meta, groups, manager.displayName, members.display) → mutability;
 *   readOnly keys inside a value object (Okta's `{"id":…,"displayName":…}` rename) are ignored [as PUT, §3.5.1].
 *   immutable: add/replace when absent is fine, an unchanged value is fine, any other change or removal of a
 *   present value → mutability.
 * - Removing (or unassigning) a required attribute (userName, Group displayName) → mutability [§3.5.2.2: "If an
 *   attribute is removed or becomes unassigned and is defined as a required attribute or a read-only attribute,
 *   the server SHALL return … mutability"].
 * - `schemas`: server-maintained (rebuilt from the extensions present): key ignored in value objects, explicit
 *   path → mutability. Adding the first attribute of an extension adds its URN; an extension object that becomes
 *   empty is removed with its URN. Removing an extension declared required for the resource type → mutability.
 * - primary [§3.5.2: "a PATCH operation that sets a value's primary sub-attribute to true SHALL cause the server to
 *   automatically set primary to false for any other values"]: the other elements that had primary true get
 *   primary false; an operation that would itself leave two primaries (one value array with two, or a filter that
 *   sets primary on two matches) → invalidValue.
 * - External attributes (opts.external, e.g. Group `members`): never touched in `resource`; ExternalOps are
 *   emitted in order: add → {op:'add', values} (not emitted for an empty list), replace → {op:'replace', values}
 *   (null/[] → values []), remove without filter → {op:'remove'} (all), `members[filter]` → {op:'remove', filter}
 *   (the filter is relative to a member element and is type-checked here), tolerant remove with a value →
 *   {op:'remove', values}. add/replace with a filter on them → invalidPath; a member sub-attribute path
 *   (`members[…].display`, `members.value`) → mutability (they are immutable/readOnly). Each member must have a
 *   non-empty string `value` (invalidValue); `$ref: null` and the readOnly `display` are dropped; ids are not
 *   resolved (the service checks existence).
 *
 * Tolerances (strict: false; SCIMD_STRICT=true switches each off):
 * - parsePatchRequest: missing `schemas`; `schemas` as a string; empty-string `path` taken as no path; add with a
 *   null value (a no-op). Op names are case-insensitive in both modes ("Replace"; the RFC names them in lower case
 *   but every IdP capitalises them, and RFC 7643 §2.1 makes names case-insensitive).
 * - Values (coerceValue): "True"/"False" strings for booleans; numeric strings; a single value for a multi-valued
 *   attribute (wrapped); a bare string for a complex attribute with `value` (manager "managerId", member "id").
 * - A one-element array for a single-valued attribute is unwrapped (Entra's manager `[{"$ref":…,"value":…}]`);
 *   an empty array means null.
 * - Entra's `attr[sub eq "x"].sub2` (a filter of exactly one eq on a sub-attribute) with add/replace and no
 *   matching element creates `{sub: "x", sub2: value}` (strict → noTarget).
 * - remove with a value on a multi-valued attribute without filter removes only the listed elements, matched by
 *   their `value` sub-attribute (or by every sub-attribute given when it has none) — Entra/JumpCloud's member
 *   removal; on a single-valued attribute the value is ignored.
 * - A remove filter that matches nothing is a no-op.
 * - Unknown keys in a path-less value object are ignored like unknown attributes in POST (strict → invalidValue);
 *   extension attributes without their URN resolve to the extension (strict → invalidPath / invalidValue);
 *   attributes of undeclared extension URNs (`urn:okta:…:attr`, or an object under an undeclared URN) are kept
 *   verbatim (strict → invalidPath / invalidValue).
 */
import { formatAttrPath, parseAttrPath } from './attr-path'
import { LIMITS, URN } from './constants'
import type { AttrPath, Filter } from './filter/ast'
import { compileFilter, type AttrResolver } from './filter/evaluate'
import { parsePatchPath } from './filter/path'
import { stringifyFilter } from './filter/stringify'
import { invalidPath, invalidSyntax, invalidValue, mutability, noTarget, ScimError } from './errors'
import type { ResolvedAttr, SchemaRegistry } from './schema/registry'
import { registryResolver } from './schema/resolver'
import type { AttributeDef, ResourceTypeDef, SchemaDef } from './schema/types'
import { coerceValue, findKey, getCaseInsensitive, isPlainObject } from './schema/validate'

export type PatchOpName = 'add' | 'remove' | 'replace'

export interface PatchOperation {
  op: PatchOpName
  path?: string
  value?: unknown
}

export interface ExternalOp {
  /** canonical top-level name, e.g. 'members' */
  attr: string
  op: 'add' | 'remove' | 'replace'
  /** canonical element objects, e.g. {value:'id', type?:'User'} */
  values?: Record<string, unknown>[]
  /** remove members[value eq "x"]: relative to one element */
  filter?: Filter
}

export interface PatchOptions {
  strict: boolean
  /**
   * Top-level attributes stored outside the resource object, e.g. ['members'] for Group: never mutated in
   * `resource`; ExternalOps are emitted in order instead.
   */
  external?: string[]
}

export interface PatchResult {
  resource: Record<string, unknown>
  external: ExternalOp[]
}

type Obj = Record<string, unknown>

const OP_NAMES: readonly PatchOpName[] = ['add', 'remove', 'replace']

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

/**
 * Validates a PatchOp request body (RFC 7644 §3.5.2) and returns its operations with lower-case op names.
 * Throws invalidSyntax (structure) or invalidValue (a missing/unsuitable value), naming the operation index.
 */
export function parsePatchRequest(body: unknown, opts: { strict: boolean }): PatchOperation[] {
  const strict = opts.strict
  if (!isPlainObject(body)) throw invalidSyntax('The request body must be a JSON object (a PatchOp message)')
  const schemasKey = findKey(body, 'schemas')
  const schemas = schemasKey === undefined ? undefined : body[schemasKey]
  const patchOpLower = URN.patchOp.toLowerCase()
  if (schemas === undefined || schemas === null) {
    if (strict) throw invalidSyntax(`'schemas' is required and must contain "${URN.patchOp}"`)
  } else {
    const list = Array.isArray(schemas) ? schemas : !strict && typeof schemas === 'string' ? [schemas] : undefined
    if (!list || !list.some((s) => typeof s === 'string' && s.toLowerCase() === patchOpLower))
      throw invalidSyntax(`'schemas' must be an array containing "${URN.patchOp}"`)
  }
  const opsKey = findKey(body, 'Operations')
  const ops = opsKey === undefined ? undefined : body[opsKey]
  if (!Array.isArray(ops)) throw invalidSyntax(`'Operations' is required and must be an array of operations`)
  if (ops.length === 0) throw invalidSyntax(`'Operations' must contain at least one operation`)
  if (ops.length > LIMITS.maxPatchOperations)
    throw invalidSyntax(`'Operations' has ${ops.length} operations; at most ${LIMITS.maxPatchOperations} are accepted`)

  return ops.map((raw, i): PatchOperation => {
    const where = `Operations[${i}]`
    if (!isPlainObject(raw)) throw invalidSyntax(`${where} must be a JSON object; got ${typeOf(raw)}`)
    const opRaw = getCaseInsensitive(raw, 'op')
    if (typeof opRaw !== 'string') throw invalidSyntax(`${where}.op is required and must be one of "add", "remove", "replace"`)
    const op = OP_NAMES.find((n) => n === opRaw.toLowerCase())
    if (!op) throw invalidSyntax(`${where}.op "${opRaw.slice(0, 40)}" is not one of "add", "remove", "replace"`)
    const pathKey = findKey(raw, 'path')
    let path: string | undefined
    if (pathKey !== undefined && raw[pathKey] !== null && raw[pathKey] !== undefined) {
      const p = raw[pathKey]
      if (typeof p !== 'string') throw invalidSyntax(`${where}.path must be a string; got ${typeOf(p)}`)
      if (strict || p.trim() !== '') path = p
    }
    const valueKey = findKey(raw, 'value')
    const value = valueKey === undefined ? undefined : raw[valueKey]
    const out: PatchOperation = { op }
    if (path !== undefined) out.path = path
    if (op === 'remove') {
      if (strict && value !== undefined && value !== null)
        throw invalidValue(`${where}: "remove" takes no value; name the values to remove with a filter, e.g. members[value eq "…"]`)
      if (value !== undefined) out.value = value
      return out
    }
    if (value === undefined) throw invalidValue(`${where}: "${op}" requires a "value"`)
    if (value === null && op === 'add' && strict) throw invalidValue(`${where}: "add" requires a non-null "value"`)
    out.value = value
    return out
  })
}

// --------------------------------------------------------------------------------------------------------------

/** A resolved PATCH target. */
type Target =
  | { kind: 'resource' }
  | { kind: 'schema'; schema: SchemaDef }
  | { kind: 'undeclared'; urn: string }
  | { kind: 'attr'; top: ResolvedAttr; sub?: ResolvedAttr; filter?: Filter; where: string }

interface Ctx {
  registry: SchemaRegistry
  rt: ResourceTypeDef
  strict: boolean
  external: Set<string>
  resolver: AttrResolver
  res: Obj
  out: ExternalOp[]
}

function asciiLower(s: string): string {
  return s.toLowerCase()
}

/** Equality of two canonical values of `def` (strings per caseExact; multi-valued as sets). */
export function sameValue(def: AttributeDef, a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === undefined || a === null || b === undefined || b === null) return false
  if (def.multiValued) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    const single = { ...def, multiValued: false }
    return a.every((x) => b.some((y) => sameValue(single, x, y))) && b.every((y) => a.some((x) => sameValue(single, x, y)))
  }
  if (def.type === 'complex') {
    if (!isPlainObject(a) || !isPlainObject(b)) return false
    const subs = def.subAttributes ?? []
    return subs.every((s) => {
      const x = a[s.name], y = b[s.name]
      if ((x === undefined || x === null) && (y === undefined || y === null)) return true
      return sameValue(s, x, y)
    })
  }
  if (typeof a === 'string' && typeof b === 'string') {
    if (def.type === 'dateTime') return Date.parse(a) === Date.parse(b)
    return def.caseExact ? a === b : asciiLower(a) === asciiLower(b)
  }
  return false
}

function present(v: unknown): boolean {
  if (v === undefined || v === null) return false
  if (Array.isArray(v)) return v.length > 0
  if (isPlainObject(v)) return Object.keys(v).length > 0
  return true
}

/** Sets obj[name], removing any other key equal to name ignoring case. */
function setKey(obj: Obj, name: string, v: unknown): void {
  const lower = name.toLowerCase()
  for (const k of Object.keys(obj)) if (k !== name && k.toLowerCase() === lower) delete obj[k]
  obj[name] = v
}

function delKey(obj: Obj, name: string): void {
  const lower = name.toLowerCase()
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) delete obj[k]
}

function elementOf(top: ResolvedAttr): ResolvedAttr {
  return { ...top, def: { ...top.def, multiValued: false } }
}

function isExternal(ctx: Ctx, top: ResolvedAttr): boolean {
  return !top.extension && ctx.external.has(top.canonical.attr.toLowerCase())
}

function requiredCheck(def: AttributeDef, where: string): void {
  if (def.required) throw mutability(`Attribute '${where}' is required and cannot be removed`)
}

function immutableCheck(def: AttributeDef, where: string, before: unknown, after: unknown): void {
  if (def.mutability !== 'immutable' || !present(before)) return
  if (after !== undefined && sameValue(def, before, after)) return
  throw mutability(`Attribute '${where}' is immutable and already has a value`)
}

function nonEmptyCheck(def: AttributeDef, v: unknown, where: string): void {
  if (def.required && def.type === 'string' && typeof v === 'string' && v.trim() === '')
    throw invalidValue(`Attribute '${where}' is required and must not be empty`)
}

/** The object holding top's value (the resource, or resource[urn] for extension attributes). */
function container(ctx: Ctx, top: ResolvedAttr, create: boolean): Obj | undefined {
  if (!top.extension) return ctx.res
  const urn = top.canonical.uri!
  const key = findKey(ctx.res, urn)
  if (key !== undefined && isPlainObject(ctx.res[key])) return ctx.res[key] as Obj
  if (!create) return undefined
  const o: Obj = {}
  if (key !== undefined) delete ctx.res[key]
  ctx.res[urn] = o
  return o
}

function readTop(ctx: Ctx, top: ResolvedAttr): unknown {
  const c = container(ctx, top, false)
  return c ? getCaseInsensitive(c, top.canonical.attr) : undefined
}

function writeTop(ctx: Ctx, top: ResolvedAttr, v: unknown): void {
  if (!present(v)) {
    const c = container(ctx, top, false)
    if (c) delKey(c, top.canonical.attr)
    return
  }
  setKey(container(ctx, top, true)!, top.canonical.attr, v)
}

/** Tolerance: a one-element array for a single-valued attribute is that element; [] is null. */
function unwrapSingle(ctx: Ctx, def: AttributeDef, v: unknown): unknown {
  if (ctx.strict || def.multiValued || !Array.isArray(v)) return v
  if (v.length === 0) return null
  if (v.length === 1) return v[0]
  return v
}

function coerce(ctx: Ctx, r: ResolvedAttr, v: unknown): unknown {
  return coerceValue(ctx.registry, r, unwrapSingle(ctx, r.def, v), { strict: ctx.strict })
}

/** Clears primary on the other elements when an operation set it on one; two new primaries → invalidValue. */
function settlePrimary(list: unknown[], touched: Set<unknown>, where: string): void {
  const primaries = list.filter((e) => isPlainObject(e) && e.primary === true) as Obj[]
  if (primaries.length <= 1) return
  const winners = primaries.filter((e) => touched.has(e))
  if (winners.length !== 1)
    throw invalidValue(`Attribute '${where}' would have ${winners.length || primaries.length} values with primary true; at most one is allowed`)
  for (const e of primaries) if (e !== winners[0]) e.primary = false
}

/** Matcher for one element of top (a multi-valued attribute) against a value filter, via evaluate.ts. */
function elementMatcher(ctx: Ctx, top: ResolvedAttr, filter: Filter): (el: unknown) => boolean {
  const path: AttrPath = top.canonical.uri !== undefined ? { uri: top.canonical.uri, attr: top.canonical.attr } : { attr: top.canonical.attr }
  const match = compileFilter({ kind: 'valuePath', path, filter }, ctx.resolver)
  return (el) => {
    const holder: Obj = { [top.canonical.attr]: [el] }
    return match(top.canonical.uri !== undefined ? { [top.canonical.uri]: holder } : holder)
  }
}

/** Entra's creating form: a filter of exactly one `eq` on a bare sub-attribute. */
function creatingFilter(f: Filter): { attr: string; value: unknown } | undefined {
  if (f.kind !== 'compare' || f.op !== 'eq' || f.value === null) return undefined
  if (f.path.uri !== undefined || f.path.sub !== undefined) return undefined
  return { attr: f.path.attr, value: f.value }
}

// --------------------------------------------------------------------------------------------------------------
// Resolution

type Source = 'path' | 'value'

/**
 * Resolves `[uri:]attr[.sub]` (+ filter, + sub after the filter). For value-object keys (source 'value') an
 * unknown or readOnly attribute yields undefined (ignored) in tolerant mode.
 */
function resolveTarget(ctx: Ctx, p: AttrPath, filter: Filter | undefined, subAfter: string | undefined, source: Source): Target | undefined {
  const { registry, rt, strict } = ctx
  const text = formatAttrPath(p)
  const unknown = (msg: string) => {
    if (source === 'path') throw invalidPath(msg)
    if (strict) throw invalidValue(msg)
    return undefined
  }
  const top = registry.resolve(rt, { ...(p.uri !== undefined ? { uri: p.uri } : {}), attr: p.attr }, { allowUndeclared: !strict })
  if (!top) return unknown(`Unknown attribute '${text}' in ${source === 'path' ? 'path' : 'value'}`)
  if (strict && top.extension && p.uri === undefined) {
    const msg = `Attribute '${text}' belongs to extension "${top.schema}"; write it as '${top.schema}:${text}'`
    throw source === 'path' ? invalidPath(msg) : invalidValue(msg)
  }
  const topWhere = formatAttrPath(top.canonical)
  if (top.def.name === 'schemas' && !top.extension) {
    if (source === 'value') return undefined
    throw mutability(`'schemas' is maintained by the server from the extension attributes present; it cannot be patched`)
  }
  if (top.def.mutability === 'readOnly') {
    if (source === 'value') return undefined
    throw mutability(`Attribute '${topWhere}' is readOnly`)
  }
  let sub: ResolvedAttr | undefined
  const subName = p.sub ?? subAfter
  if (subName !== undefined) {
    sub = registry.resolveSub(top, subName)
    if (!sub) return unknown(`Unknown attribute '${topWhere}.${subName}' in ${source === 'path' ? 'path' : 'value'}`)
  }
  const where = sub ? formatAttrPath(sub.canonical) : topWhere
  if (isExternal(ctx, top)) {
    if (sub) {
      if (source === 'value') return undefined
      if (sub.def.mutability === 'readOnly' || sub.def.mutability === 'immutable')
        throw mutability(`'${where}' is ${sub.def.mutability}: add or remove the whole ${top.canonical.attr} value instead`)
      throw invalidPath(`'${where}' cannot be patched: add or remove the whole ${top.canonical.attr} value instead`)
    }
    return { kind: 'attr', top, filter, where }
  }
  if (sub && sub.def.mutability === 'readOnly') {
    if (source === 'value') return undefined
    throw mutability(`Attribute '${where}' is readOnly`)
  }
  if (filter && !top.def.multiValued)
    throw invalidPath(`'${topWhere}' is not multi-valued: it cannot take a value filter '[…]'`)
  if (!filter && p.sub !== undefined && top.def.multiValued) {
    if (source === 'value' && !strict) return undefined // like validateResource: dropped when tolerant
    throw (source === 'path' ? invalidPath : invalidValue)(
      `'${where}' names a sub-attribute of every value of the multi-valued '${topWhere}'; select values with a filter, e.g. '${topWhere}[type eq "work"].${sub!.def.name}'`,
    )
  }
  return { kind: 'attr', top, sub, filter, where }
}

/** Whether `text` may name a whole undeclared extension schema (not a declared attribute or a declared schema's attribute). */
function mayBeUndeclaredSchema(ctx: Ctx, text: string): boolean {
  if (!ctx.registry.isUndeclaredUrn(text)) return false
  const parsed = parseAttrPath(text)
  if (!parsed) return true
  if (ctx.registry.resolve(ctx.rt, parsed)) return false
  return parsed.uri === undefined || ctx.registry.canonicalSchemaUrn(ctx.rt, parsed.uri) === undefined
}

function targetOfPath(ctx: Ctx, text: string, op: PatchOpName, value: unknown): Target {
  const trimmed = text.trim()
  const urn = ctx.registry.canonicalSchemaUrn(ctx.rt, trimmed)
  if (urn !== undefined) {
    if (urn === ctx.registry.coreSchema(ctx.rt).id) return { kind: 'resource' }
    return { kind: 'schema', schema: ctx.registry.schema(urn)! }
  }
  if (!ctx.strict && mayBeUndeclaredSchema(ctx, trimmed)) {
    // `urn:okta:custom:1.0:User` (an undeclared extension object) vs `urn:okta:custom:1.0:User:attr`.
    const existing = findKey(ctx.res, trimmed)
    if (existing !== undefined && isPlainObject(ctx.res[existing])) return { kind: 'undeclared', urn: existing }
    const parsed = parseAttrPath(trimmed)
    const parentKey = parsed?.uri !== undefined ? findKey(ctx.res, parsed.uri) : undefined
    if (op !== 'remove' && isPlainObject(value) && parentKey === undefined) return { kind: 'undeclared', urn: trimmed }
  }
  const p = parsePatchPath(trimmed)
  return resolveTarget(ctx, p.attr, p.filter, p.sub, 'path')!
}

// --------------------------------------------------------------------------------------------------------------
// Operations

function applyOp(ctx: Ctx, op: PatchOperation): void {
  if (ctx.strict && op.op === 'remove' && op.value !== undefined && op.value !== null)
    throw invalidValue(`"remove" takes no value; name the values to remove with a filter, e.g. members[value eq "…"]`)
  if (op.path === undefined) {
    if (op.op === 'remove') throw noTarget(`"remove" requires a "path" (RFC 7644 §3.5.2.2)`)
    return applyObject(ctx, op.op, op.value, undefined)
  }
  const t = targetOfPath(ctx, op.path, op.op, op.value)
  applyTarget(ctx, op.op, t, op.value)
}

function applyTarget(ctx: Ctx, op: PatchOpName, t: Target, value: unknown): void {
  switch (t.kind) {
    case 'resource':
      if (op === 'remove') throw invalidPath(`The whole resource cannot be removed with PATCH; use DELETE`)
      return applyObject(ctx, op, value, undefined)
    case 'schema':
      if (op === 'remove' || value === null) {
        if (op === 'add') return
        return removeExtension(ctx, t.schema)
      }
      return applyObject(ctx, op, value, t.schema)
    case 'undeclared': {
      const key = findKey(ctx.res, t.urn)
      if (op === 'remove' || value === null) {
        if (op !== 'add' && key !== undefined) delete ctx.res[key]
        return
      }
      if (!isPlainObject(value)) throw invalidValue(`Extension '${t.urn}' takes a JSON object; got ${typeOf(value)}`)
      const obj = key !== undefined && isPlainObject(ctx.res[key]) ? (ctx.res[key] as Obj) : (ctx.res[t.urn] = {} as Obj)
      for (const [k, v] of Object.entries(value)) {
        if (v === null) delKey(obj, k)
        else setKey(obj, k, structuredClone(v))
      }
      return
    }
    case 'attr':
      if (isExternal(ctx, t.top)) return externalOp(ctx, op, t.top, t.filter, value)
      if (op === 'remove') return removeAttr(ctx, t, value)
      return setAttr(ctx, op, t, value)
  }
}

/** Path-less add/replace (or a schema URN path): each key of the value object is applied as a path. */
function applyObject(ctx: Ctx, op: PatchOpName, value: unknown, schema: SchemaDef | undefined): void {
  const { registry, rt, strict } = ctx
  const what = schema ? `'${schema.id}'` : 'a path-less operation'
  if (!isPlainObject(value)) throw invalidValue(`The value of ${what} must be a JSON object of attributes; got ${typeOf(value)}`)
  const core = registry.coreSchema(rt)
  for (const [key, v] of Object.entries(value)) {
    if (schema) {
      const p = parseAttrPath(key)
      if (!p || p.uri !== undefined) {
        if (strict) throw invalidValue(`Unknown attribute '${schema.id}:${key}' in value`)
        continue
      }
      const t = resolveTarget(ctx, { ...p, uri: schema.id }, undefined, undefined, 'value')
      if (t) applyTarget(ctx, op, t, v)
      continue
    }
    if (/^urn:/i.test(key)) {
      const urn = registry.canonicalSchemaUrn(rt, key)
      if (urn === core.id) {
        if (v === null || v === undefined) continue
        applyObject(ctx, op, v, undefined)
        continue
      }
      if (urn !== undefined) {
        applyTarget(ctx, op, { kind: 'schema', schema: registry.schema(urn)! }, v)
        continue
      }
      const p = parseAttrPath(key)
      if (mayBeUndeclaredSchema(ctx, key) && isPlainObject(v)) {
        if (strict) throw invalidValue(`Extension '${key}' is not a schema of resource type ${rt.name}`)
        applyTarget(ctx, op, { kind: 'undeclared', urn: findKey(ctx.res, key) ?? key }, v)
        continue
      }
      if (!p) {
        if (strict) throw invalidValue(`Unknown attribute '${key}' in value`)
        continue
      }
      const t = resolveTarget(ctx, p, undefined, undefined, 'value')
      if (t) applyTarget(ctx, op, t, v)
      continue
    }
    if (key.toLowerCase() === 'schemas') continue
    const p = parseAttrPath(key)
    if (!p) {
      if (strict) throw invalidValue(`Unknown attribute '${key}' in value`)
      continue
    }
    const t = resolveTarget(ctx, p, undefined, undefined, 'value')
    if (t) applyTarget(ctx, op, t, v)
  }
}

function removeExtension(ctx: Ctx, schema: SchemaDef): void {
  const ref = ctx.rt.schemaExtensions.find((e) => e.schema.toLowerCase() === schema.id.toLowerCase())
  const key = findKey(ctx.res, schema.id)
  if (key === undefined) return
  if (ref?.required) throw mutability(`Extension '${schema.id}' is required for resource type ${ctx.rt.name}`)
  const obj = ctx.res[key]
  if (isPlainObject(obj))
    for (const def of schema.attributes) {
      const before = getCaseInsensitive(obj, def.name)
      if (def.mutability === 'immutable' && present(before))
        throw mutability(`Attribute '${schema.id}:${def.name}' is immutable and already has a value`)
    }
  delete ctx.res[key]
}

/** add / replace on an attribute target (value not undefined). */
function setAttr(ctx: Ctx, op: 'add' | 'replace', t: Extract<Target, { kind: 'attr' }>, raw: unknown): void {
  const { top, sub, filter, where } = t
  if (raw === null || raw === undefined || (!ctx.strict && !(sub ?? top).def.multiValued && Array.isArray(raw) && raw.length === 0)) {
    // null ≡ unassigned (RFC 7643 §2.5): add adds nothing, replace unassigns.
    if (op === 'add') return
    return removeAttr(ctx, t, undefined, true)
  }
  if (filter) return setFiltered(ctx, op, t, raw)
  const before = readTop(ctx, top)

  if (sub) {
    // name.givenName: a sub-attribute of a single-valued complex attribute
    const v = coerce(ctx, sub, raw)
    if (v === undefined) return
    const obj = isPlainObject(before) ? { ...before } : {}
    immutableCheck(sub.def, where, getCaseInsensitive(obj, sub.def.name), v)
    nonEmptyCheck(sub.def, v, where)
    setKey(obj, sub.def.name, v)
    immutableCheck(top.def, formatAttrPath(top.canonical), before, obj)
    writeTop(ctx, top, obj)
    return
  }

  if (top.def.multiValued) {
    const coerced = coerce(ctx, top, raw)
    const list = (Array.isArray(coerced) ? coerced : coerced === undefined ? [] : [coerced]) as unknown[]
    if (op === 'replace') {
      if (list.length === 0) return removeAttr(ctx, t, undefined, true)
      immutableCheck(top.def, where, before, list)
      writeTop(ctx, top, list)
      return
    }
    const existing = Array.isArray(before) ? [...before] : []
    const elDef = elementOf(top).def
    const touched = new Set<unknown>()
    for (const el of list) {
      const same = existing.find((x) => sameValue(elDef, x, el))
      if (same !== undefined) continue
      existing.push(el)
      touched.add(el)
    }
    if (touched.size === 0) return
    immutableCheck(top.def, where, before, existing)
    settlePrimary(existing, touched, where)
    writeTop(ctx, top, existing)
    return
  }

  if (top.def.type === 'complex' && top.declared) {
    const v = coerce(ctx, top, raw) as Obj | undefined
    const obj: Obj = isPlainObject(before) ? { ...before } : {}
    for (const s of top.def.subAttributes ?? []) {
      const sWhere = `${where}.${s.name}`
      if (v && v[s.name] !== undefined) {
        immutableCheck(s, sWhere, obj[s.name], v[s.name])
        obj[s.name] = v[s.name]
      } else if (op === 'replace' && isPlainObject(raw) && findKey(raw, s.name) !== undefined && raw[findKey(raw, s.name)!] === null) {
        if (s.mutability === 'readOnly') continue
        if (present(obj[s.name])) {
          requiredCheck(s, sWhere)
          immutableCheck(s, sWhere, obj[s.name], undefined)
        }
        delete obj[s.name]
      }
    }
    if (!present(obj) && present(before)) requiredCheck(top.def, where)
    immutableCheck(top.def, where, before, obj)
    writeTop(ctx, top, obj)
    return
  }

  const v = coerce(ctx, top, raw)
  if (v === undefined) return
  immutableCheck(top.def, where, before, v)
  nonEmptyCheck(top.def, v, where)
  writeTop(ctx, top, v)
}

/** add / replace on `attr[filter]` or `attr[filter].sub`. */
function setFiltered(ctx: Ctx, op: 'add' | 'replace', t: Extract<Target, { kind: 'attr' }>, raw: unknown): void {
  const { top, sub, filter, where } = t
  const topWhere = formatAttrPath(top.canonical)
  const matches = elementMatcher(ctx, top, filter!)
  const before = readTop(ctx, top)
  const list = Array.isArray(before) ? [...before] : []
  const hits = list.map((el, i) => (matches(el) ? i : -1)).filter((i) => i >= 0)
  const el = elementOf(top)
  const touched = new Set<unknown>()

  if (hits.length === 0) {
    const form = sub && !ctx.strict && top.def.type === 'complex' ? creatingFilter(filter!) : undefined
    const filterSub = form ? ctx.registry.resolveSub(top, form.attr) : undefined
    if (!form || !filterSub || !sub)
      throw noTarget(`No value of '${topWhere}' matches the filter [${stringifyFilter(filter!)}]`)
    const created = coerce(ctx, el, { [filterSub.def.name]: form.value, [sub.def.name]: unwrapSingle(ctx, sub.def, raw) })
    if (created === undefined) return
    list.push(created)
    touched.add(created)
  } else if (sub) {
    const v = coerce(ctx, sub, raw)
    if (v === undefined) return
    nonEmptyCheck(sub.def, v, where)
    for (const i of hits) {
      const cur = list[i] as Obj
      immutableCheck(sub.def, where, cur[sub.def.name], v)
      const next = { ...cur, [sub.def.name]: v }
      list[i] = next
      touched.add(next)
    }
  } else {
    const v = coerce(ctx, el, raw) as Obj | undefined
    if (v === undefined) return
    for (const i of hits) {
      const cur = list[i] as Obj
      const next: Obj = op === 'replace' ? { ...v } : { ...cur, ...v }
      for (const s of top.def.subAttributes ?? []) immutableCheck(s, `${topWhere}.${s.name}`, cur[s.name], next[s.name])
      list[i] = next
      touched.add(next)
    }
  }
  immutableCheck(top.def, topWhere, before, list)
  settlePrimary(list, touched, topWhere)
  writeTop(ctx, top, list)
}

/** remove (or replace with null: `unassign`, where a filter with no match is always noTarget). */
function removeAttr(ctx: Ctx, t: Extract<Target, { kind: 'attr' }>, value: unknown, unassign = false): void {
  const { top, sub, filter, where } = t
  const topWhere = formatAttrPath(top.canonical)
  const before = readTop(ctx, top)

  if (filter) {
    const matches = elementMatcher(ctx, top, filter)
    const list = Array.isArray(before) ? [...before] : []
    const hits = new Set(list.filter((e) => matches(e)))
    if (hits.size === 0) {
      if (ctx.strict || unassign) throw noTarget(`No value of '${topWhere}' matches the filter [${stringifyFilter(filter)}]`)
      return
    }
    let next: unknown[]
    if (sub) {
      requiredCheck(sub.def, where)
      next = []
      for (const e of list) {
        if (!hits.has(e) || !isPlainObject(e)) {
          next.push(e)
          continue
        }
        immutableCheck(sub.def, where, e[sub.def.name], undefined)
        const copy = { ...e }
        delete copy[sub.def.name]
        if (present(copy)) next.push(copy)
      }
    } else next = list.filter((e) => !hits.has(e))
    if (next.length === 0) requiredCheck(top.def, topWhere)
    immutableCheck(top.def, topWhere, before, next)
    writeTop(ctx, top, next)
    return
  }

  if (sub) {
    if (!isPlainObject(before) || !present(before[sub.def.name])) return
    requiredCheck(sub.def, where)
    immutableCheck(sub.def, where, before[sub.def.name], undefined)
    const copy = { ...before }
    delete copy[sub.def.name]
    if (!present(copy)) requiredCheck(top.def, topWhere)
    immutableCheck(top.def, topWhere, before, copy)
    writeTop(ctx, top, copy)
    return
  }

  if (!ctx.strict && !unassign && top.def.multiValued && value !== undefined && value !== null) {
    // Entra / JumpCloud: remove just the listed values
    if (!Array.isArray(before) || before.length === 0) return
    const wanted = listedValues(ctx, top, value)
    const next = before.filter((e) => !wanted.some((w) => w(e)))
    if (next.length === before.length) return
    if (next.length === 0) requiredCheck(top.def, topWhere)
    immutableCheck(top.def, topWhere, before, next)
    writeTop(ctx, top, next)
    return
  }

  if (!present(before)) return
  requiredCheck(top.def, topWhere)
  immutableCheck(top.def, topWhere, before, undefined)
  writeTop(ctx, top, undefined)
}

/** Matchers for the elements named by a remove's value (tolerance): by `value`, else by every sub-attribute given. */
function listedValues(ctx: Ctx, top: ResolvedAttr, raw: unknown): ((el: unknown) => boolean)[] {
  const coerced = coerce(ctx, top, raw)
  const items = Array.isArray(coerced) ? coerced : coerced === undefined ? [] : [coerced]
  const def = top.def
  return items.map((item) => {
    if (def.type !== 'complex') return (el: unknown) => sameValue({ ...def, multiValued: false }, el, item)
    const given = item as Obj
    const valueSub = (def.subAttributes ?? []).find((s) => s.name === 'value')
    const subs = valueSub && given.value !== undefined ? [valueSub] : (def.subAttributes ?? []).filter((s) => given[s.name] !== undefined)
    return (el: unknown) => isPlainObject(el) && subs.length > 0 && subs.every((s) => sameValue(s, el[s.name], given[s.name]))
  })
}

/** Operations on attributes stored outside the resource (Group members). */
function externalOp(ctx: Ctx, op: PatchOpName, top: ResolvedAttr, filter: Filter | undefined, value: unknown): void {
  const attr = top.canonical.attr
  if (filter) {
    if (op !== 'remove') throw invalidPath(`'${attr}[…]' can only be removed; to change a ${attr} value, remove it and add the new one`)
    elementMatcher(ctx, top, filter) // type-checks the filter (invalidFilter)
    ctx.out.push({ attr, op: 'remove', filter })
    return
  }
  if (op === 'remove') {
    if (value === undefined || value === null || ctx.strict) ctx.out.push({ attr, op: 'remove' })
    else ctx.out.push({ attr, op: 'remove', values: externalValues(ctx, top, value) })
    return
  }
  if (value === null) {
    if (op === 'replace') ctx.out.push({ attr, op: 'replace', values: [] })
    return
  }
  const values = externalValues(ctx, top, value)
  if (op === 'add' && values.length === 0) return
  ctx.out.push({ attr, op, values })
}

function externalValues(ctx: Ctx, top: ResolvedAttr, raw: unknown): Record<string, unknown>[] {
  if (!Array.isArray(raw)) coerce(ctx, top, raw) // strict: "must be a JSON array"
  const items = (Array.isArray(raw) ? raw : [raw]).filter((x) => x !== null && x !== undefined)
  const attr = top.canonical.attr
  return items.map((item, i) => {
    const el = coerce(ctx, elementOf(top), item)
    if (!isPlainObject(el) || typeof el.value !== 'string' || el.value.trim() === '')
      throw invalidValue(`${attr}[${i}] must have a non-empty string 'value' (the id of the ${attr === 'members' ? 'member' : 'value'})`)
    return el
  })
}

// --------------------------------------------------------------------------------------------------------------
// Canonical form

function orderComplex(def: AttributeDef, v: unknown): unknown {
  if (!isPlainObject(v) || def.type !== 'complex') return v
  const out: Obj = {}
  for (const s of def.subAttributes ?? []) if (present(v[s.name])) out[s.name] = v[s.name]
  return out
}

function orderValue(def: AttributeDef, v: unknown): unknown {
  if (def.multiValued && Array.isArray(v)) {
    const els = v.map((e) => orderComplex(def, e)).filter(present)
    return els
  }
  return orderComplex(def, v)
}

/** Empty values dropped, names and order as validateResource produces them, `schemas` rebuilt. */
function canonical(ctx: Ctx): Obj {
  const { registry, rt, res } = ctx
  const core = registry.coreSchema(rt)
  const out: Obj = { schemas: [core.id] }
  const schemas = out.schemas as string[]
  const used = new Set<string>()
  const take = (obj: Obj, def: AttributeDef, into: Obj) => {
    const k = findKey(obj, def.name)
    if (k === undefined) return
    used.add(k)
    const v = orderValue(def, obj[k])
    if (present(v)) into[def.name] = v
  }
  for (const def of [...registry.commonAttributes(), ...core.attributes]) {
    if (def.name === 'schemas') continue
    take(res, def, out)
  }
  for (const schema of registry.extensionSchemas(rt)) {
    const k = findKey(res, schema.id)
    if (k === undefined) continue
    used.add(k)
    const src = res[k]
    if (!isPlainObject(src)) continue
    const obj: Obj = {}
    const inner = new Set<string>()
    for (const def of schema.attributes) {
      const ik = findKey(src, def.name)
      if (ik === undefined) continue
      inner.add(ik)
      const v = orderValue(def, src[ik])
      if (present(v)) obj[def.name] = v
    }
    if (Object.keys(obj).length === 0) continue
    out[schema.id] = obj
    schemas.push(schema.id)
  }
  for (const [k, v] of Object.entries(res)) {
    if (used.has(k) || k.toLowerCase() === 'schemas') continue
    if (/^urn:/i.test(k) && isPlainObject(v)) {
      if (Object.keys(v).length === 0) continue
      out[k] = v
      schemas.push(k)
    } else if (present(v)) out[k] = v
  }
  return out
}

/**
 * Applies `ops` in order to a copy of the canonical `resource` (RFC 7644 §3.5.2; see the file comment). Throws
 * ScimError on the first failing operation; `resource` is never modified.
 */
export function applyPatch(
  registry: SchemaRegistry,
  rt: ResourceTypeDef,
  resource: Record<string, unknown>,
  ops: PatchOperation[],
  opts: PatchOptions,
): PatchResult {
  const ctx: Ctx = {
    registry,
    rt,
    strict: opts.strict,
    external: new Set((opts.external ?? []).map((a) => a.toLowerCase())),
    resolver: registryResolver(registry, rt, { strict: opts.strict }),
    res: structuredClone(resource),
    out: [],
  }
  ops.forEach((op, i) => {
    try {
      applyOp(ctx, op)
      ctx.res = canonical(ctx)
    } catch (e) {
      if (e instanceof ScimError) throw new ScimError(e.status, `Operations[${i}]: ${e.detail}`, e.scimType, e.headers)
      throw e
    }
  })
  return { resource: canonical(ctx), external: ctx.out }
}
