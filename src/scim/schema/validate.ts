/**
 * POST/PUT body → canonical stored form, driven by the schema registry (RFC 7643 §2, §3; RFC 7644 §3.3, §3.5.1).
 *
 * Canonical form: attribute names spelled as the schema spells them (matching is case-insensitive, RFC 7643
 * §2.1); extension attributes under their schema URN key; values of the declared type (dateTime normalised to
 * `toISOString()`); null and empty arrays dropped (RFC 7643 §2.5: unassigned); readOnly attributes dropped
 * (RFC 7644 §3.5.1: "SHALL be ignored"); `schemas` rebuilt as core URN + the extension URNs present.
 *
 * Tolerance (`strict: false`, the default for IdP traffic; SCIMD_STRICT=true turns it off):
 * - missing `schemas`, or unknown URNs in it (Entra has sent `…:enterprise:2.0User`), are accepted;
 * - `"True"`/`"false"` strings for booleans (Entra), numeric strings for integer/decimal (a number or boolean
 *   where a string is expected is still an error: issue #2 asks wrong types to be refused);
 * - a single value for a multi-valued attribute is wrapped in an array;
 * - a bare scalar for a complex attribute that has a `value` sub-attribute becomes `{ value: scalar }`
 *   (Entra sends the manager as `"managerId"` and members as `["id"]`);
 * - extension attributes written without their URN at the top level (`"department": …`) are moved into the
 *   extension; unknown core attributes (and unknown sub-attributes) are dropped;
 * - objects under undeclared extension URNs (`"urn:okta:custom:1.0:User": {…}`) and URN-qualified attributes of
 *   undeclared schemas are kept verbatim.
 * Strict mode turns each of these into 400 invalidValue naming the attribute or URN.
 *
 * Always enforced: object body (invalidSyntax), value types, single-valued vs array, at most one `primary: true`,
 * required attributes and non-empty required strings. `canonicalValues` are NOT enforced (RFC 7643 §7: the
 * service provider MAY accept other values; Okta/Entra send custom `type` labels). Error messages name the
 * attribute and the expected form and never echo a value (passwords must not leak into logs).
 */
import { formatAttrPath, parseAttrPath } from '../attr-path'
import { invalidSyntax, invalidValue, mutability } from '../errors'
import { findAttribute, type ResolvedAttr, type SchemaRegistry } from './registry'
import type { AttributeDef, ResourceTypeDef, SchemaDef } from './types'

export interface ValidateOptions {
  strict: boolean
}

export interface CoerceOptions {
  strict: boolean
  /** What to do with a readOnly sub-attribute inside a complex value: drop it (default), keep it, or fail. */
  readOnly?: 'drop' | 'keep' | 'error'
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s)

/** The key of `obj` equal to `name` ignoring case (the last one when several match), or undefined. */
export function findKey(obj: Record<string, unknown>, name: string): string | undefined {
  const lower = name.toLowerCase()
  let found: string | undefined
  // an ASCII key lower-cases to a string of its own length, so it can only match a name of that length; other keys
  // (whose lower case may change length, İ → i̇) are compared in full. Skipping the rest avoids lower-casing each key.
  for (const k in obj) if ((k.length === lower.length || !isAscii(k)) && k.toLowerCase() === lower) found = k
  return found
}

