/**
 * Readers for `scimd import`: JSON Lines and CSV, streamed from a file (or stdin), each record with the line
 * number it starts on. A record is either a parsed object or the reason it could not be read.
 */

export type RawRecord = { line: number; value: Record<string, unknown> } | { line: number; error: string }

export type Format = 'jsonl' | 'csv'

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

/**
 * CSV columns (header row required; names case-insensitive; empty cells are left out). Each maps one cell to a
 * place in a SCIM User.
 */
export const CSV_COLUMNS: Record<string, { doc: string; set: (u: Record<string, any>, v: string) => void }> = {
  userName: { doc: 'required; the key: a second import updates the user with this userName', set: (u, v) => (u.userName = v) },
  externalId: { doc: 'the IdP’s id', set: (u, v) => (u.externalId = v) },
  displayName: { doc: '', set: (u, v) => (u.displayName = v) },
  givenName: { doc: 'name.givenName', set: (u, v) => ((u.name ??= {}).givenName = v) },
  familyName: { doc: 'name.familyName', set: (u, v) => ((u.name ??= {}).familyName = v) },
  middleName: { doc: 'name.middleName', set: (u, v) => ((u.name ??= {}).middleName = v) },
  nickName: { doc: '', set: (u, v) => (u.nickName = v) },
  title: { doc: '', set: (u, v) => (u.title = v) },
  userType: { doc: '', set: (u, v) => (u.userType = v) },
  preferredLanguage: { doc: '', set: (u, v) => (u.preferredLanguage = v) },
  locale: { doc: '', set: (u, v) => (u.locale = v) },
  timezone: { doc: '', set: (u, v) => (u.timezone = v) },
  email: { doc: 'emails[type "work", primary]', set: (u, v) => (u.emails = [{ value: v, type: 'work', primary: true }]) },
  phoneNumber: { doc: 'phoneNumbers[type "work"]', set: (u, v) => (u.phoneNumbers = [{ value: v, type: 'work' }]) },
  active: {
    doc: 'true/false (also 1/0, yes/no); empty = not set',
    set: (u, v) => {
      const b = v.trim().toLowerCase()
      if (['true', '1', 'yes', 'y'].includes(b)) u.active = true
      else if (['false', '0', 'no', 'n'].includes(b)) u.active = false
      else throw new Error(`active: expected true or false`)
    },
  },
  password: { doc: 'hashed with argon2id on import (tens of ms per row)', set: (u, v) => (u.password = v) },
  employeeNumber: { doc: 'enterprise extension', set: (u, v) => ((u[ENTERPRISE] ??= {}).employeeNumber = v) },
  costCenter: { doc: 'enterprise extension', set: (u, v) => ((u[ENTERPRISE] ??= {}).costCenter = v) },
  organization: { doc: 'enterprise extension', set: (u, v) => ((u[ENTERPRISE] ??= {}).organization = v) },
  division: { doc: 'enterprise extension', set: (u, v) => ((u[ENTERPRISE] ??= {}).division = v) },
  department: { doc: 'enterprise extension', set: (u, v) => ((u[ENTERPRISE] ??= {}).department = v) },
  groups: {
    doc: 'group displayNames separated by ";" — the user is added to each (groups are created when missing)',
    set: (u, v) => (u.groups = v.split(';').map((s) => s.trim()).filter(Boolean)),
  },
}

/** Lines of text from a byte stream, with their 1-based numbers; a final line without "\n" included. */
async function* linesOf(stream: ReadableStream<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buf = ''
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    onBytes(chunk.byteLength)
    buf += decoder.decode(chunk, { stream: true })
    let start = 0
    for (;;) {
      const nl = buf.indexOf('\n', start)
      if (nl < 0) break
      yield buf.slice(start, nl)
      start = nl + 1
    }
    buf = buf.slice(start)
  }
  buf += decoder.decode()
  if (buf !== '') yield buf
}

export async function* readJsonLines(stream: ReadableStream<Uint8Array>, onBytes: (n: number) => void = () => {}): AsyncGenerator<RawRecord> {
  let line = 0
  for await (let text of linesOf(stream, onBytes)) {
    line++
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    if (text.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (e) {
      yield { line, error: `not valid JSON (${(e as Error).message})` }
      continue
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) yield { line, error: 'expected a JSON object' }
    else yield { line, value: value as Record<string, unknown> }
  }
}

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks. Yields [startLine, fields]. */
export async function* csvRecords(lines: AsyncIterable<string>): AsyncGenerator<[number, string[]]> {
  let lineNo = 0
  let fields: string[] = []
  let field = ''
  let inQuotes = false
  let start = 0
  for await (let text of lines) {
    lineNo++
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    if (!inQuotes) {
      start = lineNo
      if (text.endsWith('\r')) text = text.slice(0, -1)
      if (text === '') continue
    } else field += '\n'
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]
      if (inQuotes) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"'
            i++
          } else inQuotes = false
        } else field += ch
      } else if (ch === '"' && field === '') inQuotes = true
      else if (ch === ',') {
        fields.push(field)
        field = ''
      } else if (ch === '\r' && i === text.length - 1) {
        // CRLF inside a record that continued from a quoted line break
      } else field += ch
    }
    if (inQuotes) continue
    fields.push(field)
    yield [start, fields]
    fields = []
    field = ''
  }
  if (inQuotes) yield [start, [...fields, field, '\u0000unterminated']]
}

export class FormatError extends Error {}

export async function* readCsv(stream: ReadableStream<Uint8Array>, onBytes: (n: number) => void = () => {}): AsyncGenerator<RawRecord> {
  let header: ((u: Record<string, any>, v: string) => void)[] | undefined
  const known = new Map(Object.keys(CSV_COLUMNS).map((k) => [k.toLowerCase(), k]))
  for await (const [line, cells] of csvRecords(linesOf(stream, onBytes))) {
    if (!header) {
      const names = cells.map((c) => c.trim())
      const unknown = names.filter((n) => !known.has(n.toLowerCase()))
      if (unknown.length)
        throw new FormatError(`CSV header: unknown column(s) ${unknown.map((u) => `'${u}'`).join(', ')}; known: ${Object.keys(CSV_COLUMNS).join(', ')}`)
      if (!names.some((n) => n.toLowerCase() === 'username')) throw new FormatError('CSV header: a userName column is required')
      header = names.map((n) => CSV_COLUMNS[known.get(n.toLowerCase())!].set)
      continue
    }
    if (cells[cells.length - 1] === '\u0000unterminated') {
      yield { line, error: 'unterminated quoted field' }
      continue
    }
    if (cells.length !== header.length) {
      yield { line, error: `expected ${header.length} fields, found ${cells.length}` }
      continue
    }
    const user: Record<string, any> = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'] }
    try {
      cells.forEach((v, i) => {
        if (v !== '') header![i](user, v)
      })
    } catch (e) {
      yield { line, error: (e as Error).message }
      continue
    }
    if (user[ENTERPRISE]) user.schemas.push(ENTERPRISE)
    yield { line, value: user }
  }
}

export function formatOf(file: string, explicit?: string): Format {
  if (explicit) {
    const f = explicit.toLowerCase()
    if (f === 'csv') return 'csv'
    if (f === 'jsonl' || f === 'ndjson' || f === 'json') return 'jsonl'
    throw new FormatError(`--format: expected jsonl or csv, got '${explicit}'`)
  }
  return /\.csv$/i.test(file) ? 'csv' : 'jsonl'
}
