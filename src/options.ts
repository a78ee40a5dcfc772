/**
 * The shape of a setting (one env var ↔ one flag ↔ one README row) and the value parsers every settings table uses
 * (config.ts, auth-options.ts, toolkit/options.ts). A parser throws a plain Error whose message says what was
 * expected; parseConfig prefixes it with the variable or flag name and masks secrets.
 */

export interface OptionSpec<S> {
  key: keyof S
  env: string
  flag: string
  secret?: boolean
  /** a flag that takes no value (`--strict`); `--strict=false` still works */
  boolean?: boolean
  doc: string
  defaultText: string
  parse: (raw: string) => any
}

export function fail(msg: string): never {
  throw new Error(msg)
}

/** 1/true/yes/on, 0/false/no/off (and empty = false). */
export function parseBool(raw: string): boolean {
  const v = raw.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false
  fail(`expected true or false, got '${raw}'`)
}

export function wholeNumber(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\s*\d+\s*$/.test(raw) || Number(raw) < min || Number(raw) > max)
      fail(`expected a whole number from ${min} to ${max}, got '${raw}'`)
    return Number(raw)
  }
}

export function oneOf<T extends string>(...values: T[]) {
  return (raw: string): T => {
    const v = raw.trim().toLowerCase() as T
    if (!values.includes(v)) fail(`expected one of ${values.join(', ')}, got '${raw}'`)
    return v
  }
}

/** `10485760`, `512KiB`, `10MiB`, `1g` → bytes. */
export function parseSize(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(raw)
  if (!m) fail(`expected a size such as 10485760, 512KiB or 10MiB, got '${raw}'`)
  const unit = (m[2] ?? 'b').toLowerCase()
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1
  const n = Math.floor(Number(m[1]) * mult)
  if (n < 1) fail(`must be at least 1 byte, got '${raw}'`)
  return n
}
