/**
 * The tenant of the request being handled. The tenant router (router.ts) runs each /t/{tenant}/… request inside
 * `tenantScope.run(scope, …)`; everything below it — the services (through the ServiceDeps getters in app.ts), the
 * auth resolve, discovery, the toolkit (chaos rules, inspector tag) — reads the scope from here. Outside a scope
 * (the default tenant, /admin, the CLI) the default tenant applies. AsyncLocalStorage keeps the scope across the
 * awaits of one request and apart from concurrent ones.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Authenticator } from '../auth'
import type { Profile } from '../scim-options'

export const DEFAULT_TENANT = 'default'

export interface TenantScope {
  /** the tenant id ('default' never appears here: the default tenant has no scope) */
  tenant: string
  /** the path prefix in front of the base path: '/t/acme' */
  prefix: string
  /** the tenant's profile override (null: the server's) */
  profile?: Profile
  /** the tenant's credentials */
  auth: Authenticator
  /** the request as the client sent it (before the prefix was taken off) */
  original: Request
}

export const tenantScope = new AsyncLocalStorage<TenantScope>()

export const currentTenant = (): string => tenantScope.getStore()?.tenant ?? DEFAULT_TENANT

/** Tenant ids: lower-case letters, digits and '-', 1–63 characters, starting with a letter or digit. */
export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/
