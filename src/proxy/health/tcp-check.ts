/**
 * `option tcp-check` with `tcp-check` rules, as HAProxy 2.6 runs them (src/tcpcheck.c
 * tcpcheck_main, tcpcheck_eval_expect; src/check.c chk_report_conn_err): an implicit connect
 * when the rules do not start with one, comment lines folded into the rules after them, steps
 * numbered by line, a send discarding what was read, consecutive expects evaluated on the same
 * bytes and re-evaluated from the first of them when more arrive. Pure: the probe (tcp-check-
 * probe.ts) does the I/O and feeds events in; the session says what to do next.
 */
import { Buffer } from 'node:buffer'
import type { TcpCheckRule } from '../../config/model.ts'
import type { CheckStatusCode, ProbeOutcome } from './status.ts'

type ActiveRule = Exclude<TcpCheckRule, { type: 'comment' }>
type ExpectRule = Extract<TcpCheckRule, { type: 'expect' }>

/** HAProxy's check buffer (tune.bufsize): a full buffer counts as the last read. */
const CHECK_BUFFER_SIZE = 16384

interface Step {
  readonly rule: ActiveRule
  /** HAProxy's step id: the line's index + 1; 0 for the implicit connect. */
  readonly id: number
  readonly comment: string | undefined
  /** For expects: the bytes or the regular expression to look for. */
  readonly bytes?: Buffer
  readonly regex?: RegExp
  /** For expects: the position of the first expect of the run this one belongs to. */
  readonly chainHead: number
}

export interface CompiledTcpCheck {
  readonly steps: readonly Step[]
}

export function compileTcpCheck (rules: readonly TcpCheckRule[]): CompiledTcpCheck {
  const indexed = rules.map((rule, index) => ({ rule, id: index + 1 }))
  const firstActive = indexed.find(r => r.rule.type !== 'comment')
  const all: { rule: TcpCheckRule, id: number }[] = firstActive?.rule.type === 'connect' ? indexed
    : [{ rule: { type: 'connect' }, id: 0 }, ...indexed]
  const steps: Step[] = []
  let comment: string | undefined
  let prevType: TcpCheckRule['type'] = 'comment'
  for (const { rule, id } of all) {
    if (rule.type !== prevType && prevType !== 'comment') comment = undefined
    prevType = rule.type
    if (rule.type === 'comment') { comment = rule.comment; continue }
    const own = rule.comment ?? comment
    if (rule.type === 'connect') comment = undefined
    const prev = steps[steps.length - 1]
    const chainHead = rule.type === 'expect' && prev?.rule.type === 'expect' ? prev.chainHead : steps.length
    steps.push({ rule, id, comment: own, chainHead, ...expectMatcher(rule) })
  }
  return { steps }
}

function expectMatcher (rule: ActiveRule): { bytes?: Buffer, regex?: RegExp } {
  if (rule.type !== 'expect') return {}
  switch (rule.match) {
    case 'string': return { bytes: Buffer.from(rule.pattern, 'latin1') }
    case 'binary': return { bytes: Buffer.from(rule.pattern, 'hex') }
    case 'rstring': case 'rbinary': return { regex: new RegExp(rule.pattern) }
  }
}

export type TcpCheckNext =
  | { readonly kind: 'connect', readonly port?: number, readonly addr?: string }
  | { readonly kind: 'wait' }
  | { readonly kind: 'done', readonly outcome: ProbeOutcome }

export interface TcpCheckAdvance {
  /** Bytes to write, in order, before doing `next`. */
  readonly sends: readonly Buffer[]
  readonly next: TcpCheckNext
}

type ExpectVerdict = 'continue' | 'wait' | ProbeOutcome

export class TcpCheckSession {
  readonly #steps: readonly Step[]
  #pos = 0
  #current: Step | undefined
  #buf: Buffer = Buffer.alloc(0)
  #lastRead = false
  /** No byte read since the last connect or send. */
  #mustRead = true
  #connected = false

  constructor (compiled: CompiledTcpCheck) {
    this.#steps = compiled.steps
  }

  /** The first action: always a connect. */
  start (): TcpCheckAdvance {
    return this.#run()
  }

  connected (): TcpCheckAdvance {
    this.#connected = true
    this.#pos++
    return this.#run()
  }

