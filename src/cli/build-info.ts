/**
 * `tslb -vv`: what this build is made of and what it can do, as `haproxy -vv` prints it —
 * the runtime, each native addon (and whether it loads here), the libraries operators ask
 * about, the feature list, reload strategies and configuration sections.
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { osInfo, version as siVersion } from 'systeminformation'
import { STRATEGY_NAMES } from '../reload/strategy.ts'
import { SECTION_KEYWORDS } from '../config/parser.ts'

const require = createRequire(import.meta.url)

export function packageVersion (): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url),
    'utf8')) as { version: string }).version
}

const ADDONS: readonly (readonly [string, string])[] = [
  ['raw-socket', 'VRRP adverts (IP protocol 112)'],
  ['cap', 'gratuitous ARP and unsolicited NA frames'],
  ['netlink', 'virtual addresses and interface state (rtnetlink)'],
  ['sd-notify', 'systemd Type=notify (READY, RELOADING, STATUS)'],
  ['unix-dgram', 'syslog to unix datagram sockets (log /dev/log, log unix@PATH)']
]

const LIBRARIES: readonly (readonly [string, string])[] = [
  ['systeminformation', 'host facts in check -L and status'],
  ['pino', 'logging'],
  ['execa', 'tracking and notify scripts']
]

/** `+NAME` where tslb does it, `-NAME` where it does not (yet). */
const FEATURES = [
  '+HTTP1', '-HTTP2', '-HTTP3', '-TLS', '+TCP', '+ACL', '+STICK-TABLES', '+PEERS-2.1', '+VRRPv2', '+VRRPv3',
    '+VRRP-UNICAST',
  '-VRRP-AH', '+GARP', '+RUNTIME-API', '+STATS-PAGE', '+PROMETHEUS-EXPORTER', '+SD-NOTIFY', '+SEAMLESS-RELOAD', '-LUA',
    '-SPOE', '-COMPRESSION', '-CACHE'
]

function dependencyVersion (name: string): string {
  try {
    // Read from the file: some packages' "exports" do not list their package.json.
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url),
      'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

function addonState (name: string): string {
  try {
    require(name)
    return 'loads'
  } catch (err) {
    return `does not load: ${(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''}`
  }
}

export async function buildInfo (): Promise<string> {
  const os = await osInfo()
  const v = process.versions
  return [
    `tslb ${packageVersion()} (node ${process.version})`,
    `Running on: ${os.distro} ${os.release}, Linux ${os.kernel} ${os.arch}`,
    (`Runtime: Node.js ${v.node} (V8 ${v.v8}, libuv ${v.uv}, llhttp ${v.llhttp ?? '?'}), OpenSSL ${v.openssl}, zlib ` +
      `${v.zlib}`),
    `Executable: ${process.execPath}`,
    'Native addons:',
    ...ADDONS.map(([name, what]) => `  ${name} ${dependencyVersion(name)}: ${addonState(name)} — ${what}`),
    'Libraries:',
    ...LIBRARIES.map(([name, what]) =>
      `  ${name} ${name === 'systeminformation' ? siVersion() : dependencyVersion(name)} — ${what}`),
    `Feature list : ${FEATURES.join(' ')}`,
    `Reload strategies : ${STRATEGY_NAMES.join(' ')}`,
    `Configuration sections : ${SECTION_KEYWORDS.join(' ')}`,
    ''
  ].join('\n')
}
