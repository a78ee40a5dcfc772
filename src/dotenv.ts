/**
 * Loads KEY=VALUE lines from a .env file into env without overriding what is already set.
 * (Compiled binaries are built with .env autoloading off, so source and binary behave the same.)
 * Supports comments, `export KEY=…`, single and double quotes, and \n escapes in double quotes.
 */
import { existsSync, readFileSync } from 'node:fs'

export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
    if (!m) continue
    let v = m[2]
    if (v.startsWith('"')) {
      const end = v.lastIndexOf('"')
      v = (end > 0 ? v.slice(1, end) : v.slice(1)).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    } else if (v.startsWith("'")) {
      const end = v.lastIndexOf("'")
      v = end > 0 ? v.slice(1, end) : v.slice(1)
    } else {
      v = v.replace(/\s+#.*$/, '').trim()
    }
    out[m[1]] = v
  }
  return out
}

export function loadDotEnv(env: Record<string, string | undefined>, path = '.env'): void {
  if (!existsSync(path)) return
  for (const [k, v] of Object.entries(parseDotEnv(readFileSync(path, 'utf8')))) if (env[k] === undefined) env[k] = v
}
