/**
 * Typed, lazy access to the native addons the VRRP speaker uses: `raw-socket` (IP protocol 112)
 * and `cap` (libpcap, to send raw Ethernet frames). Neither ships type definitions; the
 * interfaces below describe the part of their API tslb calls. They are loaded on first use, so
 * code that never touches the network (config checks, `tslb convert`, unit tests) never needs
 * the compiled addons.
 */
import { createRequire } from 'node:module'
import { NativeModuleError } from './errors.ts'

const require = createRequire(import.meta.url)

/** raw-socket's Socket (an EventEmitter). */
export interface RawSocket {
  on (event: 'message', listener: (buffer: Buffer, source: string) => void): this
  on (event: 'error', listener: (err: Error) => void): this
  on (event: 'close', listener: () => void): this
  /** The 4-argument form passes `value` as the option's bytes (any option number works). */
  setOption (level: number, option: number, value: Buffer, length: number): void
  /** Queues a datagram; `after` runs once sendto() returned (bytes) or failed. */
  send (buffer: Buffer, offset: number, length: number, address: string, after: (err: Error | null,
    bytes: number) => void): this
  close (): this
  /** Stops reading the socket (the kernel queue fills and drops; sending still works). */
  pauseRecv (): this
  /** The native handle: its send() calls sendto() synchronously (throws on EAGAIN and other errors). */
  readonly wrap: { send (buffer: Buffer, offset: number, length: number, address: string,
    after: (bytes: number) => void): void }
}

export interface RawSocketModule {
  createSocket (options: { readonly protocol?: number, readonly addressFamily?: number,
    readonly bufferSize?: number }): RawSocket
  readonly AddressFamily: { readonly IPv4: number, readonly IPv6: number }
}

/** cap's Cap: a libpcap handle. */
export interface PcapHandle {
  /** Opens the device with a BPF filter; returns the link type ('ETHERNET'...). Always promiscuous. */
  open (device: string, filter: string, bufferSize: number, buffer: Buffer): string
  send (frame: Buffer, length?: number): void
  close (): boolean
  /** A captured frame is in the buffer given to open(), `nbytes` long: copy it before returning. */
  on (event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this
  /**
   * The handle's poll failed (POLLERR: the interface went down or away) and it stopped reading;
   * close it and open another. Emitted by tslb's patch to cap (patches/cap+0.2.1.patch): upstream
   * aborts the process there.
   */
  on (event: 'poll-error', listener: (status: number) => void): this
}

interface CapModule {
  readonly Cap: new () => PcapHandle
}

let rawSocketModule: RawSocketModule | undefined
let capModule: CapModule | undefined

export function loadRawSocket (): RawSocketModule {
  if (rawSocketModule === undefined) {
    try {
      rawSocketModule = require('raw-socket') as RawSocketModule
    } catch (err) {
      throw new NativeModuleError('raw-socket', err)
    }
  }
  return rawSocketModule
}

export function loadCap (): CapModule {
  if (capModule === undefined) {
    try {
      capModule = require('cap') as CapModule
    } catch (err) {
      throw new NativeModuleError('cap', err)
    }
  }
  return capModule
}
