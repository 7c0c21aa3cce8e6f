/** A plain HTTP GET without keep-alive, a raw request/answer exchange, and test/helpers/slow-server.ts in lab nodes: starting it, reading its counters. */
import type { ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { Lab, LabNode } from './lab.ts'

export async function get (host: string, port: number, path: string, timeoutMs = 20_000): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: timeoutMs }, res => {
      let body = ''
      res.on('data', (b: Buffer) => { body += b.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('timeout', () => { req.destroy(new Error('timeout')) })
    req.on('error', reject)
    req.end()
  })
}

/** The slow server's counters: most requests at once, total, in service now. */
export async function slowServerStats (host: string, port = 8000): Promise<{ max: number, total: number, current: number }> {
  return JSON.parse((await get(host, port, '/stats')).body) as { max: number, total: number, current: number }
}

const SLOW_SERVER = join(import.meta.dirname, 'slow-server.ts')

/** test/helpers/slow-server.ts in `node`, answering after `delayMs` (name: what its answers say); resolves once it listens. */
export async function startSlowServer (lab: Lab, node: LabNode, port: number, delayMs: number, name: string = node): Promise<ChildProcess> {
  const child = lab.spawn(node, [process.execPath, SLOW_SERVER, String(port), String(delayMs), name], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>(resolve => { child.stdout?.once('data', () => { resolve() }) })
  return child
}

/** One slow server on port 8000 of each node, named after it. */
export async function startSlowServers (lab: Lab, nodes: readonly LabNode[], delayMs: number): Promise<ChildProcess[]> {
  return await Promise.all(nodes.map(async node => await startSlowServer(lab, node, 8000, delayMs)))
}

/** Writes `request` on a fresh TCP connection and returns everything read until the peer closes. */
export async function rawExchange (port: number, request: string, host = '127.0.0.1'): Promise<string> {
  const sock = connect({ host, port })
  let text = ''
  sock.setEncoding('utf8')
  sock.on('data', (d: string) => { text += d })
  sock.write(request)
  await new Promise<void>(resolve => {
    sock.on('close', () => { resolve() })
    sock.on('error', () => { resolve() })
  })
  return text
}
