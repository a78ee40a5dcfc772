/**
 * The migrations in drizzle/ are what drizzle-kit generates from the schemas (src/db/schema.ts, src/db/pg/schema.ts):
 * a schema change without its migration — or a migration file missing from meta/_journal.json, which the migrator
 * reads and so would never apply — fails here. drizzle-kit runs on a copy of drizzle/, so nothing is written to the
 * tree.
 */
import { describe, expect, test } from 'bun:test'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '..', '..')

for (const [dialect, schema, folder] of [
  ['sqlite', 'src/db/schema.ts', 'drizzle/sqlite'],
  ['postgresql', 'src/db/pg/schema.ts', 'drizzle/postgres'],
] as const) {
  describe(`migrations: ${folder}`, () => {
    test('every migration file is in the journal, in order', () => {
      const files = readdirSync(join(ROOT, folder))
        .filter((f) => f.endsWith('.sql'))
        .map((f) => f.replace(/\.sql$/, ''))
        .sort()
      const journal = JSON.parse(readFileSync(join(ROOT, folder, 'meta', '_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] }
      expect(journal.entries.map((e) => e.tag)).toEqual(files)
      expect(journal.entries.map((e) => e.idx)).toEqual(files.map((_, i) => i))
    })

    test('drizzle-kit finds no schema change left to migrate', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'scimd-migrations-'))
      try {
        cpSync(join(ROOT, folder), join(dir, 'out'), { recursive: true })
        const config = join(dir, 'drizzle.config.ts')
        await Bun.write(config, `export default { dialect: '${dialect}', schema: '${join(ROOT, schema)}', out: './out' }\n`)
        const p = Bun.spawnSync([join(ROOT, 'node_modules', '.bin', 'drizzle-kit'), 'generate', '--config', config], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
        const out = p.stdout.toString() + p.stderr.toString()
        expect(out).toContain('No schema changes')
        expect(readdirSync(join(dir, 'out')).filter((f) => f.endsWith('.sql')).length).toBe(readdirSync(join(ROOT, folder)).filter((f) => f.endsWith('.sql')).length)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }, 60_000)
  })
}
