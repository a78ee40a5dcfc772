#!/usr/bin/env bun
/**
 * `bun run release`: cross-compiles dist/scimd-<os>-<arch>[.exe] for every supported platform with the same flags as
 * `bun run build` (package.json) plus `--target bun-<os>-<arch>`, and writes dist/SHA256SUMS (sha256sum format:
 * `sha256sum -c SHA256SUMS` checks it).
 *
 * A cross `--target` build normally downloads the target's Bun runtime from GitHub. Instead this script takes the
 * runtime from the npm registry, where Bun publishes one package per platform (@oven/bun-<os>-<arch>, the same
 * version as the Bun in package.json's engines), fetched with `npm pack` (which checks the registry's integrity
 * hash) into node_modules/.cache/scimd-release/ and handed to `bun build --compile-executable-path`. The host's own
 * target uses the running bun. Nothing is added to package.json's dependencies.
 *
 * Usage: bun run release [--only linux-x64,darwin-arm64] [--out dist]
 */
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import pkg from '../package.json'

const ROOT = resolve(import.meta.dir, '..')
const BUN_VERSION: string = pkg.engines.bun

export interface Target {
  /** e.g. linux-x64: the suffix of the file name and of `--target bun-…` */
  name: string
  /** the npm package holding that platform's bun executable */
  npm: string
  exe: string
}

export const TARGETS: Target[] = [
  { name: 'linux-x64', npm: '@oven/bun-linux-x64', exe: 'bin/bun' },
  { name: 'linux-arm64', npm: '@oven/bun-linux-aarch64', exe: 'bin/bun' },
  { name: 'darwin-x64', npm: '@oven/bun-darwin-x64', exe: 'bin/bun' },
  { name: 'darwin-arm64', npm: '@oven/bun-darwin-aarch64', exe: 'bin/bun' },
  { name: 'windows-x64', npm: '@oven/bun-windows-x64', exe: 'bin/bun.exe' },
]

const hostTarget = () => `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`

function run(cmd: string[], cwd = ROOT): string {
  const r = Bun.spawnSync(cmd, { cwd, stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed (${r.exitCode}):\n${r.stderr.toString()}${r.stdout.toString()}`)
  return r.stdout.toString()
}

/** The bun executable for a target: the running bun for the host, else the npm package, fetched once. */
async function runtimeFor(t: Target): Promise<string | undefined> {
  if (t.name === hostTarget() && Bun.version === BUN_VERSION) return undefined
  const dir = join(ROOT, 'node_modules', '.cache', 'scimd-release', `bun-${BUN_VERSION}`, t.name)
  const exe = join(dir, 'package', t.exe)
  if (existsSync(exe)) return exe
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const spec = `${t.npm}@${BUN_VERSION}`
  process.stderr.write(`fetching ${spec} from the npm registry\n`)
  const proc = Bun.spawn(['npm', 'pack', spec, '--silent', '--pack-destination', dir], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text(), await proc.exited]
  if (code !== 0) throw new Error(`npm pack ${spec} failed:\n${err}`)
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz')) ?? out.trim()
  run(['tar', 'xzf', tgz], dir)
  rmSync(join(dir, tgz))
  if (!existsSync(exe)) throw new Error(`${spec} has no ${t.exe}`)
  chmodSync(exe, 0o755)
  return exe
}

/** package.json's build command, split into argv, minus its --outfile. */
export function buildArgs(): string[] {
  const parts = pkg.scripts.build.trim().split(/\s+/)
  const i = parts.indexOf('--outfile')
  if (i < 0) throw new Error('package.json build script has no --outfile')
  parts.splice(i, 2)
  return parts
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

async function main(argv: string[]) {
  let only: string[] | undefined
  let outDir = join(ROOT, 'dist')
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') only = argv[++i]?.split(',')
    else if (argv[i] === '--out') outDir = resolve(argv[++i] ?? 'dist')
    else throw new Error(`unknown argument ${argv[i]} (usage: bun run release [--only linux-x64,…] [--out dist])`)
  }
  if (Bun.version !== BUN_VERSION) process.stderr.write(`warning: building with bun ${Bun.version}, package.json pins ${BUN_VERSION}\n`)
  const targets = only ? TARGETS.filter((t) => only!.includes(t.name)) : TARGETS
  if (only && targets.length !== only.length) throw new Error(`unknown target in --only (known: ${TARGETS.map((t) => t.name).join(', ')})`)
  mkdirSync(outDir, { recursive: true })
  // downloads in parallel, builds one at a time (each build uses all cores)
  const runtimes = await Promise.all(targets.map(runtimeFor))
  const files: string[] = []
  for (const [i, t] of targets.entries()) {
    const out = join(outDir, `scimd-${t.name}${t.name.startsWith('windows') ? '.exe' : ''}`)
    const cmd = [process.execPath, ...buildArgs().slice(1), `--target=bun-${t.name}`, '--outfile', out]
    if (runtimes[i]) cmd.push(`--compile-executable-path=${runtimes[i]}`)
    const started = performance.now()
    run(cmd)
    files.push(out)
    const mb = (Bun.file(out).size / 1e6).toFixed(1)
    process.stderr.write(`built ${basename(out)} (${mb} MB, ${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
  }
  const sums = files.map((f) => `${sha256File(f)}  ${basename(f)}\n`).join('')
  writeFileSync(join(outDir, 'SHA256SUMS'), sums)
  process.stdout.write(sums)
}

if (import.meta.main) {
  try {
    await main(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`release: ${(e as Error).message}\n`)
    process.exit(1)
  }
}
