/** Listing for every resource type: filter → SQL, sort, page. */
import * as repo from '../db/repo'
import type { Kind, StoredResource } from '../db/repo'
import { filterToSql, sortToSql } from '../db/filter-sql'
import type { ListParams } from '../scim/list'
import { resourceType, type ServiceDeps } from './service'

export function listPage(deps: ServiceDeps, kind: Kind, p: ListParams): { total: number; rows: StoredResource[] } {
  const ctx = { registry: deps.registry, rt: resourceType(deps, kind), kind, strict: deps.strict }
  return repo.listResources(deps.db, deps.tenant, kind, {
    where: p.filter ? filterToSql(ctx, p.filter) : undefined,
    orderBy: p.sortBy ? sortToSql(ctx, p.sortBy) : undefined,
    descending: p.sortOrder === 'descending',
    offset: p.startIndex - 1,
    limit: p.count,
  })
}
