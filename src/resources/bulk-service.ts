/**
 * /Bulk (RFC 7644 §3.7): runs the operations of a BulkRequest through the same services as the single-resource
 * routes (createResource, replaceResource, patchResource, deleteResource), so validation, uniqueness, If-Match
 * (`version`) and membership checks are the ones every other request gets.
 *
 * Decisions:
 * - Not one transaction. The RFC makes operations independent (§3.7: "The service provider MUST continue
 *   performing as many changes as possible and disregard partial failures", unless failOnErrors says stop): each
 *   operation commits in its own transaction, exactly like the single request it stands for; a failed operation
 *   leaves the others in place.
 * - bulkId references (`"bulkId:qwerty"` as a whole string value anywhere in `data`, or as a path segment
 *   `/Groups/bulkId:qwerty`) are resolved by dependency order, not request order: the operations form a graph
 *   (an operation depends on the POST that declares the bulkId it names) that is sorted topologically; among the
 *   operations that are ready, the one earliest in the request runs first, so a request without references runs in
 *   its own order. §3.7.1 lets a server that cannot resolve circular references answer 409: every operation on a
 *   cycle fails with 409 (detail names the cycle); an operation that depends on a failed one fails with 409 too; a
 *   reference to a bulkId no operation declares fails with 400 invalidValue.
 * - failOnErrors (§3.7.3): processing stops once that many operations have failed; only the operations processed
 *   so far are in the response.
 * - The response lists the processed operations in request order, each with `method`, `bulkId` (when given),
 *   `version` and `location` (when a resource exists), `status` as a string, and `response` (a SCIM error) for a
 *   failure.
 */
import { ScimError, conflict, invalidSyntax, invalidValue, methodNotAllowed, payloadTooLarge } from '../scim/errors'
import { URN } from '../scim/constants'
import { toScimError } from '../http/scim-plugin'
import type { Logger } from '../log'
import type { Kind } from '../db/repo'
import { patchResource } from './patch-service'
import * as svc from './service'
import type { Origin, ServiceDeps } from './service'

export interface BulkLimits {
  maxOperations: number
  maxPayloadSize: number
}

interface BulkOp {
  index: number
  method: string
  path: string
  bulkId?: string
  version?: string
  data?: unknown
  /** bulkIds this operation refers to */
  refs: Set<string>
  /** a problem found while reading the operation (answered without running it) */
  invalid?: ScimError
}

export interface BulkOpResult {
  method: string
  bulkId?: string
  version?: string
  location?: string
  status: string
  response?: unknown
}

const REF = /^bulkId:(.+)$/

const get = (o: Record<string, unknown>, name: string) => Object.entries(o).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1]

export function limitsError(l: BulkLimits, what: string) {
  return payloadTooLarge(`${what}; the limits are maxOperations ${l.maxOperations} and maxPayloadSize ${l.maxPayloadSize} bytes (ServiceProviderConfig.bulk)`)
}

/** Collects `bulkId:x` strings anywhere in a value. */
function collectRefs(v: unknown, out: Set<string>) {
  if (typeof v === 'string') {
    const m = REF.exec(v)
    if (m) out.add(m[1])
  } else if (Array.isArray(v)) for (const x of v) collectRefs(x, out)
  else if (v && typeof v === 'object') for (const x of Object.values(v)) collectRefs(x, out)
}

/** Replaces `bulkId:x` strings by the ids they stand for. */
function substitute(v: unknown, ids: Map<string, string>): unknown {
  if (typeof v === 'string') {
    const m = REF.exec(v)
    return m && ids.has(m[1]) ? ids.get(m[1]) : v
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, ids))
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, ids)]))
  return v
}

