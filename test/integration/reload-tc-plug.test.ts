/**
 * `tslb reload --strategy tc-plug` against the shared reload conformance suite. The lab kernel
 * lacks sch_plug, sch_prio and cls_fw, so the expectation here is a clean refusal.
 */
import { runReloadConformance } from '../helpers/reload-conformance.ts'

runReloadConformance('tc-plug', { outcome: 'refuses', tablesWhileServing: [], refusal: /tc-plug is not available: this kernel lacks the plug qdisc \(sch_plug\)/ })
