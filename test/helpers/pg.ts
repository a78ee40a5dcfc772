/**
 * A throwaway PostgreSQL for the tests: one cluster per test process, started on first use, gone at exit.
 *
 * - SCIMD_TEST_PG_URL=postgres://user@host:port/db: use that server instead (the user needs CREATEDB).
 * - Otherwise the newest /usr/lib/postgresql/<v>/bin/initdb (Debian's `postgresql` package; `.ci/pg-install`)
 *   creates a cluster in a mkdtemp folder (trust auth, user `scimd`, fsync off), listening on 127.0.0.1 at a
 *   free port and on a unix socket inside that folder only. Running as root (CI containers), the server runs as
 *   the `postgres` system user through runuser (initdb refuses root).
 * - The cluster's default collation is ICU `en-US` (LC_CTYPE C): a server whose default ordering is not
 *   code-point order and whose lower() folds non-ASCII letters, as on most managed databases, so the tests
 *   prove that scimd's SQL names its collation ("C") and its ASCII folding explicitly. Without ICU it falls back
 *   to the C locale.
 * - Policy (SCIMD_TEST_PG): unset → when no binaries are found pgUrl() resolves to undefined and the callers
 *   skip with a visible message (a fresh machine has no PostgreSQL); `required` → not being able to start is an
 *   error (CI); `off` → always skip. Binaries that are present but fail to start are an error either way.
 *
 * The cluster goes when the test process ends (a detached watchdog; `bun test` runs no 'exit' listeners). Should
 * that fail, clusters of test processes that no longer exist are stopped and removed on the next start: each
 * folder names its owner's pid.
 */
import { spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQL } from 'bun'

const PREFIX = 'scimd-pg-'
const USER = 'scimd'

interface Cluster {
  url: string
  dir?: string
  bin?: string
  runAs?: string[]
  /** the pg_ctl start command that started it (same port), for privateCluster().start() */
  startCmd?: string[]
}

let cluster: Promise<Cluster | undefined> | undefined
/** Milliseconds the local cluster took to start (initdb + pg_ctl start), for reports. */
export let pgStartMs: number | undefined

/** The server's URL (database `postgres`), starting the local cluster on first call; undefined → skip. */
export async function pgUrl(): Promise<string | undefined> {
  return (await (cluster ??= start()))?.url
}

/** The reason pgUrl() is undefined, for describe.skipIf messages. */
export const PG_SKIP_MESSAGE =
  'PostgreSQL tests skipped: no /usr/lib/postgresql/*/bin/initdb (run .ci/pg-install, or set SCIMD_TEST_PG_URL), or SCIMD_TEST_PG=off; SCIMD_TEST_PG=required makes a missing PostgreSQL an error'

/**
 * A new database (t_<random>) on the test server; its postgres:// URL. Empty, or a copy of `template` (the URL of
 * another database of the server: CREATE DATABASE … TEMPLATE, tens of ms instead of a migration).
 */
