// Test helper for the network-namespace lab built by scripts/lab.
//
//   const lab = useLab();                 // in a node:test suite: fresh lab before, torn down after
//   const lab = await labUp('tl1a2b3c-', '198.18.7');   // by hand; remember `await lab.down()`
//   await lab.exec('client', ['curl', '-s', `http://${lab.addr('web1')}/`]);
//
// Needs root (the lab creates namespaces, a bridge and veths); without it every entry point
// throws, so integration suites fail loudly rather than silently skipping.
// Set TSLB_LAB_KEEP=1 to leave a useLab() lab up after the suite, for poking at it.

import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before } from 'node:test';

const execFileAsync = promisify(execFile);

export const LAB_SCRIPT: string = fileURLToPath(new URL('../../scripts/lab', import.meta.url));

export const LAB_NODES = ['client', 'lb1', 'lb2', 'lb3', 'web1', 'web2', 'web3', 'web4'] as const;
export type LabNode = (typeof LAB_NODES)[number];
export const WEB_NODES: readonly LabNode[] = ['web1', 'web2', 'web3', 'web4'];
export const LB_NODES: readonly LabNode[] = ['lb1', 'lb2', 'lb3'];

const HOST_OCTET: Record<LabNode, number> = {
  client: 2,
  lb1: 11,
  lb2: 12,
  lb3: 13,
  web1: 21,
  web2: 22,
  web3: 23,
  web4: 24,
};

export const DEFAULT_PREFIX = 'tslb-';
export const DEFAULT_NET = '198.18.0';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** exit status; 128+N when killed by signal N (as a shell reports it) */
  code: number;
  signal: NodeJS.Signals | null;
}

export interface ExecOptions {
  /** kill the command after this many milliseconds (default 30 s) */
  timeoutMs?: number;
  /** extra environment for the command */
  env?: Record<string, string>;
}

