/**
 * A stand-in for systemd's NOTIFY_SOCKET: a python3 datagram receiver (Node has no AF_UNIX
 * datagram sockets) that reports each message with the sender's pid (SCM_CREDENTIALS, as systemd
 * reads it) and CLOCK_MONOTONIC at receipt. `@name` binds an abstract socket.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

const RECEIVER = `
import json, socket, struct, sys, time
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\\0" + addr[1:] if addr.startswith("@") else addr)
print(json.dumps({"listening": True}), flush=True)
while True:
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, d in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", d[:12])[0]
    print(json.dumps({"pid": pid, "monotonicNs": time.monotonic_ns(), "message": data.decode()}), flush=True)
`

export interface NotifyMessage {
  readonly pid: number | null
  readonly monotonicNs: number
  readonly message: string
  /** the message's KEY=VALUE lines */
  readonly fields: ReadonlyMap<string, string>
}

export interface NotifyReceiver {
  readonly address: string
  readonly messages: NotifyMessage[]
  /** resolves with the first message (from index `from`) that has field KEY (=VALUE if given) */
  waitFor: (key: string, value?: string, from?: number, timeoutMs?: number) => Promise<NotifyMessage>
  close: () => void
}

function parseFields (message: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of message.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1))
  }
  return fields
}

export async function startNotifyReceiver (address: string): Promise<NotifyReceiver> {
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, address], { stdio: ['ignore', 'pipe', 'inherit'] })
  const messages: NotifyMessage[] = []
  const waiters = new Set<() => void>()
  const lines = createInterface({ input: child.stdout! })
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => { reject(new Error(`notify receiver exited (${code ?? 'signal'})`)) })
    lines.on('line', line => {
      const m = JSON.parse(line) as { listening?: boolean, pid: number | null, monotonicNs: number, message: string }
      if (m.listening === true) { resolve(); return }
      messages.push({ pid: m.pid, monotonicNs: m.monotonicNs, message: m.message, fields: parseFields(m.message) })
      for (const w of waiters) w()
    })
  })
  const find = (key: string, value: string | undefined, from: number): NotifyMessage | undefined =>
    messages.slice(from).find(m => m.fields.has(key) && (value === undefined || m.fields.get(key) === value))
  return {
    address,
    messages,
    waitFor: async (key, value, from = 0, timeoutMs = 15_000) => await new Promise((resolve, reject) => {
      const check = (): void => {
        const m = find(key, value, from)
        if (m === undefined) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve(m)
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no ${key}${value === undefined ? '' : `=${value}`} after message ${from} in ${timeoutMs} ms; got:\n${messages.map(m => JSON.stringify(m.message)).join('\n')}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    }),
    close: () => { child.kill() }
  }
}
