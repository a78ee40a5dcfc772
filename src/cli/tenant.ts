/**
 * `scimd tenant add|list|rm|rotate`: manages tenants straight in the database (DATABASE_URL / --database-url), also
 * while `scimd serve` uses the same file; the same functions as the admin API (src/tenants/service.ts).
 */
import type { Config } from '../config'
import { openStoreFor } from '../server'
import { ScimError } from '../scim/errors'
import { createTenant, listTenantViews, removeTenant, rotateTenant, updateTenant, type TenantCredentials, type TenantView } from '../tenants/service'
import { mergeTenantAuth, TENANT_AUTH_FLAGS } from '../tenants/auth'

export interface TenantIo {
  out: (s: string) => void
  err: (s: string) => void
}

export const TENANT_HELP = `Usage: scimd tenant add ID [--tenant-profile okta|entra|strict] [--tenant-basic-user NAME] [OAUTH] [options]
       scimd tenant update ID [--tenant-profile P|''] [--clear-auth] [OAUTH] [options]
       scimd tenant list [--json] [options]
       scimd tenant rotate ID [options]
       scimd tenant rm ID --yes [options]

Manages the tenants of the database (DATABASE_URL / --database-url). A tenant's SCIM endpoints are at
/t/ID/scim/v2 (SCIMD_BASE_PATH after /t/ID); it has its own users and groups and its own credentials.

  add ID        create the tenant and print its credentials (a bearer token, and a Basic password with
                --tenant-basic-user): they are shown only this once (scimd keeps SHA-256 digests)
  list          the tenants with their profile, auth modes and user/group counts (--json: one per line)
  update ID     change the profile ('' = the server's) or the OAuth settings: a flag with a value sets it,
                an empty value (--jwt-issuer=) removes it, --clear-auth removes them all first
  rotate ID     new credentials (printed once); the old ones stop working at once
  rm ID --yes   delete the tenant with all its users, groups, memberships and history

OAUTH: the tenant also accepts OAuth tokens, with the names of the server's own flags (see scimd --help):
  --jwt-jwks-url URL  --jwt-public-key PEM|JWK|@file  --jwt-secret S  --jwt-issuer I[,I]  --jwt-audience A[,A]
  --jwt-algorithms ALG[,ALG]  --required-scopes 'S S'  --introspection-url URL
  --introspection-client-id ID  --introspection-client-secret S
Secrets are kept in the database (they are needed to verify) and never printed again ("set").

Exit status: 0 ok, 1 failure (unknown or existing tenant), 2 bad usage.
`

function printAuth(io: TenantIo, t: TenantView) {
  io.out(`  auth modes:     ${t.auth.join(', ')}\n`)
  if (t.authSettings) for (const [k, v] of Object.entries(t.authSettings)) io.out(`  ${(k + ':').padEnd(16)}${Array.isArray(v) ? v.join(',') : String(v).split('\n')[0]}\n`)
}

function printCredentials(io: TenantIo, id: string, c: TenantCredentials, basePath: string) {
  io.out(`tenant ${id}: base path /t/${id}${basePath}\n`)
  io.out(`  bearer token:   ${c.token}\n`)
  if (c.basic) io.out(`  basic user:     ${c.basic.user}\n  basic password: ${c.basic.password}\n`)
  io.out('  (shown only now: scimd stores digests)\n')
}

/**
 * Takes the OAuth flags (--jwt-jwks-url …: the server's own names) out of the command line before the server
 * configuration is read from it, so that they set the tenant's settings and not the server's.
 */
export function splitTenantAuthArgs(argv: string[]): { own: string[]; others: string[] } {
  const own: string[] = []
  const others: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const f = TENANT_AUTH_FLAGS.find(([name]) => a === name || a.startsWith(name + '='))
    if (!f) others.push(a)
    else if (a.includes('=') || i + 1 >= argv.length) own.push(a)
    else own.push(a, argv[++i])
  }
  return { own, others }
}

export async function tenantMain(config: Config, args: string[], io: TenantIo): Promise<number> {
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
  if (!sub || !['add', 'update', 'list', 'ls', 'rm', 'remove', 'rotate'].includes(sub)) return usage(sub ? `unknown subcommand '${sub}'` : 'a subcommand is required')
  const profile = flag('--tenant-profile')
  const basicUser = flag('--tenant-basic-user')
  const auth: Record<string, string> = {}
  for (const [name, key] of TENANT_AUTH_FLAGS) {
    const present = rest.some((a) => a === name || a.startsWith(name + '='))
    const v = flag(name)
    if (v !== undefined) auth[key] = v
    else if (present) return usage(`${name} needs a value`)
  }
  const clearAuth = has('--clear-auth')
  if (sub !== 'add' && sub !== 'update' && (Object.keys(auth).length || clearAuth)) return usage(`OAuth settings are for add and update, not ${sub}`)
  const json = has('--json')
  const yes = has('--yes')
  const [id, ...extra] = rest
  if (extra.length) return usage(`unexpected argument '${extra[0]}'`)
  if (sub !== 'list' && sub !== 'ls' && !id) return usage(`${sub} needs a tenant id`)
  if ((sub === 'rm' || sub === 'remove') && !yes) return usage(`rm deletes all of tenant '${id}'s data: add --yes`)

  const { store, close } = await openStoreFor(config)
  try {
    switch (sub) {
      case 'add': {
        const made = await createTenant(store, { id, profile: profile ?? null, ...(basicUser ? { basicUser } : {}), ...(Object.keys(auth).length ? { auth } : {}) }, new Date(), { files: true })
        printCredentials(io, id, made.credentials, config.basePath)
        printAuth(io, made.tenant)
        return 0
      }
      case 'update': {
        if (profile === undefined && !clearAuth && !Object.keys(auth).length) return usage('update needs --tenant-profile, --clear-auth or an OAuth flag')
        if (clearAuth) {
          mergeTenantAuth(auth, null, { files: true }) // the new settings are checked before the old ones go
          await updateTenant(store, id, { auth: null })
        }
        const r = await updateTenant(store, id, { ...(profile !== undefined ? { profile: profile || null } : {}), ...(Object.keys(auth).length ? { auth } : {}) }, { files: true })
        io.out(`tenant ${id} updated: profile=${r.tenant.profile ?? '(server)'}\n`)
        printAuth(io, r.tenant)
        return 0
      }
      case 'rotate': {
        const r = await rotateTenant(store, id)
        printCredentials(io, id, r.credentials, config.basePath)
        return 0
      }
      case 'rm':
      case 'remove': {
        const r = await removeTenant(store, id)
        io.out(`tenant ${id} deleted (${r.users} users, ${r.groups} groups)\n`)
        return 0
      }
      default: {
        const all = await listTenantViews(store)
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
    await close()
  }
}
