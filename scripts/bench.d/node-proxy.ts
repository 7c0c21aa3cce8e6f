/**
 * The "plain Node proxy" baseline of `scripts/bench proxy`: what a Node developer writes in an
 * afternoon, done properly. HTTP: a `node:http` server, `http.request` through a keep-alive
 * `http.Agent` (LIFO, sockets per backend sized to the client concurrency), bodies piped both
 * ways, hop-by-hop headers dropped, X-Forwarded-For added, roundrobin over the backends.
 * TCP: `net` server, `net.connect` to the next backend, `pipe` both ways.
 *
 *   node scripts/bench.d/node-proxy.ts --http HOST:PORT --tcp HOST:PORT --backends H:P,H:P,...
 *        [--max-sockets N]
 */
import { Agent, createServer as createHttpServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { connect, createServer as createTcpServer } from 'node:net'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    http: { type: 'string' },
    tcp: { type: 'string' },
    backends: { type: 'string' },
    'max-sockets': { type: 'string', default: '64' }
  }
})

function hostPort (s: string): { host: string, port: number } {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) }
}

if (values.backends === undefined) throw new Error('--backends is required')
const backends = values.backends.split(',').map(hostPort)
const maxSockets = Number(values['max-sockets'])
const agent = new Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo', timeout: 30_000 })

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

function endToEnd (headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v
  }
  return out
}

let nextHttp = 0
if (values.http !== undefined) {
  const { host, port } = hostPort(values.http)
  const server = createHttpServer({ keepAliveTimeout: 10_000, noDelay: true }, (req, res) => {
    const b = backends[nextHttp++ % backends.length] as { host: string, port: number }
    const headers = endToEnd(req.headers)
    const xff = req.headers['x-forwarded-for']
    headers['x-forwarded-for'] = xff === undefined ? req.socket.remoteAddress : `${String(xff)}, ${req.socket.remoteAddress ?? ''}`
    const up = request({ host: b.host, port: b.port, method: req.method, path: req.url, headers, agent }, ur => {
      res.writeHead(ur.statusCode ?? 502, endToEnd(ur.headers))
      ur.pipe(res)
    })
    up.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' })
        res.end('bad gateway\n')
      } else {
        res.destroy()
      }
    })
    req.pipe(up)
  })
  server.listen(port, host)
}

let nextTcp = 0
if (values.tcp !== undefined) {
  const { host, port } = hostPort(values.tcp)
  const server = createTcpServer({ noDelay: true }, client => {
    const b = backends[nextTcp++ % backends.length] as { host: string, port: number }
    const up = connect({ host: b.host, port: b.port, noDelay: true })
    const kill = (): void => { client.destroy(); up.destroy() }
    client.on('error', kill)
    up.on('error', kill)
    client.on('close', kill)
    up.on('close', kill)
    client.pipe(up)
    up.pipe(client)
  })
  server.listen(port, host)
}
