/**
 * PATCH for every resource type: the pure engine (scim/patch.ts) applies the operations to the stored resource;
 * group membership, stored as rows, comes back as ExternalOps executed here against group_members, so adding 100
 * members to a 100,000-member group touches 100 rows. All in one immediate transaction: all or nothing.
 */
import type { Kind, StoredResource } from '../db/repo'
import { q, type Maybe, type Step } from '../db/store'
import type { Filter } from '../scim/filter/ast'
import { applyPatch, parsePatchRequest, type ExternalOp, type PatchOperation } from '../scim/patch'
import { validateResource } from '../scim/schema/validate'
import { MemberDelta, recordMembers, recordWrite } from './history'
import { checkIfMatch, columnsOf, getStoredStep, normaliseMembers, resolveMembers, resourceType, storeOf, writeVersion, type ServiceDeps } from './service'

/** Ids named by a filter made only of `value eq "…"` joined with `or`; undefined for anything else. */
function idsOfValueFilter(f: Filter): string[] | undefined {
  if (f.kind === 'compare' && f.op === 'eq' && f.path.attr.toLowerCase() === 'value' && !f.path.sub && !f.path.uri && typeof f.value === 'string')
    return [f.value]
  if (f.kind === 'or') {
    const l = idsOfValueFilter(f.left)
    const r = idsOfValueFilter(f.right)
    return l && r ? [...l, ...r] : undefined
  }
  return undefined
}

/** Applies one member operation; `delta` collects the member ids actually added and removed (the history). */
export function* applyMemberOp(deps: ServiceDeps, groupId: string, op: ExternalOp, delta: MemberDelta): Step<void> {
  let added: string[] = []
  let removed: string[] = []
  switch (op.op) {
    case 'add': {
      const rows = yield* resolveMembers(deps, groupId, normaliseMembers(op.values ?? [], deps.strict))
      added = yield* q((r) => r.addMembers(groupId, rows))
      break
    }
    case 'replace': {
      const rows = yield* resolveMembers(deps, groupId, normaliseMembers(op.values ?? [], deps.strict))
      removed = yield* q((r) => r.removeMembersWhere(groupId, undefined))
      added = yield* q((r) => r.addMembers(groupId, rows))
      break
    }
    case 'remove': {
      if (op.values) {
        const ids = normaliseMembers(op.values, deps.strict).map((m) => m.value)
        removed = yield* q((r) => r.removeMembers(groupId, ids))
        break
      }
      if (!op.filter) {
        removed = yield* q((r) => r.removeMembersWhere(groupId, undefined))
        break
      }
      const ids = idsOfValueFilter(op.filter)
      if (ids) removed = yield* q((r) => r.removeMembers(groupId, ids))
      else {
        // any other member filter (type, display, and/or/not): a condition over the member rows
        const where = storeOf(deps).sql.memberFilterToSql({ registry: deps.registry, rt: resourceType(deps, 'Group'), strict: deps.strict }, op.filter)
        removed = yield* q((r) => r.removeMembersWhere(groupId, where))
      }
      break
    }
  }
  delta.remove(removed)
  delta.add(added)
}

export function patchResource(deps: ServiceDeps, kind: Kind, id: string, body: unknown, ifMatch?: string | null): Maybe<StoredResource> {
  const ops = parsePatchRequest(body, { strict: deps.strict })
  return storeOf(deps).write(() => patchStep(deps, kind, id, ops, ifMatch))
}

function* patchStep(deps: ServiceDeps, kind: Kind, id: string, ops: PatchOperation[], ifMatch?: string | null): Step<StoredResource> {
  const rt = resourceType(deps, kind)
  const current = yield* getStoredStep(deps, kind, id)
  checkIfMatch(ifMatch, current)
  const { resource, external } = applyPatch(deps.registry, rt, current.data, ops, {
    strict: deps.strict,
    external: kind === 'Group' ? ['members'] : [],
  })
  // the engine's result is canonical; validating it again enforces required attributes and types. Leniently on
  // purpose, even under SCIMD_STRICT: the engine already checked every operation strictly, and a strict pass
  // over the whole resource would refuse data stored before strict mode was switched on (an IdP's undeclared
  // extension), making every later PATCH of that resource fail (test/http/schemas-patch.test.ts).
  const data = validateResource(deps.registry, rt, resource, { strict: false })
  let passwordHash: string | undefined
  if ('password' in data) {
    // PATCH runs inside the write transaction (synchronous on SQLite); password changes are rare enough to hash inline
    passwordHash = Bun.password.hashSync(String(data.password), { algorithm: 'argon2id', memoryCost: 19456, timeCost: 2 })
    delete data.password
  }
  const next: StoredResource = { ...current, version: current.version + 1, lastModified: deps.now().toISOString(), data }
  const cols = columnsOf(kind, data)
  yield* writeVersion(deps, kind, current, next, passwordHash === undefined ? cols : { ...cols, passwordHash })
  const delta = new MemberDelta()
  for (const op of external) yield* applyMemberOp(deps, id, op, delta)
  // a PATCH that only changed membership is told by its member rows alone
  if (delta.empty || JSON.stringify(current.data) !== JSON.stringify(data)) yield* recordWrite(deps, 'patch', kind, id, current, next)
  yield* recordMembers(deps, id, delta)
  return next
}
