/**
 * Response projection: `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) combined with each
 * attribute's `returned` characteristic (RFC 7643 §7):
 * - `always` (id, schemas): always present, even when not asked for or excluded;
 * - `never` (password): never present;
 * - `default` (most, including meta): present unless excluded, or unless `attributes` is given without it;
 * - `request`: present only when named in `attributes`.
 * `attributes` wins when both lists are given. Names are case-insensitive, may be URN-qualified
 * (`urn:…:enterprise:2.0:User:employeeNumber`), may name a sub-attribute (`name.givenName`, `emails.value`)
 * or a whole schema (`urn:…:enterprise:2.0:User`). Unknown names are ignored (not an error).
 * Framework-free; never throws, whatever the resource looks like.
 */
import { parseAttrPath } from './attr-path'
import { findAttribute, undeclaredAttribute, type SchemaRegistry } from './schema/registry'
import type { AttributeDef, ResourceTypeDef } from './schema/types'

export interface ProjectionOptions {
  attributes?: string[]
  excludedAttributes?: string[]
}

/** Splits the comma-separated `attributes` / `excludedAttributes` query parameter; empty items are dropped. */
export function parseAttributeList(text: string | string[] | undefined): string[] {
  if (text === undefined || text === null) return []
  const parts = Array.isArray(text) ? text.flatMap((t) => String(t).split(',')) : String(text).split(',')
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

interface Selection {
  /** lower-cased schema URNs named as a whole */
  whole: Set<string>
  /** `schema|attr`, lower-cased */
  attrs: Set<string>
  /** `schema|attr` → lower-cased sub-attribute names */
  subs: Map<string, Set<string>>
}

function select(registry: SchemaRegistry, rt: ResourceTypeDef, list: string[]): Selection {
  const sel: Selection = { whole: new Set(), attrs: new Set(), subs: new Map() }
  for (const raw of list) {
    const text = typeof raw === 'string' ? raw.trim() : ''
    if (!text) continue
    const schemaUrn = registry.canonicalSchemaUrn(rt, text)
    if (schemaUrn) {
      sel.whole.add(schemaUrn.toLowerCase())
      continue
    }
    if (registry.isUndeclaredUrn(text)) sel.whole.add(text.toLowerCase())
    const path = parseAttrPath(text)
    if (!path) continue
    const resolved = registry.resolve(rt, path, { allowUndeclared: true })
    if (!resolved) continue
    const key = `${resolved.schema.toLowerCase()}|${resolved.canonical.attr.toLowerCase()}`
    if (resolved.canonical.sub !== undefined) {
      let set = sel.subs.get(key)
      if (!set) sel.subs.set(key, (set = new Set()))
      set.add(resolved.canonical.sub.toLowerCase())
    } else sel.attrs.add(key)
  }
  return sel
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Applies `keep(sub)` to the sub-attributes of a complex value (single or multi-valued); unknown keys follow `keepUnknown`. */
function filterComplex(
  def: AttributeDef,
  value: unknown,
  keep: (sub: AttributeDef) => boolean,
  keepUnknown: boolean,
): unknown {
  const one = (v: unknown): unknown => {
    if (!isObject(v)) return v
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) {
      const sub = findAttribute(def.subAttributes, k)
      if (sub ? keep(sub) : keepUnknown) out[k] = x
    }
    return Object.keys(out).length === 0 ? undefined : out
  }
  if (Array.isArray(value)) {
    const out = value.map(one).filter((x) => x !== undefined)
    return out.length === 0 ? undefined : out
  }
  return one(value)
}

type Mode = { include: true; sel: Selection } | { include: false; sel: Selection }

function projectAttr(def: AttributeDef, value: unknown, schemaKey: string, mode: Mode): unknown {
  if (def.returned === 'never') return undefined
  const isComplex = def.type === 'complex' && def.subAttributes !== undefined
  const notNever = (sub: AttributeDef) => sub.returned !== 'never'
  const key = `${schemaKey}|${def.name.toLowerCase()}`
  const whole = mode.sel.whole.has(schemaKey) || mode.sel.attrs.has(key)
  const subs = mode.sel.subs.get(key)

  if (def.returned === 'always') return isComplex ? filterComplex(def, value, notNever, true) : value

  if (mode.include) {
    if (whole) return isComplex ? filterComplex(def, value, notNever, true) : value
    if (subs && isComplex)
      return filterComplex(
        def,
        value,
        (sub) => sub.returned === 'always' || (sub.returned !== 'never' && subs.has(sub.name.toLowerCase())),
        false,
      )
    return undefined
  }

  if (def.returned === 'request' || whole) return undefined
  if (!isComplex) return value
  return filterComplex(
    def,
    value,
    (sub) =>
      sub.returned === 'always' ||
      (sub.returned !== 'never' && sub.returned !== 'request' && !(subs?.has(sub.name.toLowerCase()) ?? false)),
    true,
  )
}

function projectObject(
  attrs: readonly AttributeDef[],
  obj: Record<string, unknown>,
  schemaKey: string,
  mode: Mode,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue
    const def = findAttribute(attrs, k) ?? undeclaredAttribute(k)
    const projected = projectAttr(def, v, schemaKey, mode)
    if (projected !== undefined) out[k] = projected
  }
  return out
}