export async function freshDatabase(opts: { template?: string } = {}): Promise<string> {
  const url = await pgUrl()
  if (!url) throw new Error(PG_SKIP_MESSAGE)
  const name = `t_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  const template = opts.template ? ` template ${new URL(opts.template).pathname.slice(1)}` : ''
  const admin = new SQL(url, { max: 1 })
  try {
    await admin.unsafe(`create database ${name}${template}`)
  } finally {
    await admin.close()
  }
  return withDatabase(url, name)
}

/** Drops a database made by freshDatabase (open connections to it are closed first). */
export async function dropDatabase(dbUrl: string): Promise<void> {
  const url = await pgUrl()
  if (!url) return
  const name = new URL(dbUrl).pathname.slice(1)
  if (!/^t_[0-9a-f]{16}$/.test(name)) throw new Error(`not a test database: ${name}`)
  const admin = new SQL(url, { max: 1 })
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
  } finally {
    await admin.close()
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

// ── a cluster of one's own ───────────────────────────────────────────────────────────────────────────────────

/** A throwaway cluster that one test file may stop and start (outage tests); gone at process exit like the shared one. */
export interface PrivateCluster {
  /** postgres://…/postgres on a fixed loopback port (the same after stop/start) */
  url: string
  /** pg_ctl stop -m fast: connections are terminated, new ones refused */
  stop(): void
  /** pg_ctl start on the same port and data */
  start(): void
  /** stops the server and removes its folder */
  close(): void
}

/** How a private cluster runs: `durable` keeps PostgreSQL's defaults (fsync, synchronous_commit, full_page_writes on). */
export interface ClusterOptions {
  durable?: boolean
}

/**
 * Starts a private local cluster (initdb + pg_ctl, ~1 s), or resolves to undefined where pgUrl() would skip. With
 * SCIMD_TEST_PG_URL alone (no local binaries) there is no server this process may stop: undefined too. Tests run
 * it with fsync off like the shared one; the benchmark (test/bench/run.ts) asks for a `durable` one.
 */
export async function privateCluster(opts: ClusterOptions = {}): Promise<PrivateCluster | undefined> {
  const policy = process.env.SCIMD_TEST_PG
  if (policy === 'off') return undefined
  const bin = findBin()
  if (!bin) {
    if (policy === 'required' && !process.env.SCIMD_TEST_PG_URL)
      throw new Error('SCIMD_TEST_PG=required but no /usr/lib/postgresql/*/bin/initdb was found (run .ci/pg-install)')
    return undefined
  }
  const c = await startCluster(bin, opts)
  const data = join(c.dir!, 'data')
  return {
    url: c.url,
    stop: () => void run([...(c.runAs ?? []), join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop'], 'pg_ctl stop'),
    start: () => void run(c.startCmd!, 'pg_ctl start'),
    close: () => stopCluster(c),
  }
}

// ── the local cluster ──────────────────────────────────────────────────────────────────────────────────────

async function start(): Promise<Cluster | undefined> {
  const external = process.env.SCIMD_TEST_PG_URL
  if (external) return { url: external }
  const policy = process.env.SCIMD_TEST_PG
  if (policy === 'off') return undefined
  const bin = findBin()
  if (!bin) {
    if (policy === 'required') throw new Error('SCIMD_TEST_PG=required but no /usr/lib/postgresql/*/bin/initdb was found (run .ci/pg-install)')
    return undefined
  }
  reapOrphans()
  try {
    return await startCluster(bin)
  } catch (e) {
    throw new Error(`could not start a throwaway PostgreSQL from ${bin}: ${(e as Error).message}`)
  }
}

/** The newest installed PostgreSQL's bin folder, if any. */
function findBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a))
  return versions.length ? join(root, versions[0], 'bin') : undefined
}

/** initdb refuses root: run the server as `postgres` then. */
function runAsPrefix(): string[] {
  if (process.getuid?.() !== 0) return []
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error('running as root and there is no `postgres` user to run the server as')
  return ['runuser', '-u', 'postgres', '--']
}

function run(cmd: string[], what: string): string {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error ?? '')).trim().slice(-2000)}`)
  return r.stdout
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function startCluster(bin: string, options: ClusterOptions = {}): Promise<Cluster> {
  const t0 = performance.now()
  const runAs = runAsPrefix()
  const dir = mkdtempSync(join(tmpdir(), PREFIX))
  writeFileSync(join(dir, 'owner.pid'), String(process.pid))
  const c: Cluster = { url: '', dir, bin, runAs }
  // From here on the folder (and the server, once started) goes when this process ends, however it ends:
  // `bun test` runs no process.on('exit') listeners (oven-sh/bun#8434), so a detached watchdog waits for this pid
  // to disappear, then stops the server and removes the folder. The 'exit' listener serves `bun script.ts`.
  startWatchdog(c)
  process.on('exit', () => stopCluster(c))
  if (runAs.length) {
    const uid = Number(run(['id', '-u', 'postgres'], 'id').trim())
    const gid = Number(run(['id', '-g', 'postgres'], 'id').trim())
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  const initdb = [...runAs, join(bin, 'initdb'), '-D', data, '-U', USER, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']
  try {
    run([...initdb, '--locale=C', '--locale-provider=icu', '--icu-locale=en-US'], 'initdb')
  } catch {
    rmSync(data, { recursive: true, force: true })
    run([...initdb, '--locale=C'], 'initdb')
  }
  // tests: no fsync (throwaway data, speed); durable: PostgreSQL's defaults, every commit flushed to disk
  const opts = options.durable
    ? `-k ${dir} -h 127.0.0.1 -c max_connections=200`
    : `-k ${dir} -h 127.0.0.1 -F -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    try {
      const startCmd = [...runAs, join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', `${opts} -p ${port}`, 'start']
      run(startCmd, 'pg_ctl start')
      c.startCmd = startCmd
      c.url = `postgres://${USER}@127.0.0.1:${port}/postgres`
      pgStartMs = performance.now() - t0
      return c
    } catch (e) {
      lastError = e // most likely the port was taken between freePort() and the server binding it
    }
  }
  let log = ''
  try {
    log = readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000)
  } catch {}
  throw new Error(`${(lastError as Error).message}\n${log}`)
}

const WATCHDOG = `pid=$1; dir=$2; shift 2
while kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
if [ -f "$dir/data/postmaster.pid" ]; then "$@" >/dev/null 2>&1; fi
rm -rf "$dir"`

function startWatchdog(c: Cluster): void {
  const stop = [...(c.runAs ?? []), join(c.bin!, 'pg_ctl'), '-D', join(c.dir!, 'data'), '-m', 'immediate', '-w', 'stop']
  const sh = ['sh', '-c', WATCHDOG, 'scimd-pg-watchdog', String(process.pid), c.dir!, ...stop]
  // its own session: a signal to this process group (Ctrl-C, a CI timeout) leaves it running to clean up
  const cmd = Bun.which('setsid') ? ['setsid', ...sh] : sh
  Bun.spawn(cmd, { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' }).unref()
}

function stopCluster(c: Cluster): void {
  if (!c.dir) return
  const data = join(c.dir, 'data')
  if (c.bin && existsSync(join(data, 'postmaster.pid'))) {
    const cmd = [...(c.runAs ?? []), join(c.bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']
    spawnSync(cmd[0], cmd.slice(1), { stdio: 'ignore' })
  }
  rmSync(c.dir, { recursive: true, force: true })
  c.dir = undefined
}

/** Stops and removes clusters left by test processes that no longer exist. */
function reapOrphans(): void {
  const bin = findBin()
  let runAs: string[] = []
  try {
    runAs = runAsPrefix()
  } catch {}
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue
    const dir = join(tmpdir(), name)
    let owner: number
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'))
    } catch {
      continue
    }
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || alive(owner)) continue
    stopCluster({ url: '', dir, bin, runAs })
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
