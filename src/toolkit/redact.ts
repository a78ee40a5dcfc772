/**
 * Redaction for the inspector, the JSON Lines request log and the console line: secrets never leave the process.
 * - headers: Authorization / Proxy-Authorization keep only their scheme ("Bearer [REDACTED]"); Cookie, Set-Cookie and
 *   any header whose name contains token, secret, password or api-key are replaced entirely.
 * - URLs: the values of access_token and of any query parameter named like a secret.
 * - JSON bodies: the value of every member whose name contains "password" or "secret" (any depth, any case), and the
 *   `value` of a PATCH operation whose path names a password. A body that is not JSON gets a textual best effort.
 */
export const REDACTED = '[REDACTED]'

const SECRET_NAME = /token|secret|password|passwd|api[-_]?key|credential/i
const ALWAYS_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])
const SECRET_MEMBER = /password|secret|passwd/i

export function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    const n = name.toLowerCase()
    if (n === 'authorization' || n === 'proxy-authorization') {
      const sp = value.indexOf(' ')
      out[n] = sp > 0 ? `${value.slice(0, sp)} ${REDACTED}` : REDACTED
    } else if (ALWAYS_HEADERS.has(n) || SECRET_NAME.test(n)) out[n] = REDACTED
    else out[n] = value
  })
  return out
}

/** path + query with secret-looking parameters' values replaced. */
export function redactUrl(url: URL): string {
  let query = ''
  if (url.search) {
    const parts: string[] = []
    for (const [k, v] of url.searchParams) parts.push(`${encodeURIComponent(k)}=${SECRET_NAME.test(k) ? REDACTED : encodeURIComponent(v)}`)
    query = '?' + parts.join('&')
  }
  return url.pathname + query
}

export function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson)
  if (value === null || typeof value !== 'object') return value
  const obj = value as Record<string, unknown>
  // PATCH member names are matched case-insensitively (Entra's "Path"/"Value"), so the redaction must be too
  const pathNamesPassword = Object.entries(obj).some(([k, v]) => k.toLowerCase() === 'path' && typeof v === 'string' && SECRET_MEMBER.test(v))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_MEMBER.test(k) && v !== null && typeof v !== 'object') out[k] = REDACTED
    else if (SECRET_MEMBER.test(k) && v !== null) out[k] = REDACTED
    else if (pathNamesPassword && k.toLowerCase() === 'value') out[k] = REDACTED
    else out[k] = redactJson(v)
  }
  return out
}

/** A request or response body as text, redacted: JSON is re-serialised; other text gets a regex pass. */
export function redactBodyText(text: string): string {
  if (text === '') return text
  try {
    return JSON.stringify(redactJson(JSON.parse(text)))
  } catch {
    return text
      .replace(/("[^"]*(?:password|secret|passwd)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"?/gi, `$1"${REDACTED}"`)
      .replace(/((?:password|secret|passwd|access_token)=)[^&\s]*/gi, `$1${REDACTED}`)
  }
}