function readOperation(raw: unknown, index: number, strict: boolean): BulkOp {
  const op: BulkOp = { index, method: '', path: '', refs: new Set() }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    op.invalid = invalidSyntax(`Operations[${index}] must be an object`)
    return op
  }
  const o = raw as Record<string, unknown>
  const method = get(o, 'method')
  const path = get(o, 'path')
  const bulkId = get(o, 'bulkId')
  const version = get(o, 'version')
  op.method = typeof method === 'string' ? method.toUpperCase() : ''
  op.path = typeof path === 'string' ? path : ''
  if (typeof bulkId === 'string' && bulkId !== '') op.bulkId = bulkId
  if (typeof version === 'string' && version !== '') op.version = version
  op.data = get(o, 'data')
  if (typeof method !== 'string' || method === '') op.invalid = invalidSyntax(`Operations[${index}]: 'method' is required`)
  else if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method))
    op.invalid = methodNotAllowed(`Operations[${index}]: method '${method}' is not allowed in /Bulk; use POST, PUT, PATCH or DELETE`, 'POST, PUT, PATCH, DELETE')
  else if (typeof path !== 'string' || path === '') op.invalid = invalidSyntax(`Operations[${index}]: 'path' is required`)
  else if (bulkId !== undefined && (typeof bulkId !== 'string' || bulkId === '')) op.invalid = invalidSyntax(`Operations[${index}]: 'bulkId' must be a non-empty string`)
  else if (op.method === 'POST' && !op.bulkId && strict) op.invalid = invalidSyntax(`Operations[${index}]: 'bulkId' is required with POST (RFC 7644 §3.7)`)
  else if (op.method !== 'DELETE' && (op.data === undefined || op.data === null)) op.invalid = invalidSyntax(`Operations[${index}]: 'data' is required with ${op.method}`)
  collectRefs(op.path, op.refs)
  for (const seg of op.path.split('/')) collectRefs(seg, op.refs)
  collectRefs(op.data, op.refs)
  return op
}

/** Parses `/Users`, `/Groups/{id}` (leading slash optional); the id may still be a bulkId reference. */
function parsePath(path: string): { kind: Kind; id?: string } {
  const m = /^\/?(Users|Groups)(?:\/([^/]+))?\/?$/i.exec(path)
  if (!m) throw invalidValue(`path '${path}' is not /Users, /Groups or one of their resources`)
  let id: string | undefined
  try {
    id = m[2] ? decodeURIComponent(m[2]) : undefined
  } catch {
    throw invalidValue(`path '${path}' has a malformed percent-encoding`)
  }
  return { kind: m[1].toLowerCase() === 'users' ? 'User' : 'Group', id }
}

/** Operations that lie on a cycle of references (each reaches itself). */
function onCycle(producer: Map<string, BulkOp>, candidates: BulkOp[]): Map<BulkOp, string[]> {
  const out = new Map<BulkOp, string[]>()
  const deps = (o: BulkOp) => [...o.refs].map((r) => producer.get(r)).filter((x): x is BulkOp => Boolean(x))
  for (const start of candidates) {
    // BFS from start over dependencies, remembering the way back
    const prev = new Map<BulkOp, BulkOp>()
    const queue = [start]
    let found = false
    while (queue.length && !found) {
      const cur = queue.shift()!
      for (const d of deps(cur)) {
        if (d === start) {
          prev.set(start, cur)
          found = true
          break
        }
        if (!prev.has(d)) {
          prev.set(d, cur)
          queue.push(d)
        }
      }
    }
    if (!found) continue
    const chain: string[] = [start.bulkId!]
    for (let at = prev.get(start)!; at !== start; at = prev.get(at)!) chain.push(at.bulkId!)
    chain.push(start.bulkId!)
    out.set(start, chain.reverse())
  }
  return out
}

