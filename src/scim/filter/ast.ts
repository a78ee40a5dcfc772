/**
 * The one filter AST (RFC 7644 §3.4.2.2). Back ends: filter/to-sql.ts (SQL) and filter/evaluate.ts (in memory).
 */

/**
 * An attribute path: `[uri:]attr[.sub]`. `uri` is a schema URN when the path was URN-qualified
 * (e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber` →
 * { uri: 'urn:…:enterprise:2.0:User', attr: 'employeeNumber' }). Names keep the case they were written in;
 * resolution against a schema is case-insensitive.
 */
export interface AttrPath {
  uri?: string
  attr: string
  sub?: string
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le'

/** JSON literal of a comparison. dateTime values are strings; the attribute's type says how to compare. */
export type Literal = string | number | boolean | null

export type Filter =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: Literal }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and'; left: Filter; right: Filter }
  | { kind: 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  /**
   * `attr[filter]`: some value of the multi-valued (or complex) attribute `path` satisfies `filter`, whose
   * paths are relative to that value (sub-attribute names in `attr`). `path.sub` is never set here.
   * Entra ID's `emails[type eq "work"].value eq "x"` parses to
   * valuePath(emails, and(type eq "work", value eq "x")).
   */
  | { kind: 'valuePath'; path: AttrPath; filter: Filter }

/**
 * A PATCH path (RFC 7644 §3.5.2): `attrPath` or `valuePath[.subAttr]`.
 * `members[value eq "x"]` → { attr: {attr:'members'}, filter }, `emails[type eq "work"].value` adds sub 'value',
 * `name.givenName` → { attr: {attr:'name', sub:'givenName'} }.
 */
export interface PatchPath {
  attr: AttrPath
  filter?: Filter
  /** sub-attribute after a value filter: `emails[...].value` */
  sub?: string
}
