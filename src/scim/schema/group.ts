/**
 * The core Group schema, `urn:ietf:params:scim:schemas:core:2.0:Group`, as published in RFC 7643 §8.7.1
 * (attribute semantics in §4.2).
 *
 * Deviations from the §8.7.1 JSON, both following the RFC's prose:
 * - `displayName` is required: §4.2 says "REQUIRED" (the JSON listing says `"required": false`).
 * - `members` has a `display` sub-attribute (§2.4's default sub-attribute, sent by Okta and shown in RFC 7644's
 *   examples; the §8.7.1 listing omits it). It is readOnly: the server derives it from the member resource, so a
 *   client's `display` is ignored rather than stored.
 */
import { URN } from '../constants'
import { attribute } from './common'
import type { SchemaDef } from './types'

export const GROUP_SCHEMA: SchemaDef = {
  id: URN.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    attribute({
      name: 'displayName',
      type: 'string',
      multiValued: false,
      description: 'A human-readable name for the Group.  REQUIRED.',
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
    }),
    attribute({
      name: 'members',
      type: 'complex',
      multiValued: true,
      description: 'A list of members of the Group.',
      required: false,
      subAttributes: [
        attribute({
          name: 'value',
          type: 'string',
          multiValued: false,
          description: 'Identifier of the member of this Group.',
          required: false,
          caseExact: false,
          mutability: 'immutable',
          returned: 'default',
          uniqueness: 'none',
        }),
        attribute({
          name: '$ref',
          type: 'reference',
          referenceTypes: ['User', 'Group'],
          multiValued: false,
          description: 'The URI corresponding to a SCIM resource that is a member of this Group.',
          required: false,
          caseExact: false,
          mutability: 'immutable',
          returned: 'default',
          uniqueness: 'none',
        }),
        attribute({
          name: 'display',
          type: 'string',
          multiValued: false,
          description: 'A human-readable name, primarily used for display purposes.  READ-ONLY.',
          required: false,
          caseExact: false,
          mutability: 'readOnly',
          returned: 'default',
          uniqueness: 'none',
        }),
        attribute({
          name: 'type',
          type: 'string',
          multiValued: false,
          description: "A label indicating the type of resource, e.g., 'User' or 'Group'.",
          required: false,
          caseExact: false,
          canonicalValues: ['User', 'Group'],
          mutability: 'immutable',
          returned: 'default',
          uniqueness: 'none',
        }),
      ],
      mutability: 'readWrite',
      returned: 'default',
    }),
  ],
}
