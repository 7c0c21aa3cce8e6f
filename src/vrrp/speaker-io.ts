/**
 * The VRRP speaker's I/O seams: rtnetlink, the raw VRRP socket, the GARP/NA frame sender, the
 * VIP reaper child and the clock. systemIo is the real one; unit tests pass fakes.
 */
import { FrameSender, ipv6Forwarding } from '../net/garp.ts'
import { Rtnl, type AddressSpec, type InterfaceAddress, type LinkInfo } from '../net/rtnl.ts'
import { VipReaper, type ReaperAddress } from '../net/vip-reaper.ts'
import { VrrpSocket, type VrrpSocketOptions } from '../net/vrrp-socket.ts'

export interface RtnlLike {
  links (): Promise<LinkInfo[]>
  addresses (family?: 4 | 6): Promise<InterfaceAddress[]>
  addAddress (a: AddressSpec): Promise<'added' | 'exists'>
  delAddress (a: AddressSpec): Promise<'removed' | 'absent'>
  watchLinks (onChange: () => void): () => void
  close (): void
}

export interface PacketSocket {
  /** `buf` starts with the IP header (IPv4 and IPv6); `src` is for logs. */
  on (event: 'message', listener: (buf: Buffer, src: string) => void): unknown
  on (event: 'error', listener: (err: Error) => void): unknown
  send (packet: Uint8Array, dst: string): Promise<void>
  close (): void
}

export interface FrameSink {
  send (frame: Uint8Array): void
  close (): void
}

export interface Reaper {
  /** Starts the child; false when it cannot run (no `ip`). */
  start (): boolean
  /** Addresses just added; false when nothing would remove them if tslb died. */
  hold (addresses: readonly ReaperAddress[]): boolean
  /** Addresses the speaker is about to remove itself. */
  release (addresses: readonly ReaperAddress[]): void
  onDeath (cb: (why: string) => void): void
  close (): void
}

export interface SpeakerIo {
  openRtnl (): Promise<RtnlLike>
  openSocket (opts: VrrpSocketOptions): PacketSocket
  frameSink (ifname: string): FrameSink
  reaper (): Reaper
  /** Monotonic milliseconds. */
  now (): number
  /** /proc/sys/net/ipv6/conf/IF/forwarding. */
  ipv6Forwarding (ifname: string): boolean
}

export const systemIo: SpeakerIo = {
  openRtnl: async () => await Rtnl.open(),
  openSocket: opts => new VrrpSocket(opts),
  frameSink: ifname => {
    const s = new FrameSender(ifname)
    s.open()
    return s
  },
  reaper: () => new VipReaper(),
  now: () => performance.now(),
  ipv6Forwarding
}
