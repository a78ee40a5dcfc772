/**
 * The core User schema, `urn:ietf:params:scim:schemas:core:2.0:User`, as published in RFC 7643 §8.7.1
 * (attribute semantics in §4.1). Fields the RFC's JSON leaves out take their §2.2 defaults (see `attribute()`).
 *
 * Deviation from the §8.7.1 JSON, following the §4.1.2 text: `addresses` has a `primary` sub-attribute
 * (the §8.2 example sends one; the JSON listing omits it).
 */
import { URN } from '../constants'
import { attribute, str } from './common'
import type { AttributeDef, SchemaDef } from './types'

const display = (): AttributeDef =>
  attribute({
    name: 'display',
    type: 'string',
    multiValued: false,
    description: 'A human-readable name, primarily used for display purposes.  READ-ONLY.',
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
  })

const typeLabel = (description: string, canonicalValues?: string[]): AttributeDef =>
  attribute({
    name: 'type',
    type: 'string',
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    ...(canonicalValues ? { canonicalValues } : {}),
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
  })

const primary = (example?: string): AttributeDef =>
  attribute({
    name: 'primary',
    type: 'boolean',
    multiValued: false,
    description:
      "A Boolean value indicating the 'primary' or preferred attribute value for this attribute" +
      (example ? `, e.g., ${example}` : '') +
      ".  The primary attribute value 'true' MUST appear no more than once.",
    required: false,
    mutability: 'readWrite',
    returned: 'default',
  })


