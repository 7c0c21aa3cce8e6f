/**
 * A backend for HTTP edge cases: WebSocket-style upgrade (echoes raw bytes after 101),
 * Expect: 100-continue (answers the body length), chunked responses, and closing after the
 * response (`/close`). Usage: node edge-server.ts PORT
 */
import { createServer } from 'node:http'

const port = Number(process.argv[2] ?? '8001')
const server = createServer((req, res) => {
  if (req.url === '/chunked') {
    res.write('part1-')
    setTimeout(() => { res.end('part2') }, 20)
    return
  }
  if (req.url === '/slow') {
    setTimeout(() => { res.end('slow answer') }, 1000)
    return
  }
  if (req.url === '/close') {
    res.setHeader('Connection', 'close')
    res.end('closing')
    return
  }
  let length = 0
  req.on('data', (b: Buffer) => { length += b.length })
  req.on('end', () => { res.end(`${req.method ?? ''} ${req.url ?? ''} body=${length}`) })
})
server.on('checkContinue', (req, res) => {
  res.writeContinue()
  server.emit('request', req, res)
})
server.on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
  socket.on('data', (b: Buffer) => { socket.write(b) })
})
server.keepAliveTimeout = 2000
server.listen(port, () => { process.stdout.write('listening\n') })
