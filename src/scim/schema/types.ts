/** RFC 7643 §7 attribute and schema definitions, as plain data. */

export type AttributeType =
  | 'string'
  | 'boolean'
  | 'decimal'
  | 'integer'
  | 'dateTime'
  | 'reference'
  | 'complex'
  | 'binary'
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly'
export type Returned = 'always' | 'never' | 'default' | 'request'
export type Uniqueness = 'none' | 'server' | 'global'

export interface AttributeDef {
  name: string
  type: AttributeType
  multiValued: boolean
  description?: string
  required: boolean
  caseExact: boolean
  mutability: Mutability
  returned: Returned
  uniqueness: Uniqueness
  canonicalValues?: string[]
  referenceTypes?: string[]
  subAttributes?: AttributeDef[]
}

export interface SchemaDef {
  id: string
  name: string
  description?: string
  attributes: AttributeDef[]
}

export interface SchemaExtensionRef {
  schema: string
  required: boolean
}

export interface ResourceTypeDef {
  id: string
  name: string
  endpoint: string
  description?: string
  schema: string
  schemaExtensions: SchemaExtensionRef[]
}
