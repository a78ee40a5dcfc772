/**
 * Settings of /Bulk, /Me and the IdP profiles (issue 9), spread into config.ts's OPTIONS/DEFAULTS/Config like
 * auth-options.ts and toolkit/options.ts: one env var ↔ one flag ↔ one README row each.
 */
import { fail, oneOf, parseSize, wholeNumber, type OptionSpec } from './options'

/** SCIMD_PROFILE: the tolerances as a bundle. strict = pure RFC 7643/7644; okta and entra = the tolerant mode. */
export type Profile = 'okta' | 'entra' | 'strict'
export const PROFILES: Profile[] = ['okta', 'entra', 'strict']

/** What the subject of the credentials is compared with to find the /Me user. */
export type MeMatch = 'userName' | 'id' | 'externalId'

export interface ScimSettings {
  /** RFC 7644 §3.7 maxOperations: most operations in one BulkRequest */
  bulkMaxOperations: number
  /** RFC 7644 §3.7 maxPayloadSize: largest BulkRequest body (bytes; never more than SCIMD_MAX_BODY) */
  bulkMaxPayload: number
  /** the token claim naming the /Me user (JWT and introspection modes) */
  meClaim: string
  /** the user attribute the /Me subject is matched against */
  meMatch: MeMatch
  /** SCIMD_PROFILE; unset = the tolerant default (SCIMD_STRICT alone decides) */
  profile?: Profile
}

export const SCIM_DEFAULTS: ScimSettings = { bulkMaxOperations: 1000, bulkMaxPayload: 1024 * 1024, meClaim: 'sub', meMatch: 'userName' }

export const SCIM_OPTIONS: OptionSpec<ScimSettings>[] = [
  {
    key: 'bulkMaxOperations',
    env: 'SCIMD_BULK_MAX_OPERATIONS',
    flag: '--bulk-max-operations',
    doc: 'Most operations in one /Bulk request (advertised as bulk.maxOperations; more → 413); 0 turns /Bulk off',
    defaultText: '1000',
    parse: wholeNumber(0, 1_000_000),
  },
  {
    key: 'bulkMaxPayload',
    env: 'SCIMD_BULK_MAX_PAYLOAD',
    flag: '--bulk-max-payload',
    doc: 'Largest /Bulk request body (bytes, or with KiB/MiB; advertised as bulk.maxPayloadSize, capped to SCIMD_MAX_BODY; more → 413)',
    defaultText: '1MiB',
    parse: parseSize,
  },
  {
    key: 'meClaim',
    env: 'SCIMD_ME_CLAIM',
    flag: '--me-claim',
    doc: 'Claim of a JWT or introspected token that names the /Me user (Basic: the user name)',
    defaultText: 'sub',
    parse: (raw) => (/^[A-Za-z0-9_.:-]{1,64}$/.test(raw.trim()) ? raw.trim() : fail(`expected a claim name such as sub or email, got '${raw}'`)),
  },
  {
    key: 'meMatch',
    env: 'SCIMD_ME_MATCH',
    flag: '--me-match',
    doc: 'User attribute the /Me subject is matched against: `userName` (case-insensitive), `id` or `externalId`',
    defaultText: 'userName',
    parse: (raw) => {
      const v = raw.trim().toLowerCase()
      if (v === 'username') return 'userName'
      if (v === 'id') return 'id'
      if (v === 'externalid') return 'externalId'
      fail(`expected userName, id or externalId, got '${raw}'`)
    },
  },
  {
    key: 'profile',
    env: 'SCIMD_PROFILE',
    flag: '--profile',
    doc: 'IdP profile: `okta` or `entra` (tolerant) or `strict` (pure RFC); SCIMD_STRICT, when set, overrides it',
    defaultText: '(none: tolerant unless SCIMD_STRICT)',
    parse: oneOf(...PROFILES),
  },
]

/** The profile in force: the configured one, else what SCIMD_STRICT implies. */
export function profileName(c: { profile?: Profile; strict: boolean }): string {
  if (c.profile) return c.profile
  return c.strict ? 'strict' : 'tolerant'
}
