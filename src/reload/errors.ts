/**
 * Reload-strategy failures, one class each with a stable code.
 */
import { TslbError } from '../util/errors.ts'

export class UnknownReloadStrategyError extends TslbError {
  constructor (name: string, known: readonly string[]) {
    super('TSLB_ERR_RELOAD_STRATEGY_UNKNOWN', `unknown reload strategy '${name}' (one of: ${known.join(', ')})`)
  }
}

/** The host cannot run the strategy (kernel feature missing); nothing was changed. */
export class ReloadStrategyUnavailableError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_RELOAD_STRATEGY_UNAVAILABLE', message)
  }
}

/** An `nft` command failed. */
export class FirewallRulesError extends TslbError {
  constructor (what: string, detail: string) {
    super('TSLB_ERR_RELOAD_FIREWALL', `${what}: ${detail}`)
  }
}

/** A `tc` command failed. */
export class TrafficControlError extends TslbError {
  constructor (what: string, detail: string) {
    super('TSLB_ERR_RELOAD_TC', `${what}: ${detail}`)
  }
}

/** iptables-flip: both slots are busy (the previous generation is still draining). */
export class SlotBusyError extends TslbError {
  constructor (message: string) {
    super('TSLB_ERR_RELOAD_SLOT_BUSY', message)
  }
}

/** A restart could not bind the listening sockets again. */
export class RebindError extends TslbError {
  constructor (message: string, options?: ErrorOptions) {
    super('TSLB_ERR_RELOAD_REBIND', message, options)
  }
}
