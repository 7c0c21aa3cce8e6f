/**
 * Runs one of the commands tslb owns (nft, tc) and collects its output; never rejects. The supervisor runs them at
 * every start (leftover reload rules), so this is plain child_process: execa (kept for VRRP scripts, loaded only when
 * one runs) would cost the supervisor about 7 MiB for the life of the process.
 */
import { spawn } from 'node:child_process'

export interface RunResult {
  /** undefined when the command could not be started or was killed by a signal. */
  readonly exitCode: number | undefined
  readonly stdout: string
  readonly stderr: string
  /** Why it failed, when it did: a spawn error, a signal or an exit status. */
  readonly message: string | undefined
}

export async function runTool (file: string, args: readonly string[],
  opts: { readonly input?: string, readonly env: Readonly<Record<string, string>> }): Promise<RunResult> {
  return await new Promise(resolve => {
    let stdout = ''
    let stderr = ''
    let spawnError: Error | undefined
    const child = spawn(file, args, { env: opts.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe',
      'pipe'] })
    child.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    child.on('error', err => { spawnError = err })
    if (opts.input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => {})
      child.stdin.end(opts.input)
    }
    child.on('close', (code, signal) => {
      const command = [file, ...args].join(' ')
      const message = spawnError !== undefined ? `${command}: ${spawnError.message}`
        : signal !== null ? `${command} was killed by ${signal}`
          : code !== 0 ? `${command} failed with exit code ${code ?? '?'}` : undefined
      resolve({ exitCode: spawnError === undefined ? code ?? undefined : undefined, stdout, stderr, message })
    })
  })
}
