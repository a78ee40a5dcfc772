/**
 * List and search parameters (RFC 7644 §3.4.2, §3.4.3): from a query string or a SearchRequest body, into one
 * shape. startIndex < 1 is treated as 1, count < 0 as 0, count above maxResults is capped (RFC 7644 §3.4.2.4).
 */
import type { AttrPath, Filter } from './filter/ast'
import { parseAttrPath } from './attr-path'
import { LIMITS, URN } from './constants'
import { invalidCursor, invalidFilter, invalidValue } from './errors'
import { parseFilter } from './filter/parser'

export interface ListParams {
  filter?: Filter
  filterText?: string
  sortBy?: AttrPath
  sortOrder: 'ascending' | 'descending'
  startIndex: number
  count: number
  attributes?: string[]
  excludedAttributes?: string[]
  /**
   * RFC 9865 cursor pagination: present (possibly '') when the request asked for it — '' (or `?cursor` with no
   * value) is the first page, otherwise a nextCursor/previousCursor from an earlier response. Absent: index paging.
   */
  cursor?: string
}

export interface RawListParams {
  filter?: unknown
  sortBy?: unknown
  sortOrder?: unknown
  startIndex?: unknown
  count?: unknown
  attributes?: unknown
  excludedAttributes?: unknown
  cursor?: unknown
}

function intParam(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN
  if (!Number.isSafeInteger(n)) throw invalidValue(`${name} must be an integer, got ${JSON.stringify(v)}`)
  return n
}

function listParam(name: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null || v === '') return undefined
  const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : undefined
  if (!items || !items.every((x) => typeof x === 'string')) throw invalidValue(`${name} must be a list of attribute names`)
  const out = (items as string[]).map((s) => s.trim()).filter(Boolean)
  return out.length ? out : undefined
}

export function parseListParams(raw: RawListParams, maxResults: number = LIMITS.maxResults): ListParams {
  const p: ListParams = { sortOrder: 'ascending', startIndex: 1, count: maxResults }
  if (raw.filter !== undefined && raw.filter !== null) {
    if (typeof raw.filter !== 'string') throw invalidFilter('filter must be a string')
    p.filterText = raw.filter
    p.filter = parseFilter(raw.filter)
  }
  if (raw.sortBy !== undefined && raw.sortBy !== null && raw.sortBy !== '') {
    const path = typeof raw.sortBy === 'string' ? parseAttrPath(raw.sortBy.trim()) : undefined
    if (!path) throw invalidValue(`sortBy must be an attribute path, got ${JSON.stringify(raw.sortBy)}`)
    p.sortBy = path
  }
  if (raw.sortOrder !== undefined && raw.sortOrder !== null && raw.sortOrder !== '') {
    const o = typeof raw.sortOrder === 'string' ? raw.sortOrder.toLowerCase() : ''
    if (o !== 'ascending' && o !== 'descending')
      throw invalidValue(`sortOrder must be "ascending" or "descending", got ${JSON.stringify(raw.sortOrder)}`)
    p.sortOrder = o
  }
  const start = intParam('startIndex', raw.startIndex)
  if (start !== undefined) p.startIndex = Math.max(1, start)
  if (raw.cursor !== undefined && raw.cursor !== null) {
    if (typeof raw.cursor !== 'string') throw invalidCursor('cursor must be a string')
    // RFC 9865 §2.4: startIndex or cursor selects the pagination method; asking for both is contradictory
    if (start !== undefined) throw invalidValue('Use either startIndex (index pagination) or cursor (cursor pagination), not both')
    p.cursor = raw.cursor.trim()
  }
  const count = intParam('count', raw.count)
  if (count !== undefined) p.count = Math.min(Math.max(0, count), maxResults)
  p.attributes = listParam('attributes', raw.attributes)
  p.excludedAttributes = listParam('excludedAttributes', raw.excludedAttributes)
  return p
}

/** Reads a SearchRequest body (POST …/.search). */
export function searchRequestParams(body: Record<string, unknown> | null, maxResults?: number): ListParams {
  if (!body) return parseListParams({}, maxResults)
  const get = (name: string) => Object.entries(body).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1]
  const schemas = get('schemas')
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.includes(URN.searchRequest)))
    throw invalidValue(`A SearchRequest's schemas must contain ${URN.searchRequest}`)
  return parseListParams(
    {
      filter: get('filter'),
      sortBy: get('sortBy'),
      sortOrder: get('sortOrder'),
      startIndex: get('startIndex'),
      count: get('count'),
      attributes: get('attributes'),
      excludedAttributes: get('excludedAttributes'),
      cursor: get('cursor'),
    },
    maxResults,
  )
}

export function listResponse(total: number, startIndex: number, resources: unknown[]) {
  return {
    schemas: [URN.listResponse],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  }
}

/** A cursor-paged ListResponse (RFC 9865 §2): no startIndex; nextCursor absent on the last page. */
export function cursorListResponse(total: number, resources: unknown[], cursors: { next?: string; previous?: string }) {
  const out: Record<string, unknown> = { schemas: [URN.listResponse], totalResults: total, itemsPerPage: resources.length }
  if (cursors.previous !== undefined) out.previousCursor = cursors.previous
  if (cursors.next !== undefined) out.nextCursor = cursors.next
  out.Resources = resources
  return out
}
