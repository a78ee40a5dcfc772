/**
 * The Enterprise User extension, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, as published in
 * RFC 7643 §8.7.1 (attribute semantics in §4.3).
 */
import { URN } from '../constants'
import { attribute, str } from './common'
import type { SchemaDef } from './types'


export const ENTERPRISE_USER_SCHEMA: SchemaDef = {
  id: URN.enterpriseUser,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str(
      'employeeNumber',
      'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association ' +
        'with an organization.',
    ),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organization.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    attribute({
      name: 'manager',
      type: 'complex',
      multiValued: false,
      description:
        "The User's manager.  A complex type that optionally allows service providers to represent " +
        "organizational hierarchy by referencing the 'id' attribute of another User.",
      required: false,
      subAttributes: [
        str('value', "The id of the SCIM resource representing the User's manager.  REQUIRED."),
        attribute({
          name: '$ref',
          type: 'reference',
          referenceTypes: ['User'],
          multiValued: false,
          description: "The URI of the SCIM resource representing the User's manager.  REQUIRED.",
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
        }),
        attribute({
          name: 'displayName',
          type: 'string',
          multiValued: false,
          description: "The displayName of the User's manager.  OPTIONAL and READ-ONLY.",
          required: false,
          caseExact: false,
          mutability: 'readOnly',
          returned: 'default',
          uniqueness: 'none',
        }),
      ],
      mutability: 'readWrite',
      returned: 'default',
    }),
  ],
}
