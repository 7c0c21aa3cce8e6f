/**
 * rtnetlink through the `netlink` package: interfaces (index, MAC, up/running), addresses
 * (list, add with label/broadcast/scope, delete) and link notifications (RTNLGRP_LINK), which
 * drive `track_interface`. Loaded lazily: only a running VRRP speaker needs it.
 */
import type { RtNetlinkSocket, rt } from 'netlink'
import { formatIp, ipBytes } from './addr.ts'
import { NetlinkError } from './errors.ts'

export interface LinkInfo {
  readonly index: number
  readonly name: string
  /** Hardware address, lower-case colon form; undefined for links without one. */
  readonly mac: string | undefined
  /** IFF_UP and IFF_RUNNING (keepalived's IF_ISUP). */
  readonly up: boolean
}

export interface InterfaceAddress {
  readonly family: 4 | 6
  readonly address: string
  readonly prefixLength: number
  readonly index: number
  readonly secondary: boolean
  readonly label: string | undefined
  /** RT_SCOPE_*: 0 universe, 253 link, 254 host. */
  readonly scope: number
}

export interface AddressSpec {
  readonly family: 4 | 6
  readonly address: string
  readonly prefixLength: number
  readonly index: number
  readonly label?: string
  readonly broadcast?: string
  /** RT_SCOPE_* number. */
  readonly scope?: number
}

const NLM_F_EXCL = 0x200
const NLM_F_CREATE = 0x400
const AF_INET = 2
const AF_INET6 = 10
const REQUEST_TIMEOUT_MS = 5000

/** `ip addr` scope names. */
export function scopeNumber (name: string | undefined): number | undefined {
  if (name === undefined) return undefined
  const named: Readonly<Record<string, number>> = { global: 0, universe: 0, site: 200, link: 253, host: 254,
    nowhere: 255 }
  const n = named[name] ?? (/^\d+$/.test(name) ? Number(name) : undefined)
  return n !== undefined && n >= 0 && n <= 255 ? n : undefined
}

function errnoOf (err: unknown): string | undefined {
  const m = err instanceof Error ? /Request rejected: (E[A-Z0-9]+)/.exec(err.message) : null
  return m?.[1]
}

function linkInfo (m: rt.LinkMessage): LinkInfo | undefined {
  const index = m.data.index
  const name = m.attrs.ifname
  if (index === undefined || name === undefined) return undefined
  const mac = m.attrs.address === undefined || m.attrs.address.length === 0 ? undefined : [...m.attrs.address].map(b =>
    b.toString(16).padStart(2, '0')).join(':')
  const flags = m.data.flags ?? {}
  return { index, name, mac, up: flags.up === true && flags.running === true }
}

/**
 * One request socket (and, once watchLinks() is called, one notification socket). Requests are
 * serialized: the kernel runs one dump at a time per socket (a second one gets EBUSY), and the
 * `netlink` package does not queue them.
 */
export class Rtnl {
  #sock: RtNetlinkSocket
  #chain: Promise<unknown> = Promise.resolve()
  #events: RtNetlinkSocket | undefined
  readonly #create: () => RtNetlinkSocket

  private constructor (create: () => RtNetlinkSocket) {
    this.#create = create
    this.#sock = create()
  }

  static async open (): Promise<Rtnl> {
    try {
      const netlink = await import('netlink')
      return new Rtnl(() => netlink.createRtNetlink())
    } catch (err) {
      throw new NetlinkError(`cannot open an rtnetlink socket: ${err instanceof Error ? err.message : String(err)}`,
        undefined, { cause: err })
    }
  }

