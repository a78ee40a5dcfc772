/** `scimd <command> --help`: one text per command. The options shared by all commands are appended by index.ts. */
import { CSV_COLUMNS } from './records'
import { HISTORY_HELP } from './history'
import { TENANT_HELP } from './tenant'

const csvColumns = () =>
  Object.entries(CSV_COLUMNS)
    .map(([name, c]) => `    ${name.padEnd(18)}${c.doc}`.trimEnd())
    .join('\n')

export const COMMAND_HELP: Record<string, () => string> = {
  history: () => HISTORY_HELP,
  tenant: () => TENANT_HELP,
  serve: () => `Usage: scimd [serve] [options]

Starts the SCIM server (the default command). Applies pending database migrations first. Stops cleanly on
SIGTERM or SIGINT, letting requests in flight finish.
`,
  migrate: () => `Usage: scimd migrate [options]

Creates the database (DATABASE_URL / --database-url) or upgrades its schema, then exits. serve, import and
export do this by themselves; migrate lets you do it ahead of a deployment.
`,
  import: () => `Usage: scimd import FILE [--format jsonl|csv] [--batch-size N] [options]

Imports users (and groups and memberships) from FILE, or from standard input when FILE is "-", into the
database (DATABASE_URL / --database-url: a SQLite file or postgres://…). Rows are validated exactly as the
API validates a POST, and written in batches of N rows (default 1000), one transaction each. Idempotent: users are keyed by userName (an existing user is replaced by the row, an
identical row changes nothing), groups by id (when the line has one) or else displayName. Progress goes to stderr (a bar on a terminal,
a line every 2 s otherwise); the summary of created, updated, unchanged and rejected rows (with line
numbers and reasons) goes to stdout.

Format: from --format, else from the file name (*.csv is CSV, anything else JSON Lines).

JSON Lines: one JSON object per line, as "scimd export" writes them.
  - a SCIM User (as POSTed to /Users); an "id" is kept when creating, if free; "meta" is ignored;
    optional "groups": ["Group name", …] or [{"value": "<group id>", "display": "Group name"}, …]
  - a SCIM Group: a line whose "schemas" contains urn:ietf:params:scim:schemas:core:2.0:Group;
    optional "groups" (its parent groups, as above) and "members": [{"value": "<user or group id>"}]
  Groups named in "groups" that do not exist are created. Memberships are added, never removed.

CSV: a header row naming the columns (any order, case-insensitive), then one user per row:
${csvColumns()}

Passwords (a "password" attribute or column) are hashed with argon2id like the API does: about 30-60 ms
of CPU per row, in parallel on all cores. Rows without a password cost microseconds.

Exit status: 0 every row stored, 3 some rows or memberships rejected (see the summary), 2 bad usage or
an unreadable file/header, 1 other failure (batches written before it are kept).
`,
  export: () => `Usage: scimd export [--out FILE] [options]

Writes every user, then every group of the database (DATABASE_URL / --database-url: a SQLite file or
postgres://…), as JSON Lines (the format "scimd import" reads) to standard output or to FILE. Each line holds the resource's id and attributes (never passwords) and "groups": the groups it is
a direct member of, as {"value": id, "display": displayName}. Importing the file into an empty database
(of either kind) recreates the same ids, attributes and memberships.
`,
  token: () => `Usage: scimd token [--sub S] [--scope 'a b'] [--ttl 1h] [--aud A] [--iss I] [--secret S] [options]

Prints a signed test JWT (ES256 with the local key kept in the database, or HS256 with --secret /
SCIMD_JWT_SECRET). See "Authentication" in the README.
`,
}
