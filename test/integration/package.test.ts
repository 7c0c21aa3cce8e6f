/**
 * The Debian package as an operator meets it: `scripts/package` builds it; in a fresh
 * systemd-nspawn container (an overlay on scripts/lab-systemd's cached debootstrap root, no
 * network, nothing of tslb in it) `apt install ./tslb_….deb` installs it, `systemctl start tslb`
 * serves, and `apt remove` takes the product away but leaves the edited configuration.
 * Set TSLB_DEB=PATH to test a package already built.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { basename, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NAME = `tslbpkg-${randomBytes(3).toString('hex')}`
const WORK = mkdtempSync(`/var/tmp/${NAME}-`)

interface Run { code: number, stdout: string, stderr: string }

async function run (argv: string[], timeoutMs = 120_000): Promise<Run> {
  return await new Promise(resolve => {
    execFile(argv[0] as string, argv.slice(1), { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

async function must (argv: string[], timeoutMs?: number): Promise<string> {
  const r = await run(argv, timeoutMs)
  assert.equal(r.code, 0, `${argv.join(' ')} failed:\n${r.stdout}${r.stderr}`)
  return r.stdout
}

let deb = process.env['TSLB_DEB'] ?? ''
let base = ''
let locker: ChildProcess | undefined
let nspawn: ChildProcess | undefined
let leader = 0
const root = join(WORK, 'root')

/** A command inside the booted container, as root, with a clean environment. */
async function inside (argv: string[], timeoutMs?: number): Promise<Run> {
  return await run(['nsenter', '-t', String(leader), '-a', 'env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'DEBIAN_FRONTEND=noninteractive', ...argv], timeoutMs)
}

async function findLeader (pid: number): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const children = (() => { try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() } catch { return '' } })()
    const first = Number(children.split(' ')[0])
    if (first > 0 && readFileSync(`/proc/${first}/comm`, 'utf8').trim() === 'systemd') return first
    await sleep(100)
  }
  throw new Error('no systemd in the container after 30 s')
}

