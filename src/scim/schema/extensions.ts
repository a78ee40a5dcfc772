/**
 * Custom schema extensions (the SCIMD_SCHEMAS feature): an application declares its own schema URNs and
 * attributes, and which resource types they extend. The file is JSON:
 *
 * ```json
 * {
 *   "schemas": [
 *     {
 *       "id": "urn:acme:params:scim:schemas:extension:acme:2.0:User",
 *       "name": "AcmeUser",
 *       "description": "Acme's user attributes",
 *       "attributes": [
 *         { "name": "badgeNumber", "caseExact": true, "uniqueness": "server" },
 *         { "name": "clearance", "type": "integer" },
 *         { "name": "hiredOn", "type": "dateTime" },
 *         { "name": "sites", "type": "complex", "multiValued": true, "subAttributes": [
 *             { "name": "value" }, { "name": "primary", "type": "boolean" } ] }
 *       ]
 *     }
 *   ],
 *   "resourceTypes": {
 *     "User": ["urn:acme:params:scim:schemas:extension:acme:2.0:User"]
 *   }
 * }
 * ```
 *
 * - `schemas`: schema definitions in the shape of RFC 7643 §7 (`id`, `name`, `description`, `attributes`). Every
 *   attribute field except `name` may be left out and takes its RFC 7643 §2.2 default: type "string",
 *   multiValued false, required false, caseExact false, mutability "readWrite", returned "default",
 *   uniqueness "none". `name` defaults to the last `:` segment of `id`.
 * - `resourceTypes`: resource type name (or id, case-insensitive; "User", "Group") → the schema URNs that
 *   extend it. An entry is a URN string (an optional extension) or `{ "schema": urn, "required": true }`.
 *
 * Anything invalid — unknown keys (typos such as "mutable"), wrong types, unknown enum values, duplicate names,
 * a complex attribute without sub-attributes or nested complex sub-attributes (RFC 7643 §2.3.8), a schema not
 * attached to any resource type, a URN that is not a `urn:` — throws a plain Error naming the schema and attribute.
 * Resource type names and clashes with the built-in schemas are checked by `defaultRegistry()`.
 */
import type { AttributeDef, SchemaDef, SchemaExtensionRef } from './types'

export interface LoadedExtensions {
  schemas: SchemaDef[]
  /** resource type name or id as written in the file → the extensions it gains */
  resourceTypes: Record<string, SchemaExtensionRef[]>
}

const TYPES = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'] as const
const MUTABILITY = ['readOnly', 'readWrite', 'immutable', 'writeOnly'] as const
const RETURNED = ['always', 'never', 'default', 'request'] as const
const UNIQUENESS = ['none', 'server', 'global'] as const
/** RFC 7643 §2.1 ATTRNAME (ALPHA *(nameChar)), plus `$ref`. */
const ATTR_NAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/
const URN_RE = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\s]+$/i
const ATTRIBUTE_KEYS = new Set([
  'name',
  'type',
  'multiValued',
  'description',
  'required',
  'caseExact',
  'mutability',
  'returned',
  'uniqueness',
  'canonicalValues',
  'referenceTypes',
  'subAttributes',
])
const SCHEMA_KEYS = new Set(['id', 'name', 'description', 'attributes', 'schemas', 'meta'])

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function oneOf<T extends string>(where: string, field: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw new Error(`${where}: "${field}" must be one of ${allowed.join(', ')}`)
  return v as T
}

function bool(where: string, field: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt
  if (typeof v !== 'boolean') throw new Error(`${where}: "${field}" must be true or false`)
  return v
}

function strings(where: string, field: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    throw new Error(`${where}: "${field}" must be an array of strings`)
  return [...v]
}

function parseAttribute(json: unknown, where: string, depth: number): AttributeDef {
  if (!isObject(json)) throw new Error(`${where}: an attribute must be a JSON object`)
  const name = json.name
  if (typeof name !== 'string' || !ATTR_NAME.test(name))
    throw new Error(`${where}: attribute "name" must be a valid attribute name (a letter, then letters, digits, _ or -)`)
  const at = `${where}, attribute "${name}"`
  for (const key of Object.keys(json)) if (!ATTRIBUTE_KEYS.has(key)) throw new Error(`${at}: unknown field "${key}"`)
  if (json.description !== undefined && typeof json.description !== 'string')
    throw new Error(`${at}: "description" must be a string`)
  const def: AttributeDef = {
    name,
    type: oneOf(at, 'type', json.type, TYPES, 'string'),
    multiValued: bool(at, 'multiValued', json.multiValued, false),
    required: bool(at, 'required', json.required, false),
    caseExact: bool(at, 'caseExact', json.caseExact, false),
    mutability: oneOf(at, 'mutability', json.mutability, MUTABILITY, 'readWrite'),
    returned: oneOf(at, 'returned', json.returned, RETURNED, 'default'),
    uniqueness: oneOf(at, 'uniqueness', json.uniqueness, UNIQUENESS, 'none'),
  }
  if (typeof json.description === 'string') def.description = json.description
  const canonicalValues = strings(at, 'canonicalValues', json.canonicalValues)
  if (canonicalValues) def.canonicalValues = canonicalValues
  const referenceTypes = strings(at, 'referenceTypes', json.referenceTypes)
  if (referenceTypes) {
    if (def.type !== 'reference') throw new Error(`${at}: "referenceTypes" is only allowed on type "reference"`)
    def.referenceTypes = referenceTypes
  }
  if (def.type === 'complex') {
    if (depth > 0) throw new Error(`${at}: a sub-attribute cannot be complex (RFC 7643 §2.3.8)`)
    if (!Array.isArray(json.subAttributes) || json.subAttributes.length === 0)
      throw new Error(`${at}: a complex attribute needs a non-empty "subAttributes" array`)
    def.subAttributes = parseAttributes(json.subAttributes, at, depth + 1)
  } else if (json.subAttributes !== undefined) {
    throw new Error(`${at}: "subAttributes" is only allowed on type "complex"`)
  }
  return def
}

