/**
 * Ports free on 127.0.0.1 now (the kernel picks them; another process may take one before the
 * test binds it). `freePorts(n)` holds all n at once, so they differ.
 */
import { createServer, type AddressInfo, type Server } from 'node:net'

export async function freePorts (n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, async () => await new Promise<Server>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { resolve(s) })
  })))
  const ports = servers.map(s => (s.address() as AddressInfo).port)
  await Promise.all(servers.map(async s => { await new Promise(resolve => { s.close(resolve) }) }))
  return ports
}

export async function freePort (): Promise<number> {
  return (await freePorts(1))[0] as number
}