/** Whether an attribute (or one of its sub-attributes) is left out of a response nobody asked to shape. */
const hidesSomething = (def: AttributeDef): boolean =>
  def.returned === 'never' || def.returned === 'request' || (def.subAttributes ?? []).some(hidesSomething)

const hiddenCache = new WeakMap<SchemaRegistry, Map<ResourceTypeDef, Set<string>>>()

/**
 * Lower-cased top-level keys of a resource type that projection must look into even without `attributes` or
 * `excludedAttributes` (password; `returned: request` attributes; extensions holding such attributes).
 */
function hiddenKeys(registry: SchemaRegistry, rt: ResourceTypeDef): Set<string> {
  let perType = hiddenCache.get(registry)
  if (!perType) hiddenCache.set(registry, (perType = new Map()))
  let keys = perType.get(rt)
  if (!keys) {
    keys = new Set(
      [...registry.commonAttributes(), ...registry.coreSchema(rt).attributes].filter(hidesSomething).map((a) => a.name.toLowerCase()),
    )
    for (const ext of registry.extensionSchemas(rt)) if (ext.attributes.some(hidesSomething)) keys.add(ext.id.toLowerCase())
    perType.set(rt, keys)
  }
  return keys
}

/** Whether a value is returned as it is: present, and not an empty array or object. */
function plain(v: unknown): boolean {
  if (v === undefined || v === null) return false
  if (typeof v !== 'object') return true
  if (Array.isArray(v)) return v.length > 0
  for (const _ in v) return true
  return false
}

/** No attribute to hide and nothing empty: the resource needs no projection (every response that asks for none). */
function asIs(resource: Record<string, unknown>, hidden: Set<string>): boolean {
  for (const k in resource) if (!plain(resource[k]) || (hidden.size > 0 && hidden.has(k.toLowerCase()))) return false
  return true
}

/**
 * Projects a stored/canonical resource for a response. `schemas` and `returned: always` attributes are kept,
 * `returned: never` ones removed, the rest per `attributes` / `excludedAttributes`.
 */
export function project(
  registry: SchemaRegistry,
  rt: ResourceTypeDef,
  resource: Record<string, unknown>,
  opts: ProjectionOptions = {},
): Record<string, unknown> {
  if (!isObject(resource)) return {}
  // the common case, no attributes/excludedAttributes and nothing to hide: the resource as it is
  if (!opts.attributes?.length && !opts.excludedAttributes?.length && asIs(resource, hiddenKeys(registry, rt))) return resource
  const attributes = (opts.attributes ?? []).filter((a) => typeof a === 'string' && a.trim() !== '')
  const mode: Mode =
    attributes.length > 0
      ? { include: true, sel: select(registry, rt, attributes) }
      : { include: false, sel: select(registry, rt, opts.excludedAttributes ?? []) }

  const core = registry.coreSchema(rt)
  const coreKey = core.id.toLowerCase()
  const coreAttrs = [...registry.commonAttributes(), ...core.attributes]
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(resource)) {
    if (value === undefined) continue
    if (key.toLowerCase() === 'schemas') {
      out[key] = value
      continue
    }
    const ext = registry.extensionSchema(rt, key)
    if (ext) {
      if (!isObject(value)) continue
      const projected = projectObject(ext.attributes, value, ext.id.toLowerCase(), mode)
      if (Object.keys(projected).length > 0) out[key] = projected
      continue
    }
    if (registry.isUndeclaredUrn(key) && isObject(value)) {
      const projected = projectObject([], value, key.toLowerCase(), mode)
      if (Object.keys(projected).length > 0) out[key] = projected
      continue
    }
    const def = findAttribute(coreAttrs, key) ?? undeclaredAttribute(key)
    const projected = projectAttr(def, value, coreKey, mode)
    if (projected !== undefined) out[key] = projected
  }
  return out
}
