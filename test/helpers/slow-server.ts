/**
 * A backend for admission tests: answers every request after a delay and counts how many it
 * serves at once. GET /stats answers {"max": N, "total": N, "current": N}; GET /reset clears.
 * Usage: node slow-server.ts PORT DELAY_MS NAME
 */
import { createServer } from 'node:http'

const [portText = '8000', delayText = '50', name = 'slow'] = process.argv.slice(2)
let current = 0
let max = 0
let total = 0
createServer((req, res) => {
  if (req.url === '/stats') {
    res.end(JSON.stringify({ max, total, current }))
    return
  }
  if (req.url === '/reset') {
    max = 0
    total = 0
    res.end('ok')
    return
  }
  current++
  total++
  max = Math.max(max, current)
  setTimeout(() => {
    current--
    res.end(`${name}\n`)
  }, Number(delayText))
}).listen(Number(portText), () => { process.stdout.write('listening\n') })
