/** Runs the real `bin/tslb` as users do, capturing its output. */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export const TSLB = join(import.meta.dirname, '../../bin/tslb')

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export async function tslb (args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return await new Promise(resolve => {
    execFile(TSLB, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

/** Starts `tslb run` in the background; resolves once `readyPattern` appears in its output. */
export async function startTslb (args: string[], readyPattern: RegExp, env: Record<string, string> = {}): Promise<{ child: ChildProcess, output: () => string }> {
  const child = spawn(TSLB, args, { env: { ...process.env, TSLB_LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (b: Buffer) => { output += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { output += b.toString() })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`tslb did not get ready in 15 s:\n${output}`)) }, 15_000)
    const check = (): void => {
      if (readyPattern.test(output)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
    child.on('exit', code => {
      clearTimeout(timer)
      reject(new Error(`tslb exited with ${code ?? 'a signal'} before getting ready:\n${output}`))
    })
  })
  return { child, output: () => output }
}

export async function waitExit (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  return await new Promise(resolve => { child.once('exit', code => { resolve(code) }) })
}
