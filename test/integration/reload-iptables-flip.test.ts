/** `tslb reload --strategy iptables-flip` against the shared reload conformance suite. */
import { runReloadConformance } from '../helpers/reload-conformance.ts'

runReloadConformance('iptables-flip', { outcome: 'reloads', tablesWhileServing: ['tslb_flip'] })