export async function runBulk(deps: ServiceDeps, body: Record<string, unknown> | null, origin: Origin, limits: BulkLimits, log?: Logger) {
  if (!body) throw invalidSyntax('A BulkRequest body is required')
  const schemas = get(body, 'schemas')
  const listed = Array.isArray(schemas) ? schemas : typeof schemas === 'string' ? [schemas] : []
  if (deps.strict && !listed.includes(URN.bulkRequest)) throw invalidSyntax(`'schemas' must contain "${URN.bulkRequest}"`)
  const rawOps = get(body, 'Operations')
  if (!Array.isArray(rawOps)) throw invalidSyntax("'Operations' is required and must be an array")
  if (rawOps.length > limits.maxOperations) throw limitsError(limits, `The request has ${rawOps.length} operations`)
  const failRaw = get(body, 'failOnErrors')
  let failOnErrors = Infinity
  if (failRaw !== undefined && failRaw !== null) {
    if (typeof failRaw !== 'number' || !Number.isInteger(failRaw) || failRaw < 1)
      throw invalidValue("'failOnErrors' must be an integer of at least 1")
    failOnErrors = failRaw
  }

  const ops = rawOps.map((o, i) => readOperation(o, i, deps.strict))
  const producer = new Map<string, BulkOp>()
  for (const op of ops) {
    if (!op.bulkId || op.invalid) continue
    if (producer.has(op.bulkId)) op.invalid = invalidValue(`bulkId '${op.bulkId}' is used by more than one operation`)
    else if (op.method === 'POST') producer.set(op.bulkId, op)
  }

  const results = new Map<BulkOp, BulkOpResult>()
  const ids = new Map<string, string>() // bulkId → created id
  const failedIds = new Set<string>()
  let errors = 0

  const base = (op: BulkOp): Omit<BulkOpResult, 'status'> => ({ method: op.method || 'UNKNOWN', ...(op.bulkId ? { bulkId: op.bulkId } : {}) })
  const fail = (op: BulkOp, e: unknown) => {
    const err = toScimError('', e, log)
    if (op.bulkId) failedIds.add(op.bulkId)
    results.set(op, { ...base(op), status: String(err.status), response: err.toJSON() })
    errors++
  }

  async function execute(op: BulkOp) {
    const resolvedPath = op.path
      .split('/')
      .map((seg) => substitute(seg, ids) as string)
      .join('/')
    const { kind, id } = parsePath(resolvedPath)
    const data = substitute(op.data, ids)
    const endpoint = svc.endpointOf(kind)
    const location = (rid: string) => `${origin.baseUrl}/${endpoint}/${rid}`
    switch (op.method) {
      case 'POST': {
        if (id) throw methodNotAllowed(`POST is not allowed on ${op.path}; POST to /${endpoint}`, 'PUT, PATCH, DELETE')
        const stored = await svc.createResource(deps, kind, data)
        if (op.bulkId) ids.set(op.bulkId, stored.id)
        return { ...base(op), location: location(stored.id), version: svc.etagOf(stored.version), status: '201' }
      }
      case 'PUT':
      case 'PATCH': {
        if (!id) throw methodNotAllowed(`${op.method} needs a resource: /${endpoint}/{id}`, 'POST')
        const stored =
          op.method === 'PUT' ? await svc.replaceResource(deps, kind, id, data, op.version) : await patchResource(deps, kind, id, data, op.version)
        return { ...base(op), location: location(stored.id), version: svc.etagOf(stored.version), status: '200' }
      }
      default: {
        if (!id) throw methodNotAllowed(`DELETE needs a resource: /${endpoint}/{id}`, 'POST')
        await svc.deleteResource(deps, kind, id, op.version)
        return { ...base(op), location: location(id), status: '204' }
      }
    }
  }

  // Kahn's algorithm; the earliest ready operation in request order runs next
  const pending = new Set(ops)
  const blockedBy = (op: BulkOp) => [...op.refs].filter((r) => producer.has(r) && !ids.has(r) && !failedIds.has(r))
  while (pending.size && errors < failOnErrors) {
    let next: BulkOp | undefined
    for (const op of ops) if (pending.has(op) && (op.invalid || blockedBy(op).length === 0)) {
      next = op
      break
    }
    if (!next) {
      // everything left waits on something left: report the cycles, then what depends on them
      const left = ops.filter((o) => pending.has(o))
      const cycles = onCycle(producer, left.filter((o) => o.bulkId))
      // (a cycle is made of POSTs with bulkIds only, so at least one is found)
      const onCycles = left.filter((o) => cycles.has(o))
      for (const o of onCycles.length ? onCycles : [left[0]]) {
        if (errors >= failOnErrors) break
        pending.delete(o)
        const chain = cycles.get(o)
        fail(o, conflict(`Circular bulkId reference${chain ? `: ${chain.join(' → ')}` : ''}; scimd does not resolve reference cycles (RFC 7644 §3.7.1)`))
      }
      continue
    }
    pending.delete(next)
    if (next.invalid) {
      fail(next, next.invalid)
      continue
    }
    const unknown = [...next.refs].find((r) => !producer.has(r))
    const failedDep = [...next.refs].find((r) => failedIds.has(r))
    if (unknown !== undefined) fail(next, invalidValue(`bulkId '${unknown}' is not declared by a POST operation of this request`))
    else if (failedDep !== undefined) fail(next, conflict(`bulkId '${failedDep}' refers to an operation that failed`))
    else {
      try {
        results.set(next, await execute(next))
      } catch (e) {
        fail(next, e)
      }
    }
  }
  return {
    schemas: [URN.bulkResponse],
    Operations: ops.filter((o) => results.has(o)).map((o) => results.get(o)!),
  }
}
