/**
 * Server host names resolved once, when the configuration is loaded, as HAProxy 2.6 does at
 * start-up (`init-addr libc`): through the system resolver (getaddrinfo: /etc/hosts, then DNS per
 * nsswitch.conf). An IPv4 address is preferred when a name has both; a name that does not resolve
 * is a configuration error, as with `haproxy -c`. Names are not re-resolved at run time.
 */
import { lookup } from 'node:dns/promises'
import type { Diagnostic } from '../util/errors.ts'
import type { Config } from './model.ts'

export type Lookup = (name: string) => Promise<{ address: string, family: number }[]>

const systemLookup: Lookup = async name => await lookup(name, { all: true })

export async function resolveHostNames (config: Config, resolve: Lookup = systemLookup): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = []
  const cache = new Map<string, Promise<{ address: string, family: 4 | 6 } | undefined>>()
  const resolveOnce = async (name: string): Promise<{ address: string, family: 4 | 6 } | undefined> => {
    let p = cache.get(name)
    if (p === undefined) {
      p = resolve(name).then(list => {
        const best = list.find(a => a.family === 4) ?? list[0]
        return best === undefined ? undefined : { address: best.address,
          family: best.family === 6 ? 6 as const : 4 as const }
      }, () => undefined)
      cache.set(name, p)
    }
    return await p
  }
  for (const proxy of config.proxies) {
    for (let i = 0; i < proxy.servers.length; i++) {
      const s = proxy.servers[i]
      const name = s?.address.hostName
      if (s === undefined || name === undefined) continue
      const found = await resolveOnce(name)
      if (found === undefined) {
        diagnostics.push({ severity: 'error', file: s.loc.file, line: s.loc.line,
          message: `server '${s.name}': could not resolve address '${name}'` })
        continue
      }
      proxy.servers[i] = { ...s, address: { ...s.address, host: found.address, family: found.family } }
    }
  }
  return diagnostics
}
