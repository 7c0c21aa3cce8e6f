/**
 * `show peers [dict|-] [SECTION]` in HAProxy 2.6's format (`peers_dump_head()`,
 * `peers_dump_peer()` in v2.6.0 src/peers.c), checked against captures of HAProxy 2.6.12
 * (test/unit/peers/fixtures/show-peers-haproxy-2.6.12-*.txt).
 *
 * HAProxy prints memory addresses; tslb prints stable made-up ones in the same form. Fields
 * tslb has no equivalent for keep HAProxy's meaning as closely as possible: `st0` is the session
 * state number (7 established, 6 waiting for the status line), `state` the connection state (EST,
 * CON), `task_calls` the times the sync task / the session's writer ran, `commitupdate` the
 * highest update id pushed to any peer, `refcnt` 1.
 *
 * The text ends with the peer blocks' final newline; the CLI adds its own empty line after it.
 * @module
 */
import type { PeerState, SharedTable } from './sync.ts'
import type { PeersManager, PeersSection } from './peers-manager.ts'
import { statusName } from './handshake.ts'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const MINUTE = 60
const HOUR = 3600
const DAY = 86400

/** `human_time(t, 1000)`: two units at most, e.g. `3s`, `1m5s`, `2h3m`, `1d4h`; `0s` for 0. */
export function humanTime (ms: number): string {
  if (ms < 0) return '?'
  const t = Math.floor(ms / 1000)
  let out = ''
  let cnt = 2
  if (t >= DAY) {
    out += `${Math.floor(t / DAY)}d`
    cnt--
  }
  if (cnt > 0 && Math.floor((t % DAY) / HOUR) !== 0) {
    out += `${Math.floor((t % DAY) / HOUR)}h`
    cnt--
  }
  if (cnt > 0 && Math.floor((t % HOUR) / MINUTE) !== 0) {
    out += `${Math.floor((t % HOUR) / MINUTE)}m`
    cnt--
  }
  if ((cnt > 0 && t % MINUTE !== 0) || t === 0) out += `${t % MINUTE}s`
  return out
}

/** A tick field: `<NEVER>` unset, `<PAST>` expired, else the time left. */
function tick (at: number | undefined, now: number): string {
  if (at === undefined) return '<NEVER>'
  if (at <= now) return '<PAST>'
  return humanTime(at - now)
}

