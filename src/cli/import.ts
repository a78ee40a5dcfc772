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
 *   A batch goes through the store (src/db/store.ts), on SQLite and PostgreSQL alike: a few lookups for the whole
 *   batch (users by userName, groups by id and by displayName, ids already taken), then the decisions row by row in
 *   memory (later rows of a batch see what earlier ones did), then one multi-row write per kind of change. On
 *   PostgreSQL that is a handful of round trips per batch, not one per row; should a concurrent writer (an API
 *   client, another import) take a userName or id the batch was about to insert, the batch is run again from its
 *   lookups (where it now finds that row).
 * - A `password` is hashed with argon2id like the API does (~30–60 ms of CPU per row, hashed in parallel on all
 *   cores): rows without passwords cost microseconds.
 */
import type { BulkGroup, BulkMembership, BulkResource, BulkUser, GroupColumns, Kind, UserColumns } from '../db/repo'
import { sqlState } from '../db/pg/errors'
import { q, type Step, type Store } from '../db/store'
import { URN } from '../scim/constants'
import { ScimError } from '../scim/errors'
import { checkImmutable, findKey, validateResource } from '../scim/schema/validate'
import { foldKey } from '../scim/text'
import { columnsOf, normaliseMembers, resourceType, storeOf, type ServiceDeps } from '../resources/service'
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

interface Counts {
  created: number
  updated: number
  unchanged: number
}

export interface ImportSummary {
  format: Format
  rows: number
  users: Counts
  groups: Counts
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

type Prepared = {
  line: number
  id?: string
  password?: string
  groups: GroupRef[]
  members: string[]
  data: Record<string, unknown>
} & ({ kind: 'User'; cols: UserColumns } | { kind: 'Group'; cols: GroupColumns })

async function hashPassword(p: string): Promise<string> {
  return Bun.password.hash(p, { algorithm: 'argon2id', memoryCost: 19456, timeCost: 2 })
}

/** PostgreSQL cannot store U+0000 in text or jsonb (SQLite can): such rows are refused before their batch runs. */
const NUL_REASON = 'a string holds U+0000, which PostgreSQL cannot store'

/**
 * Equal JSON values, object keys in any order: PostgreSQL's jsonb does not keep the order of keys, so a row read
 * back is compared by content (an identical row leaves the stored one untouched, on both stores).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((x, i) => sameJson(x, b[i]))
  }
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  const kx = Object.keys(x).filter((k) => x[k] !== undefined)
  const ky = Object.keys(y).filter((k) => y[k] !== undefined)
  return kx.length === ky.length && kx.every((k) => Object.hasOwn(y, k) && sameJson(x[k], y[k]))
}

const uniq = <T>(xs: T[]) => [...new Set(xs)]
const reasonOf = (e: unknown) => (e instanceof ScimError ? e.detail : e instanceof Error ? e.message : String(e))

/** How often a batch is run again after a concurrent writer took a userName or id it was inserting. */
const CONFLICT_RETRIES = 3

/** Runs a batch in one write transaction; on PostgreSQL again from scratch after a unique violation (see the header). */
async function writeBatch<T>(store: Store, make: () => Step<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.write(make)
    } catch (e) {
      if (store.dialect !== 'postgres' || sqlState(e) !== '23505' || attempt >= CONFLICT_RETRIES) throw e
    }
  }
}

