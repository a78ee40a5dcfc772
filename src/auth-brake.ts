/**
 * A brake on guessing credentials. Each client address may fail authentication `limit` times; every further failure
 * (while the address has not been quiet for `window` seconds) blocks it for 1 s, 2 s, 4 s, … up to `maxBackoff`
 * seconds, during which its requests are answered 429 with Retry-After before any credential is checked. Refused
 * attempts during a block do not count, so a block never lasts longer than `maxBackoff` and nothing is permanent;
 * a success clears the address. The table is bounded: past `maxEntries` the least recently failed address is
 * forgotten.
 */

export interface BrakeOptions {
  limit: number
  /** seconds */
  window: number
  /** seconds */
  maxBackoff: number
  maxEntries?: number
  now?: () => number
}

interface Entry {
  failures: number
  last: number
  blockedUntil: number
}

export interface Brake {
  /** Seconds the address must wait (0: go ahead). */
  check(address: string): number
  fail(address: string): void
  succeed(address: string): void
  size(): number
}

export function createBrake(o: BrakeOptions): Brake {
  const now = o.now ?? Date.now
  const max = o.maxEntries ?? 10_000
  const table = new Map<string, Entry>()
  const windowMs = o.window * 1000

  return {
    size: () => table.size,
    check(address) {
      const e = table.get(address)
      if (!e) return 0
      const t = now()
      if (t < e.blockedUntil) return Math.max(1, Math.ceil((e.blockedUntil - t) / 1000))
      if (t - e.last > windowMs) table.delete(address)
      return 0
    },
    fail(address) {
      const t = now()
      let e = table.get(address)
      if (e && t - e.last > windowMs) e = undefined
      e ??= { failures: 0, last: t, blockedUntil: 0 }
      e.failures++
      e.last = t
      const over = e.failures - o.limit
      if (over > 0) e.blockedUntil = t + Math.min(2 ** Math.min(over - 1, 30), o.maxBackoff) * 1000
      table.delete(address) // re-insert: Map order = least recently failed first
      table.set(address, e)
      while (table.size > max) table.delete(table.keys().next().value!)
    },
    succeed(address) {
      table.delete(address)
    },
  }
}
