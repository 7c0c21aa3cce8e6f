/**
 * The rapid-reset guard (CVE-2023-44487): streams the client cancels cost the proxy a request each while costing the
 * client nothing. A token bucket per connection: each client RST_STREAM on a stream still in progress takes a token;
 * an empty bucket means the connection is closed with GOAWAY (ENHANCE_YOUR_CALM).
 * @module
 */

export interface ResetGuardOptions {
  /** Resets allowed in a burst. */
  readonly burst: number
  /** Tokens given back per second. */
  readonly perSecond: number
}

/** Default bound: 100 resets at once, then 10 per second sustained (documented in docs/security.md). */
export const DEFAULT_RESET_GUARD: ResetGuardOptions = { burst: 100, perSecond: 10 }

export class ResetGuard {
  private tokens: number
  private last: number
  private readonly opts: ResetGuardOptions

  constructor (now: number, opts: ResetGuardOptions = DEFAULT_RESET_GUARD) {
    this.opts = opts
    this.tokens = opts.burst
    this.last = now
  }

  /** Counts one reset at `now` (ms); false when the bound is exceeded. */
  reset (now: number): boolean {
    const elapsed = Math.max(0, now - this.last)
    this.last = now
    this.tokens = Math.min(this.opts.burst, this.tokens + elapsed * this.opts.perSecond / 1000)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
