/** `tslb reload --strategy handoff` with `nbthread 2` (each listener a SO_REUSEPORT group) against the conformance suite. */
import { runReloadConformance } from '../helpers/reload-conformance.ts'

runReloadConformance('handoff', { outcome: 'reloads', tablesWhileServing: [], threads: 2 })
