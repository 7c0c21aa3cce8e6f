/** `tslb reload --strategy handoff` (the default) against the shared reload conformance suite. */
import { runReloadConformance } from '../helpers/reload-conformance.ts'

runReloadConformance('handoff', { outcome: 'reloads', tablesWhileServing: [] })
