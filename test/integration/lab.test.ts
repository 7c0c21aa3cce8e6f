// Integration test for scripts/lab: builds a lab under a unique prefix and its own /24, checks
// the contract (addressing, nginx on the web nodes, bridge reachability, multicast, status,
// exec) and that `down` leaves nothing behind. Needs root.

import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  LAB_NODES,
  WEB_NODES,
  labScript,
  netForPrefix,
  uniquePrefix,
  useLab,
  type LabNode,
} from '../helpers/lab.ts';

const prefix = uniquePrefix();
const net = netForPrefix(prefix);

async function pathExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** pids of processes still alive (zombies count as dead) */
async function alive(pids: readonly number[]): Promise<number[]> {
  const out: number[] = [];
  for (const pid of pids) {
    try {
      const st = await readFile(`/proc/${pid}/stat`, 'utf8');
      const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') out.push(pid);
    } catch {
      // gone
    }
  }
  return out;
}

/** pids whose command line mentions this lab's runtime directory */
async function labProcesses(): Promise<number[]> {
  const needle = `/run/tslb-lab/${prefix}/`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // raced with exit
    }
  }
  return pids;
}

void describe(`scripts/lab (prefix ${prefix}, net ${net}.0/24)`, () => {
  const lab = useLab(prefix, net);
  const nsPids = new Map<LabNode, number[]>();

  void it('assigns the contract addresses', () => {
    assert.equal(lab.hostAddr, `${net}.1`);
    assert.equal(lab.addr('client'), `${net}.2`);
    assert.deepEqual(
      ['lb1', 'lb2', 'lb3'].map((n) => lab.addr(n as LabNode)),
      [`${net}.11`, `${net}.12`, `${net}.13`],
    );
    assert.deepEqual(
      WEB_NODES.map((n) => lab.addr(n)),
      [`${net}.21`, `${net}.22`, `${net}.23`, `${net}.24`],
    );
    assert.deepEqual(lab.vips, [`${net}.100`, `${net}.101`]);
  });

  void it('gives every node eth0 with its address, lo up, and nothing else', async () => {
    for (const node of LAB_NODES) {
      const r = await lab.exec(node, ['ip', '-o', '-4', 'addr', 'show']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`\\beth0\\s+inet ${lab.addr(node).replaceAll('.', '\\.')}/24 `), `${node}: ${r.stdout}`);
      assert.match(r.stdout, /\blo\s+inet 127\.0\.0\.1\/8/, `${node}: lo`);
      const routes = await lab.exec(node, ['ip', '-4', 'route', 'show', 'default']);
      assert.equal(routes.stdout.trim(), '', `${node} must have no default route`);
      const dad = await lab.exec(node, ['cat', '/proc/sys/net/ipv6/conf/eth0/accept_dad']);
      assert.equal(dad.stdout.trim(), '0', `${node} accept_dad`);
    }
  });

  void it('serves each web node by name from the client namespace', async () => {
    for (const node of WEB_NODES) {
      for (const port of [80, 81]) {
        for (const path of ['/', '/index.html']) {
          const r = await lab.exec('client', ['curl', '-sS', '--max-time', '3', `http://${lab.addr(node)}:${port}${path}`]);
          assert.equal(r.code, 0, `${node}:${port}${path}: ${r.stderr}`);
          assert.equal(r.stdout, `${node}\n`, `${node}:${port}${path}`);
        }
      }
      const health = await lab.exec('client', [
        'curl', '-sS', '--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}', `http://${lab.addr(node)}/health`,
      ]);
      assert.equal(health.stdout, '200', `${node} /health`);
    }
  });

  void it('echoes X-Forwarded-For and Cookie, sets X-Served-By and no Set-Cookie', async () => {
    const r = await lab.exec('client', [
      'curl', '-sS', '-i', '--max-time', '3',
      '-H', 'X-Forwarded-For: 198.18.0.2',
      '-H', 'Cookie: SRV=web3; a=b',
      `http://${lab.addr('web3')}/echo-headers`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [head = '', body] = r.stdout.split('\r\n\r\n');
    assert.equal(body, 'xff=198.18.0.2\ncookie=SRV=web3; a=b\n');
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.match(head, /\r\nX-Served-By: web3(\r\n|$)/i);
    assert.doesNotMatch(head, /set-cookie/i);
  });

  void it('lets lb1 reach lb2 over the bridge', async () => {
    const r = await lab.exec('lb1', ['ping', '-c', '1', '-W', '3', lab.addr('lb2')]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    const neigh = await lab.exec('lb1', ['ip', 'neigh', 'show', lab.addr('lb2')]);
    assert.match(neigh.stdout, /lladdr 02:00:c6:/);
  });

  void it('carries VRRP multicast (224.0.0.18, protocol 112) from lb1 to lb2', async () => {
    const dump = lab.spawn('lb2', ['tcpdump', '-n', '-l', '-i', 'eth0', '-c', '1', 'ip', 'proto', '112'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      let err = '';
      dump.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      dump.stderr?.on('data', (b: Buffer) => (err += b.toString()));
      const exited = once(dump, 'exit');
      for (let i = 0; i < 100 && !err.includes('listening on'); i++) await sleep(50);
      assert.match(err, /listening on/, `tcpdump did not start: ${err}`);
      for (let i = 0; i < 20 && dump.exitCode === null; i++) {
        const s = await lab.exec('lb1', [
          'sh', '-c',
          `printf 'advert' | socat -u - IP4-SENDTO:224.0.0.18:112,ip-multicast-ttl=255,ip-multicast-if=${lab.addr('lb1')}`,
        ]);
        assert.equal(s.code, 0, s.stderr);
        await Promise.race([exited, sleep(250)]);
      }
      await Promise.race([exited, sleep(2000)]);
      assert.match(out, new RegExp(`${lab.addr('lb1').replaceAll('.', '\\.')} > 224\\.0\\.0\\.18`), `tcpdump saw: ${out} ${err}`);
    } finally {
      if (dump.exitCode === null) dump.kill('SIGKILL');
    }
  });

  void it('lets the host reach a web node', async () => {
    const res = await fetch(`http://${lab.addr('web1')}/`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-served-by'), 'web1');
    assert.equal(await res.text(), 'web1\n');
  });

  void it('reports a healthy lab with `status`', async () => {
    const r = await lab.status();
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    for (const node of LAB_NODES) assert.match(r.stdout, new RegExp(`^${node}\\s+${lab.ns(node)}\\s`, 'm'));
  });

  void it('passes exit status through `exec` and rejects bad usage with 2', async () => {
    const r = await labScript(prefix, net, ['exec', 'web2', 'sh', '-c', 'echo hi; exit 7']);
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'hi\n');
    assert.equal((await labScript(prefix, net, ['exec', 'web9', 'true'])).code, 2);
    assert.equal((await labScript(prefix, net, ['frobnicate'])).code, 2);
  });

  void it('is idempotent: a second `up` keeps one nginx per web node', async () => {
    const before = new Map<LabNode, string>();
    for (const node of WEB_NODES) {
      before.set(node, (await readFile(`/run/tslb-lab/${prefix}/${node}/nginx.pid`, 'utf8')).trim());
    }
    await lab.up();
    for (const node of WEB_NODES) {
      const pid = (await readFile(`/run/tslb-lab/${prefix}/${node}/nginx.pid`, 'utf8')).trim();
      assert.equal(pid, before.get(node), `${node}: nginx was restarted`);
      const pids = await lab.pids(node);
      assert.equal(pids.length, 2, `${node}: expected nginx master + 1 worker, got ${pids.join(' ')}`);
    }
  });

  void it('repairs a damaged lab', async () => {
    const pid = Number((await readFile(`/run/tslb-lab/${prefix}/web3/nginx.pid`, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    const damage = await labScript(prefix, net, ['exec', 'lb3', 'ip', 'link', 'set', 'eth0', 'down']);
    assert.equal(damage.code, 0);
    assert.equal((await lab.status()).code, 1);
    await lab.up();
    assert.equal((await lab.status()).code, 0);
  });

  void it('`down` removes namespaces, links, processes and the runtime dir (twice)', async () => {
    for (const node of WEB_NODES) nsPids.set(node, await lab.pids(node));
    const allPids = [...nsPids.values()].flat();
    assert.ok(allPids.length >= 8, `expected nginx processes, got ${allPids.join(' ')}`);

    await lab.down();
    await lab.down();

    const netns = await readdir('/run/netns').catch(() => [] as string[]);
    assert.deepEqual(netns.filter((n) => n.startsWith(prefix)), [], 'namespaces left');
    const links = await readdir('/sys/class/net');
    assert.deepEqual(links.filter((n) => n.startsWith(prefix)), [], 'links left');
    assert.deepEqual(await alive(allPids), [], 'processes of the lab survived');
    assert.deepEqual(await labProcesses(), [], 'processes mentioning the lab runtime dir survived');
    assert.equal(await pathExists(`/run/tslb-lab/${prefix}`), false, 'runtime dir left');
    const st = await labScript(prefix, net, ['status']);
    assert.equal(st.code, 1, 'status of a removed lab must fail');
  });
});