  /** Bytes read; `ended`: the server closed its side (or the read failed after data). */
  data (chunk: Buffer, ended: boolean): TcpCheckAdvance {
    if (chunk.length > 0 && this.#buf.length < CHECK_BUFFER_SIZE) {
      this.#buf = Buffer.concat([this.#buf, chunk]).subarray(0, CHECK_BUFFER_SIZE)
      this.#mustRead = false
    }
    if (ended) this.#lastRead = true
    if (this.#buf.length >= CHECK_BUFFER_SIZE) this.#lastRead = true
    return this.#run()
  }

  connectFailed (reason: string): ProbeOutcome {
    return { status: 'L4CON', code: 0, desc: reason + this.#where() }
  }

  /** A socket error once connected, with nothing read to judge. */
  socketError (reason: string): ProbeOutcome {
    return { status: 'SOCKERR', code: 0, desc: reason + this.#where() }
  }

  timedOut (): ProbeOutcome {
    if (!this.#connected) return { status: 'L4TOUT', code: 0, desc: this.#where() }
    const rule = this.#current?.rule
    const status: CheckStatusCode = rule?.type === 'expect' && rule.toutStatus !== undefined ? rule.toutStatus
      : 'L7TOUT'
    return { status, code: 0, desc: this.#where() }
  }

  #run (): TcpCheckAdvance {
    const sends: Buffer[] = []
    for (; this.#pos < this.#steps.length; this.#pos++) {
      const step = this.#steps[this.#pos] as Step
      const rule = step.rule
      if (rule.type === 'connect') {
        if (this.#current !== step) {
          this.#current = step
          this.#connected = false
          this.#buf = Buffer.alloc(0)
          this.#lastRead = false
          this.#mustRead = true
          return { sends, next: { kind: 'connect', port: rule.port, addr: rule.addr } }
        }
        continue
      }
      this.#current = step
      if (rule.type === 'send') {
        this.#buf = Buffer.alloc(0)
        this.#mustRead = true
        sends.push(Buffer.from(rule.data, 'latin1'))
        continue
      }
      if (this.#mustRead) {
        if (!this.#lastRead) return { sends, next: { kind: 'wait' } }
        return { sends, next: { kind: 'done', outcome: this.#emptyResponse(step, rule) } }
      }
      const verdict = this.#expect(step, rule)
      if (verdict === 'continue') continue
      if (verdict === 'wait') {
        this.#pos = step.chainHead
        this.#current = this.#steps[step.chainHead]
        return { sends, next: { kind: 'wait' } }
      }
      return { sends, next: { kind: 'done', outcome: verdict } }
    }
    return { sends, next: { kind: 'done', outcome: this.#success() } }
  }

  #emptyResponse (step: Step, rule: ExpectRule): ProbeOutcome {
    return { status: rule.errorStatus ?? 'L7RSP', code: 0,
      desc: `TCPCHK got an empty response at step ${step.id}${quotedComment(step)}` }
  }

  /** tcpcheck_eval_expect(). */
  #expect (step: Step, rule: ExpectRule): ExpectVerdict {
    const buf = this.#buf
    if (!this.#lastRead) {
      if (step.bytes !== undefined && buf.length < step.bytes.length) return 'wait'
      if (rule.minRecv > 0 && buf.length < rule.minRecv) return 'wait'
    }
    let match: boolean
    if (step.bytes !== undefined) match = buf.includes(step.bytes)
    else if (rule.match === 'rbinary') match = step.regex?.test(buf.toString('hex').toUpperCase()) ?? false
    else match = step.regex?.test(buf.toString('latin1')) ?? false
    if (!match && !this.#lastRead && rule.minRecv === -1) return 'wait'
    if (match !== rule.negate) return 'continue'
    const what = rule.match === 'string' ? ` '${rule.pattern}'` : rule.match === 'binary' ? ' (binary)'
      : rule.match === 'rstring' ? ' (regex)' : ' (binary regex)'
    const text = rule.onError ?? `${match ? 'TCPCHK matched unwanted content' : 'TCPCHK did not match content'}` +
      `${what} at step ${step.id}`
    return { status: rule.errorStatus ?? 'L7RSP', code: 0,
      desc: text + (step.comment === undefined ? '' : ` comment: ${step.comment}`) }
  }

  /** The end of the rules (tcpcheck_main "All rules was evaluated"). */
  #success (): ProbeOutcome {
    const rule = this.#current?.rule
    if (rule?.type === 'expect') return { status: rule.okStatus ?? 'L7OK', code: 0, desc: rule.onSuccess ??
      '(tcp-check)' }
    if (rule?.type === 'connect') return { status: 'L4OK', code: 0, desc: this.#current?.id === 0 ? ''
      : '(tcp-check)' }
    return { status: 'L7OK', code: 0, desc: '(tcp-check)' }
  }

  /** chk_report_conn_err()'s suffix: where in the rules the check stopped. */
  #where (): string {
    const step = this.#current
    if (step === undefined || step.id === 0) return ' at initial connection step of tcp-check'
    const rule = step.rule
    const what = rule.type === 'connect' ? (rule.port === undefined ? ' (connect)' : ` (connect port ${rule.port})`)
      : rule.type === 'send' ? ' (send)'
        : rule.match === 'string' ? ` (expect string '${rule.pattern}')`
          : rule.match === 'binary' ? ` (expect binary '${rule.pattern}')`
            : rule.match === 'rstring' ? ' (expect regex)' : ' (expect binary regex)'
    return ` at step ${step.id} of tcp-check${what}${quotedComment(step)}`
  }
}

function quotedComment (step: Step): string {
  return step.comment === undefined ? '' : ` comment: '${step.comment}'`
}
