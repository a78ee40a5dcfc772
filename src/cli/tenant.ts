/**
 * `scimd tenant add|list|rm|rotate`: manages tenants straight in the database (DATABASE_URL / --database-url), also
 * while `scimd serve` uses the same file; the same functions as the admin API (src/tenants/service.ts).
 */
import type { Config } from '../config'
import { closeDatabase, openDatabase } from '../db/client'
import { runMigrations } from '../db/migrate'
import { ScimError } from '../scim/errors'
import { createTenant, listTenantViews, removeTenant, rotateTenant, type TenantCredentials } from '../tenants/service'

export interface TenantIo {
  out: (s: string) => void
  err: (s: string) => void
}

export const TENANT_HELP = `Usage: scimd tenant add ID [--tenant-profile okta|entra|strict] [--tenant-basic-user NAME] [options]
       scimd tenant list [--json] [options]
       scimd tenant rotate ID [options]
       scimd tenant rm ID --yes [options]

Manages the tenants of the database (DATABASE_URL / --database-url). A tenant's SCIM endpoints are at
/t/ID/scim/v2 (SCIMD_BASE_PATH after /t/ID); it has its own users and groups and its own credentials.

  add ID        create the tenant and print its credentials (a bearer token, and a Basic password with
                --tenant-basic-user): they are shown only this once (scimd keeps SHA-256 digests)
  list          the tenants with their profile, auth modes and user/group counts (--json: one per line)
  rotate ID     new credentials (printed once); the old ones stop working at once
  rm ID --yes   delete the tenant with all its users, groups, memberships and history

Exit status: 0 ok, 1 failure (unknown or existing tenant), 2 bad usage.
`

function printCredentials(io: TenantIo, id: string, c: TenantCredentials, basePath: string) {
  io.out(`tenant ${id}: base path /t/${id}${basePath}\n`)
  io.out(`  bearer token:   ${c.token}\n`)
  if (c.basic) io.out(`  basic user:     ${c.basic.user}\n  basic password: ${c.basic.password}\n`)
  io.out('  (shown only now: scimd stores digests)\n')
}

export function tenantMain(config: Config, args: string[], io: TenantIo): number {
  const [sub, ...rest] = args
  const flag = (name: string) => {
    const i = rest.findIndex((a) => a === name || a.startsWith(name + '='))
    if (i < 0) return undefined
    const a = rest[i]
    const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[i + 1]
    rest.splice(i, a.includes('=') ? 1 : 2)
    return v
  }
  const has = (name: string) => {
    const i = rest.indexOf(name)
    if (i >= 0) rest.splice(i, 1)
    return i >= 0
  }
  const usage = (msg: string) => {
    io.err(`scimd tenant: ${msg}\n\n${TENANT_HELP}`)
    return 2
  }
  if (!sub || !['add', 'list', 'ls', 'rm', 'remove', 'rotate'].includes(sub)) return usage(sub ? `unknown subcommand '${sub}'` : 'a subcommand is required')
  const profile = flag('--tenant-profile')
  const basicUser = flag('--tenant-basic-user')
  const json = has('--json')
  const yes = has('--yes')
  const [id, ...extra] = rest
  if (extra.length) return usage(`unexpected argument '${extra[0]}'`)
  if (sub !== 'list' && sub !== 'ls' && !id) return usage(`${sub} needs a tenant id`)
  if ((sub === 'rm' || sub === 'remove') && !yes) return usage(`rm deletes all of tenant '${id}'s data: add --yes`)

  const db = openDatabase(config.databaseUrl, { cacheSizeKiB: config.sqliteCacheKiB, mmapSize: config.sqliteMmap })
  try {
    runMigrations(db)
    switch (sub) {
      case 'add': {
        const made = createTenant(db, { id, profile: profile ?? null, ...(basicUser ? { basicUser } : {}) })
        printCredentials(io, id, made.credentials, config.basePath)
        return 0
      }
      case 'rotate': {
        const r = rotateTenant(db, id)
        printCredentials(io, id, r.credentials, config.basePath)
        return 0
      }
      case 'rm':
      case 'remove': {
        const r = removeTenant(db, id)
        io.out(`tenant ${id} deleted (${r.users} users, ${r.groups} groups)\n`)
        return 0
      }
      default: {
        const all = listTenantViews(db)
        if (json) for (const t of all) io.out(JSON.stringify(t) + '\n')
        else if (all.length === 0) io.out('no tenants (the default tenant is at ' + (config.basePath || '/') + ')\n')
        else
          for (const t of all)
            io.out(`${t.id.padEnd(24)} profile=${t.profile ?? '(server)'} auth=${t.auth.join(',')} users=${t.users} groups=${t.groups} created=${t.created}\n`)
        return 0
      }
    }
  } catch (e) {
    if (e instanceof ScimError) {
      io.err(`scimd tenant: ${e.detail}\n`)
      return e.status === 400 ? 2 : 1
    }
    throw e
  } finally {
    closeDatabase(db)
  }
}
