/**
 * `scimd import FILE`: users (and groups, and memberships) from JSON Lines or CSV, written straight to the store
 * with the same validation as the API (validateResource), so imported data is exactly what a POST/PUT would store.
 *
 * - Users are keyed by userName (caseless, as the API's uniqueness): an existing user is replaced by the row
 *   (like PUT; immutable attributes are checked), an identical row leaves it untouched (no version bump), a new
 *   one is created — with the row's `id` when it has one that is free, so an export re-imported into an empty
 *   database keeps the ids IdPs have stored.
 * - Group lines (JSON Lines whose `schemas` names the Group schema) are keyed by `id` when they have one (a new
 *   group gets that id), else by displayName (caseless); a displayName held by two groups is ambiguous and
 *   the row is rejected.
 * - Memberships: `groups` on a user or group line lists the groups it belongs to, as displayName strings or
 *   `{ "value": id, "display": name }` objects (by id when that group exists, else by display); `members` on a group
 *   line lists member ids. Missing groups named by displayName are created. Memberships are additive and are
 *   applied after all rows have been read (so the order of lines does not matter).
 * - Rows are written in batches (default 1,000) of one transaction each; a rejected row does not stop its batch.
 * - A `password` is hashed with argon2id like the API does (~30–60 ms of CPU per row, hashed in parallel on all
 *   cores): rows without passwords cost microseconds.
 */
import type { Kind } from '../db/repo'
import * as repo from '../db/repo'
import { URN } from '../scim/constants'
import { ScimError } from '../scim/errors'
import { checkImmutable, findKey, validateResource } from '../scim/schema/validate'
import { foldKey } from '../scim/text'
import { columnsOf, normaliseMembers, resourceType, type ServiceDeps } from '../resources/service'
import { FormatError, formatOf, readCsv, readJsonLines, type Format, type RawRecord } from './records'

export interface ImportOptions {
  /** rows per transaction */
  batchSize?: number
  format?: string
  /** called after every batch with rows read so far and the fraction of the input consumed (when known) */
  onProgress?: (p: ImportProgress) => void
}

export interface ImportProgress {
  rows: number
  fraction?: number
  summary: ImportSummary
}

export interface Rejection {
  line: number
  reason: string
}

export interface ImportSummary {
  format: Format
  rows: number
  users: { created: number; updated: number; unchanged: number }
  groups: { created: number; updated: number; unchanged: number }
  memberships: { added: number; existing: number }
  rejected: Rejection[]
  /** memberships that could not be applied (their rows themselves were stored) */
  membershipErrors: Rejection[]
  seconds: number
}

interface GroupRef {
  value?: string
  display?: string
}

interface PendingMembership {
  line: number
  /** the member (known) and the group (to resolve) — from a `groups` list */
  memberId: string
  memberType: Kind
  group?: GroupRef
  /** or the group (known) and a member id (to resolve) — from a group's `members` list */
  groupId?: string
  memberRef?: string
}

