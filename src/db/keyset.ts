/**
 * Keyset paging's plan, the same for both dialects (src/db/repo.ts and src/db/pg/repo.ts seekPage): the order is two
 * segments — rows with a sort value, ordered by (value, id), and rows without, ordered by id — with the no-value
 * segment last ascending and first descending. Each segment is read with a condition an index range can serve
 * (`value >= K and (value > K or id > I)` rather than one OR over everything). Only running the statements differs
 * per store (synchronous SQLite, awaited PostgreSQL).
 */
import { sql, type SQL } from 'drizzle-orm'
import type { SeekPosition } from './repo'

export type Segment = 'value' | 'none'

export interface SeekPlan {
  dir: SQL
  segments: Segment[]
  /** index in `segments` where the page starts (the segment of `after`) */
  start: number
  gt: SQL
  ge: SQL
}

export function seekPlan(sorted: boolean, q: { descending: boolean; after?: SeekPosition }): SeekPlan {
  const segments: Segment[] = !sorted ? ['none'] : q.descending ? ['none', 'value'] : ['value', 'none']
  return {
    dir: sql.raw(q.descending ? 'desc' : 'asc'),
    segments,
    start: q.after && sorted ? segments.indexOf(q.after.key === null ? 'none' : 'value') : 0,
    gt: sql.raw(q.descending ? '<' : '>'),
    ge: sql.raw(q.descending ? '<=' : '>='),
  }
}

/**
 * One resource type's condition and order within a segment; `e` is its sort expression (undefined: the type has no
 * value to sort by), `from` the position to start after. Undefined when the type has no rows in the segment.
 */
export function seekArm(plan: SeekPlan, seg: Segment, e: SQL | undefined, from: SeekPosition | undefined): { extra?: SQL; order: SQL } | undefined {
  const { dir, gt, ge } = plan
  if (seg === 'value') {
    if (!e) return undefined // no value anywhere in this part
    const extra = from ? sql`${e} is not null and ${e} ${ge} ${from.key} and (${e} ${gt} ${from.key} or r.id ${gt} ${from.id})` : sql`${e} is not null`
    return { extra, order: sql`${e} ${dir}, r.id ${dir}` }
  }
  const none = e ? sql`${e} is null` : undefined
  const after = from ? sql`r.id ${gt} ${from.id}` : undefined
  return { extra: none && after ? sql`${none} and ${after}` : (none ?? after), order: sql`r.id ${dir}` }
}

/** The order of a segment's merged arms (their select lists name the sort key `sk` and the id `id`). */
export const mergedOrder = (plan: SeekPlan, seg: Segment) => (seg === 'value' ? sql`sk ${plan.dir}, id ${plan.dir}` : sql`id ${plan.dir}`)
