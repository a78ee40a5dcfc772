/**
 * Caseless matching for the indexed keys (userName, displayName).
 *
 * scimd compares userName and displayName with an approximation of Unicode's NFKC_Casefold: compatibility
 * normalisation (full-width 'ａ' → 'a', ligature 'ﬁ' → 'fi'), then upper-casing and lower-casing without locale
 * (so 'ß' matches 'SS' and 'ss', and the Turkish dotless 'ı' matches 'I' and 'i'; 'İ' folds to 'i̇', i.e. 'i'
 * plus a combining dot, and so differs from 'i'). The folded key is computed here, stored in an indexed column
 * and used for uniqueness, `eq`/`sw`/`co`/`ew`/ordering, and sorting, so the rule lives in exactly one place.
 */
export function foldKey(s: string): string {
  return s.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC')
}

/** ASCII-only lower-casing, as SQLite's lower() does: the rule for case-insensitive attributes stored in JSON. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}
