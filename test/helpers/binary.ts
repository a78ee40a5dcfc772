/** Builds the compiled binary once per test process (with package.json's own build command) and runs it. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pkg from '../../package.json'

const ROOT = resolve(import.meta.dir, '..', '..')
let built: string | undefined

export function buildBinary(): string {
  if (built) return built
  const out = join(mkdtempSync(join(tmpdir(), 'scimd-bin-')), 'scimd')
  const cmd = pkg.scripts.build.replace(/--outfile\s+\S+/, `--outfile ${out}`).split(/\s+/)
  const r = Bun.spawnSync(cmd, { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`build failed: ${r.stderr.toString()}`)
  built = out
  return out
}

export interface Running {
  proc: ReturnType<typeof Bun.spawn>
  port: number
  base: string
  output: () => string
  stop: (signal?: NodeJS.Signals) => Promise<number>
}

/**
 * A loopback port the system says is free right now (bound with port 0, then released), rather than a random guess
 * that may hit a test PostgreSQL cluster or another process's server.
 */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  return port
}

/** Starts the binary in `cwd` on a free loopback port (or env.PORT) and waits for /healthz. */
export async function startBinary(bin: string, cwd: string, env: Record<string, string> = {}, args: string[] = []): Promise<Running> {
  const port = env.PORT ? Number(env.PORT) : freePort()
  let out = ''
  const proc = Bun.spawn([bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const reader = s.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      out += new TextDecoder().decode(value)
    }
  }
  void drain(proc.stdout as ReadableStream<Uint8Array>)
  void drain(proc.stderr as ReadableStream<Uint8Array>)
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`)
      if (r.ok) break
    } catch {}
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`binary did not start: ${out}`)
    await Bun.sleep(50)
  }
  return {
    proc,
    port,
    base: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      proc.kill(signal)
      return await proc.exited
    },
  }
}