export const USER_SCHEMA: SchemaDef = {
  id: URN.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    attribute({
      name: 'userName',
      type: 'string',
      multiValued: false,
      description:
        'Unique identifier for the User, typically used by the user to directly authenticate to the service ' +
        'provider.  Each User MUST include a non-empty userName value.  This identifier MUST be unique across ' +
        "the service provider's entire set of Users.  REQUIRED.",
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'server',
    }),
    attribute({
      name: 'name',
      type: 'complex',
      multiValued: false,
      description:
        "The components of the user's real name.  Providers MAY return just the full name as a single string in " +
        'the formatted sub-attribute, or they MAY return just the individual component attributes using the ' +
        'other sub-attributes, or they MAY return both.  If both variants are returned, they SHOULD be ' +
        'describing the same name, with the formatted name indicating how the component attributes should be ' +
        'combined.',
      required: false,
      subAttributes: [
        str(
          'formatted',
          'The full name, including all middle names, titles, and suffixes as appropriate, formatted for display ' +
            "(e.g., 'Ms. Barbara J Jensen, III').",
        ),
        str(
          'familyName',
          'The family name of the User, or last name in most Western languages (e.g., \'Jensen\' given the full ' +
            "name 'Ms. Barbara J Jensen, III').",
        ),
        str(
          'givenName',
          "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full " +
            "name 'Ms. Barbara J Jensen, III').",
        ),
        str('middleName', "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III')."),
        str(
          'honorificPrefix',
          "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full " +
            "name 'Ms. Barbara J Jensen, III').",
        ),
        str(
          'honorificSuffix',
          "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full " +
            "name 'Ms. Barbara J Jensen, III').",
        ),
      ],
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
    }),
    str(
      'displayName',
      'The name of the User, suitable for display to end-users.  The name SHOULD be the full name of the User ' +
        'being described, if known.',
    ),
    str(
      'nickName',
      "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'.  This " +
        "attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge').",
    ),
    attribute({
      name: 'profileUrl',
      type: 'reference',
      referenceTypes: ['external'],
      multiValued: false,
      description: "A fully qualified URL pointing to a page representing the User's online profile.",
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
    }),
    str('title', 'The user\'s title, such as "Vice President."'),
    str(
      'userType',
      "Used to identify the relationship between the organization and the user.  Typical values used might be " +
        "'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used.",
    ),
    str(
      'preferredLanguage',
      "Indicates the User's preferred written or spoken language.  Generally used for selecting a localized " +
        "user interface; e.g., 'en_US' specifies the language English and country US.",
    ),
    str(
      'locale',
      "Used to indicate the User's default location for purposes of localizing items such as currency, date " +
        'time format, or numerical representations.',
    ),
    str('timezone', "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
    attribute({
      name: 'active',
      type: 'boolean',
      multiValued: false,
      description: "A Boolean value indicating the User's administrative status.",
      required: false,
      mutability: 'readWrite',
      returned: 'default',
    }),
    attribute({
      name: 'password',
      type: 'string',
      multiValued: false,
      description:
        "The User's cleartext password.  This attribute is intended to be used as a means to specify an initial " +
        "password when creating a new User or to reset an existing User's password.",
      required: false,
      caseExact: false,
      mutability: 'writeOnly',
      returned: 'never',
      uniqueness: 'none',
    }),
    attribute({
      name: 'emails',
      type: 'complex',
      multiValued: true,
      description:
        "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., " +
        "'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'.  Canonical type values of 'work', 'home', and " +
        "'other'.",
      required: false,
      subAttributes: [
        str(
          'value',
          "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., " +
            "'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'.  Canonical type values of 'work', 'home', " +
            "and 'other'.",
        ),
        display(),
        typeLabel("A label indicating the attribute's function, e.g., 'work' or 'home'.", ['work', 'home', 'other']),
        primary('the preferred mailing address or primary email address'),
      ],
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
    }),
    attribute({
      name: 'phoneNumbers',
      type: 'complex',
      multiValued: true,
      description:
        'Phone numbers for the User.  The value SHOULD be canonicalized by the service provider according to ' +
        "the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'.  Canonical type values of 'work', " +
        "'home', 'mobile', 'fax', 'pager', and 'other'.",
      required: false,
      subAttributes: [
        str('value', 'Phone number of the User.'),
        display(),
        typeLabel("A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.", [
          'work',
          'home',
          'mobile',
          'fax',
          'pager',
          'other',
        ]),
        primary('the preferred phone number or primary phone number'),
      ],
      mutability: 'readWrite',
      returned: 'default',
    }),
    attribute({
      name: 'ims',
      type: 'complex',
      multiValued: true,
      description: 'Instant messaging addresses for the User.',
      required: false,
      subAttributes: [
        str('value', 'Instant messaging address for the User.'),
        display(),
        typeLabel("A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.", [
          'aim',
          'gtalk',
          'icq',
          'xmpp',
          'msn',
          'skype',
          'qq',
          'yahoo',
        ]),
        primary('the preferred messenger or primary messenger'),
      ],
      mutability: 'readWrite',
      returned: 'default',
    }),
    attribute({
      name: 'photos',
      type: 'complex',
      multiValued: true,
      description: 'URLs of photos of the User.',
      required: false,
      subAttributes: [
        attribute({
          name: 'value',
          type: 'reference',
          referenceTypes: ['external'],
          multiValued: false,
          description: 'URL of a photo of the User.',
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
        }),
        display(),
        typeLabel("A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.", ['photo', 'thumbnail']),
        primary('the preferred photo or thumbnail'),
      ],
      mutability: 'readWrite',
      returned: 'default',
    }),
    attribute({
      name: 'addresses',
      type: 'complex',
      multiValued: true,
      description:
        "A physical mailing address for this User.  Canonical type values of 'work', 'home', and 'other'.  This " +
        'attribute is a complex type with the following sub-attributes.',
      required: false,
      subAttributes: [
        str(
          'formatted',
          'The full mailing address, formatted for display or use with a mailing label.  This attribute MAY ' +
            'contain newlines.',
        ),
        str(
          'streetAddress',
          'The full street address component, which may include house number, street name, P.O. box, and ' +
            'multi-line extended street address information.  This attribute MAY contain newlines.',
        ),
        str('locality', 'The city or locality component.'),
        str('region', 'The state or region component.'),
        str('postalCode', 'The zip code or postal code component.'),
        str('country', 'The country name component.'),
        typeLabel("A label indicating the attribute's function, e.g., 'work' or 'home'.", ['work', 'home', 'other']),
        primary('the preferred mailing address'),
      ],
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
    }),
    attribute({
      name: 'groups',
      type: 'complex',
      multiValued: true,
      description:
        'A list of groups to which the user belongs, either through direct membership, through nested groups, ' +
        'or dynamically calculated.',
      required: false,
      subAttributes: [
        attribute({
          name: 'value',
          type: 'string',
          multiValued: false,
          description: "The identifier of the User's group.",
          required: false,
          caseExact: false,
          mutability: 'readOnly',
          returned: 'default',
          uniqueness: 'none',
        }),
        attribute({
          name: '$ref',
          type: 'reference',
          referenceTypes: ['User', 'Group'],
          multiValued: false,
          description: "The URI of the corresponding 'Group' resource to which the user belongs.",
          required: false,
          caseExact: false,
          mutability: 'readOnly',
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
          description: "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
          required: false,
          caseExact: false,
          canonicalValues: ['direct', 'indirect'],
          mutability: 'readOnly',
          returned: 'default',
          uniqueness: 'none',
        }),
      ],
      mutability: 'readOnly',
      returned: 'default',
    }),
    attribute({
      name: 'entitlements',
      type: 'complex',
      multiValued: true,
      description: 'A list of entitlements for the User that represent a thing the User has.',
      required: false,
      subAttributes: [
        str('value', 'The value of an entitlement.'),
        display(),
        typeLabel("A label indicating the attribute's function."),
        primary(),
      ],
      mutability: 'readWrite',
      returned: 'default',
    }),
    attribute({
      name: 'roles',
      type: 'complex',
      multiValued: true,
      description: "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
      required: false,
      subAttributes: [
        str('value', 'The value of a role.'),
        display(),
        typeLabel("A label indicating the attribute's function.", []),
        primary(),
      ],
      mutability: 'readWrite',
      returned: 'default',
    }),
    attribute({
      name: 'x509Certificates',
      type: 'complex',
      multiValued: true,
      description: 'A list of certificates issued to the User.',
      required: false,
      caseExact: false,
      subAttributes: [
        attribute({
          name: 'value',
          type: 'binary',
          multiValued: false,
          description: 'The value of an X.509 certificate.',
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
        }),
        display(),
        typeLabel("A label indicating the attribute's function.", []),
        primary(),
      ],
      mutability: 'readWrite',
      returned: 'default',
    }),
  ],
}
