/**
 * `monitor-uri URI` matching (HAProxy 2.6): a URI starting with '/' is compared with the request's
 * path (an absolute-form target's scheme and authority, and the query, left out); any other URI
 * with the request target exactly as received. Case-sensitive either way.
 */
import { pathOf } from '../acl/sample.ts'

export function matchesMonitorUri (monitorUri: string, target: string): boolean {
  return monitorUri.startsWith('/') ? pathOf(target) === monitorUri : target === monitorUri
}
