/**
 * `mode tcp`: forwards bytes both ways between the client and a server, with back-pressure
 * (pipe), half-close (each side's FIN is passed on and the other direction keeps flowing), and
 * the client/server/tunnel inactivity timeouts.
 */
import type { Socket } from 'node:net'
import { connectTermination, type Backend } from '../backend.ts'
import { ConnectError } from '../errors.ts'
import type { FrontendContext, RoutingFrontend } from '../frontend-context.ts'
import { socketAddresses, type ConnAddresses } from '../conn-addresses.ts'
import type { ServerState } from '../server-state.ts'
import { formatTcpLog, type SessionLog } from '../log/format.ts'
import { trafficSeverity } from '../log/policy.ts'
import { recordExchange } from '../counters.ts'
import { tlsFacts } from '../tls/facts.ts'
import { awaitFirstBytes } from './inspect.ts'
import { inspectedSample } from './http-view.ts'
import type { SampleSource } from '../acl/sample.ts'
import { relayClientToServer, ServerToClient } from './relay.ts'

/** A TCP-mode frontend's session: the backend its rules pick (none: the connection is closed). */
export function startRoutedTcpSession (client: Socket, fe: RoutingFrontend, addrs = socketAddresses(client)): void {
  if (fe.helloWait !== undefined) {
    const tls = tlsFacts(client)
    awaitFirstBytes(client, fe.helloWait, payload => fe.contentReady?.(inspectedSample({ ...addrs, ...frontendOf(fe),
      tls, payload })) ?? true,
      payload => { routeTcpSession(client, fe, addrs, payload) })
    return
  }
  routeTcpSession(client, fe, addrs, undefined)
}

function routeTcpSession (client: Socket, fe: RoutingFrontend, addrs: ConnAddresses, payload: Buffer | undefined):
void {
  const sample = inspectedSample({ ...addrs, ...frontendOf(fe), tls: tlsFacts(client), payload })
  if (fe.helloWait !== undefined && fe.contentAccepts?.(sample) === false) {
    client.destroy()
    return
  }
  const backend = fe.route(sample)
  if (backend === undefined) {
    client.destroy()
    return
  }
  startTcpSession(client, backend, fe, addrs)
}

/** What the fetches of a TCP session know of its proxies (`fe_name`, `fe_id`; the backend once chosen). */
function frontendOf (fe: FrontendContext, backend?: Backend): Pick<SampleSource, 'frontendName' | 'frontendId' |
  'backendName' | 'backendId'> {
  return { frontendName: fe.name, frontendId: fe.proxyId, backendName: backend?.name ?? fe.name,
    backendId: backend?.proxyId ?? fe.proxyId }
}

/** Sessions this process began (`%rt` of a log-format). */
let sessionsBegun = 0