describe('Debian package', () => {
  before(async () => {
    if (deb === '') {
      const out = join(WORK, 'out')
      mkdirSync(out)
      deb = (await must([join(ROOT, 'scripts/package'), '--out', out], 900_000)).trim().split('\n').at(-1) ?? ''
    }
    base = (await must([join(ROOT, 'scripts/lab-systemd'), 'base'], 900_000)).trim()
    // Held while the container runs on the base: lab-systemd rebuilds it only under this lock.
    // The holder waits on its stdin: when this process ends, however it ends, the lock goes.
    locker = spawn('flock', ['-w', '900', join(base, '..', '.lock'), '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'inherit'] })
    await new Promise<void>((resolve, reject) => {
      locker?.stdout?.once('data', () => { resolve() })
      locker?.once('exit', code => { reject(new Error(`flock on the lab cache exited ${code ?? 'by a signal'}`)) })
    })
    for (const d of ['upper', 'work', 'root']) mkdirSync(join(WORK, d))
    await must(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${join(WORK, 'upper')},workdir=${join(WORK, 'work')}`, root])
    writeFileSync(join(root, 'etc/hostname'), 'pkgtest\n')
    copyFileSync(deb, join(root, 'root', basename(deb)))
    await must(['ip', 'netns', 'add', NAME])
    await must(['ip', '-n', NAME, 'link', 'set', 'lo', 'up'])
    const log = openSync(join(WORK, 'nspawn.log'), 'w')
    nspawn = spawn('systemd-nspawn', ['--quiet', '-D', root, '--register=no', '--keep-unit', '--boot', `--network-namespace-path=/run/netns/${NAME}`,
      '--hostname=pkgtest', `--machine=${NAME}`, '--console=pipe', '--capability=CAP_NET_ADMIN'], { stdio: ['ignore', log, log], detached: true })
    closeSync(log)
    leader = await findLeader(nspawn.pid ?? 0)
    // Until the container's systemd answers on its bus, the state reads '' or 'offline'.
    let state = ''
    for (let i = 0; i < 100 && ['', 'offline', 'unknown'].includes(state); i++) {
      state = (await inside(['systemctl', 'is-system-running', '--wait'], 120_000)).stdout.trim()
      if (['', 'offline', 'unknown'].includes(state)) await sleep(200)
    }
    assert.ok(state === 'running' || state === 'degraded', `container booted '${state}'`)
  })

  after(async () => {
    if (leader > 0) {
      await run(['kill', '-s', 'SIGRTMIN+4', String(leader)]) // systemd: power off
      for (let i = 0; i < 200 && nspawn?.exitCode === null; i++) await sleep(100)
    }
    if (nspawn?.exitCode === null) nspawn.kill('SIGKILL')
    await run(['umount', root])
    await run(['ip', 'netns', 'delete', NAME])
    locker?.stdin?.end()
    rmSync(WORK, { recursive: true, force: true })
  })

  test('apt install ./tslb_VERSION_amd64.deb in a container without tslb or Node', async () => {
    assert.match(deb, /\/tslb_\d+\.\d+\.\d+_amd64\.deb$/)
    assert.equal(existsSync(join(root, 'opt/tslb-node-24')), false)
    assert.notEqual((await inside(['sh', '-c', 'command -v node'])).code, 0)
    const r = await inside(['sh', '-c', `cd /root && apt install -y ./${basename(deb)}`], 300_000)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match((await inside(['tslb', '-vv'])).stdout, /Executable: \/opt\/tslb\/node\/bin\/node\n[\s\S]*raw-socket [\d.]+: loads/)
    for (const f of ['/usr/share/man/man1/tslb.1.gz', '/usr/share/man/man5/tslb.cfg.5.gz', '/usr/share/bash-completion/completions/tslb', '/lib/systemd/system/tslb.service', '/etc/tslb/tslb.cfg']) {
      assert.ok(existsSync(join(root, f)), `${f} installed`)
    }
    assert.match((await inside(['getent', 'passwd', 'tslb'])).stdout, /^tslb:/)
    assert.equal((await inside(['systemctl', 'is-enabled', 'tslb'])).stdout.trim(), 'enabled')
    assert.equal((await inside(['dpkg-query', '-W', '-f', '${Conffiles}', 'tslb'])).stdout.trim().split(' ')[0], '/etc/tslb/tslb.cfg')
  })

  test('systemctl start tslb serves the example configuration', async () => {
    const backend = await inside(['systemd-run', '--unit=pkg-backend', '--', 'python3', '-m', 'http.server', '8080', '--bind', '127.0.0.1', '--directory', '/usr/share/doc/tslb'])
    assert.equal(backend.code, 0, backend.stderr)
    const start = await inside(['systemctl', 'start', 'tslb'], 120_000)
    assert.equal(start.code, 0, start.stderr + (await inside(['journalctl', '-u', 'tslb', '-n', '30', '--no-pager'])).stdout)
    assert.equal((await inside(['systemctl', 'is-active', 'tslb'])).stdout.trim(), 'active')
    let body = ''
    for (let i = 0; i < 50 && !body.includes('copyright'); i++) {
      body = (await inside(['curl', '-s', '--max-time', '2', 'http://127.0.0.1/'])).stdout
      if (!body.includes('copyright')) await sleep(100)
    }
    assert.match(body, /copyright/)
    const status = await inside(['tslb', 'status', '-S', '/run/tslb/master.sock'])
    assert.equal(status.code, 0, status.stderr)
    assert.match(status.stdout, /config \/etc\/tslb\/tslb.cfg\n/)
  })

  test('apt remove stops it and removes the product, the edited configuration stays; purge removes it', async () => {
    await inside(['sh', '-c', 'echo "# edited by the operator" >> /etc/tslb/tslb.cfg'])
    const r = await inside(['apt-get', 'remove', '-y', 'tslb'], 120_000)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(existsSync(join(root, 'opt/tslb/bin/tslb')), false)
    assert.equal(existsSync(join(root, 'lib/systemd/system/tslb.service')), false)
    assert.match(readFileSync(join(root, 'etc/tslb/tslb.cfg'), 'utf8'), /# edited by the operator\n$/)
    assert.notEqual((await inside(['systemctl', 'is-active', 'tslb'])).stdout.trim(), 'active')
    const purge = await inside(['apt-get', 'purge', '-y', 'tslb'], 120_000)
    assert.equal(purge.code, 0, purge.stdout + purge.stderr)
    assert.equal(existsSync(join(root, 'etc/tslb/tslb.cfg')), false)
  })
})
