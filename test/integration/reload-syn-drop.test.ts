/** `tslb reload --strategy syn-drop` against the shared reload conformance suite. */
import { runReloadConformance } from '../helpers/reload-conformance.ts'

runReloadConformance('syn-drop', { outcome: 'reloads', tablesWhileServing: [] })