function two (n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** `[22/Nov/2026:04:27:20]` in local time. */
function date (epochMs: number): string {
  const d = new Date(epochMs)
  return `[${two(d.getDate())}/${MONTHS[d.getMonth()] ?? '???'}/${d.getFullYear()}` +
    `:${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}]`
}

/** Stable made-up addresses, one per object. */
class Pointers {
  readonly #map = new WeakMap<object, string>()
  #next = 0
  readonly #base: number

  constructor (base: number) {
    this.#base = base
  }

  of (o: object): string {
    let p = this.#map.get(o)
    if (p === undefined) {
      p = '0x' + (this.#base + 0x110 * this.#next++).toString(16)
      this.#map.set(o, p)
    }
    return p
  }
}

const pointersByManager = new WeakMap<PeersManager, Pointers>()
let managerSerial = 0

function pointers (m: PeersManager): Pointers {
  let p = pointersByManager.get(m)
  if (p === undefined) {
    p = new Pointers(0x55d0_0000_0000 + (managerSerial++ % 0x100) * 0x10_0000)
    pointersByManager.set(m, p)
  }
  return p
}

/**
 * The `show peers` output for one section (`section` given) or all of them; undefined when no
 * such section exists (the CLI answers "No such peers").
 */
export function formatShowPeers (m: PeersManager, section: string | undefined, dict: boolean): string | undefined {
  const sections = section === undefined ? m.sections : m.sections.filter(s => s.name === section)
  if (section !== undefined && sections.length === 0) return undefined
  const ptr = pointers(m)
  const now = m.clock.now()
  let out = ''
  let first = true
  for (const s of sections) {
    if (!first) out += '\n'
    first = false
    out += head(s, ptr, now)
    for (const p of s.peers) out += peerBlock(s, p, ptr, now, dict)
  }
  return out
}

function head (s: PeersSection, ptr: Pointers, now: number): string {
  const resync = s.sync.resyncTimeout
  const at = resync === undefined ? '<NEVER>' : resync <= now ? '<PAST>' : humanTime(resync - now)
  return `${ptr.of(s)}: ${date(s.lastChange)} id=${s.name} disabled=0 flags=0x${s.sync.flags.toString(16)}` +
    ` resync_timeout=${at} task_calls=${s.taskCalls}\n`
}


function peerBlock (sec: PeersSection, p: PeerState, ptr: Pointers, now: number, dict: boolean): string {
  const s = p.session
  let out = `  ${ptr.of(p)}: id=${p.name}(${p.local ? 'local' : 'remote'},${s === undefined ? 'inactive' : 'active'})` +
    ` addr=${p.configuredAddress} last_status=${statusName(p.statuscode)}` +
    ` last_hdshk=${p.lastHandshake === undefined ? '<NEVER>' : humanTime(now - p.lastHandshake)}\n`
  out += `        reconnect=${tick(p.reconnect, now)} heartbeat=${tick(p.heartbeat, now)} confirm=${p.confirm}` +
    ` tx_hbt=${p.txHbt} rx_hbt=${p.rxHbt}` +
    ` no_hbt=${p.noHbt} new_conn=${p.newConn} proto_err=${p.protoErr} coll=${p.coll}\n`
  out += `        flags=0x${(p.flags >>> 0).toString(16)}`
  if (s !== undefined) {
    const st0 = s.state === 'established' ? 7 : s.state === 'await-hello' ? 1 : 6
    const conn = s.state === 'connecting' ? 'CON' : 'EST'
    out += ` appctx:${ptr.of(s)} st0=${st0} st1=0 task_calls=${s.calls} state=${conn}`
    if (s.role === 'accept') {
      const unix = s.transport.kind === 'unix'
      out += `\n        xprt=RAW src=${unix ? 'unix:1' : s.transport.remoteAddress ?? '?'}` +
        ` addr=${unix ? 'unix:1' : s.transport.localAddress ?? '?'}`
    }
  }
  const tableLine = (label: string, st: SharedTable): string =>
    `\n        ${label}:${ptr.of(st)} id=${st.sync.name} local_id=${st.sync.localId} remote_id=${st.remoteId}`
  if (p.remoteTable !== undefined) out += tableLine('remote_table', p.remoteTable)
  if (p.lastLocalTable !== undefined) out += tableLine('last_local_table', p.lastLocalTable)
  if (p.tables.length > 0) {
    out += '\n        shared tables:'
    for (const st of p.tables) {
      const t = st.sync.table
      const commit = sec.peers.reduce((m, q) => {
        const x = q.tables.find(y => y.sync === st.sync)
        return x === undefined ? m : Math.max(m, x.lastPushed)
      }, 0)
      out += `\n          ${ptr.of(st)} local_id=${st.sync.localId} remote_id=${st.remoteId}` +
        ` flags=0x${st.flags.toString(16)} remote_data=0x${st.remoteData.toString(16)}`
      out += `\n              last_acked=${st.lastAcked >>> 0} last_pushed=${st.lastPushed >>> 0}` +
        ` last_get=${st.lastGet >>> 0} teaching_origin=${st.teachingOrigin >>> 0} update=${st.wireUpdate}`
      out += `\n              table:${ptr.of(t)} id=${t.name} update=${(t.localUpdate + t.remoteUpdate) >>> 0}` +
        ` localupdate=${t.localUpdate >>> 0} commitupdate=${commit >>> 0} refcnt=1`
      if (dict) out += dictDump(p)
      else out += '\n        Dictionary cache not dumped (use "show peers dict")'
    }
  }
  return out + '\n'
}

function dictDump (p: PeerState): string {
  const s = p.session
  let out = '\n        TX dictionary cache:'
  let count = 0
  if (s !== undefined) {
    for (let i = 0; i < s.dict.size; i++) {
      const v = s.dict.slot(i)
      if (v === undefined) break
      if (count++ === 0) out += '\n        '
      out += `  ${String(i).padStart(3)} -> ${v}`
      count &= 3
    }
  }
  out += '\n        RX dictionary cache:'
  count = 0
  for (let i = 0; i < 128; i++) {
    if (count++ === 0) out += '\n        '
    out += `  ${String(i).padStart(3)} -> ${s?.decoder.dictionaryValue(i + 1) ?? '-'}`
    count &= 3
  }
  return out
}
