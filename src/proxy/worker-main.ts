/**
 * Entry point of a proxy worker process, forked by the supervisor. It receives the parsed
 * configuration and the listening handles over IPC, serves, and drains when told to.
 * Messages: in {type:'config'}, {type:'listener', key} + handle, {type:'start'}, {type:'drain', hardStopAfter};
 * out {type:'ready'}, {type:'failed', error}, {type:'drained'}.
 */
import type { Config } from '../config/model.ts'
import { createLogger } from '../util/log.ts'
import { Engine } from './engine.ts'
import { startHttpSession } from './http/session.ts'
import { LogSinks } from './log/sink.ts'

const log = createLogger('tslb-worker')
const handles = new Map<string, object>()
let config: Config | undefined
let engine: Engine | undefined

interface WorkerMessage {
  readonly type: string
  readonly key?: string
  readonly config?: Config
  readonly hardStopAfter?: number
}

function send (msg: object): void {
  if (process.send !== undefined && process.connected) process.send(msg)
}

process.on('message', (msg: WorkerMessage, handle: object | undefined) => {
  switch (msg.type) {
    case 'config': config = msg.config; break
    case 'listener': if (msg.key !== undefined && handle !== undefined) handles.set(msg.key, handle); break
    case 'start':
      try {
        if (config === undefined) throw new Error('no configuration received')
        const sinks = new LogSinks(log)
        const global = config.global
        engine = new Engine(config, { logFor: proxy => sinks.forProxy(proxy, global), startHttp: startHttpSession })
        engine.listen(handles)
        engine.startChecks(global, (level, line) => { log[level]({ type: 'health' }, line) })
        log.info({ frontends: engine.frontends.length, backends: engine.backends.size }, 'worker serving')
        send({ type: 'ready' })
      } catch (err) {
        send({ type: 'failed', error: err instanceof Error ? err.message : String(err) })
        process.exit(1)
      }
      break
    case 'drain': void drain(msg.hardStopAfter ?? 300_000); break
  }
})

async function drain (hardStopAfter: number): Promise<void> {
  if (engine === undefined) process.exit(0)
  engine.stopAccepting()
  engine.close()
  log.info({ connections: engine.activeConnections }, 'draining')
  const timer = setTimeout(() => {
    log.warn({ connections: engine?.activeConnections }, 'hard-stop-after reached: closing remaining connections')
    process.exit(0)
  }, hardStopAfter)
  timer.unref()
  await engine.idle()
  send({ type: 'drained' })
  process.exit(0)
}

// The supervisor owns this process: when it goes away, so do we.
process.on('disconnect', () => { process.exit(0) })
