/**
 * `scimd export`: every user, then every group, as JSON Lines in the format `scimd import` reads. Each line is
 * the resource as stored (its `id`, `schemas` and attributes; no meta, no password) plus `groups`: the groups it
 * is a direct member of, as `{ "value": id, "display": displayName }`. Membership is written on the member's
 * line only (a group line has no `members`), so importing the file reproduces it. Streamed in id order with
 * keyset pages: memory stays flat whatever the size of the directory.
 */
import * as repo from '../db/repo'
import type { ServiceDeps } from '../resources/service'

export interface ExportSummary {
  users: number
  groups: number
  memberships: number
}

/** Writes the lines through `write` (awaited every page, so a slow pipe applies back-pressure). */
export async function exportAll(deps: ServiceDeps, write: (chunk: string) => unknown | Promise<unknown>, pageSize = 1000): Promise<ExportSummary> {
  const b = repo.bulk(deps.db!)
  const tenant = deps.tenant
  const summary: ExportSummary = { users: 0, groups: 0, memberships: 0 }

  const pass = async (kind: 'User' | 'Group') => {
    // memberships ordered by member id, merged with resources in id order (both BINARY order on ASCII ids)
    const it = b.memberships(tenant)[Symbol.iterator]()
    let m = it.next()
    let after = ''
    for (;;) {
      const rows = kind === 'User' ? b.usersAfter(tenant, after, pageSize) : b.groupsAfter(tenant, after, pageSize)
      if (rows.length === 0) break
      let out = ''
      for (const r of rows) {
        while (!m.done && m.value.member_id < r.id) m = it.next()
        const groups: { value: string; display?: string }[] = []
        while (!m.done && m.value.member_id === r.id) {
          groups.push(m.value.display === null ? { value: m.value.group_id } : { value: m.value.group_id, display: m.value.display })
          m = it.next()
        }
        const data = JSON.parse(r.data) as Record<string, unknown>
        const { schemas, ...attrs } = data
        const line: Record<string, unknown> = { schemas, id: r.id, ...attrs }
        if (groups.length) line.groups = groups
        out += JSON.stringify(line) + '\n'
        summary.memberships += groups.length
        if (kind === 'User') summary.users++
        else summary.groups++
      }
      after = rows[rows.length - 1].id
      await write(out)
    }
    if (!m.done) it.return?.()
  }
  await pass('User')
  await pass('Group')
  return summary
}