function parseAttributes(list: unknown[], where: string, depth: number): AttributeDef[] {
  const seen = new Set<string>()
  return list.map((item, i) => {
    const def = parseAttribute(item, `${where} (attribute #${i + 1})`, depth)
    const key = def.name.toLowerCase()
    if (seen.has(key)) throw new Error(`${where}: attribute "${def.name}" is declared twice (names are case-insensitive)`)
    seen.add(key)
    return def
  })
}

function parseSchema(json: unknown, index: number): SchemaDef {
  if (!isObject(json)) throw new Error(`schemas[${index}]: a schema must be a JSON object`)
  const id = json.id
  if (typeof id !== 'string' || !URN_RE.test(id))
    throw new Error(`schemas[${index}]: "id" must be a schema URN such as "urn:acme:params:scim:schemas:extension:acme:2.0:User"`)
  const where = `schema "${id}"`
  for (const key of Object.keys(json)) if (!SCHEMA_KEYS.has(key)) throw new Error(`${where}: unknown field "${key}"`)
  if (json.name !== undefined && (typeof json.name !== 'string' || json.name === ''))
    throw new Error(`${where}: "name" must be a non-empty string`)
  if (json.description !== undefined && typeof json.description !== 'string')
    throw new Error(`${where}: "description" must be a string`)
  if (!Array.isArray(json.attributes)) throw new Error(`${where}: "attributes" must be an array`)
  const schema: SchemaDef = {
    id,
    name: typeof json.name === 'string' ? json.name : id.slice(id.lastIndexOf(':') + 1),
    attributes: parseAttributes(json.attributes, where, 0),
  }
  if (typeof json.description === 'string') schema.description = json.description
  return schema
}

/** Parses and checks a custom-extension file (already JSON-parsed). Throws Error with a precise message. */
export function loadSchemaExtensions(json: unknown): LoadedExtensions {
  if (!isObject(json)) throw new Error('schema extensions: the file must contain a JSON object with "schemas" and "resourceTypes"')
  for (const key of Object.keys(json))
    if (key !== 'schemas' && key !== 'resourceTypes' && key !== '$schema' && key !== '$comment')
      throw new Error(`schema extensions: unknown top-level field "${key}" (expected "schemas" and "resourceTypes")`)
  if (!Array.isArray(json.schemas)) throw new Error('schema extensions: "schemas" must be an array of schema definitions')
  const schemas = json.schemas.map(parseSchema)
  const byUrn = new Map<string, SchemaDef>()
  for (const s of schemas) {
    const key = s.id.toLowerCase()
    if (byUrn.has(key)) throw new Error(`schema "${s.id}" is declared twice (URNs are case-insensitive)`)
    byUrn.set(key, s)
  }

  const resourceTypes: Record<string, SchemaExtensionRef[]> = {}
  const used = new Set<string>()
  const rts = json.resourceTypes ?? {}
  if (!isObject(rts)) throw new Error('schema extensions: "resourceTypes" must be an object such as { "User": ["urn:…"] }')
  for (const [rtName, list] of Object.entries(rts)) {
    if (!Array.isArray(list)) throw new Error(`resource type "${rtName}": expected an array of schema URNs`)
    const refs: SchemaExtensionRef[] = []
    for (const entry of list) {
      let urn: unknown
      let required = false
      if (typeof entry === 'string') urn = entry
      else if (isObject(entry)) {
        for (const key of Object.keys(entry))
          if (key !== 'schema' && key !== 'required')
            throw new Error(`resource type "${rtName}": unknown field "${key}" in an extension entry`)
        urn = entry.schema
        required = bool(`resource type "${rtName}"`, 'required', entry.required, false)
      } else throw new Error(`resource type "${rtName}": each entry must be a schema URN or { "schema": urn, "required": bool }`)
      if (typeof urn !== 'string') throw new Error(`resource type "${rtName}": "schema" must be a URN string`)
      const schema = byUrn.get(urn.toLowerCase())
      if (!schema) throw new Error(`resource type "${rtName}": schema "${urn}" is not declared in "schemas"`)
      if (refs.some((r) => r.schema === schema.id))
        throw new Error(`resource type "${rtName}": schema "${schema.id}" is listed twice`)
      refs.push({ schema: schema.id, required })
      used.add(schema.id)
    }
    resourceTypes[rtName] = refs
  }
  for (const s of schemas)
    if (!used.has(s.id))
      throw new Error(`schema "${s.id}" is not attached to any resource type (add it under "resourceTypes")`)
  return { schemas, resourceTypes }
}
