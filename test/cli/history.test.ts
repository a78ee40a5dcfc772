/** `scimd history`: the change history printed from the database (in-process, and the real command line). */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTestApp, PATCH_URN, user } from '../helpers/app'
import { historyMain } from '../../src/cli/history'
import { closeDatabase } from '../../src/db/client'

const dir = mkdtempSync(join(tmpdir(), 'scimd-history-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), isTTY: false }, out, err }
}

test('prints the changes oldest first, filters, --json, and refuses bad arguments', async () => {
  const db = join(dir, 'h.sqlite')
  const t = makeTestApp({ databaseUrl: db })
  const c = await t.req('POST', '/Users', user('cli.bob', { password: 'Secret-Passw0rd-xyz' }))
  await t.req('PATCH', `/Users/${c.json.id}`, { schemas: [PATCH_URN], Operations: [{ op: 'replace', value: { active: false } }] })
  await t.req('POST', '/Users', user('cli.other'))
  closeDatabase(t.db)

  let cap = capture()
  expect(await historyMain(t.config, ['--since', '1h'], cap.io)).toBe(0)
  const lines = cap.out.join('').trim().split('\n')
  expect(lines.length).toBe(3)
  expect(lines[0]).toContain('create')
  expect(lines[0]).toContain(`User ${c.json.id} "cli.bob"`)
  expect(lines[1]).toContain('deactivated (active → false)')
  expect(lines[1]).toContain('by bearer:')
  expect(lines.join('\n')).not.toContain('Secret-Passw0rd-xyz')

  cap = capture()
  expect(await historyMain(t.config, [`--id=${c.json.id}`, '--op', 'patch', '--json'], cap.io)).toBe(0)
  const entries = cap.out.join('').trim().split('\n').map((l) => JSON.parse(l))
  expect(entries.map((e) => e.op)).toEqual(['patch'])
  expect(entries[0].before.active).toBeUndefined()
  expect(entries[0].after.active).toBe(false)

  cap = capture()
  expect(await historyMain(t.config, ['--until', '1h'], cap.io)).toBe(0)
  expect(cap.out.join('')).toBe('')
  expect(cap.err.join('')).toContain('no changes match')

  cap = capture()
  expect(await historyMain(t.config, ['--limit', '1'], cap.io)).toBe(0)
  expect(cap.out.join('')).toContain('cli.other') // the newest

  for (const bad of [['--since', 'soon'], ['--type', 'Role'], ['--op', 'rename'], ['--bogus'], ['--since']]) {
    cap = capture()
    expect(await historyMain(t.config, bad, cap.io)).toBe(2)
    expect(cap.err.join('')).toStartWith('scimd history: ')
  }
})

test('scimd history --help and a run of the real command line', async () => {
  const help = Bun.spawnSync(['bun', 'src/index.ts', 'history', '--help'], { cwd: join(import.meta.dir, '../..') })
  expect(help.exitCode).toBe(0)
  expect(help.stdout.toString()).toContain('Usage: scimd history')
  const run = Bun.spawnSync(['bun', 'src/index.ts', 'history', '--since', '2d', '--database-url', join(dir, 'h.sqlite')], {
    cwd: join(import.meta.dir, '../..'),
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCIMD_') && k !== 'DATABASE_URL')),
  })
  expect(run.stderr.toString()).toBe('')
  expect(run.exitCode).toBe(0)
  expect(run.stdout.toString().trim().split('\n').length).toBe(3)
})