/** Ids kept from the file must be plain: they end up in URLs. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._~:-]{0,127}$/

const pick = (obj: Record<string, unknown>, name: string) => {
  const k = findKey(obj, name)
  if (k === undefined) return undefined
  const v = obj[k]
  delete obj[k]
  return v
}

function isGroupLine(v: Record<string, unknown>): boolean {
  const s = v[findKey(v, 'schemas') ?? 'schemas']
  const list = Array.isArray(s) ? s : typeof s === 'string' ? [s] : []
  return list.some((x) => typeof x === 'string' && x.toLowerCase() === URN.group.toLowerCase())
}

function groupRefs(v: unknown, where: string): GroupRef[] {
  if (v === undefined || v === null) return []
  const list = Array.isArray(v) ? v : [v]
  return list.map((g, i) => {
    if (typeof g === 'string' && g.trim()) return { display: g.trim() }
    if (g && typeof g === 'object' && !Array.isArray(g)) {
      const o = g as Record<string, unknown>
      const value = o[findKey(o, 'value') ?? 'value']
      const display = o[findKey(o, 'display') ?? 'display']
      if ((typeof value === 'string' && value) || (typeof display === 'string' && display.trim()))
        return { value: typeof value === 'string' && value ? value : undefined, display: typeof display === 'string' && display.trim() ? display.trim() : undefined }
    }
    throw new ScimError(400, `${where}[${i}] must be a group displayName or an object with 'value' (id) or 'display'`, 'invalidValue')
  })
}

interface Prepared {
  line: number
  kind: Kind
  data: Record<string, unknown>
  id?: string
  password?: string
  passwordHash?: string
  groups: GroupRef[]
  members: string[]
}

async function hashPassword(p: string): Promise<string> {
  return Bun.password.hash(p, { algorithm: 'argon2id', memoryCost: 19456, timeCost: 2 })
}

export async function importRecords(deps: ServiceDeps, records: AsyncIterable<RawRecord>, format: Format, opts: ImportOptions & { fraction?: () => number | undefined } = {}): Promise<ImportSummary> {
  const started = performance.now()
  const batchSize = Math.max(1, opts.batchSize ?? 1000)
  const b = repo.bulk(deps.db!)
  const tenant = deps.tenant
  const userRt = resourceType(deps, 'User')
  const groupRt = resourceType(deps, 'Group')
  const summary: ImportSummary = {
    format,
    rows: 0,
    users: { created: 0, updated: 0, unchanged: 0 },
    groups: { created: 0, updated: 0, unchanged: 0 },
    memberships: { added: 0, existing: 0 },
    rejected: [],
    membershipErrors: [],
    seconds: 0,
  }
  const pending: PendingMembership[] = []
  /** resources created in the current batch, for the counters table */
  const created = { User: 0, Group: 0 }
  const reject = (line: number, e: unknown) => {
    const reason = e instanceof ScimError ? e.detail : e instanceof Error ? e.message : String(e)
    summary.rejected.push({ line, reason })
  }

  /** Validation and everything else that needs no database: outside the transaction. */
  const prepare = (r: RawRecord): Prepared | undefined => {
    if ('error' in r) return void summary.rejected.push({ line: r.line, reason: r.error })
    try {
      const body = { ...r.value }
      const kind: Kind = isGroupLine(body) ? 'Group' : 'User'
      const id = pick(body, 'id')
      if (id !== undefined && (typeof id !== 'string' || !SAFE_ID.test(id)))
        throw new ScimError(400, `id must be 1–128 characters of A–Z a–z 0–9 . _ ~ : - (starting with a letter or digit)`, 'invalidValue')
      pick(body, 'meta')
      const groups = groupRefs(pick(body, 'groups'), 'groups')
      const rawMembers = kind === 'Group' ? pick(body, 'members') : undefined
      const members = rawMembers === undefined ? [] : normaliseMembers(rawMembers, deps.strict).map((m) => m.value)
      const data = validateResource(deps.registry, kind === 'User' ? userRt : groupRt, body, { strict: deps.strict })
      let password: string | undefined
      if (kind === 'User' && 'password' in data) {
        password = String(data.password)
        delete data.password
      }
      return { line: r.line, kind, data, id: id as string | undefined, password, groups, members }
    } catch (e) {
      if (e instanceof ScimError) return void reject(r.line, e)
      throw e
    }
  }

  const writeUser = (p: Prepared, ts: string) => {
    const cols = { ...(columnsOf('User', p.data) as repo.UserColumns), passwordHash: p.passwordHash ?? null }
    const json = JSON.stringify(p.data)
    const existing = b.findUserByKey(tenant, cols.userNameKey)
    const id = save(p, existing, existing?.data === json && !p.passwordHash, (id, isNew) =>
      isNew ? b.insertUser(tenant, id, ts, cols, json) : b.updateUser(tenant, id, ts, cols, json),
    )
    for (const g of p.groups) pending.push({ line: p.line, memberId: id, memberType: 'User', group: g })
  }

  const newId = (wanted: string | undefined) => {
    if (wanted === undefined) return Bun.randomUUIDv7()
    if (b.idTaken(wanted)) throw new ScimError(409, `id '${wanted}' is already used by another resource`, 'uniqueness')
    return wanted
  }

  /**
   * Writes a prepared record over `existing` (checking immutable attributes; nothing when `unchanged`) or as a new
   * resource, and counts which; returns its id.
   */
  const save = (p: Prepared, existing: { id: string; data: string } | undefined, unchanged: boolean, write: (id: string, isNew: boolean) => void): string => {
    const counts = p.kind === 'User' ? summary.users : summary.groups
    if (!existing) {
      const id = newId(p.id)
      write(id, true)
      counts.created++
      created[p.kind]++
      return id
    }
    if (unchanged) counts.unchanged++
    else {
      checkImmutable(deps.registry, p.kind === 'User' ? userRt : groupRt, JSON.parse(existing.data), p.data)
      write(existing.id, false)
      counts.updated++
    }
    return existing.id
  }

  const writeGroup = (p: Prepared, ts: string) => {
    const cols = columnsOf('Group', p.data) as repo.GroupColumns
    const json = JSON.stringify(p.data)
    // with an id: that group, or a new one with this id; without: the group of that displayName
    let existing = p.id ? b.findGroupById(tenant, p.id) : undefined
    if (!p.id) {
      const named = b.findGroupsByKey(tenant, cols.displayNameKey)
      if (named.length > 1) throw new ScimError(409, `displayName '${String(p.data.displayName)}' is held by several groups: give the group's id`, 'uniqueness')
      existing = named[0]
    }
    const id = save(p, existing, existing?.data === json, (id, isNew) =>
      isNew ? b.insertGroup(tenant, id, ts, cols, json) : b.updateGroup(tenant, id, ts, cols, json),
    )
    for (const g of p.groups) pending.push({ line: p.line, memberId: id, memberType: 'Group', group: g })
    for (const m of p.members) pending.push({ line: p.line, memberId: '', memberType: 'User', groupId: id, memberRef: m })
  }

  const flush = async (batch: RawRecord[]) => {
    const prepared = batch.map(prepare).filter((p): p is Prepared => p !== undefined)
    // argon2id on the thread pool, all cores, before the (synchronous) transaction
    await Promise.all(prepared.filter((p) => p.password !== undefined).map(async (p) => (p.passwordHash = await hashPassword(p.password!))))
    const ts = deps.now().toISOString()
    created.User = created.Group = 0
    deps.db!.transaction(
      () => {
        for (const p of prepared) {
          try {
            if (p.kind === 'User') writeUser(p, ts)
            else writeGroup(p, ts)
          } catch (e) {
            if (e instanceof ScimError) reject(p.line, e)
            else throw e
          }
        }
        b.bumpCount(tenant, 'User', created.User)
        b.bumpCount(tenant, 'Group', created.Group)
      },
      { behavior: 'immediate' },
    )
    summary.rows += batch.length
    opts.onProgress?.({ rows: summary.rows, fraction: opts.fraction?.(), summary })
  }

  let batch: RawRecord[] = []
  for await (const r of records) {
    batch.push(r)
    if (batch.length >= batchSize) {
      await flush(batch)
      batch = []
    }
  }
  if (batch.length) await flush(batch)

  applyMemberships(deps, pending, batchSize, summary)
  summary.rejected.sort((a, b) => a.line - b.line)
  summary.seconds = (performance.now() - started) / 1000
  return summary
}

