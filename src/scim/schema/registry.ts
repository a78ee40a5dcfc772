/**
 * The schemas and resource types the server knows, with case-insensitive (RFC 7643 §2.1), URN-qualified
 * attribute lookup. Framework-free; built once at start-up (`defaultRegistry(extensions)`) and passed down.
 */
import { URN } from '../constants'
import type { AttrPath } from '../filter/ast'
import { COMMON_ATTRIBUTES, SCHEMAS_ATTRIBUTE } from './common'
import { ENTERPRISE_USER_SCHEMA } from './enterprise-user'
import type { LoadedExtensions } from './extensions'
import { GROUP_SCHEMA } from './group'
import { RESOURCE_TYPES } from './resource-types'
import type { AttributeDef, ResourceTypeDef, SchemaDef } from './types'
import { USER_SCHEMA } from './user'

export interface ResolvedAttr {
  /** URN of the schema that declares the attribute (the core URN for common attributes and `schemas`), or the URN as written for undeclared ones. */
  schema: string
  /** The leaf: the sub-attribute when path.sub is set. */
  def: AttributeDef
  /** The complex attribute when path.sub is set. */
  parent?: AttributeDef
  /** false for an attribute synthesized from an undeclared extension URN (allowUndeclared). */
  declared: boolean
  /** Stored under resource[schema] rather than at the top level. */
  extension: boolean
  /** Names as the schema spells them; `uri` set only for extension attributes. */
  canonical: AttrPath
}

export interface ResolveOptions {
  /** Synthesize a string attribute for `urn:<unknown schema>:attr` (an IdP's own extension). */
  allowUndeclared?: boolean
}

/** Case-insensitive lookup of an attribute by name in a list. */
export function findAttribute(list: readonly AttributeDef[] | undefined, name: string): AttributeDef | undefined {
  if (!list) return undefined
  const lower = name.toLowerCase()
  return list.find((a) => a.name.toLowerCase() === lower)
}

/** Definition used for attributes of an undeclared extension (RFC 7643 §2.2 defaults). */
export function undeclaredAttribute(name: string): AttributeDef {
  return {
    name,
    type: 'string',
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
  }
}

const RESERVED_URN_PREFIXES = ['urn:ietf:params:scim:schemas:core:', 'urn:ietf:params:scim:api:']

export class SchemaRegistry {
  private readonly schemaList: SchemaDef[]
  private readonly rtList: ResourceTypeDef[]
  private readonly schemaByUrn = new Map<string, SchemaDef>()

  constructor(
    schemas: SchemaDef[],
    resourceTypes: ResourceTypeDef[],
    private readonly common: AttributeDef[] = COMMON_ATTRIBUTES,
  ) {
    this.schemaList = [...schemas]
    this.rtList = [...resourceTypes]
    for (const s of schemas) {
      const key = s.id.toLowerCase()
      if (this.schemaByUrn.has(key)) throw new Error(`schema "${s.id}" is registered twice`)
      this.schemaByUrn.set(key, s)
    }
    const seen = new Set<string>()
    for (const rt of resourceTypes) {
      if (seen.has(rt.id.toLowerCase())) throw new Error(`resource type "${rt.id}" is registered twice`)
      seen.add(rt.id.toLowerCase())
      if (!this.schemaByUrn.has(rt.schema.toLowerCase()))
        throw new Error(`resource type "${rt.id}": schema "${rt.schema}" is not registered`)
      for (const ext of rt.schemaExtensions)
        if (!this.schemaByUrn.has(ext.schema.toLowerCase()))
          throw new Error(`resource type "${rt.id}": extension schema "${ext.schema}" is not registered`)
    }
  }

  resourceTypes(): ResourceTypeDef[] {
    return this.rtList
  }

  /** By id, name or endpoint (`/Users`), case-insensitive. */
  resourceType(idOrName: string): ResourceTypeDef | undefined {
    const key = idOrName.toLowerCase()
    return this.rtList.find(
      (rt) => rt.id.toLowerCase() === key || rt.name.toLowerCase() === key || rt.endpoint.toLowerCase() === key,
    )
  }

  schemas(): SchemaDef[] {
    return this.schemaList
  }

  schema(urn: string): SchemaDef | undefined {
    return this.schemaByUrn.get(urn.toLowerCase())
  }

  /** RFC 7643 §3.1 attributes shared by every resource type (id, externalId, meta). */
  commonAttributes(): AttributeDef[] {
    return this.common
  }

  coreSchema(rt: ResourceTypeDef): SchemaDef {
    return this.schemaByUrn.get(rt.schema.toLowerCase())!
  }

  /** The extension schemas declared for rt, in declaration order. */
  extensionSchemas(rt: ResourceTypeDef): SchemaDef[] {
    return rt.schemaExtensions.map((e) => this.schemaByUrn.get(e.schema.toLowerCase())!)
  }

  /** The declared extension schema named by `text` (case-insensitive), if any. */
  extensionSchema(rt: ResourceTypeDef, text: string): SchemaDef | undefined {
    const key = text.toLowerCase()
    return this.extensionSchemas(rt).find((s) => s.id.toLowerCase() === key)
  }

  /** Whether `text` names the core schema or a declared extension schema of rt (case-insensitive). */
  isSchemaUrn(rt: ResourceTypeDef, text: string): boolean {
    return this.canonicalSchemaUrn(rt, text) !== undefined
  }

  /** The schema URN as registered, when `text` names rt's core or extension schema; undefined otherwise. */
  canonicalSchemaUrn(rt: ResourceTypeDef, text: string): string | undefined {
    const key = text.toLowerCase()
    if (rt.schema.toLowerCase() === key) return this.coreSchema(rt).id
    return this.extensionSchema(rt, text)?.id
  }

