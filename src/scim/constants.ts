/** SCIM URNs, media type and protocol limits. Framework-free. */
export const SCIM_MEDIA_TYPE = 'application/scim+json'
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8'

export const URN = {
  core: 'urn:ietf:params:scim:schemas:core:2.0:',
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterpriseUser: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  bulkRequest: 'urn:ietf:params:scim:api:messages:2.0:BulkRequest',
  bulkResponse: 'urn:ietf:params:scim:api:messages:2.0:BulkResponse',
} as const

export const LIMITS = {
  /** filter.maxResults advertised in ServiceProviderConfig; larger `count` is capped to it. */
  maxResults: 1000,
  /** Longest filter (characters) accepted; longer → 400 invalidFilter. */
  maxFilterLength: 10_000,
  /** Deepest nesting of parentheses / not / value filters accepted. */
  maxFilterDepth: 50,
  /** Most PATCH operations in one request. */
  maxPatchOperations: 10_000,
} as const