export function startTcpSession (client: Socket, backend: Backend, fe: FrontendContext,
  addrs = socketAddresses(client)): void {
  const acceptedAt = Date.now()
  const sessionNumber = sessionsBegun++
  const srcIp = addrs.src
  const srcPort = addrs.srcPort
  const dstPort = addrs.dstPort
  let server: ServerState | undefined
  let upstream: Socket | undefined
  let connectMs = -1
  let queuedMs = -1
  let retries = 0
  let termination = '--'
  let finished = false
  let loggedEarly = false
  const fromServer = new ServerToClient(client)
  let bytesFromClient = 0
  backend.activeConnections++
  backend.totalSessions++

  const finish = (): void => {
    if (finished) return
    finished = true
    backend.activeConnections--
    if (server !== undefined) {
      backend.serverReleased(server)
      server.bytesIn += bytesFromClient
      server.bytesOut += fromServer.bytes
    }
    client.destroy()
    upstream?.destroy()
    addrs.counters?.addBytes(bytesFromClient, fromServer.bytes, Date.now())
    recordExchange({
      frontend: fe, backend, server, http: false, bytesIn: bytesFromClient, bytesOut: fromServer.bytes, tw: queuedMs,
        tc: connectMs,
      tt: Date.now() - acceptedAt, retries, termination, feconn: fe.connections(), beconn: backend.activeConnections,
        srvConn: server?.activeConnections
    })
    if (!fe.logging || loggedEarly) return
    if (fe.dontLogNull && bytesFromClient === 0 && fromServer.bytes === 0 && server === undefined) return
    logLine(false)
  }
  /** The `option tcplog` line; `early` (logasap: once connected): Tt and the bytes are so far. */
  const logLine = (early: boolean): void => {
    const severity = trafficSeverity(fe.logPolicy, { termination, retries })
    if (severity === undefined) return
    const line: SessionLog = {
      early,
      clientIp: srcIp, clientPort: srcPort, acceptedAt, frontend: fe.name, backend: backend.name,
      server: server?.name ?? '<NOSRV>', tw: queuedMs, tc: connectMs, tt: Date.now() - acceptedAt,
        bytesRead: fromServer.bytes,
      termination, actconn: fe.globalConnections(), feconn: fe.connections(), beconn: backend.activeConnections,
      srvConn: server?.activeConnections ?? 0, retries,
      srvQueue: server === undefined ? 0 : backend.admission.serverQueueLength(server),
        backendQueue: backend.admission.queueLength
    }
    const custom = fe.customLog
    if (custom === undefined) { fe.logTraffic(formatTcpLog(line), severity); return }
    const tls = tlsFacts(client)
    fe.logTraffic(custom({ ...line, http: false, tq: -1, tr: -1, status: 0, requestLine: '<BADREQ>', tls: tls !==
      undefined, frontendIp: addrs.dst, frontendPort: dstPort, serverIp: server?.host, serverPort: server?.port ??
      (server === undefined ? undefined : dstPort), sourceIp: upstream?.localAddress, sourcePort: upstream?.localPort,
      bytesUploaded: bytesFromClient, requestCounter: sessionNumber, sample, tlsCipher: tls?.cipher,
      tlsVersion: tls?.protocol }), severity)
  }

  client.on('error', () => { if (termination === '--') termination = 'CD'; finish() })
  client.pause()
  const tunnel = backend.config.timeouts.tunnel
  const clientTimeout = tunnel ?? fe.timeouts.client
  if (clientTimeout !== undefined) client.setTimeout(clientTimeout, () => { termination = 'cD'; finish() })
  client.on('close', () => { if (upstream === undefined) { termination = 'CC'; finish() } })

  const abort = new AbortController()
  client.once('close', () => { abort.abort() })
  const sample = { src: srcIp, srcPort, dst: addrs.dst, dstPort, tls: tlsFacts(client), counters: addrs.counters,
    listener: addrs.listener, ...frontendOf(fe, backend) }
  const sticky = backend.stick.empty ? undefined : backend.stick.match(sample, Date.now())
  const preferred = sticky !== undefined && (sticky.persistable || (backend.config.options.persist === true &&
    sticky.admin !== 'maint')) ? sticky : undefined
  backend.connect({ source: srcIp }, dstPort, { signal: () => abort.signal, preferred,
    forcePreferred: preferred !== undefined, onread: fromServer.onread, client: addrs, sample }).then(c => {
    if (!backend.stick.empty) backend.stick.store('request', sample, c.server, Date.now())
    server = c.server
    upstream = c.socket
    connectMs = c.connectMs
    queuedMs = c.queuedMs
    retries = c.retries
    if (client.destroyed) {
      termination = 'CC'
      finish()
      return
    }
    const up = upstream
    const serverTimeout = tunnel ?? backend.config.timeouts.server
    if (serverTimeout !== undefined) up.setTimeout(serverTimeout, () => { termination = 'sD'; finish() })
    up.on('error', () => { if (termination === '--') termination = 'SD'; finish() })
    let closed = 0
    const closedOne = (): void => { if (++closed === 2) finish() }
    client.on('close', closedOne)
    up.on('close', closedOne)
    if (fe.logAsap === true && fe.logging) {
      loggedEarly = true
      logLine(true)
    }
    fromServer.attach(up)
    relayClientToServer(client, up, n => { bytesFromClient += n })
    client.resume()
  }, (err: unknown) => {
    termination = connectTermination(err)
    if (err instanceof ConnectError) retries = backend.retries
    finish()
  })
}
