/**
 * One health check on the wire: connect, optionally send and read, and the verdict with HAProxy
 * 2.6's status code and info text (src/check.c chk_report_conn_err, src/tcpcheck.c).
 *
 * A probe owns exactly one socket and one timer; both are released when it finishes or is
 * cancelled, and it reports at most once.
 * @module
 */
import type { Endpoint } from '../proxy-protocol/codec.ts'
import { Buffer } from 'node:buffer'
import { connect, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { CheckResponseReader, type CompiledExpect, judgeHttpResponse } from './http-check.ts'
import { isTlsRecordStart, SSL_HELLO_MIN_RECV, sslv3ClientHello } from './ssl-hello.ts'
import { connectError, type ProbeOutcome, strerror } from './status.ts'

export type { ProbeOutcome } from './status.ts'
import type { Exchange } from './exchanges.ts'

const MAX_EXCHANGE_READ = 16 * 1024

/** Time source and timers, injectable so tests can drive the schedule. */
export interface CheckClock {
  /** Milliseconds (wall clock for `lastChange`; only differences matter elsewhere). */
  now (): number
  setTimeout (callback: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

export const systemClock: CheckClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: handle => { clearTimeout(handle as NodeJS.Timeout) }
}

/**
 * - `tcp`: a server line with `check` and no check option: the connection is the check.
 * - `tcp-check`: `option tcp-check` without rules (tslb has no rules yet): the same, with the
 *   tcp-check wording of the info text.
 * - `http`: `option httpchk` / `http-check`.
 * - `ssl-hello`: `option ssl-hello-chk`.
 * - `exchange`: `option redis-check`, `smtpchk`, `pgsql-check` (exchanges.ts).
 */
export type ProbeKind = 'tcp' | 'tcp-check' | 'http' | 'ssl-hello' | 'exchange'

export interface ProbeSpec {
  readonly kind: ProbeKind
  readonly host: string
  /** A unix socket to connect to instead of host and port. */
  readonly path?: string
  readonly port: number
  readonly localAddress?: string
  /** Time allowed from the start to an established connection. */
  readonly connectTimeout: number
  /**
   * Time allowed from the connection to the verdict (`timeout check`); undefined: the connect
   * deadline covers the whole check (HAProxy without `timeout check`: `inter` for everything).
   */
  readonly checkTimeout: number | undefined
  readonly http?: {
    readonly request: Buffer
    readonly method: string
    readonly expect: readonly CompiledExpect[]
    readonly accept404AsStopping: boolean
  }
  /** The PROXY protocol header the check starts with (`check-send-proxy`), from the connection's own addresses. */
  readonly proxyHeader?: (local: Endpoint, remote: Endpoint) => Buffer | undefined
  /** For `exchange`: a fresh protocol exchange per probe. */
  readonly exchange?: () => Exchange
  /** `check-ssl`: the check runs over TLS with these options (a TCP check then reports L6OK). */
  readonly tls?: ConnectionOptions
}

export interface RunningProbe {
  /** Stops the probe without a verdict; the socket and the timer are released. */
  cancel (): void
}

/** chk_report_conn_err() appends this for `option tcp-check` failures at the implicit connect rule. */
const TCP_CHECK_CONNECT_STEP = ' at initial connection step of tcp-check'
const EMPTY_RESPONSE = 'TCPCHK got an empty response at step 2'

export function startProbe (spec: ProbeSpec, clock: CheckClock, done: (outcome: ProbeOutcome) => void): RunningProbe {
  let finished = false
  let connected = false
  let timer: unknown
  let socket: Socket | undefined
  const reader = spec.kind === 'http' && spec.http !== undefined ? new CheckResponseReader(spec.http.method) : undefined
  let received: Buffer = Buffer.alloc(0)
  const suffix = spec.kind === 'tcp-check' ? TCP_CHECK_CONNECT_STEP : ''
  const exchange = spec.kind === 'exchange' ? spec.exchange?.() : undefined

  const release = (): void => {
    finished = true
    if (timer !== undefined) clock.clearTimeout(timer)
    timer = undefined
    if (socket !== undefined) {
      socket.removeAllListeners('data')
      socket.destroy()
    }
  }
  const finish = (outcome: ProbeOutcome): void => {
    if (finished) return
    release()
    done(outcome)
  }

  /** The verdict on what was read; undefined: wait for more. */
  const judge = (lastRead: boolean): ProbeOutcome | undefined => {
    if (reader !== undefined && spec.http !== undefined) {
      return judgeHttpResponse(reader, { expect: spec.http.expect, accept404AsStopping: spec.http.accept404AsStopping },
        lastRead)
    }
    if (exchange !== undefined) {
      const step = exchange.onData(received, lastRead)
      if (step.send !== undefined && !lastRead) {
        received = Buffer.alloc(0)
        socket?.write(step.send)
      }
      return step.outcome ?? (lastRead ? { status: 'L7RSP', code: 0, desc: '' } : undefined)
    }
    if (spec.kind === 'ssl-hello') {
      if (received.length === 0) return lastRead ? { status: 'L6RSP', code: 0, desc: EMPTY_RESPONSE } : undefined
      if (received.length < SSL_HELLO_MIN_RECV && !lastRead) return undefined
      return isTlsRecordStart(received) ? { status: 'L6OK', code: 0, desc: '' } : { status: 'L6RSP', code: 0, desc: '' }
    }
    return undefined
  }

  const onTimeout = (): void => {
    timer = undefined
    if (!connected) finish({ status: 'L4TOUT', code: 0, desc: suffix === '' ? '' : suffix })
    else finish({ status: spec.kind === 'ssl-hello' || !secured ? 'L6TOUT' : 'L7TOUT', code: 0, desc: '' })
  }

  let secured = spec.tls === undefined
  try {
    if (spec.tls === undefined) {
      socket = spec.path !== undefined ? connect({ path: spec.path })
        : connect({ host: spec.host, port: spec.port, localAddress: spec.localAddress, noDelay: true })
    } else {
      const options: ConnectionOptions & { localAddress?: string } = { ...spec.tls,
        ...(spec.path !== undefined ? { path: spec.path } : { host: spec.host, port: spec.port }) }
      if (spec.localAddress !== undefined && spec.path === undefined) options.localAddress = spec.localAddress
      socket = tlsConnect(options)
      socket.on('connect', () => { connected = true })
    }
  } catch (err) {
    // Bad address or port: HAProxy fails such a check before any connection attempt.
    finished = true
    queueMicrotask(() => { done({ status: 'SOCKERR', code: 0, desc: strerror(err) }) })
    return { cancel: () => {} }
  }
  timer = clock.setTimeout(onTimeout, spec.connectTimeout)

  socket.on(spec.tls === undefined ? 'connect' : 'secureConnect', () => {
    if (finished || socket === undefined) return
    connected = true
    secured = true
    const header = spec.proxyHeader?.({ address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
      { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 })
    if (header !== undefined) socket.write(header)
    if (spec.kind === 'tcp' || spec.kind === 'tcp-check') {
      finish({ status: spec.tls === undefined ? 'L4OK' : 'L6OK', code: 0, desc: '' })
      return
    }
    if (spec.checkTimeout !== undefined) {
      clock.clearTimeout(timer)
      timer = clock.setTimeout(onTimeout, spec.checkTimeout)
    }
    if (spec.kind === 'http' && spec.http !== undefined) socket.write(spec.http.request)
    else if (exchange !== undefined) { if (exchange.greeting !== undefined) socket.write(exchange.greeting) }
    else socket.write(sslv3ClientHello(Math.floor(Date.now() / 1000)))
  })
  socket.on('data', (data: Buffer) => {
    if (finished) return
    if (reader !== undefined) reader.push(data)
    else if (exchange !== undefined) { if (received.length < MAX_EXCHANGE_READ) received = Buffer.concat([received,
      data]) }
    else if (received.length < SSL_HELLO_MIN_RECV) received = Buffer.concat([received, data])
    const outcome = judge(false)
    if (outcome !== undefined) finish(outcome)
  })
  socket.on('end', () => {
    if (finished) return
    finish(judge(true) ?? { status: 'L7RSP', code: 0, desc: '' })
  })
  socket.on('error', (err: Error) => {
    if (finished) return
    if (!connected) {
      finish({ status: 'L4CON', code: 0, desc: connectError(err) + suffix })
      return
    }
    if (!secured) {
      finish({ status: 'L6RSP', code: 0, desc: `SSL handshake failure (${err.message})` })
      return
    }
    // Data already read is judged as it is (a RST right after a response is common);
    // without any, the failure is a socket error.
    const hasData = (reader?.received ?? received.length) > 0
    const outcome = hasData ? judge(true) : undefined
    finish(outcome ?? { status: 'SOCKERR', code: 0, desc: strerror(err) })
  })
  socket.on('close', () => {
    if (finished) return
    finish(judge(true) ?? { status: 'SOCKERR', code: 0, desc: '' })
  })

  return { cancel: release }
}
