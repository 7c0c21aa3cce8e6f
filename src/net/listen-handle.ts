/**
 * Bound-but-not-accepting TCP sockets for the supervisor, which owns every listening socket and
 * hands them to worker generations. Uses `net._createServerHandle`, the internal call
 * node:cluster itself relies on (binds only; the worker's `listen()` starts accepting).
 */
import net from 'node:net'
import { BindError, EADDRINUSE, InheritedFdError } from './errors.ts'

/** The raw libuv TCP handle as node:net passes it around. */
export interface TcpHandle {
  readonly fd: number
  getsockname (out: { address?: string, port?: number, family?: string }): number
  close (callback?: () => void): void
}

type CreateServerHandle = (address: string | null, port: number, addressType: 4 | 6, fd: number | undefined,
  flags: number) => TcpHandle | number
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle


/** libuv's UV_TCP_REUSEPORT bind flag (SO_REUSEPORT on Linux). */
const UV_TCP_REUSEPORT = 2

/**
 * Binds host:port ('' = any address; IPv6 any for family 6 or 0 → dual-stack when available). `reusePort`: with
 * SO_REUSEPORT, so that more sockets can join the address's group, among which the kernel spreads connections.
 */
export function bindTcp (host: string, port: number, family: 0 | 4 | 6, reusePort = false): TcpHandle {
  const isV6 = family === 6 || (family === 0 && host.includes(':'))
  const address = host === '' ? (isV6 ? '::' : '0.0.0.0') : host
  const handle = createServerHandle(address, port, isV6 ? 6 : 4, undefined, reusePort ? UV_TCP_REUSEPORT : 0)
  const where = `${isV6 ? `[${address}]` : address}:${port}`
  if (typeof handle === 'number') throw new BindError(where, handle)
  // libuv defers EADDRINUSE from bind() to listen(), which the worker calls on its copy of the
  // fd: that listen() would bind an ephemeral port. A socket left unbound is caught here.
  if (port !== 0 && handleAddress(handle).port !== port) {
    handle.close()
    throw new BindError(where, EADDRINUSE)
  }
  return handle
}

/**
 * Wraps listening socket `fd`, inherited from the parent process (`bind fd@N`: VTest, or systemd
 * socket activation, whose sockets start at fd 3). Only TCP sockets are taken.
 */
export function openInheritedSocket (fd: number): TcpHandle {
  const handle = createServerHandle(null, 0, 4, fd, 0)
  if (typeof handle === 'number') throw new InheritedFdError(fd, handle)
  return handle
}

export function handleAddress (handle: TcpHandle): { address: string, port: number } {
  const out: { address?: string, port?: number } = {}
  handle.getsockname(out)
  return { address: out.address ?? '', port: out.port ?? 0 }
}
