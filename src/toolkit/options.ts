/**
 * Settings of the troubleshooting toolkit, spread into config.ts's OPTIONS/DEFAULTS/Config (one env var ↔ flag ↔
 * README row each). A rule that does not parse stops start-up with the variable named and the rule quoted.
 */
import { parseDelayRules, parseDuration, type DelayRule, type Duration } from './rules'
import { parseFaultRules, type FaultRule } from './faults'
import { fail, wholeNumber, type OptionSpec } from '../options'

export interface ToolkitSettings {
  /** SCIMD_DELAY: delay of every SCIM request no delay rule matches */
  delay?: Duration
  delayRules: DelayRule[]
  faults: FaultRule[]
  /** PRNG seed for delay ranges and fault probabilities (random when unset; GET /admin/chaos shows it) */
  seed?: number
  /** enables /admin */
  adminToken?: string
  /** exchanges kept by the inspector (0 turns it off) */
  inspectSize: number
  /** JSON Lines file the exchanges are appended to */
  requestLog?: string
}

export const TOOLKIT_DEFAULTS: ToolkitSettings = { delayRules: [], faults: [], inspectSize: 500 }

export const TOOLKIT_OPTIONS: OptionSpec<ToolkitSettings>[] = [
  {
    key: 'delay',
    env: 'SCIMD_DELAY',
    flag: '--delay',
    doc: 'Delay every SCIM request: `2000` (ms), `2s`, or a uniform range `500ms-3s`',
    defaultText: '(none)',
    parse: (raw) => (raw.trim() === '' || raw.trim() === '0' ? undefined : parseDuration(raw)),
  },
  {
    key: 'delayRules',
    env: 'SCIMD_DELAY_RULES',
    flag: '--delay-rules',
    doc: 'Delays by method and path, first match wins: `PATCH /Groups/*=65s; GET /Users?filter=*=1.5s; * /Users/*=200ms-800ms`',
    defaultText: '(none)',
    parse: parseDelayRules,
  },
  {
    key: 'faults',
    env: 'SCIMD_FAULTS',
    flag: '--faults',
    doc: 'Injected faults: `POST /Users=429 p=0.3 retry-after=5; GET /Users/*=500 every=3; PATCH /Groups/*=hang`',
    defaultText: '(none)',
    parse: parseFaultRules,
  },
  {
    key: 'seed',
    env: 'SCIMD_SEED',
    flag: '--seed',
    doc: 'Seed of the random choices (delay ranges, fault probabilities): the same seed repeats them',
    defaultText: '(random, shown by GET /admin/chaos)',
    parse: wholeNumber(0, 0xffffffff),
  },
  {
    key: 'adminToken',
    env: 'SCIMD_ADMIN_TOKEN',
    flag: '--admin-token',
    secret: true,
    doc: 'Enables the admin API and console at /admin, protected by this token (16+ characters)',
    defaultText: '(off: /admin answers 404)',
    parse: (raw) => {
      const v = raw.trim()
      if (v.length < 16) fail('must be at least 16 characters (generate one with `openssl rand -base64 32`)')
      if (/\s/.test(v)) fail('must not contain spaces')
      return v
    },
  },
  {
    key: 'inspectSize',
    env: 'SCIMD_INSPECT_SIZE',
    flag: '--inspect-size',
    doc: 'Number of recent SCIM exchanges the request inspector keeps in memory (0 turns it off)',
    defaultText: '500',
    parse: wholeNumber(0, 100_000),
  },
  {
    key: 'requestLog',
    env: 'SCIMD_REQUEST_LOG',
    flag: '--request-log',
    doc: 'Append every SCIM exchange (redacted, as the inspector shows it) to this JSON Lines file',
    defaultText: '(off)',
    parse: (raw) => raw.trim() || fail('must name a file'),
  },
]