  async links (): Promise<LinkInfo[]> {
    const msgs = await this.#request('list links', async () => await this.#sock.getLinks(undefined, undefined,
      { timeout: REQUEST_TIMEOUT_MS }))
    return msgs.map(linkInfo).filter(l => l !== undefined)
  }

  async link (name: string): Promise<LinkInfo | undefined> {
    return (await this.links()).find(l => l.name === name)
  }

  async addresses (family?: 4 | 6): Promise<InterfaceAddress[]> {
    const msgs = await this.#request('list addresses', async () => await this.#sock.getAddresses(family === undefined ?
      undefined : { family: family === 4 ? AF_INET : AF_INET6 }, undefined, { timeout: REQUEST_TIMEOUT_MS }))
    const out: InterfaceAddress[] = []
    for (const m of msgs) {
      const fam = m.data.family === AF_INET ? 4 : m.data.family === AF_INET6 ? 6 : undefined
      const bytes = m.attrs.local ?? m.attrs.address
      if (fam === undefined || bytes === undefined || m.data.index === undefined) continue
      if (family !== undefined && fam !== family) continue
      out.push({
        family: fam,
        address: formatIp(new Uint8Array(bytes)),
        prefixLength: m.data.prefixlen ?? (fam === 4 ? 32 : 128),
        index: m.data.index,
        secondary: m.data.flags?.secondary === true || m.attrs.flags?.secondary === true,
        label: m.attrs.label,
        scope: m.data.scope ?? 0
      })
    }
    return out
  }

  /** Adds an address (NLM_F_CREATE|NLM_F_EXCL): 'exists' when it is already there. */
  async addAddress (a: AddressSpec): Promise<'added' | 'exists'> {
    const local = Buffer.from(ipBytes(a.address, a.family))
    const data: rt.Address = { family: a.family === 4 ? AF_INET : AF_INET6, prefixlen: a.prefixLength, index: a.index,
      scope: a.scope ?? 0 }
    // IPv6: no duplicate address detection (keepalived IFA_F_NODAD), so the VIP is usable at once.
    if (a.family === 6) data.flags = { nodad: true }
    const attrs: rt.AddressAttrs = { local }
    // IPv6 /128 (keepalived): preferred lifetime 0, so the VIP is never picked as a source address.
    if (a.family === 6 && a.prefixLength === 128) attrs.cacheInfo = { ifaPrefered: 0, ifaValid: 0xffffffff }
    if (a.family === 4) {
      attrs.address = local
      if (a.label !== undefined) attrs.label = a.label
      if (a.broadcast !== undefined) attrs.broadcast = Buffer.from(ipBytes(a.broadcast, 4))
    }
    try {
      await this.#serial(async () => await this.#sock.newAddress(data, attrs, { flags: NLM_F_CREATE | NLM_F_EXCL,
        timeout: REQUEST_TIMEOUT_MS }))
      return 'added'
    } catch (err) {
      const errno = errnoOf(err)
      if (errno === 'EEXIST') return 'exists'
      throw new NetlinkError(
        (`cannot add ${a.address}/${a.prefixLength} (ifindex ${a.index}): ` +
          `${errno ?? (err instanceof Error ? err.message : String(err))}`), errno, { cause: err })
    }
  }

  /** Removes an address: 'absent' when it was not there. */
  async delAddress (a: AddressSpec): Promise<'removed' | 'absent'> {
    const local = Buffer.from(ipBytes(a.address, a.family))
    const attrs: rt.AddressAttrs = a.family === 4 ? { local, address: local } : { local }
    try {
      await this.#serial(async () => await this.#sock.delAddress({ family: a.family === 4 ? AF_INET : AF_INET6,
        prefixlen: a.prefixLength, index: a.index }, attrs, { timeout: REQUEST_TIMEOUT_MS }))
      return 'removed'
    } catch (err) {
      const errno = errnoOf(err)
      if (errno === 'EADDRNOTAVAIL' || errno === 'ENODEV') return 'absent'
      throw new NetlinkError(
        (`cannot remove ${a.address}/${a.prefixLength} (ifindex ${a.index}): ` +
          `${errno ?? (err instanceof Error ? err.message : String(err))}`), errno, { cause: err })
    }
  }

  /**
   * Link notifications: `onChange` runs (at most once per 20 ms burst) after any link was added,
   * changed or removed; the caller re-reads links(). One listener at a time; returns a function
   * that stops them.
   */
  watchLinks (onChange: () => void): () => void {
    this.#events?.socket.close()
    const events = this.#create()
    events.addMembership('LINK')
    let pending: NodeJS.Timeout | undefined
    events.on('message', msgs => {
      if (pending !== undefined || !msgs.some(m => m.kind === 'link')) return
      pending = setTimeout(() => { pending = undefined; onChange() }, 20)
    })
    events.socket.ref(true)
    this.#events = events
    return () => {
      clearTimeout(pending)
      if (this.#events === events) this.#events = undefined
      events.socket.close()
    }
  }

  close (): void {
    this.#events?.socket.close()
    this.#events = undefined
    this.#sock.socket.close()
  }

  /** Runs `f` after every request issued before it has finished. */
  async #serial<T> (f: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(f, f)
    this.#chain = run.catch(() => {})
    return await run
  }

  async #request<T> (what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await this.#serial(f)
    } catch (err) {
      const errno = errnoOf(err)
      throw new NetlinkError(
        `rtnetlink: cannot ${what}: ${errno ?? (err instanceof Error ? err.message : String(err))}`, errno,
          { cause: err })
    }
  }
}