export async function importRecords(deps: ServiceDeps, records: AsyncIterable<RawRecord>, format: Format, opts: ImportOptions & { fraction?: () => number | undefined } = {}): Promise<ImportSummary> {
  const started = performance.now()
  const batchSize = Math.max(1, opts.batchSize ?? 1000)
  const store = storeOf(deps)
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
      if (store.dialect === 'postgres' && JSON.stringify(data).includes('\\u0000')) throw new ScimError(400, NUL_REASON, 'invalidValue')
      const common = { line: r.line, data, id: id as string | undefined, password, groups, members }
      return kind === 'User' ? { ...common, kind, cols: columnsOf('User', data) as UserColumns } : { ...common, kind, cols: columnsOf('Group', data) as GroupColumns }
    } catch (e) {
      if (e instanceof ScimError) return void summary.rejected.push({ line: r.line, reason: e.detail })
      throw e
    }
  }

  const write = async (prepared: Prepared[], rows: number, fraction: number | undefined) => {
    const ts = deps.now().toISOString()
    const out = await writeBatch(store, () => batchStep(deps, prepared, ts))
    // counted only once the batch is committed (a batch run again starts over)
    for (const k of ['created', 'updated', 'unchanged'] as const) {
      summary.users[k] += out.users[k]
      summary.groups[k] += out.groups[k]
    }
    summary.rejected.push(...out.rejected)
    pending.push(...out.pending)
    summary.rows += rows
    opts.onProgress?.({ rows: summary.rows, fraction, summary })
  }

  /**
   * The previous batch's write, still running while the next batch is read and validated: on PostgreSQL the
   * database works on one batch while this process prepares the next (SQLite writes in process: already done).
   * Batches are still written one after the other, each seeing the ones before it.
   */
  let writing: Promise<void> = Promise.resolve()
  const flush = async (batch: RawRecord[]) => {
    const fraction = opts.fraction?.() // of the input read up to this batch's end (the next one is read meanwhile)
    const prepared: Prepared[] = []
    for (let i = 0; i < batch.length; i++) {
      const p = prepare(batch[i])
      if (p) prepared.push(p)
      // let the running write take its next step (send its next statement) while this batch is validated
      if (i % 100 === 99) await new Promise((r) => setImmediate(r))
    }
    // argon2id on the thread pool, all cores, before the transaction
    await Promise.all(
      prepared.map(async (p) => {
        if (p.kind === 'User') p.cols.passwordHash = p.password === undefined ? null : await hashPassword(p.password)
      }),
    )
    await writing
    writing = write(prepared, batch.length, fraction)
    writing.catch(() => {}) // awaited by the next flush or at the end; not an unhandled rejection meanwhile
  }

  let batch: RawRecord[] = []
  try {
    for await (const r of records) {
      batch.push(r)
      if (batch.length >= batchSize) {
        await flush(batch)
        batch = []
      }
    }
    if (batch.length) await flush(batch)
  } catch (e) {
    await writing.catch(() => {}) // a batch in flight ends (committed or not) before the error is reported
    throw e
  }
  await writing

  await applyMemberships(deps, store, pending, batchSize, summary)
  // the planner's statistics for what just went in, so the next pages and look-ups are planned for it
  await store.read(q((r) => r.analyze()))
  summary.rejected.sort((a, b) => a.line - b.line)
  summary.seconds = (performance.now() - started) / 1000
  return summary
}

interface BatchOutcome {
  users: Counts
  groups: Counts
  rejected: Rejection[]
  pending: PendingMembership[]
}

/** A resource as the batch knows it: as found, then as the batch's earlier rows left it. */
interface Known extends BulkResource {
  /** its row among the batch's inserts or updates, once it has one */
  row?: BulkUser | BulkGroup
}

/**
 * One batch of prepared rows, as one write: the lookups for all its rows, the decisions row by row in memory (so a
 * row sees the rows before it, as if each were written at once), then the writes, one statement per kind of change.
 * Returns what happened; nothing outside the step changes (it may be run again).
 */