  /**
   * Whether `text` can name an undeclared extension schema: a `urn:` that is not a registered schema, not a path
   * inside one (`urn:…:enterprise:2.0:User:employeeNumber` is an attribute of a declared schema, declared or not),
   * and not inside the IETF core/api namespaces. Other `urn:ietf:params:scim:schemas:extension:` URNs stay
   * possible: Entra sends its custom attributes under `urn:ietf:params:scim:schemas:extension:<Name>:2.0:User`.
   */
  isUndeclaredUrn(text: string): boolean {
    const key = text.toLowerCase()
    if (!key.startsWith('urn:') || key.length <= 4 || /\s/.test(key)) return false
    if (this.schemaByUrn.has(key)) return false
    for (const urn of this.schemaByUrn.keys()) if (key.startsWith(urn + ':')) return false
    return !RESERVED_URN_PREFIXES.some((p) => key.startsWith(p))
  }

  /**
   * Resolves `[uri:]attr[.sub]` for rt. Without a URN: common attributes (and `schemas`), then the core schema,
   * then (tolerance) rt's extension schemas. With a URN: that schema (the core URN may prefix core and common
   * attributes). A whole schema URN (`urn:…:enterprise:2.0:User`) is not an attribute: undefined (use isSchemaUrn).
   */
  resolve(rt: ResourceTypeDef, path: AttrPath, opts: ResolveOptions = {}): ResolvedAttr | undefined {
    const core = this.coreSchema(rt)
    let found: { schema: string; def: AttributeDef; extension: boolean } | undefined

    if (path.uri !== undefined) {
      // `urn:…:enterprise:2.0:User` parses as uri `urn:…:2.0` + attr `User`: a schema, not an attribute.
      if (this.schemaByUrn.has(`${path.uri}:${path.attr}`.toLowerCase())) return undefined
      if (path.uri.toLowerCase() === core.id.toLowerCase()) {
        const def = this.findCommon(path.attr) ?? findAttribute(core.attributes, path.attr)
        if (def) found = { schema: core.id, def, extension: false }
      } else {
        const ext = this.extensionSchema(rt, path.uri)
        if (ext) {
          const def = findAttribute(ext.attributes, path.attr)
          if (def) found = { schema: ext.id, def, extension: true }
        } else if (opts.allowUndeclared && this.isUndeclaredUrn(path.uri)) {
          if (path.sub !== undefined) return undefined
          return {
            schema: path.uri,
            def: undeclaredAttribute(path.attr),
            declared: false,
            extension: true,
            canonical: { uri: path.uri, attr: path.attr },
          }
        }
      }
    } else {
      const def = this.findCommon(path.attr) ?? findAttribute(core.attributes, path.attr)
      if (def) found = { schema: core.id, def, extension: false }
      else
        for (const ext of this.extensionSchemas(rt)) {
          const extDef = findAttribute(ext.attributes, path.attr)
          if (extDef) {
            found = { schema: ext.id, def: extDef, extension: true }
            break
          }
        }
    }
    if (!found) return undefined

    const top: ResolvedAttr = {
      schema: found.schema,
      def: found.def,
      declared: true,
      extension: found.extension,
      canonical: found.extension ? { uri: found.schema, attr: found.def.name } : { attr: found.def.name },
    }
    return path.sub === undefined ? top : this.resolveSub(top, path.sub)
  }

  /** A sub-attribute of a resolved complex attribute (value filters: `emails[type eq "work"]`). */
  resolveSub(parent: ResolvedAttr, name: string): ResolvedAttr | undefined {
    if (parent.parent !== undefined || parent.def.type !== 'complex') return undefined
    const def = findAttribute(parent.def.subAttributes, name)
    if (!def) return undefined
    return {
      schema: parent.schema,
      def,
      parent: parent.def,
      declared: parent.declared,
      extension: parent.extension,
      canonical: { ...parent.canonical, sub: def.name },
    }
  }

  private findCommon(name: string): AttributeDef | undefined {
    return findAttribute(this.common, name) ?? (name.toLowerCase() === 'schemas' ? SCHEMAS_ATTRIBUTE : undefined)
  }
}

/**
 * The built-in registry: User (with the optional Enterprise extension) and Group, plus custom extensions from
 * SCIMD_SCHEMAS. Throws Error when an extension names an unknown resource type or reuses a built-in URN.
 */
export function defaultRegistry(extra?: LoadedExtensions): SchemaRegistry {
  const builtIn = [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA]
  const schemas = [...builtIn]
  const resourceTypes = RESOURCE_TYPES.map((rt) => ({ ...rt, schemaExtensions: [...rt.schemaExtensions] }))
  if (extra) {
    for (const s of extra.schemas) {
      const key = s.id.toLowerCase()
      if (builtIn.some((b) => b.id.toLowerCase() === key) || key.startsWith(URN.core.toLowerCase()))
        throw new Error(`schema "${s.id}": this URN is reserved for a built-in schema`)
      schemas.push(s)
    }
    for (const [name, refs] of Object.entries(extra.resourceTypes)) {
      const key = name.toLowerCase()
      const rt = resourceTypes.find((r) => r.id.toLowerCase() === key || r.name.toLowerCase() === key)
      if (!rt)
        throw new Error(
          `resource type "${name}" is unknown (known: ${resourceTypes.map((r) => r.name).join(', ')})`,
        )
      for (const ref of refs) {
        if (rt.schemaExtensions.some((e) => e.schema.toLowerCase() === ref.schema.toLowerCase()))
          throw new Error(`resource type "${rt.name}": extension "${ref.schema}" is already attached`)
        rt.schemaExtensions.push({ ...ref })
      }
    }
  }
  return new SchemaRegistry(schemas, resourceTypes)
}
