/**
 * One pipeline for every resource type: validate → (hooks: password, members) → store → render.
 * Users and Groups differ only in their index columns, a user's password and derived `groups`, and a group's
 * member rows. Plain functions taking the dependencies first; they throw ScimError and never see HTTP.
 */
import type { Db } from '../db/client'
import type * as repo from '../db/repo'
import type { Kind, MemberRow, StoredResource } from '../db/repo'
import { q, type Maybe, type Step, type Store } from '../db/store'
import { sqliteStore } from '../db/sqlite-store'
import { invalidValue, notFound, preconditionFailed, uniqueness } from '../scim/errors'
import type { SchemaRegistry } from '../scim/schema/registry'
import type { ResourceTypeDef } from '../scim/schema/types'
import { checkImmutable, validateResource } from '../scim/schema/validate'
import { foldKey } from '../scim/text'
import { MemberDelta, recordMembers, recordWrite, type Audit } from './history'
export type { Step } from '../db/store'

export interface ServiceDeps {
  /** the SQLite database (absent on PostgreSQL, where `store` is given) */
  db?: Db
  /** where resources live; the SQLite store of `db` when absent (src/db/store.ts) */
  store?: Store
  registry: SchemaRegistry
  strict: boolean
  tenant: string
  now: () => Date
  /** the change history is kept (false when SCIMD_HISTORY_DAYS=0); default true */
  history?: boolean
  /** who and which request caused the writes (made per request by the routes; src/resources/history.ts) */
  audit?: Audit
}

/** Where resources live on the wire: for meta.location and member $ref. */
export interface Origin {
  /** e.g. http://localhost:8080 */
  origin: string
  /** e.g. http://localhost:8080/scim/v2 */
  baseUrl: string
}

export interface Member {
  value: string
  type?: string
  display?: string
}

/** The store the services run their steps on. */
export function storeOf(deps: ServiceDeps): Store {
  if (deps.store) return deps.store
  if (!deps.db) throw new Error('ServiceDeps needs a store or a SQLite db')
  return sqliteStore(deps.db)
}

export function resourceType(deps: ServiceDeps, kind: Kind): ResourceTypeDef {
  const rt = deps.registry.resourceType(kind)
  if (!rt) throw new Error(`resource type ${kind} is not registered`)
  return rt
}

export const endpointOf = (kind: Kind) => (kind === 'User' ? 'Users' : 'Groups')

export function etagOf(version: number): string {
  return `W/"${version}"`
}

function userColumns(data: Record<string, unknown>): repo.UserColumns {
  return {
    userNameKey: foldKey(String(data.userName ?? '')),
    externalId: typeof data.externalId === 'string' ? data.externalId : null,
    displayNameKey: typeof data.displayName === 'string' ? foldKey(data.displayName) : null,
    active: typeof data.active === 'boolean' ? data.active : null,
  }
}

function groupColumns(data: Record<string, unknown>): repo.GroupColumns {
  return {
    displayNameKey: foldKey(String(data.displayName ?? '')),
    externalId: typeof data.externalId === 'string' ? data.externalId : null,
  }
}

export function columnsOf(kind: Kind, data: Record<string, unknown>) {
  return kind === 'User' ? userColumns(data) : groupColumns(data)
}

/** Splits a validated body into what is stored in `data` and what is handled apart (password, members). */
function splitSpecial(kind: Kind, canonical: Record<string, unknown>) {
  const data = { ...canonical }
  let password: string | undefined
  let members: Member[] | undefined
  if (kind === 'User' && 'password' in data) {
    password = data.password as string
    delete data.password
  }
  if (kind === 'Group' && 'members' in data) {
    members = normaliseMembers(data.members, false)
    delete data.members
  }
  delete data.groups
  return { data, password, members }
}