function* batchStep(deps: ServiceDeps, prepared: Prepared[], ts: string): Step<BatchOutcome> {
  const tenant = deps.tenant
  const out: BatchOutcome = { users: { created: 0, updated: 0, unchanged: 0 }, groups: { created: 0, updated: 0, unchanged: 0 }, rejected: [], pending: [] }
  const userRows = prepared.filter((p) => p.kind === 'User')
  const groupRows = prepared.filter((p) => p.kind === 'Group')

  // lookups: one per kind, for the whole batch
  const users = new Map<string, Known>() // by userName key
  const userKeys = uniq(userRows.map((p) => (p.cols as UserColumns).userNameKey))
  if (userKeys.length) for (const r of yield* q((r) => r.findUsersByKeys(tenant, userKeys))) users.set(r.key, r)
  const groups = new Map<string, Known>() // by id
  const byKey = new Map<string, Set<string>>() // displayName key → the ids of the groups holding it now
  const indexGroup = (g: Known) => {
    let ids = byKey.get(g.key)
    if (!ids) byKey.set(g.key, (ids = new Set()))
    ids.add(g.id)
  }
  const know = (g: Known) => {
    groups.set(g.id, g)
    indexGroup(g)
  }
  const groupIds = uniq(groupRows.filter((p) => p.id !== undefined).map((p) => p.id!))
  if (groupIds.length) for (const r of yield* q((r) => r.findGroupsByIds(tenant, groupIds))) know(r)
  const groupKeys = uniq(groupRows.filter((p) => p.id === undefined).map((p) => (p.cols as GroupColumns).displayNameKey))
  if (groupKeys.length) for (const r of yield* q((r) => r.findGroupsByKeys(tenant, groupKeys))) if (!groups.has(r.id)) know(r)
  const wanted = uniq(prepared.filter((p) => p.id !== undefined).map((p) => p.id!))
  const taken = new Set<string>()
  if (wanted.length) for (const id of yield* q((r) => r.takenIds(wanted))) taken.add(id)

  const inserts = { User: [] as BulkUser[], Group: [] as BulkGroup[] }
  const updates = { User: [] as BulkUser[], Group: [] as BulkGroup[] }
  const newId = (want: string | undefined) => {
    if (want === undefined) return Bun.randomUUIDv7()
    if (taken.has(want)) throw new ScimError(409, `id '${want}' is already used by another resource`, 'uniqueness')
    taken.add(want)
    return want
  }

  /** Writes `p` over `e` (or as a new resource: `e` absent) and counts which; returns the resource. */
  const save = (p: Prepared, e: Known | undefined, key: string): Known => {
    const counts = p.kind === 'User' ? out.users : out.groups
    if (!e) {
      const id = newId(p.id)
      const row = { id, version: 1, data: p.data, cols: p.cols } as BulkUser & BulkGroup
      inserts[p.kind].push(row)
      counts.created++
      return { id, version: 1, key, data: p.data, row }
    }
    const passwordHash = p.kind === 'User' ? (p.cols as UserColumns).passwordHash : null
    if (!passwordHash && sameJson(e.data, p.data)) {
      counts.unchanged++
      return e
    }
    checkImmutable(deps.registry, resourceType(deps, p.kind), e.data, p.data)
    e.version++
    e.data = p.data
    if (e.row) {
      // written earlier in this batch: that row carries the change (a password kept unless a new one is given)
      const kept = p.kind === 'User' ? { passwordHash: passwordHash ?? (e.row.cols as UserColumns).passwordHash ?? null } : {}
      Object.assign(e.row, { version: e.version, data: p.data, cols: { ...p.cols, ...kept } })
    } else {
      e.row = { id: e.id, version: e.version, data: p.data, cols: p.cols } as BulkUser & BulkGroup
      updates[p.kind].push(e.row as BulkUser & BulkGroup)
    }
    counts.updated++
    return e
  }

  const writeUser = (p: Prepared) => {
    const key = (p.cols as UserColumns).userNameKey
    const e = users.get(key)
    const r = save(p, e, key)
    if (!e) users.set(key, r)
    for (const g of p.groups) out.pending.push({ line: p.line, memberId: r.id, memberType: 'User', group: g })
  }

  const writeGroup = (p: Prepared) => {
    const key = (p.cols as GroupColumns).displayNameKey
    // with an id: that group, or a new one with this id; without: the group of that displayName
    let e: Known | undefined
    if (p.id !== undefined) e = groups.get(p.id)
    else {
      const named = [...(byKey.get(key) ?? [])]
      if (named.length > 1) throw new ScimError(409, `displayName '${String(p.data.displayName)}' is held by several groups: give the group's id`, 'uniqueness')
      e = named.length ? groups.get(named[0]) : undefined
    }
    const before = e?.key
    const r = save(p, e, key)
    if (!e) know(r)
    else if (before !== key) {
      byKey.get(before!)?.delete(r.id)
      r.key = key
      indexGroup(r)
    }
    for (const g of p.groups) out.pending.push({ line: p.line, memberId: r.id, memberType: 'Group', group: g })
    for (const m of p.members) out.pending.push({ line: p.line, memberId: '', memberType: 'User', groupId: r.id, memberRef: m })
  }

  for (const p of prepared) {
    try {
      if (p.kind === 'User') writeUser(p)
      else writeGroup(p)
    } catch (e) {
      if (e instanceof ScimError) out.rejected.push({ line: p.line, reason: e.detail })
      else throw e
    }
  }

  // the writes: one statement each (PostgreSQL), the counters last (they are every writer's hot rows)
  if (inserts.User.length) yield* q((r) => r.insertUsers(tenant, ts, inserts.User))
  if (inserts.Group.length) yield* q((r) => r.insertGroups(tenant, ts, inserts.Group))
  if (updates.User.length) yield* q((r) => r.updateUsers(tenant, ts, updates.User))
  if (updates.Group.length) yield* q((r) => r.updateGroups(tenant, ts, updates.Group))
  if (inserts.User.length) yield* q((r) => r.bumpCount(tenant, 'User', inserts.User.length))
  if (inserts.Group.length) yield* q((r) => r.bumpCount(tenant, 'Group', inserts.Group.length))
  return out
}

interface MembershipOutcome {
  added: number
  existing: number
  errors: Rejection[]
  createdGroups: number
  /** displayName key → id of the groups this chunk resolved or created by name */
  names: Map<string, string>
  /** groups whose members changed */
  touched: Set<string>
}

