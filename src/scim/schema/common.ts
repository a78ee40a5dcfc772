/**
 * The common attributes of every resource (RFC 7643 §3.1): `id`, `externalId`, `meta`, plus the `schemas`
 * attribute (RFC 7643 §3), which is not declared by any schema but is part of every resource.
 *
 * Also `attribute()`, which fills the defaults of RFC 7643 §2.2 for the fields a definition leaves out, used by
 * the schema data files and by extensions.ts.
 */
import type { AttributeDef } from './types'

/** An attribute definition in which the fields with an RFC 7643 §2.2 default may be left out. */
export type AttributeInput = Pick<AttributeDef, 'name'> & Partial<Omit<AttributeDef, 'name' | 'subAttributes'>> & {
  subAttributes?: AttributeInput[]
}

/**
 * Fills the RFC 7643 §2.2 defaults: type string, multiValued false, required false, caseExact false,
 * mutability readWrite, returned default, uniqueness none. Sub-attributes are filled recursively.
 */
export function attribute(input: AttributeInput): AttributeDef {
  const def: AttributeDef = {
    name: input.name,
    type: input.type ?? 'string',
    multiValued: input.multiValued ?? false,
    required: input.required ?? false,
    caseExact: input.caseExact ?? false,
    mutability: input.mutability ?? 'readWrite',
    returned: input.returned ?? 'default',
    uniqueness: input.uniqueness ?? 'none',
  }
  if (input.description !== undefined) def.description = input.description
  if (input.canonicalValues !== undefined) def.canonicalValues = [...input.canonicalValues]
  if (input.referenceTypes !== undefined) def.referenceTypes = [...input.referenceTypes]
  if (input.subAttributes !== undefined) def.subAttributes = input.subAttributes.map(attribute)
  return def
}

/** A plain readWrite, case-insensitive, single-valued string attribute (most of RFC 7643's simple attributes). */
export const str = (name: string, description: string): AttributeDef =>
  attribute({
    name,
    type: 'string',
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
  })

/** `id` (RFC 7643 §3.1): assigned by the service provider, returned always, case-exact, unique. */
export const ID_ATTRIBUTE: AttributeDef = {
  name: 'id',
  type: 'string',
  multiValued: false,
  description:
    'A unique identifier for a SCIM resource as defined by the service provider.  Each representation of the ' +
    'resource MUST include a non-empty "id" value.  This identifier MUST be unique across the SCIM service ' +
    "provider's entire set of resources.  It MUST be a stable, non-reassignable identifier that does not change " +
    'when the same resource is returned in subsequent requests.',
  required: true,
  caseExact: true,
  mutability: 'readOnly',
  returned: 'always',
  uniqueness: 'server',
}

/** `externalId` (RFC 7643 §3.1): the provisioning client's identifier; case-exact, readWrite. */
export const EXTERNAL_ID_ATTRIBUTE: AttributeDef = {
  name: 'externalId',
  type: 'string',
  multiValued: false,
  description:
    'A String that is an identifier for the resource as defined by the provisioning client.  The service ' +
    'provider MUST always interpret the externalId as scoped to the provisioning domain.',
  required: false,
  caseExact: true,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
}

/** `meta` (RFC 7643 §3.1): read-only resource metadata. */
export const META_ATTRIBUTE: AttributeDef = {
  name: 'meta',
  type: 'complex',
  multiValued: false,
  description: 'A complex attribute containing resource metadata.',
  required: false,
  caseExact: false,
  mutability: 'readOnly',
  returned: 'default',
  uniqueness: 'none',
  subAttributes: [
    {
      name: 'resourceType',
      type: 'string',
      multiValued: false,
      description: 'The name of the resource type of the resource.',
      required: false,
      caseExact: true,
      mutability: 'readOnly',
      returned: 'default',
      uniqueness: 'none',
    },
    {
      name: 'created',
      type: 'dateTime',
      multiValued: false,
      description: 'The "DateTime" that the resource was added to the service provider.',
      required: false,
      caseExact: false,
      mutability: 'readOnly',
      returned: 'default',
      uniqueness: 'none',
    },
    {
      name: 'lastModified',
      type: 'dateTime',
      multiValued: false,
      description:
        'The most recent DateTime that the details of this resource were updated at the service provider.  ' +
        'If this resource has never been modified since its initial creation, the value MUST be the same as ' +
        'the value of "created".',
      required: false,
      caseExact: false,
      mutability: 'readOnly',
      returned: 'default',
      uniqueness: 'none',
    },
    {
      name: 'location',
      type: 'reference',
      referenceTypes: ['uri'],
      multiValued: false,
      description:
        'The URI of the resource being returned.  This value MUST be the same as the "Content-Location" HTTP ' +
        'response header (see Section 3.1.4.2 of RFC 7231).',
      required: false,
      caseExact: true,
      mutability: 'readOnly',
      returned: 'default',
      uniqueness: 'none',
    },
    {
      name: 'version',
      type: 'string',
      multiValued: false,
      description:
        'The version of the resource being returned.  This value must be the same as the entity-tag (ETag) ' +
        'HTTP response header (see Sections 2.1 and 2.3 of RFC 7232).',
      required: false,
      caseExact: true,
      mutability: 'readOnly',
      returned: 'default',
      uniqueness: 'none',
    },
  ],
}

/** RFC 7643 §3.1 common attributes, in the order they are rendered. */
export const COMMON_ATTRIBUTES: AttributeDef[] = [ID_ATTRIBUTE, EXTERNAL_ID_ATTRIBUTE, META_ATTRIBUTE]

/**
 * `schemas` (RFC 7643 §3): the schema URIs of the resource, core first. Not part of any schema's `attributes`;
 * the registry resolves the name (filters may test it) and validate/projection treat it specially: it is
 * rebuilt from the attributes present on write and always returned on read. URNs compare case-insensitively.
 */
export const SCHEMAS_ATTRIBUTE: AttributeDef = {
  name: 'schemas',
  type: 'reference',
  referenceTypes: ['uri'],
  multiValued: true,
  description:
    'The "schemas" attribute is a REQUIRED attribute and is an array of Strings containing URIs that are used ' +
    'to indicate the namespaces of the SCIM schemas that define the attributes present in the current JSON ' +
    'structure.',
  required: true,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'always',
  uniqueness: 'none',
}
