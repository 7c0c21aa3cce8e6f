/**
 * The `userlist` sections of the loaded configuration and the `http_auth(LIST)` check: Basic
 * credentials of the request against a list (passwords as `crypt.ts` checks them).
 */
import type { UserlistSection } from '../../config/model.ts'
import { checkPassword } from './crypt.ts'

let lists = new Map<string, UserlistSection>()

/** Called once per configuration load, before any request. */
export function setUserlists (sections: readonly UserlistSection[]): void {
  lists = new Map(sections.map(u => [u.name, u]))
}

/** `Authorization: Basic …` decoded, or undefined. */
export function basicCredentials (authorization: string | undefined): { user: string, password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '')
  if (m === null) return undefined
  const text = Buffer.from(m[1] as string, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) }
}

/** The user of `list` the credentials name with the right password, and its groups; undefined otherwise. */
export function authenticatedUser (list: string, authorization: string | undefined):
  { readonly name: string, readonly groups: ReadonlySet<string> } | undefined {
  const creds = basicCredentials(authorization)
  const ul = lists.get(list)
  if (creds === undefined || ul === undefined) return undefined
  const user = ul.users.find(u => u.name === creds.user)
  if (user === undefined || !checkPassword(creds.password, user.password, user.insecure)) return undefined
  const groups = new Set(user.groups)
  for (const g of ul.groups) if (g.users.includes(user.name)) groups.add(g.name)
  return { name: user.name, groups }
}

/** True when the credentials name a user of `list` with that password. */
export function authenticate (list: string, authorization: string | undefined): boolean {
  return authenticatedUser(list, authorization) !== undefined
}