/** `obj[name]` with a case-insensitive key match. */
export function getCaseInsensitive(obj: Record<string, unknown>, name: string): unknown {
  const k = findKey(obj, name)
  return k === undefined ? undefined : obj[k]
}

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return 'an object'
  return `a ${typeof v}`
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i
const BASE64_STRICT = /^[A-Za-z0-9+/]*={0,2}$/
const BASE64_TOLERANT = /^[A-Za-z0-9+/_\-\s]*={0,2}\s*$/
const INTEGER_TEXT = /^[+-]?\d+$/
const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** ISO 8601 / xsd:dateTime with a timezone → `toISOString()`; undefined when invalid. */
export function normalizeDateTime(text: string): string | undefined {
  const m = DATE_TIME.exec(text.trim())
  if (!m) return undefined
  const [, y, mo, d, h, mi, s = '00', frac = '', tz] = m
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1) return undefined
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate()
  if (day > daysInMonth || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined
  const zone = tz.toUpperCase() === 'Z' ? 'Z' : tz.length === 5 ? `${tz.slice(0, 3)}:${tz.slice(3)}` : tz
  const ms = frac ? frac.slice(0, 4).padEnd(4, '0') : ''
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${zone}`)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

interface Ctx {
  strict: boolean
  readOnly: 'drop' | 'keep' | 'error'
}

function coerceScalar(def: AttributeDef, v: unknown, where: string, ctx: Ctx): unknown {
  const fail = (expected: string) => invalidValue(`Attribute '${where}' must be ${expected}; got ${typeOf(v)}`)
  switch (def.type) {
    case 'string':
      if (typeof v === 'string') return v
      throw fail('a string')
    case 'reference':
      if (typeof v === 'string') return v
      throw fail('a string (a reference URI)')
    case 'boolean':
      if (typeof v === 'boolean') return v
      if (!ctx.strict && typeof v === 'string') {
        const t = v.trim().toLowerCase()
        if (t === 'true') return true
        if (t === 'false') return false
      }
      throw fail('a boolean (true or false)')
    case 'integer':
      if (typeof v === 'number' && Number.isInteger(v)) return v
      if (!ctx.strict && typeof v === 'string' && INTEGER_TEXT.test(v.trim())) return Number(v.trim())
      throw fail('an integer (a JSON number without a fractional part)')
    case 'decimal':
      if (typeof v === 'number' && Number.isFinite(v)) return v
      if (!ctx.strict && typeof v === 'string' && DECIMAL_TEXT.test(v.trim())) return Number(v.trim())
      throw fail('a decimal number')
    case 'dateTime': {
      if (typeof v === 'string') {
        const iso = normalizeDateTime(v)
        if (iso !== undefined) return iso
        throw invalidValue(
          `Attribute '${where}' must be an ISO 8601 date-time with a timezone, e.g. 2015-09-30T12:00:00Z`,
        )
      }
      throw fail('an ISO 8601 date-time string with a timezone')
    }
    case 'binary':
      if (typeof v === 'string') {
        const ok = ctx.strict ? BASE64_STRICT.test(v) && v.length % 4 === 0 : BASE64_TOLERANT.test(v)
        if (ok) return v
        throw invalidValue(`Attribute '${where}' must be base64-encoded binary data (RFC 4648 §4)`)
      }
      throw fail('a base64 string')
    case 'complex':
      return coerceComplex(def, v, where, ctx)
  }
}

function coerceComplex(def: AttributeDef, v: unknown, where: string, ctx: Ctx): Record<string, unknown> | undefined {
  // Tolerance: a bare scalar for a complex attribute with a `value` sub-attribute means `{ value: scalar }`
  // (Entra: manager as "managerId", members as ["id"]).
  if (!ctx.strict && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
    const valueSub = findAttribute(def.subAttributes, 'value')
    if (valueSub) v = { [valueSub.name]: v }
  }
  if (!isPlainObject(v)) throw invalidValue(`Attribute '${where}' must be a JSON object (complex attribute); got ${typeOf(v)}`)
  const values = new Map<string, unknown>()
  for (const [key, raw] of Object.entries(v)) {
    const sub = findAttribute(def.subAttributes, key)
    if (!sub) {
      if (ctx.strict && raw !== null)
        throw invalidValue(
          `Attribute '${where}' has no sub-attribute '${key}' (expected one of: ${(def.subAttributes ?? []).map((s) => s.name).join(', ')})`,
        )
      continue
    }
    if (sub.mutability === 'readOnly' && ctx.readOnly !== 'keep') {
      if (ctx.readOnly === 'error' && raw !== null)
        throw mutability(`Sub-attribute '${where}.${sub.name}' is readOnly and cannot be set`)
      continue
    }
    const value = coerceAttr(sub, raw, `${where}.${sub.name}`, ctx)
    if (value === undefined) values.delete(sub.name)
    else values.set(sub.name, value)
  }
  if (values.size === 0) return undefined
  const out: Record<string, unknown> = {}
  for (const sub of def.subAttributes ?? []) {
    if (values.has(sub.name)) out[sub.name] = values.get(sub.name)
    else if (sub.required && sub.mutability !== 'readOnly')
      throw invalidValue(`Attribute '${where}.${sub.name}' is required`)
    if (sub.required && sub.type === 'string' && typeof out[sub.name] === 'string' && (out[sub.name] as string).trim() === '')
      throw invalidValue(`Attribute '${where}.${sub.name}' is required and must not be empty`)
  }
  return out
}

/** Validates one value (array or not, per def.multiValued); undefined means absent. */
function coerceAttr(def: AttributeDef, v: unknown, where: string, ctx: Ctx): unknown {
  if (v === null || v === undefined) return undefined
  if (def.multiValued) {
    let list: unknown[]
    if (Array.isArray(v)) list = v
    else if (ctx.strict) throw invalidValue(`Attribute '${where}' is multi-valued and must be a JSON array; got ${typeOf(v)}`)
    else list = [v]
    const out: unknown[] = []
    for (const item of list) {
      if (item === null || item === undefined) continue
      if (Array.isArray(item)) throw invalidValue(`Attribute '${where}' must be an array of values, not of arrays`)
      const value = coerceScalar(def, item, where, ctx)
      if (value !== undefined) out.push(value)
      // A complex element that carried something but keeps nothing (only readOnly or unknown sub-attributes, e.g. a
      // member `{display: "x"}` without `value`) is refused, not silently dropped; `{}` or all-null elements go.
      else if (isPlainObject(item) && Object.values(item).some((x) => x !== null && x !== undefined))
        throw invalidValue(
          `Attribute '${where}' has an element without any writable sub-attribute (expected some of: ${(def.subAttributes ?? [])
            .filter((s) => s.mutability !== 'readOnly')
            .map((s) => s.name)
            .join(', ')})`,
        )
    }
    if (def.type === 'complex' && findAttribute(def.subAttributes, 'primary')) {
      const primaries = out.filter((x) => isPlainObject(x) && x.primary === true).length
      if (primaries > 1)
        throw invalidValue(`Attribute '${where}' has ${primaries} values with primary true; at most one is allowed`)
    }
    return out
  }
  if (Array.isArray(v)) throw invalidValue(`Attribute '${where}' is single-valued and must not be an array`)
  return coerceScalar(def, v, where, ctx)
}

/**
 * Validates and canonicalises a value for one resolved attribute (PATCH values, filters' right-hand sides):
 * honours def.multiValued (an array, or a single value wrapped unless strict), the type, sub-attribute names
 * and the primary rule. Returns undefined for null (absent); an empty array stays `[]`. Values of undeclared
 * extension attributes (resolved.declared false) are returned verbatim. Throws ScimError invalidValue.
 */
export function coerceValue(
  _registry: SchemaRegistry,
  resolved: ResolvedAttr,
  value: unknown,
  opts: CoerceOptions,
): unknown {
  if (!resolved.declared) return value === null ? undefined : value
  return coerceAttr(resolved.def, value, formatAttrPath(resolved.canonical), {
    strict: opts.strict,
    readOnly: opts.readOnly ?? 'drop',
  })
}

interface Entry {
  def: AttributeDef
  value: unknown
}

/** Places `value` (raw) for `def` (and its sub-attribute, for dotted keys) into a bucket, merging objects. */
function place(bucket: Map<string, Entry>, def: AttributeDef, sub: AttributeDef | undefined, value: unknown, where: string, strict: boolean) {
  const existing = bucket.get(def.name)
  if (!sub) {
    if (existing && isPlainObject(existing.value) && isPlainObject(value)) {
      existing.value = { ...existing.value, ...value }
      return
    }
    if (existing && strict && existing.value !== null && value !== null)
      throw invalidValue(`Attribute '${where}' is given more than once (attribute names are case-insensitive)`)
    bucket.set(def.name, { def, value })
    return
  }
  if (def.multiValued) {
    if (strict) throw invalidValue(`Attribute '${where}' cannot be set through a sub-attribute path; '${def.name}' is multi-valued`)
    return
  }
  const base = existing && isPlainObject(existing.value) ? existing.value : {}
  bucket.set(def.name, { def, value: { ...base, [sub.name]: value } })
}

function requireAttributes(attrs: readonly AttributeDef[], values: Map<string, unknown>, prefix: string) {
  for (const def of attrs) {
    if (!def.required || def.mutability === 'readOnly') continue
    const where = prefix + def.name
    const v = values.get(def.name)
    if (v === undefined || (Array.isArray(v) && v.length === 0))
      throw invalidValue(`Attribute '${where}' is required`)
    if (def.type === 'string' && typeof v === 'string' && v.trim() === '')
      throw invalidValue(`Attribute '${where}' is required and must not be empty`)
  }
}

/**
 * Turns a POST/PUT body into the canonical stored form for resource type rt (see the file comment).
 * Throws ScimError: invalidSyntax (not an object), invalidValue (everything else).
 */
export function validateResource(
  registry: SchemaRegistry,
  rt: ResourceTypeDef,
  body: unknown,
  opts: ValidateOptions,
): Record<string, unknown> {
  if (!isPlainObject(body)) throw invalidSyntax(`The request body must be a JSON object (a ${rt.name} resource)`)
  const strict = opts.strict
  const ctx: Ctx = { strict, readOnly: 'drop' }
  const core = registry.coreSchema(rt)

  // schemas
  const schemasKey = findKey(body, 'schemas')
  const rawSchemas = schemasKey === undefined ? undefined : body[schemasKey]
  let listed: string[] = []
  if (rawSchemas === undefined || rawSchemas === null) {
    if (strict) throw invalidValue(`Attribute 'schemas' is required and must contain "${core.id}"`)
  } else if (Array.isArray(rawSchemas) && rawSchemas.every((s) => typeof s === 'string')) {
    listed = rawSchemas as string[]
  } else if (strict) {
    throw invalidValue(`Attribute 'schemas' must be an array of schema URN strings`)
  } else if (typeof rawSchemas === 'string') listed = [rawSchemas]
  else if (Array.isArray(rawSchemas)) listed = rawSchemas.filter((s): s is string => typeof s === 'string')
  const listedLower = new Set(listed.map((s) => s.toLowerCase()))
  if (strict) {
    if (!listedLower.has(core.id.toLowerCase()))
      throw invalidValue(`Attribute 'schemas' must contain "${core.id}"`)
    for (const urn of listed)
      if (!registry.isSchemaUrn(rt, urn))
        throw invalidValue(`Attribute 'schemas' names "${urn}", which is not a schema of resource type ${rt.name}`)
  }

  const coreBucket = new Map<string, Entry>()
  const extBuckets = new Map<string, Map<string, Entry>>()
  const undeclared = new Map<string, Record<string, unknown>>()
  const extBucket = (urn: string) => {
    let b = extBuckets.get(urn)
    if (!b) extBuckets.set(urn, (b = new Map()))
    return b
  }
  const unknown = (key: string) => {
    if (strict) throw invalidValue(`Attribute '${key}' is not defined for resource type ${rt.name}`)
  }
  const undeclaredObject = (urn: string) => {
    const found = [...undeclared.keys()].find((k) => k.toLowerCase() === urn.toLowerCase())
    if (found) return undeclared.get(found)!
    const o: Record<string, unknown> = {}
    undeclared.set(urn, o)
    return o
  }

  /** One attribute key (relative to `schema` when given) → its bucket. */
  const handle = (key: string, value: unknown, schema?: SchemaDef) => {
    const path = parseAttrPath(key)
    if (!path) return unknown(schema ? `${schema.id}:${key}` : key)
    let resolved: ResolvedAttr | undefined
    if (schema) {
      if (path.uri !== undefined) return unknown(`${schema.id}:${key}`)
      resolved = registry.resolve(rt, { ...path, uri: schema.id })
    } else {
      resolved = registry.resolve(rt, path)
    }
    if (!resolved) return unknown(schema ? `${schema.id}:${key}` : key)
    const where = formatAttrPath(resolved.canonical)
    if (resolved.def.name === 'schemas' && !resolved.extension && resolved.parent === undefined) return
    if (resolved.extension && !schema && path.uri === undefined && strict)
      throw invalidValue(`Attribute '${key}' belongs to extension "${resolved.schema}" and must be sent under that URN`)
    const parentDef = resolved.parent ?? resolved.def
    const subDef = resolved.parent ? resolved.def : undefined
    const bucket = resolved.extension ? extBucket(resolved.schema) : coreBucket
    place(bucket, parentDef, subDef, value, where, strict)
  }

  for (const [key, value] of Object.entries(body)) {
    if (key === schemasKey) continue
    if (!/^urn:/i.test(key)) {
      handle(key, value)
      continue
    }
    const ext = registry.extensionSchema(rt, key)
    if (ext) {
      if (value === null || value === undefined) continue
      if (!isPlainObject(value))
        throw invalidValue(`Extension '${ext.id}' must be a JSON object holding its attributes; got ${typeOf(value)}`)
      if (strict && !listedLower.has(ext.id.toLowerCase()))
        throw invalidValue(`Extension '${ext.id}' is present but not listed in 'schemas'`)
      extBucket(ext.id)
      for (const [k, v] of Object.entries(value)) handle(k, v, ext)
      continue
    }
    if (key.toLowerCase() === core.id.toLowerCase()) {
      // `{"urn:…:core:2.0:User": {"userName": …}}`: the core attributes, wrapped.
      if (value === null || value === undefined) continue
      if (!isPlainObject(value)) throw invalidValue(`'${core.id}' must be a JSON object; got ${typeOf(value)}`)
      for (const [k, v] of Object.entries(value)) handle(k, v)
      continue
    }
    const path = parseAttrPath(key)
    if (path?.uri !== undefined && registry.resolve(rt, path)) {
      const resolved = registry.resolve(rt, path)!
      if (strict && resolved.extension && !listedLower.has(resolved.schema.toLowerCase()))
        throw invalidValue(`Attribute '${key}' belongs to extension "${resolved.schema}", which is not listed in 'schemas'`)
      handle(key, value)
      continue
    }
    // Not a declared schema or attribute: an undeclared extension (object under its URN, or URN:attr).
    const wholeSchema =
      registry.isUndeclaredUrn(key) &&
      (listedLower.has(key.toLowerCase()) || (isPlainObject(value) && !(path?.uri && listedLower.has(path.uri.toLowerCase()))))
    if (wholeSchema) {
      if (strict) throw invalidValue(`Extension '${key}' is not a schema of resource type ${rt.name}`)
      if (value === null || value === undefined) continue
      if (!isPlainObject(value)) continue
      Object.assign(undeclaredObject(key), value)
      continue
    }
    if (path?.uri !== undefined && registry.isUndeclaredUrn(path.uri)) {
      if (strict) throw invalidValue(`Attribute '${key}' belongs to "${path.uri}", which is not a schema of resource type ${rt.name}`)
      if (value === null || value === undefined) continue
      const obj = undeclaredObject(path.uri)
      if (path.sub === undefined) obj[path.attr] = value
      else {
        const inner = isPlainObject(obj[path.attr]) ? (obj[path.attr] as Record<string, unknown>) : {}
        obj[path.attr] = { ...inner, [path.sub]: value }
      }
      continue
    }
    unknown(key)
  }

  // Coerce, drop readOnly and empty values.
  const finish = (bucket: Map<string, Entry>, prefix: string): Map<string, unknown> => {
    const out = new Map<string, unknown>()
    for (const [name, { def, value }] of bucket) {
      if (def.mutability === 'readOnly') continue
      const v = coerceAttr(def, value, prefix + name, ctx)
      if (v === undefined || (Array.isArray(v) && v.length === 0)) continue
      out.set(name, v)
    }
    return out
  }

  const coreValues = finish(coreBucket, '')
  requireAttributes([...registry.commonAttributes(), ...core.attributes], coreValues, '')

  const result: Record<string, unknown> = { schemas: [core.id] }
  const schemasOut = result.schemas as string[]
  for (const def of [...registry.commonAttributes(), ...core.attributes])
    if (coreValues.has(def.name)) result[def.name] = coreValues.get(def.name)

  for (const ref of rt.schemaExtensions) {
    const schema = registry.schema(ref.schema)!
    const bucket = extBuckets.get(schema.id)
    const values = bucket ? finish(bucket, `${schema.id}:`) : new Map<string, unknown>()
    if (values.size === 0) {
      if (ref.required) throw invalidValue(`Extension '${schema.id}' is required for resource type ${rt.name}`)
      continue
    }
    requireAttributes(schema.attributes, values, `${schema.id}:`)
    const obj: Record<string, unknown> = {}
    for (const def of schema.attributes) if (values.has(def.name)) obj[def.name] = values.get(def.name)
    result[schema.id] = obj
    schemasOut.push(schema.id)
  }
  for (const [urn, obj] of undeclared) {
    if (Object.keys(obj).length === 0) continue
    result[urn] = obj
    schemasOut.push(urn)
  }
  return result
}

function equalValues(def: AttributeDef, a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (def.multiValued) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    const single = { ...def, multiValued: false }
    return a.every((x) => b.some((y) => equalValues(single, x, y)))
  }
  if (def.type === 'complex') {
    if (!isPlainObject(a) || !isPlainObject(b)) return false
    return (def.subAttributes ?? []).every((s) => equalValues(s, a[s.name], b[s.name]))
  }
  if (typeof a === 'string' && typeof b === 'string') {
    if (def.type === 'dateTime') return Date.parse(a) === Date.parse(b)
    return def.caseExact ? a === b : a.toLowerCase() === b.toLowerCase()
  }
  return false
}

/**
 * PUT (RFC 7644 §3.5.1): an immutable attribute that already has a value must keep it → ScimError mutability.
 * Both resources are in canonical form (validateResource output / stored form). Checked: immutable top-level
 * attributes (core and declared extensions) and immutable sub-attributes of single-valued complex attributes.
 * Not checked: immutable sub-attributes of multi-valued attributes (Group `members.value`): values are added
 * and removed as a whole, so there is no "same value" to compare. An attribute absent from `incoming` is not
 * a change here: the caller decides whether to keep the stored value.
 */
export function checkImmutable(
  registry: SchemaRegistry,
  rt: ResourceTypeDef,
  existing: Record<string, unknown>,
  incoming: Record<string, unknown>,
): void {
  const check = (attrs: readonly AttributeDef[], oldObj: Record<string, unknown>, newObj: Record<string, unknown>, prefix: string) => {
    for (const def of attrs) {
      const before = getCaseInsensitive(oldObj, def.name)
      const after = getCaseInsensitive(newObj, def.name)
      if (def.mutability === 'immutable') {
        if (before === undefined || before === null || after === undefined || after === null) continue
        if (!equalValues(def, before, after))
          throw mutability(`Attribute '${prefix}${def.name}' is immutable and cannot be changed`)
      } else if (def.type === 'complex' && !def.multiValued && isPlainObject(before) && isPlainObject(after)) {
        check(def.subAttributes ?? [], before, after, `${prefix}${def.name}.`)
      }
    }
  }
  check([...registry.commonAttributes(), ...registry.coreSchema(rt).attributes], existing, incoming, '')
  for (const schema of registry.extensionSchemas(rt)) {
    const before = getCaseInsensitive(existing, schema.id)
    const after = getCaseInsensitive(incoming, schema.id)
    if (isPlainObject(before) && isPlainObject(after)) check(schema.attributes, before, after, `${schema.id}:`)
  }
}