/** Member values as IdPs send them: objects with `value`, or (Entra's tests) bare strings. */
export function normaliseMembers(value: unknown, strict: boolean): Member[] {
  if (value === null || value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  return list.map((m, i) => {
    if (typeof m === 'string' && !strict) return { value: m }
    if (m && typeof m === 'object' && !Array.isArray(m)) {
      const entry = Object.entries(m as Record<string, unknown>).find(([k]) => k.toLowerCase() === 'value')
      if (entry && typeof entry[1] === 'string' && entry[1] !== '') {
        const type = Object.entries(m as Record<string, unknown>).find(([k]) => k.toLowerCase() === 'type')?.[1]
        return { value: entry[1], type: typeof type === 'string' ? type : undefined }
      }
    }
    throw invalidValue(`members[${i}] must be an object with a non-empty string 'value'`)
  })
}

/** Checks that every member names a user or group of this tenant; returns rows to insert. */
export function* resolveMembers(deps: ServiceDeps, groupId: string | undefined, members: Member[]): Step<{ id: string; type: Kind }[]> {
  const ids = [...new Set(members.map((m) => m.value))]
  const found = yield* q((r) => r.resolveMemberIds(deps.tenant, ids))
  const missing = ids.filter((id) => !found.has(id))
  if (missing.length)
    throw invalidValue(
      `members: no User or Group with id ${missing.slice(0, 5).map((m) => `'${m}'`).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
    )
  if (groupId && found.has(groupId)) throw invalidValue('members: a group cannot be a member of itself')
  return ids.map((id) => ({ id, type: found.get(id)! }))
}

async function hashPassword(password: string | undefined): Promise<string | null | undefined> {
  if (password === undefined) return undefined
  return Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: 19456, timeCost: 2 })
}

/** The columns of `next` whose value differs from `before` (a password hash is always a change). */
export function changedColumns<T extends object>(before: T, next: Partial<T>): Partial<T> {
  const out: Partial<T> = {}
  for (const k of Object.keys(next) as (keyof T)[]) if (before[k] !== next[k]) out[k] = next[k]
  return out
}

export function* uniqueUserName(deps: ServiceDeps, key: string, selfId?: string): Step<void> {
  const holder = yield* q((r) => r.findUserIdByKey(deps.tenant, key))
  if (holder && holder !== selfId) throw uniqueness('userName is already taken')
}

function nowIso(deps: ServiceDeps) {
  return deps.now().toISOString()
}

export async function createResource(deps: ServiceDeps, kind: Kind, body: unknown): Promise<StoredResource> {
  const rt = resourceType(deps, kind)
  const canonical = validateResource(deps.registry, rt, body, { strict: deps.strict })
  const { data, password, members } = splitSpecial(kind, canonical)
  const passwordHash = await hashPassword(password)
  const ts = nowIso(deps)
  const stored: StoredResource = { id: Bun.randomUUIDv7(), version: 1, created: ts, lastModified: ts, data }
  return storeOf(deps).write(() => createStep(deps, kind, stored, passwordHash, members))
}

function* createStep(deps: ServiceDeps, kind: Kind, stored: StoredResource, passwordHash: string | null | undefined, members: Member[] | undefined): Step<StoredResource> {
  const data = stored.data
  if (kind === 'User') {
    const cols = userColumns(data)
    yield* uniqueUserName(deps, cols.userNameKey)
    yield* q((r) => r.insertUser(deps.tenant, stored, { ...cols, passwordHash: passwordHash ?? null }))
  } else {
    yield* q((r) => r.insertGroup(deps.tenant, stored, groupColumns(data)))
  }
  yield* recordWrite(deps, 'create', kind, stored.id, undefined, stored)
  if (kind === 'Group' && members?.length) {
    const rows = yield* resolveMembers(deps, stored.id, members)
    const added = yield* q((r) => r.addMembers(stored.id, rows))
    const delta = new MemberDelta()
    delta.add(added)
    yield* recordMembers(deps, stored.id, delta)
  }
  return stored
}

/** A stored resource, or 404. */
export function* getStoredStep(deps: ServiceDeps, kind: Kind, id: string): Step<StoredResource> {
  // no stored id holds U+0000 (and PostgreSQL cannot even compare one): not found, on every store
  if (id.includes('\u0000')) throw notFound(`${kind} not found`)
  const r = yield* q((x) => x.getResource(deps.tenant, kind, id))
  if (!r) throw notFound(`${kind} '${id}' not found`)
  return r
}

export function getStored(deps: ServiceDeps, kind: Kind, id: string): Maybe<StoredResource> {
  return storeOf(deps).read(getStoredStep(deps, kind, id))
}

/** A user and its groups (GET of one user), or 404. */
export function* getUserWithGroupsStep(deps: ServiceDeps, id: string): Step<{ stored: StoredResource; groups: { id: string; display: string }[] }> {
  if (id.includes('\u0000')) throw notFound('User not found')
  const r = yield* q((x) => x.getUserWithGroups(deps.tenant, id))
  if (!r) throw notFound(`User '${id}' not found`)
  return r
}

/** If-Match: `*` or a list of ETags, one of which must be the current version. */
export function checkIfMatch(ifMatch: string | null | undefined, current: StoredResource) {
  if (!ifMatch) return
  const tags = ifMatch.split(',').map((s) => s.trim())
  if (tags.includes('*')) return
  const mine = etagOf(current.version)
  const strip = (t: string) => t.replace(/^W\//, '')
  if (!tags.some((t) => strip(t) === strip(mine)))
    throw preconditionFailed(`If-Match ${ifMatch} does not match the current version ${mine}`)
}

export async function replaceResource(
  deps: ServiceDeps,
  kind: Kind,
  id: string,
  body: unknown,
  ifMatch?: string | null,
): Promise<StoredResource> {
  const rt = resourceType(deps, kind)
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const bodyId = Object.entries(body as Record<string, unknown>).find(([k]) => k.toLowerCase() === 'id')?.[1]
    if (bodyId !== undefined && bodyId !== null && bodyId !== id)
      throw invalidValue(`id in the body ('${String(bodyId)}') does not match the id in the URL`)
  }
  const canonical = validateResource(deps.registry, rt, body, { strict: deps.strict })
  const { data, password, members } = splitSpecial(kind, canonical)
  const passwordHash = await hashPassword(password)
  return storeOf(deps).write(() => replaceStep(deps, kind, rt, id, data, passwordHash, members, ifMatch))
}

/**
 * Writes the next version; a concurrent writer in between (another replica) fails If-Match or the write. Of the
 * indexed columns, only those whose value changes are written (a PATCH of `active` leaves the userName, externalId
 * and displayName indexes alone), and a user's userName is checked for uniqueness only when its key changes (while
 * it does not, the unique index says this user holds it).
 */
export function* writeVersion(deps: ServiceDeps, kind: Kind, current: StoredResource, next: StoredResource, cols: Partial<repo.UserColumns> | Partial<repo.GroupColumns>): Step<void> {
  const changed = changedColumns(columnsOf(kind, current.data), cols)
  const newKey = kind === 'User' ? (changed as Partial<repo.UserColumns>).userNameKey : undefined
  if (newKey !== undefined) yield* uniqueUserName(deps, newKey, current.id)
  const ok = yield* q((r) => r.updateResource(deps.tenant, kind, next, changed, current.version))
  if (!ok) throw preconditionFailed(`${kind} '${current.id}' was modified by another request meanwhile; read it again`)
}

function* replaceStep(
  deps: ServiceDeps,
  kind: Kind,
  rt: ResourceTypeDef,
  id: string,
  data: Record<string, unknown>,
  passwordHash: string | null | undefined,
  members: Member[] | undefined,
  ifMatch?: string | null,
): Step<StoredResource> {
  const current = yield* getStoredStep(deps, kind, id)
  checkIfMatch(ifMatch, current)
  checkImmutable(deps.registry, rt, current.data, data)
  const next: StoredResource = { ...current, version: current.version + 1, lastModified: nowIso(deps), data }
  if (kind === 'User') {
    const cols = userColumns(data)
    yield* writeVersion(deps, kind, current, next, passwordHash === undefined ? cols : { ...cols, passwordHash })
    yield* recordWrite(deps, 'replace', kind, id, current, next)
    return next
  }
  yield* writeVersion(deps, kind, current, next, groupColumns(data))
  // PUT replaces membership (Okta's custom apps send the full list); absent members means none
  const removed = yield* q((r) => r.removeMembersWhere(id, undefined))
  const rows = members?.length ? yield* resolveMembers(deps, id, members) : []
  const added = rows.length ? yield* q((r) => r.addMembers(id, rows)) : []
  const delta = new MemberDelta()
  delta.remove(removed)
  delta.add(added)
  // a PUT that only changed membership is told by its member rows alone
  if (delta.empty || JSON.stringify(current.data) !== JSON.stringify(data)) yield* recordWrite(deps, 'replace', kind, id, current, next)
  yield* recordMembers(deps, id, delta)
  return next
}

export function deleteResource(deps: ServiceDeps, kind: Kind, id: string, ifMatch?: string | null): Maybe<void> {
  return storeOf(deps).write(() => deleteStep(deps, kind, id, ifMatch))
}

function* deleteStep(deps: ServiceDeps, kind: Kind, id: string, ifMatch?: string | null): Step<void> {
  const current = yield* getStoredStep(deps, kind, id)
  checkIfMatch(ifMatch, current)
  // the groups that listed it change too: a new version, so their ETags (If-None-Match) do not go stale
  const ts = nowIso(deps)
  const listedIn = yield* q((r) => r.groupsOfMember(deps.tenant, id))
  for (const g of listedIn) yield* q((r) => r.touchResource(deps.tenant, 'Group', g.id, ts))
  yield* q((r) => r.deleteResource(deps.tenant, kind, id))
  yield* recordWrite(deps, 'delete', kind, id, current, undefined)
  for (const g of listedIn) {
    const delta = new MemberDelta()
    delta.remove([id])
    yield* recordMembers(deps, g.id, delta)
  }
}

export interface RenderNeeds {
  members: boolean
  groups: boolean
  /** users' groups already read (a page's in one statement: repo.groupsOfMembers; a user's with its row) */
  groupsOf?: Map<string, { id: string; display: string }[]>
  /** a group's member rows already read */
  memberRows?: MemberRow[]
}

/** Reads what rendering needs (a group's members, a user's groups) unless given, then renders. */
export function* renderStep(deps: ServiceDeps, kind: Kind, r: StoredResource, origin: Origin, needs: RenderNeeds): Step<Record<string, unknown>> {
  let pre = needs
  if (kind === 'Group' && needs.members && !needs.memberRows) pre = { ...pre, memberRows: yield* q((x) => x.listMembers(r.id)) }
  if (kind === 'User' && needs.groups && !needs.groupsOf?.has(r.id)) {
    const gs = yield* q((x) => x.groupsOfMember(deps.tenant, r.id))
    pre = { ...pre, groupsOf: new Map([[r.id, gs]]) }
  }
  return renderWith(deps, kind, r, origin, pre)
}

/** The full SCIM representation (before projection), read through the store. */
export function render(deps: ServiceDeps, kind: Kind, r: StoredResource, origin: Origin, needs: RenderNeeds): Maybe<Record<string, unknown>> {
  return storeOf(deps).read(renderStep(deps, kind, r, origin, needs))
}

/** The full SCIM representation (before projection) from what was read: no storage access. */
export function renderWith(
  deps: ServiceDeps,
  kind: Kind,
  r: StoredResource,
  origin: Origin,
  needs: RenderNeeds,
): Record<string, unknown> {
  const rt = resourceType(deps, kind)
  const { schemas: storedSchemas, ...attrs } = r.data as { schemas?: string[] } & Record<string, unknown>
  const out: Record<string, unknown> = {
    schemas: storedSchemas && storedSchemas.length ? storedSchemas : [rt.schema],
    id: r.id,
    ...attrs,
  }
  if (kind === 'Group' && needs.members) {
    out.members = (needs.memberRows ?? []).map((m) => {
      const member: Record<string, unknown> = {
        value: m.memberId,
        $ref: `${origin.baseUrl}/${endpointOf(m.memberType as Kind)}/${m.memberId}`,
        type: m.memberType,
      }
      if (m.display !== null) member.display = m.display
      return member
    })
  }
  if (kind === 'User' && needs.groups) {
    const gs = needs.groupsOf?.get(r.id) ?? []
    if (gs.length)
      out.groups = gs.map((g) => ({ value: g.id, $ref: `${origin.baseUrl}/Groups/${g.id}`, display: g.display, type: 'direct' }))
  }
  out.meta = {
    resourceType: kind,
    created: r.created,
    lastModified: r.lastModified,
    location: `${origin.baseUrl}/${endpointOf(kind)}/${r.id}`,
    version: etagOf(r.version),
  }
  return out
}
