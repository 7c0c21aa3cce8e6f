/** `tslb reload --strategy iptables-flip` with `nbthread 2` (a SO_REUSEPORT group per slot) against the conformance suite. */
import { runReloadConformance } from '../helpers/reload-conformance.ts'

runReloadConformance('iptables-flip', { outcome: 'reloads', tablesWhileServing: ['tslb_flip'], threads: 2 })
