/**
 * Renders a drizzle `sql` template to text and parameters, for the shapes scimd's queries are made of: text chunks,
 * nested templates and plain values (string, number, bigint, boolean, null) as parameters. drizzle's own
 * sqlToQuery renders the same (test/db/render-sql.test.ts holds the two equal over generated filters, sorts and
 * list queries) but spends ~10 µs on a list query — a tracing span, a merge of arrays at every level of nesting —
 * which is more than SQLite takes to run it. Anything else (columns, tables, drizzle Params, arrays, inlined
 * templates) goes to drizzle's renderer, unchanged.
 */
import { SQL, StringChunk } from 'drizzle-orm'

export interface Rendered {
  sql: string
  params: unknown[]
}

const UNSUPPORTED = Symbol('unsupported')
/** drizzle's flag for `.inlineParams()` (private in its types): such a template goes to drizzle's renderer */
const inlined = (q: SQL) => (q as unknown as { shouldInlineParams?: boolean }).shouldInlineParams === true

/**
 * `placeholder(n)`: the text of the n-th parameter, 1-based (`?` for SQLite, `$n` for PostgreSQL). `fallback`:
 * the dialect's own renderer, for what this one does not handle.
 */
export function renderSql(query: SQL, placeholder: (n: number) => string, fallback: (q: SQL) => Rendered): Rendered {
  const params: unknown[] = []
  let text = ''
  const walk = (chunks: readonly unknown[]): typeof UNSUPPORTED | undefined => {
    for (const c of chunks) {
      if (c instanceof StringChunk) {
        const v = c.value
        text += v.length === 1 ? v[0] : v.join('')
      } else if (c instanceof SQL) {
        if (inlined(c) || walk(c.queryChunks) === UNSUPPORTED) return UNSUPPORTED
      } else if (c === undefined) {
        // drizzle renders nothing for it
      } else if (c === null || typeof c === 'string' || typeof c === 'number' || typeof c === 'bigint' || typeof c === 'boolean') {
        params.push(c)
        text += placeholder(params.length)
      } else return UNSUPPORTED
    }
    return undefined
  }
  if (inlined(query) || walk(query.queryChunks) === UNSUPPORTED) return fallback(query)
  return { sql: text, params }
}