/** Resolves and inserts the memberships collected from all rows, in batches. */
function applyMemberships(deps: ServiceDeps, pending: PendingMembership[], batchSize: number, summary: ImportSummary) {
  if (pending.length === 0) return
  const b = repo.bulk(deps.db!)
  const tenant = deps.tenant
  const groupRt = resourceType(deps, 'Group')
  const byName = new Map<string, string>()
  const touched = new Set<string>()
  let createdGroups = 0
  const fail = (line: number, reason: string) => summary.membershipErrors.push({ line, reason })
  const ts = deps.now().toISOString()

  const resolveGroup = (ref: GroupRef): string => {
    if (ref.value && b.findGroupById(tenant, ref.value)) return ref.value
    if (!ref.display) throw new Error(`no group with id '${ref.value}'`)
    const key = foldKey(ref.display)
    const known = byName.get(key)
    if (known) return known
    const named = b.findGroupsByKey(tenant, key)
    if (named.length > 1) throw new Error(`group displayName '${ref.display}' is held by several groups`)
    let id = named[0]?.id
    if (!id) {
      const data = validateResource(deps.registry, groupRt, { schemas: [URN.group], displayName: ref.display }, { strict: false })
      id = Bun.randomUUIDv7()
      b.insertGroup(tenant, id, ts, columnsOf('Group', data) as repo.GroupColumns, JSON.stringify(data))
      createdGroups++
      summary.groups.created++
    }
    byName.set(key, id)
    return id
  }

  for (let i = 0; i < pending.length; i += batchSize) {
    const chunk = pending.slice(i, i + batchSize)
    createdGroups = 0
    deps.db!.transaction(
      () => {
        const refs = chunk.filter((p) => p.memberRef !== undefined).map((p) => p.memberRef!)
        const kinds = refs.length ? repo.resolveMemberIds(deps.db!, tenant, refs) : new Map<string, Kind>()
        for (const p of chunk) {
          try {
            let groupId: string, memberId: string, memberType: Kind
            if (p.group) {
              groupId = resolveGroup(p.group)
              memberId = p.memberId
              memberType = p.memberType
            } else {
              groupId = p.groupId!
              memberId = p.memberRef!
              const k = kinds.get(memberId)
              if (!k) throw new Error(`members: no User or Group with id '${memberId}'`)
              memberType = k
            }
            if (groupId === memberId) throw new Error('a group cannot be a member of itself')
            if (b.addMember(groupId, memberId, memberType)) {
              summary.memberships.added++
              touched.add(groupId)
            } else summary.memberships.existing++
          } catch (e) {
            fail(p.line, e instanceof ScimError ? e.detail : (e as Error).message)
          }
        }
        b.bumpCount(tenant, 'Group', createdGroups)
      },
      { behavior: 'immediate' },
    )
  }
  // membership changes are changes of the group: new version and lastModified, once per group
  const ids = [...touched]
  for (let i = 0; i < ids.length; i += batchSize)
    deps.db!.transaction(() => {
      for (const id of ids.slice(i, i + batchSize)) b.touchGroup(tenant, id, ts)
    })
  summary.membershipErrors.sort((a, b) => a.line - b.line)
}

/** Opens FILE (or stdin for "-") and imports it. */
export async function importFile(deps: ServiceDeps, file: string, opts: ImportOptions = {}): Promise<ImportSummary> {
  const format = formatOf(file, opts.format)
  let stream: ReadableStream<Uint8Array>
  let total: number | undefined
  if (file === '-') stream = Bun.stdin.stream()
  else {
    const f = Bun.file(file)
    if (!(await f.exists())) throw new FormatError(`cannot read '${file}': no such file`)
    total = f.size
    stream = f.stream()
  }
  let read = 0
  const onBytes = (n: number) => void (read += n)
  const records = format === 'csv' ? readCsv(stream, onBytes) : readJsonLines(stream, onBytes)
  return importRecords(deps, records, format, { ...opts, fraction: () => (total ? Math.min(1, read / total) : undefined) })
}
