/** A plain HTTP GET without keep-alive, and the counters test/helpers/slow-server.ts keeps. */
import { request } from 'node:http'

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
