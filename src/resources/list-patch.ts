/** Listing (filter → SQL, sort, page) and PATCH for every resource type. */
import * as repo from '../db/repo'
import type { Kind, StoredResource } from '../db/repo'
import { filterToSql, sortToSql } from '../db/filter-sql'
import type { ListParams } from '../scim/list'
import { notImplemented } from '../scim/errors'
import type { ServiceDeps } from './service'

export function listPage(deps: ServiceDeps, kind: Kind, p: ListParams): { total: number; rows: StoredResource[] } {
  return repo.listResources(deps.db, deps.tenant, kind, {
    where: p.filter ? filterToSql(kind, p.filter) : undefined,
    orderBy: p.sortBy ? sortToSql(kind, p.sortBy) : undefined,
    descending: p.sortOrder === 'descending',
    offset: p.startIndex - 1,
    limit: p.count,
  })
}

export function patchResource(
  deps: ServiceDeps,
  kind: Kind,
  id: string,
  body: unknown,
  ifMatch?: string | null,
): StoredResource {
  void deps, kind, id, body, ifMatch
  throw notImplemented('PATCH is not implemented yet')
}
