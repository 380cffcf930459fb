import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const NS = `deminer-sniff-${process.pid}`;

function can(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  if (spawnSync('tcpdump', ['--version']).status !== 0) return 'tcpdump is not installed';
  return undefined;
}

function waitFor(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(text)) resolve();
    });
    child.once('exit', (c) => reject(new Error(`exited ${c} before "${text}"`)));
  });
}

test(
  'deminer sniff -i on an interface in a network namespace sees a miner log in to a local pool',
  { timeout: 120_000 },
  async (t) => {
    const why = can();
    if (why) return t.skip(why);
    assert.equal(spawnSync('ip', ['netns', 'add', NS]).status, 0);
    const procs: ChildProcess[] = [];
    try {
      const ns = (cmd: string[]) => ['netns', 'exec', NS, ...cmd];
      // A veth pair inside the namespace: the miner on 10.9.0.2, the pool on a documentation address.
      for (const args of [
        ['link', 'set', 'lo', 'up'],
        ['link', 'add', 'mine0', 'type', 'veth', 'peer', 'name', 'pool0'],
        ['addr', 'add', '10.9.0.2/24', 'dev', 'mine0'],
        ['addr', 'add', '198.51.100.10/24', 'dev', 'pool0'],
        ['link', 'set', 'mine0', 'up'],
        ['link', 'set', 'pool0', 'up'],
      ])
        assert.equal(spawnSync('ip', ns(['ip', ...args])).status, 0, args.join(' '));
      const pool = spawn('ip', ns([process.execPath, join(here, 'stratum-peers.mjs'), 'pool', '7000']), {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      procs.push(pool);
      await waitFor(pool, 'ready');
      const sniff = spawn(
        'ip',
        ns([
          process.execPath,
          join(root, 'bin', 'deminer.js'),
          'sniff',
          '-i',
          'any',
          '--duration',
          '45s',
          '--format',
          'jsonl',
        ]),
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      procs.push(sniff);
      let out = '';
      let err = '';
      sniff.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      sniff.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const done = new Promise<number | null>((resolve) => sniff.once('exit', (c) => resolve(c)));
      // The miner connects only once tcpdump has the interface open.
      const t0 = Date.now();
      while (!err.includes('capturing on') && Date.now() - t0 < 30_000)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(err, /capturing on any/);
      const client = spawnSync(
        'ip',
        ns([process.execPath, join(here, 'stratum-peers.mjs'), 'client', '198.51.100.10', '7000']),
        { timeout: 30_000 },
      );
      assert.equal(client.status, 0);
      // Stop the capture the way a person would (Ctrl-C); sniff then reports what it saw.
      await new Promise((r) => setTimeout(r, 1000));
      sniff.kill('SIGINT');
      const code = await done;
      const findings = out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as {
              rule: { id: string };
              severity: string;
              evidence: Record<string, unknown>;
              source?: { ip: string };
            },
        );
      const mining = findings.find((f) => f.rule.id === 'deminer.network.mining_protocol');
      assert.ok(mining, `no mining finding; stderr: ${err}`);
      assert.equal(mining.severity, 'critical');
      // Both ends live in one namespace, so the kernel may pick either local address as the source.
      assert.ok(['10.9.0.2', '198.51.100.10'].includes(mining.source?.ip ?? ''));
      assert.match(String(mining.evidence['agent']), /^XMRig\/6\.21\.0/);
      assert.match(String(mining.evidence['wallet_or_worker']), /^48edf/);
      assert.equal(code, 1);
    } finally {
      for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
      spawnSync('ip', ['netns', 'del', NS]);
    }
  },
);
