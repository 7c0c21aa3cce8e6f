/**
 * The last line of defence against a VIP left behind. One small shell child per speaker, started
 * with it, reads lines from a pipe: `+ ENTRY` when a VIP is added, `- ENTRY` when the speaker
 * removed it itself. When the pipe reaches end-of-file — the supervisor went away: clean exit,
 * SIGKILL, uncaught exception, OOM kill — the child removes every VIP still listed with
 * `ip addr del`, so a dead node stops answering ARP for the VIP while the backup takes over.
 * A clean stop removes the VIPs first, so the list is empty by then.
 *
 * Started once (spawning costs a few ms of event loop: never on the takeover path). The child
 * ignores SIGINT/SIGTERM/SIGHUP: a terminal's Ctrl-C or systemd's stop reach the whole group,
 * and the supervisor's own stop path does the work; the child finishes after it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

export interface ReaperAddress {
  readonly family: 4 | 6
  readonly address: string
  readonly prefixLength: number
  readonly dev: string
}

const IP_CANDIDATES = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip']
let ipPath: string | null | undefined

function findIp (): string | undefined {
  if (ipPath === undefined) ipPath = IP_CANDIDATES.find(p => existsSync(p)) ?? null
  return ipPath ?? undefined
}

/** The `ip` arguments that remove an address (interface names and addresses hold no blanks). */
export function reaperEntry (a: ReaperAddress): string {
  return `-${a.family} addr del ${a.address}/${a.prefixLength} dev ${a.dev}`
}

/** The shell program of the child (exported for tests). `$1` is the path of `ip`. */
export const REAPER_SCRIPT = `trap '' INT TERM HUP
held=''
while IFS= read -r line; do
  entry=\${line#? }
  case $line in
    '+ '*) held="$held
$entry" ;;
    '- '*) rest=''
      while IFS= read -r h; do
        if [ -n "$h" ] && [ "$h" != "$entry" ]; then rest="$rest
$h"; fi
      done <<EOF
$held
EOF
      held=$rest ;;
  esac
done
printf '%s\\n' "$held" | while IFS= read -r h; do
  if [ -n "$h" ]; then "$1" $h 2>/dev/null; fi
done
exit 0
`

export class VipReaper {
  readonly #ip: string | undefined
  #child: ChildProcess | undefined
  #closed: ChildProcess | undefined
  readonly #held = new Set<string>()
  #onDeath: ((why: string) => void) | undefined

  /** `ip`: the iproute2 binary (tests pass a stand-in); default: found in /usr/sbin, /sbin, /usr/bin, /bin. */
  constructor (opts: { readonly ip?: string } = {}) {
    this.#ip = opts.ip
  }

  /** The child's pid, while it runs. */
  get pid (): number | undefined {
    return this.#child?.pid
  }

  /** Resolves once the child (running or closed) has exited. */
  async exited (): Promise<void> {
    const child = this.#child ?? this.#closed
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  }

  /** Called when the child dies while the speaker still runs (protection lost until the next hold()). */
  onDeath (cb: (why: string) => void): void {
    this.#onDeath = cb
  }

  /** Starts the child; false when `ip` (iproute2) is not installed. */
  start (): boolean {
    if (this.#child !== undefined) return true
    const ip = this.#ip ?? findIp()
    if (ip === undefined) return false
    const child = spawn('/bin/sh', ['-c', REAPER_SCRIPT, 'tslb-vip-reaper', ip], { stdio: ['pipe', 'ignore', 'ignore'],
      detached: true })
    child.on('error', () => { /* spawn failure: reported through exit */ })
    child.stdin?.on('error', () => { /* the child is gone */ })
    child.once('exit', (code, signal) => {
      if (this.#child !== child) return
      this.#child = undefined
      this.#onDeath?.(signal ?? `exit ${code ?? '?'}`)
    })
    child.unref()
    ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    this.#child = child
    // A restarted child learns what is held now.
    for (const e of this.#held) child.stdin?.write(`+ ${e}\n`)
    return true
  }

  /** Records addresses just added. False when there is no child to remove them if tslb dies. */
  hold (addresses: readonly ReaperAddress[]): boolean {
    const ok = this.start()
    for (const a of addresses) {
      const e = reaperEntry(a)
      if (this.#held.has(e)) continue
      this.#held.add(e)
      this.#child?.stdin?.write(`+ ${e}\n`)
    }
    return ok
  }

  /** Forgets addresses the speaker is about to remove itself. */
  release (addresses: readonly ReaperAddress[]): void {
    for (const a of addresses) {
      const e = reaperEntry(a)
      if (!this.#held.delete(e)) continue
      this.#child?.stdin?.write(`- ${e}\n`)
    }
  }

  /** Clean end: the child reads EOF and removes whatever is still listed (nothing after a clean stop). */
  close (): void {
    const child = this.#child
    this.#child = undefined
    this.#closed = child
    child?.stdin?.end()
  }
}
