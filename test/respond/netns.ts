/**
 * Real networks for the isolation tests: network namespaces as hosts, an Open
 * vSwitch bridge on the userspace datapath between them, processes inside
 * them, and the one rule for missing tools: skip with the reason printed
 * locally, fail under CI (DESIGN.md §6).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const POOL = fileURLToPath(new URL('../sim/stratum-pool.mjs', import.meta.url));
export const CHATTER = fileURLToPath(new URL('./chatter.mjs', import.meta.url));
export const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
export const DEMINER = fileURLToPath(new URL('../../bin/deminer.js', import.meta.url));

function has(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

export function cannotNetns(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!has('ip', ['-V'])) return 'iproute2 (ip) is not installed';
  return undefined;
}

export function cannotOvs(): string | undefined {
  const why = cannotNetns();
  if (why) return why;
  if (!has('ovs-vsctl', ['--version']) || !has('ovs-ofctl', ['--version']))
    return 'Open vSwitch is not installed (apt-get install openvswitch-switch; .ci/run does)';
  return undefined;
}

export function cannotNft(): string | undefined {
  const why = cannotNetns();
  if (why) return why;
  if (!has('nft', ['--version'])) return 'nftables is not installed (apt-get install nftables; .ci/run does)';
  return undefined;
}

/** Skips with the reason locally; under CI a missing tool is a failure, never a silent pass. */
export function skipOrFail(t: TestContext, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (process.env['CI']) assert.fail(`required under CI: ${reason}`);
  process.stdout.write(`# skipping: ${reason}\n`);
  t.skip(reason);
  return true;
}

const OVS_CTL = '/usr/share/openvswitch/scripts/ovs-ctl';

/**
 * Makes sure ovsdb-server and ovs-vswitchd run; starts them when they do not.
 * Returns a function that stops what this started (nothing when they ran already).
 */
export function ensureOvs(): { stop: () => void; error?: string } {
  if (has('ovs-vsctl', ['--timeout=3', 'show'])) return { stop: () => {} };
  const r = spawnSync(OVS_CTL, ['start', '--system-id=random'], { encoding: 'utf8' });
  if (!has('ovs-vsctl', ['--timeout=5', 'show']))
    return { stop: () => {}, error: `could not start Open vSwitch with ${OVS_CTL}: ${r.stderr || r.stdout}` };
  return { stop: () => void spawnSync(OVS_CTL, ['stop'], { stdio: 'ignore' }) };
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Best effort, for cleanup: never throws. */
export function quiet(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

/** Checksums of TCP sent through veth are left to offload; the userspace datapath never fills them in. */
export function txOff(netns: string | undefined, dev: string): void {
  if (!has('ethtool', ['--version'])) return;
  const cmd = netns
    ? ['ip', ['netns', 'exec', netns, 'ethtool', '-K', dev, 'tx', 'off']]
    : ['ethtool', ['-K', dev, 'tx', 'off']];
  quiet(cmd[0] as string, cmd[1] as string[]);
}

/** A namespace host with one veth leg: `dev` inside (address `cidr`), `peer` outside. */
export function addHost(ns: string, dev: string, peer: string, cidr: string): void {
  sh('ip', ['netns', 'add', ns]);
  sh('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', peer]);
  sh('ip', ['link', 'set', dev, 'netns', ns]);
  sh('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', dev]);
  sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  sh('ip', ['link', 'set', peer, 'up']);
  txOff(ns, dev);
  txOff(undefined, peer);
}

export interface Proc {
  child: ChildProcess;
  lines: { text: string; at: number }[];
  waitFor(prefix: string, timeoutMs?: number): Promise<string>;
  stop(): void;
}

/** A process inside a namespace, its stdout lines timestamped as they arrive. */
export function inNs(ns: string, argv: string[], env: Record<string, string> = {}): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: { text: string; at: number }[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push({ text: buf.slice(0, i), at: Date.now() });
      buf = buf.slice(i + 1);
    }
  });
  child.stderr!.on('data', () => {});
  return {
    child,
    lines,
    waitFor(prefix, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          const hit = lines.find((l) => l.text.startsWith(prefix));
          if (hit) return resolve(hit.text);
          if (child.exitCode !== null)
            return reject(new Error(`exited ${child.exitCode} before "${prefix}"`));
          if (Date.now() - t0 > timeoutMs) return reject(new Error(`no "${prefix}" within ${timeoutMs} ms`));
          setTimeout(tick, 20);
        };
        tick();
      });
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** One stratum round trip from a namespace: true when the pool answered within the timeout. */
export function probe(ns: string, host: string, port: number, timeoutMs = 1000): boolean {
  return (
    spawnSync('ip', ['netns', 'exec', ns, process.execPath, PROBE, host, String(port), String(timeoutMs)], {
      stdio: 'ignore',
      timeout: timeoutMs + 5000,
    }).status === 0
  );
}

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The real `deminer` bin, optionally inside a namespace. */
export function deminer(
  args: string[],
  opts: { ns?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const argv = [process.execPath, DEMINER, ...args];
  const t0 = Date.now();
  const child = opts.ns
    ? spawn('ip', ['netns', 'exec', opts.ns, ...argv], { cwd: REPO, env: { ...process.env, ...opts.env } })
    : spawn(argv[0]!, argv.slice(1), { cwd: REPO, env: { ...process.env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`deminer ${args.join(' ')} timed out`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
