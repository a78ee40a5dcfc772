/**
 * `scimd export`: every user, then every group, as JSON Lines in the format `scimd import` reads. Each line is
 * the resource as stored (its `id`, `schemas` and attributes; no meta, no password) plus `groups`: the groups it
 * is a direct member of, as `{ "value": id, "display": displayName }`. Membership is written on the member's
 * line only (a group line has no `members`), so importing the file reproduces it. Streamed in id order with
 * keyset pages: memory stays flat whatever the size of the directory.
 */
import type { Kind } from '../db/repo'
import { q, type Step } from '../db/store'
import { storeOf, type ServiceDeps } from '../resources/service'

export interface ExportSummary {
  users: number
  groups: number
  memberships: number
}

interface Page {
  rows: { id: string; data: Record<string, unknown> }[]
  groups: Map<string, { id: string; display: string | null }[]>
}

/** A page of resources after `after` (id order) and the groups of each, read in one snapshot. */
function* pageStep(tenant: string, kind: Kind, after: string, limit: number): Step<Page> {
  const rows = yield* q((r) => r.resourcesAfter(tenant, kind, after, limit))
  const groups = rows.length ? yield* q((r) => r.memberGroups(tenant, rows.map((x) => x.id))) : new Map()
  return { rows, groups }
}

/**
 * Writes the lines through `write` (awaited every page, so a slow pipe applies back-pressure). Works on both stores
 * (src/db/store.ts); each page is read in one snapshot. On PostgreSQL a line lists a resource's attributes in
 * jsonb's key order (jsonb keeps none of its own), which import reads the same.
 */
export async function exportAll(deps: ServiceDeps, write: (chunk: string) => unknown | Promise<unknown>, pageSize = 1000): Promise<ExportSummary> {
  const store = storeOf(deps)
  const tenant = deps.tenant
  const summary: ExportSummary = { users: 0, groups: 0, memberships: 0 }
  for (const kind of ['User', 'Group'] as const) {
    let after = ''
    for (;;) {
      const page = await store.snapshot(pageStep(tenant, kind, after, pageSize))
      if (page.rows.length === 0) break
      let out = ''
      for (const r of page.rows) {
        const groups = (page.groups.get(r.id) ?? []).map((g) => (g.display === null ? { value: g.id } : { value: g.id, display: g.display }))
        const { schemas, ...attrs } = r.data
        const line: Record<string, unknown> = { schemas, id: r.id, ...attrs }
        if (groups.length) line.groups = groups
        out += JSON.stringify(line) + '\n'
        summary.memberships += groups.length
        if (kind === 'User') summary.users++
        else summary.groups++
      }
      after = page.rows[page.rows.length - 1].id
      await write(out)
    }
  }
  return summary
}
