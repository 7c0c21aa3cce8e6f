/**
 * The I/O of a `tcp-check` ruleset: one socket at a time (a `connect` rule closes the previous
 * one), the writes and waits the session (tcp-check.ts) asks for, one timer. Reports once.
 */
import { connect, type Socket } from 'node:net'
import type { CheckClock, ProbeSpec, RunningProbe } from './probe.ts'
import { connectError, type ProbeOutcome, strerror } from './status.ts'
import { type CompiledTcpCheck, type TcpCheckAdvance, TcpCheckSession } from './tcp-check.ts'

export function startTcpCheckProbe (spec: ProbeSpec, rules: CompiledTcpCheck, clock: CheckClock,
  done: (outcome: ProbeOutcome) => void): RunningProbe {
  const session = new TcpCheckSession(rules)
  let finished = false
  let timer: unknown
  let socket: Socket | undefined

  const dropSocket = (): void => {
    if (socket === undefined) return
    socket.removeAllListeners()
    socket.on('error', () => {})
    socket.destroy()
    socket = undefined
  }
  const release = (): void => {
    finished = true
    if (timer !== undefined) clock.clearTimeout(timer)
    timer = undefined
    dropSocket()
  }
  const finish = (outcome: ProbeOutcome): void => {
    if (finished) return
    release()
    done(outcome)
  }
  const arm = (ms: number): void => {
    if (timer !== undefined) clock.clearTimeout(timer)
    timer = clock.setTimeout(() => { timer = undefined; finish(session.timedOut()) }, ms)
  }

  const apply = (step: TcpCheckAdvance): void => {
    if (finished) return
    for (const bytes of step.sends) socket?.write(bytes)
    const next = step.next
    if (next.kind === 'done') finish(next.outcome)
    else if (next.kind === 'connect') open(next.addr ?? spec.host, next.port ?? spec.port,
      next.addr === undefined && next.port === undefined ? spec.path : undefined)
  }

  const open = (host: string, port: number, path: string | undefined): void => {
    dropSocket()
    arm(spec.connectTimeout)
    let connected = false
    let s: Socket
    try {
      s = path !== undefined ? connect({ path })
        : connect({ host, port, localAddress: spec.localAddress, noDelay: true })
    } catch (err) {
      queueMicrotask(() => { finish(session.connectFailed(strerror(err))) })
      return
    }
    socket = s
    s.on('connect', () => {
      connected = true
      if (spec.checkTimeout !== undefined) arm(spec.checkTimeout)
      apply(session.connected())
    })
    s.on('data', (chunk: Buffer) => { apply(session.data(chunk, false)) })
    s.on('end', () => { apply(session.data(Buffer.alloc(0), true)) })
    s.on('error', (err: Error) => {
      if (!connected) { finish(session.connectFailed(connectError(err))); return }
      // Bytes already read are judged as they are (a reset right after the answer is common).
      const step = session.data(Buffer.alloc(0), true)
      if (step.next.kind === 'done') apply(step)
      else finish(session.socketError(strerror(err)))
    })
    s.on('close', () => { if (socket === s) apply(session.data(Buffer.alloc(0), true)) })
  }

  apply(session.start())
  return { cancel: release }
}