/** Resolves and inserts the memberships collected from all rows, in batches of one transaction each. */
async function applyMemberships(deps: ServiceDeps, store: Store, pending: PendingMembership[], batchSize: number, summary: ImportSummary) {
  if (pending.length === 0) return
  const byName = new Map<string, string>()
  const touched = new Set<string>()
  const ts = deps.now().toISOString()
  for (let i = 0; i < pending.length; i += batchSize) {
    const chunk = pending.slice(i, i + batchSize)
    const out = await writeBatch(store, () => membershipStep(deps, store, chunk, byName, ts))
    summary.memberships.added += out.added
    summary.memberships.existing += out.existing
    summary.membershipErrors.push(...out.errors)
    summary.groups.created += out.createdGroups
    for (const [k, id] of out.names) byName.set(k, id)
    for (const id of out.touched) touched.add(id)
  }
  // membership changes are changes of the group: new version and lastModified, once per group
  const ids = [...touched]
  for (let i = 0; i < ids.length; i += batchSize) {
    const chunk = ids.slice(i, i + batchSize)
    await store.write(() => q((r) => r.touchGroups(deps.tenant, chunk, ts)))
  }
  summary.membershipErrors.sort((a, b) => a.line - b.line)
}

function* membershipStep(deps: ServiceDeps, store: Store, chunk: PendingMembership[], known: ReadonlyMap<string, string>, ts: string): Step<MembershipOutcome> {
  const tenant = deps.tenant
  const out: MembershipOutcome = { added: 0, existing: 0, errors: [], createdGroups: 0, names: new Map(), touched: new Set() }
  // lookups for the whole chunk: the ids named (groups by value, members of group lines), the groups named
  const refs = uniq(chunk.flatMap((p) => (p.memberRef !== undefined ? [p.memberRef] : p.group?.value ? [p.group.value] : [])))
  const kinds = refs.length ? yield* q((r) => r.resolveMemberIds(tenant, refs)) : new Map<string, Kind>()
  const byValue = (ref: GroupRef) => (ref.value !== undefined && kinds.get(ref.value) === 'Group' ? ref.value : undefined)
  const nameKeys = uniq(chunk.flatMap((p) => (p.group && !byValue(p.group) && p.group.display ? [foldKey(p.group.display)] : []))).filter((k) => !known.has(k))
  const named = new Map<string, string[]>()
  if (nameKeys.length)
    for (const g of yield* q((r) => r.findGroupsByKeys(tenant, nameKeys))) {
      const list = named.get(g.key)
      if (list) list.push(g.id)
      else named.set(g.key, [g.id])
    }
  const groupRt = resourceType(deps, 'Group')
  const newGroups: BulkGroup[] = []

  const resolveGroup = (ref: GroupRef): string => {
    const found = byValue(ref)
    if (found) return found
    if (!ref.display) throw new Error(`no group with id '${ref.value}'`)
    const key = foldKey(ref.display)
    const id = known.get(key) ?? out.names.get(key)
    if (id) return id
    const ids = named.get(key) ?? []
    if (ids.length > 1) throw new Error(`group displayName '${ref.display}' is held by several groups`)
    let groupId = ids[0]
    if (!groupId) {
      if (store.dialect === 'postgres' && ref.display.includes('\u0000')) throw new Error(NUL_REASON)
      const data = validateResource(deps.registry, groupRt, { schemas: [URN.group], displayName: ref.display }, { strict: false })
      groupId = Bun.randomUUIDv7()
      newGroups.push({ id: groupId, version: 1, data, cols: columnsOf('Group', data) as GroupColumns })
    }
    out.names.set(key, groupId)
    return groupId
  }

  const adds: BulkMembership[] = []
  const seen = new Set<string>()
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
      const pair = `${groupId}\u0000${memberId}`
      if (seen.has(pair)) out.existing++ // twice in the chunk: the second finds the first
      else {
        seen.add(pair)
        adds.push({ groupId, memberId, type: memberType })
      }
    } catch (e) {
      out.errors.push({ line: p.line, reason: reasonOf(e) })
    }
  }

  if (newGroups.length) {
    yield* q((r) => r.insertGroups(tenant, ts, newGroups))
    yield* q((r) => r.bumpCount(tenant, 'Group', newGroups.length))
    out.createdGroups = newGroups.length
  }
  const added = adds.length ? yield* q((r) => r.addMemberships(adds)) : []
  out.added = added.length
  out.existing += adds.length - added.length
  for (const i of added) out.touched.add(adds[i].groupId)
  return out
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