export interface Lab {
  readonly prefix: string;
  /** first three octets of the lab /24, e.g. "198.18.0" */
  readonly net: string;
  readonly nodes: readonly LabNode[];
  /** address of the bridge in the root namespace (NET.1) */
  readonly hostAddr: string;
  /** the two addresses reserved for VIPs (NET.100, NET.101); the lab never assigns them */
  readonly vips: readonly [string, string];
  /** IPv4 address of a node's eth0 */
  addr(node: LabNode): string;
  /** network namespace name of a node */
  ns(node: LabNode): string;
  /** run argv inside the node's namespace; never rejects on a non-zero exit status */
  exec(node: LabNode, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** start a long-running process inside the node's namespace (caller must kill it) */
  spawn(node: LabNode, argv: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** pids of the processes in the node's namespace (`ip netns pids`) */
  pids(node: LabNode): Promise<number[]>;
  /** `scripts/lab status` for this lab */
  status(): Promise<ExecResult>;
  /** `scripts/lab up` again (idempotent; repairs a damaged lab) */
  up(): Promise<void>;
  /** `scripts/lab down` (idempotent) */
  down(): Promise<void>;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function assertRoot(): void {
  if (!isRoot()) {
    throw new Error(
      'the tslb lab needs root (network namespaces, bridge, veths): run the integration tests as root, e.g. `sudo scripts/test`',
    );
  }
}

/**
 * A fresh prefix such as "tl1a2b3c-" (9 characters, so every link name stays <= 15) whose /24
 * (netForPrefix) no interface of the root namespace uses: labs of concurrent runs do not collide.
 */
export function uniquePrefix(): string {
  let inUse = '';
  try {
    inUse = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  } catch {
    // no ip(8): the lab cannot come up anyway, and says so
  }
  for (let i = 0; ; i++) {
    const prefix = `tl${randomBytes(3).toString('hex')}-`;
    if (i >= 50 || !inUse.includes(` ${netForPrefix(prefix)}.`)) return prefix;
  }
}

/**
 * The lab /24 for a prefix: DEFAULT_NET for the default prefix, otherwise 198.18.N with N in
 * 1..254 derived from the prefix, so labs with different prefixes can coexist.
 */
export function netForPrefix(prefix: string): string {
  if (prefix === DEFAULT_PREFIX) return DEFAULT_NET;
  const digest = createHash('sha1').update(prefix).digest();
  const n = 1 + (digest.readUInt16BE(0) % 254);
  return `198.18.${n}`;
}

interface ChildError {
  code?: unknown;
  signal?: unknown;
  stdout?: unknown;
  stderr?: unknown;
}

function signalNumber(signal: NodeJS.Signals): number {
  const signals: Record<string, number> = osConstants.signals;
  return signals[signal] ?? 0;
}

async function run(file: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await execFileAsync(file, [...argv], {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 30_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, ...opts.env },
    });
    return { stdout, stderr, code: 0, signal: null };
  } catch (err: unknown) {
    if (typeof err !== 'object' || err === null) throw err;
    const e = err as ChildError;
    const stdout = typeof e.stdout === 'string' ? e.stdout : '';
    const stderr = typeof e.stderr === 'string' ? e.stderr : '';
    if (typeof e.code === 'number') return { stdout, stderr, code: e.code, signal: null };
    if (typeof e.signal === 'string') {
      const signal = e.signal as NodeJS.Signals;
      return { stdout, stderr, code: 128 + signalNumber(signal), signal };
    }
    // spawn failure (ENOENT, EACCES, ...): not an exit status, so a real error
    throw err;
  }
}

function labEnv(prefix: string, net: string): Record<string, string> {
  return { TSLB_LAB_PREFIX: prefix, TSLB_LAB_NET: net };
}

/** Run `scripts/lab ARGS...` for the lab (prefix, net). */
export function labScript(prefix: string, net: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run(LAB_SCRIPT, args, { timeoutMs: 180_000, ...opts, env: { ...opts.env, ...labEnv(prefix, net) } });
}

function describeFailure(what: string, r: ExecResult): string {
  return `${what} failed (exit ${r.code})\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** A handle on the lab (prefix, net); does not bring anything up by itself. */
export function labHandle(prefix: string = DEFAULT_PREFIX, net: string = netForPrefix(prefix)): Lab {
  const ns = (node: LabNode): string => `${prefix}${node}`;
  const check = (node: LabNode): void => {
    if (!(LAB_NODES as readonly string[]).includes(node)) throw new Error(`unknown lab node '${node}'`);
  };
  return {
    prefix,
    net,
    nodes: LAB_NODES,
    hostAddr: `${net}.1`,
    vips: [`${net}.100`, `${net}.101`],
    addr(node) {
      check(node);
      return `${net}.${HOST_OCTET[node]}`;
    },
    ns(node) {
      check(node);
      return ns(node);
    },
    exec(node, argv, opts) {
      check(node);
      assertRoot();
      return run('ip', ['netns', 'exec', ns(node), ...argv], opts);
    },
    spawn(node, argv, opts = {}) {
      check(node);
      assertRoot();
      return spawn('ip', ['netns', 'exec', ns(node), ...argv], opts);
    },
    async pids(node) {
      check(node);
      assertRoot();
      const r = await run('ip', ['netns', 'pids', ns(node)]);
      if (r.code !== 0) throw new Error(describeFailure(`ip netns pids ${ns(node)}`, r));
      return r.stdout.split('\n').filter((l) => l.trim() !== '').map(Number);
    },
    status() {
      assertRoot();
      return labScript(prefix, net, ['status']);
    },
    async up() {
      assertRoot();
      const r = await labScript(prefix, net, ['up']);
      if (r.code !== 0) throw new Error(describeFailure(`scripts/lab up (prefix ${prefix}, net ${net}.0/24)`, r));
    },
    async down() {
      assertRoot();
      const r = await labScript(prefix, net, ['down']);
      if (r.code !== 0) throw new Error(describeFailure(`scripts/lab down (prefix ${prefix})`, r));
    },
  };
}

/** Bring up (or repair) the lab with this prefix and /24 and return a handle on it. */
export async function labUp(prefix: string = DEFAULT_PREFIX, net: string = netForPrefix(prefix)): Promise<Lab> {
  assertRoot();
  const lab = labHandle(prefix, net);
  await lab.up();
  return lab;
}

/**
 * For node:test suites: registers a `before` hook that brings up a fresh lab (tearing down any
 * leftover with the same prefix first) and an `after` hook that takes it down. Call it at the
 * top of a `describe` body (or of the file); the returned handle works once `before` has run.
 */
export function useLab(prefix: string = uniquePrefix(), net: string = netForPrefix(prefix)): Lab {
  const lab = labHandle(prefix, net);
  before(async () => {
    assertRoot();
    await lab.down();
    await lab.up();
  });
  after(async () => {
    if (process.env['TSLB_LAB_KEEP'] === '1') {
      process.stderr.write(`TSLB_LAB_KEEP=1: leaving lab ${prefix} (${net}.0/24) up; TSLB_LAB_PREFIX=${prefix} TSLB_LAB_NET=${net} scripts/lab down\n`);
      return;
    }
    if (isRoot()) await lab.down();
  });
  return lab;
}
