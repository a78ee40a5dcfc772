import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULTS, type Config } from '../../src/config'
import { tenantMain } from '../../src/cli/tenant'
import { assemble } from '../../src/server'
import { silentLogger } from '../../src/log'

const dir = mkdtempSync(join(tmpdir(), 'scimd-tenant-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function run(config: Config, ...args: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await tenantMain(config, args, { out: (s) => void out.push(s), err: (s) => void err.push(s) })
  return { code, out: out.join(''), err: err.join('') }
}

describe('scimd tenant', () => {
  test('add, list, rotate, rm against the database a server uses', async () => {
    const config: Config = { ...DEFAULTS, databaseUrl: join(dir, 'db.sqlite'), bearerTokens: ['server-token-0123456789'] }
    const add = (await run(config, 'add', 'acme', '--tenant-profile', 'entra', '--tenant-basic-user', 'entra'))
    expect(add.code).toBe(0)
    const token = /bearer token:\s+(\S+)/.exec(add.out)![1]
    const password = /basic password:\s+(\S+)/.exec(add.out)![1]
    expect(add.out).toContain('/t/acme/scim/v2')
    expect((await run(config, 'add', 'acme')).code).toBe(1)
    expect((await run(config, 'add', 'Bad Id')).code).toBe(2)
    expect((await run(config, 'add')).code).toBe(2)

    const s = assemble(config, silentLogger)
    const get = (auth: string) => s.app.handle(new Request('http://localhost/t/acme/scim/v2/Users', { headers: { authorization: auth } }))
    expect((await get(`Bearer ${token}`)).status).toBe(200)
    expect((await get('Basic ' + Buffer.from(`entra:${password}`).toString('base64'))).status).toBe(200)

    const list = (await run(config, 'list'))
    expect(list.out).toContain('acme')
    expect(list.out).toContain('profile=entra')
    expect(list.out).not.toContain(token)
    expect(JSON.parse((await run(config, 'list', '--json')).out.trim())).toMatchObject({ id: 'acme', profile: 'entra', users: 0 })

    const rot = (await run(config, 'rotate', 'acme'))
    const token2 = /bearer token:\s+(\S+)/.exec(rot.out)![1]
    expect((await get(`Bearer ${token}`)).status).toBe(401)
    expect((await get(`Bearer ${token2}`)).status).toBe(200)

    expect((await run(config, 'rm', 'acme')).code).toBe(2) // needs --yes
    expect((await run(config, 'rm', 'acme', '--yes')).code).toBe(0)
    expect((await get(`Bearer ${token2}`)).status).toBe(404)
    expect((await run(config, 'rm', 'acme', '--yes')).code).toBe(1)
    s.app.toolkit.close()
  })
})
