/**
 * OpenAPI (3.0) descriptions generated from the SCIM schema registry, so /docs shows the real attributes of each
 * resource type (custom extensions included) without Elysia validating bodies against them: SCIM validation, with
 * its IdP tolerances, happens in src/scim/schema/validate.ts.
 */
import { URN } from '../scim/constants'
import type { SchemaRegistry } from '../scim/schema/registry'
import type { AttributeDef, ResourceTypeDef } from '../scim/schema/types'

type JsonSchema = Record<string, unknown>

function scalar(def: AttributeDef): JsonSchema {
  switch (def.type) {
    case 'boolean':
      return { type: 'boolean' }
    case 'integer':
      return { type: 'integer' }
    case 'decimal':
      return { type: 'number' }
    case 'dateTime':
      return { type: 'string', format: 'date-time' }
    case 'binary':
      return { type: 'string', format: 'byte' }
    case 'reference':
      return { type: 'string', format: 'uri' }
    case 'complex':
      return {
        type: 'object',
        properties: Object.fromEntries((def.subAttributes ?? []).map((s) => [s.name, attributeSchema(s)])),
      }
    default:
      return def.canonicalValues?.length ? { type: 'string', example: def.canonicalValues[0] } : { type: 'string' }
  }
}

export function attributeSchema(def: AttributeDef): JsonSchema {
  const base = scalar(def)
  const s: JsonSchema = def.multiValued ? { type: 'array', items: base } : base
  if (def.description) s.description = def.description
  if (def.mutability === 'readOnly') s.readOnly = true
  if (def.mutability === 'writeOnly') s.writeOnly = true
  return s
}

function objectOf(attrs: AttributeDef[]): JsonSchema {
  const required = attrs.filter((a) => a.required && a.mutability !== 'readOnly').map((a) => a.name)
  const out: JsonSchema = { type: 'object', properties: Object.fromEntries(attrs.map((a) => [a.name, attributeSchema(a)])) }
  if (required.length) out.required = required
  return out
}

export function resourceSchema(registry: SchemaRegistry, rt: ResourceTypeDef): JsonSchema {
  const core = registry.schema(rt.schema)
  const body = objectOf([...registry.commonAttributes(), ...(core?.attributes ?? [])])
  const props = body.properties as Record<string, JsonSchema>
  props.schemas = { type: 'array', items: { type: 'string' }, example: [rt.schema] }
  for (const ext of rt.schemaExtensions) {
    const s = registry.schema(ext.schema)
    if (s) props[ext.schema] = { ...objectOf(s.attributes), description: s.description ?? s.name }
  }
  body.additionalProperties = true
  body.description = `${rt.description ?? rt.name} (${rt.schema}). Attribute names are case-insensitive.`
  return body
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['schemas', 'status'],
  properties: {
    schemas: { type: 'array', items: { type: 'string' }, example: [URN.error] },
    status: { type: 'string', description: 'HTTP status code as a string', example: '400' },
    scimType: {
      type: 'string',
      enum: ['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive', 'invalidCursor', 'expiredCursor'],
    },
    detail: { type: 'string' },
  },
}

const listOf = (ref: string): JsonSchema => ({
  type: 'object',
  properties: {
    schemas: { type: 'array', items: { type: 'string' }, example: [URN.listResponse] },
    totalResults: { type: 'integer' },
    startIndex: { type: 'integer' },
    itemsPerPage: { type: 'integer' },
    Resources: { type: 'array', items: { $ref: ref } },
  },
})

const PATCH_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['Operations'],
  properties: {
    schemas: { type: 'array', items: { type: 'string' }, example: [URN.patchOp] },
    Operations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['op'],
        properties: {
          op: { type: 'string', enum: ['add', 'remove', 'replace'], description: 'Case-insensitive' },
          path: { type: 'string', example: 'emails[type eq "work"].value' },
          value: { description: 'Any JSON value' },
        },
      },
    },
  },
  example: { schemas: [URN.patchOp], Operations: [{ op: 'replace', value: { active: false } }] },
}

const SEARCH_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    schemas: { type: 'array', items: { type: 'string' }, example: [URN.searchRequest] },
    filter: { type: 'string', example: 'userName eq "bjensen"' },
    sortBy: { type: 'string' },
    sortOrder: { type: 'string', enum: ['ascending', 'descending'] },
    startIndex: { type: 'integer' },
    count: { type: 'integer' },
    attributes: { type: 'array', items: { type: 'string' } },
    excludedAttributes: { type: 'array', items: { type: 'string' } },
  },
}

/** components.schemas for the OpenAPI document. */
export function openApiComponents(registry: SchemaRegistry): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = { ScimError: ERROR_SCHEMA, PatchOp: PATCH_SCHEMA, SearchRequest: SEARCH_SCHEMA }
  for (const rt of registry.resourceTypes()) {
    out[rt.name] = resourceSchema(registry, rt)
    out[`${rt.name}ListResponse`] = listOf(`#/components/schemas/${rt.name}`)
  }
  return out
}

const schemaRef = (ref: string) => ({ schema: { $ref: `#/components/schemas/${ref}` } })
/** Requests may come as either media type; responses are always application/scim+json. */
const requestContent = (ref: string) => ({ 'application/scim+json': schemaRef(ref), 'application/json': schemaRef(ref) })
const content = (ref: string) => ({ 'application/scim+json': schemaRef(ref) })

interface ResponseDoc {
  description: string
  content?: ReturnType<typeof content>
}

const ERRORS: Record<string, string> = {
  '400': 'Bad request (scimType says why)',
  '401': 'Missing or invalid credentials',
  '404': 'No such resource',
  '409': 'Uniqueness conflict',
  '412': 'If-Match does not match the current version',
  '413': 'Body too large',
}

/** `detail` for a route: request body and responses referencing the components above. */
export function operationDoc(o: {
  summary: string
  tags: string[]
  request?: string
  ok: { status: number; ref?: string; description: string }
  errors: (keyof typeof ERRORS)[]
}) {
  const responses: Record<string, ResponseDoc> = {
    [String(o.ok.status)]: o.ok.ref ? { description: o.ok.description, content: content(o.ok.ref) } : { description: o.ok.description },
  }
  for (const e of o.errors) responses[e] = { description: ERRORS[e], content: content('ScimError') }
  return {
    summary: o.summary,
    tags: o.tags,
    ...(o.request ? { requestBody: { required: true, content: requestContent(o.request) } } : {}),
    responses,
  }
}
