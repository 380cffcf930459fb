/**
 * End to end: real processes that behave like hidden miners (test/sim), a
 * real stratum pool on loopback, the real /proc, and the real `deminer` bin.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Finding } from '../../src/core/finding.ts';
import {
  cannotNetns,
  cannotRun,
  cleanup,
  dropSim,
  onCleanup,
  runDeminer,
  startPool,
  startSim,
  WALLET,
} from '../sim/harness.ts';

interface ScanJson {
  host: { name: string };
  findings: Finding[];
  stats: Record<string, number>;
}

const reason = cannotRun();

function signalIds(f: Finding): string[] {
  return ((f.evidence['signals'] as { id: string }[] | undefined) ?? []).map((s) => s.id);
}

const HIGH = new Set(['high', 'critical']);

function parseScan(r: { status: number; stdout: string; stderr: string }): ScanJson {
  assert.ok(
    r.stdout.trim().startsWith('{'),
    `scan printed no JSON (exit ${r.status}): ${r.stderr.slice(0, 2000)}`,
  );
  return JSON.parse(r.stdout) as ScanJson;
}

/** Ordinary processes of this machine and this test (runner, pool, services) must stay below high. */
function assertNoOtherHigh(json: ScanJson, simPids: number[], testRoot: string): void {
  const noisy = json.findings.filter(
    (f) =>
      HIGH.has(f.severity) &&
      !(f.process?.pid !== undefined && simPids.includes(f.process.pid)) &&
      !(
        typeof f.evidence['file'] === 'string' &&
        (f.evidence['file'] as string).startsWith('/etc/cron.d/deminer-test')
      ),
  );
  assert.deepEqual(
    noisy.map(
      (f) => `${f.severity} ${f.rule.id} ${f.process?.pid ?? ''} ${f.process?.name ?? ''}: ${f.message}`,
    ),
    [],
    `testRoot ${testRoot}`,
  );
}

describe('deminer scan finds simulated hidden miners', { skip: reason }, () => {
  if (reason) process.stdout.write(`# skipped: ${reason}\n`);
  let work: string;
  let testRoot: string;
  let pool: Awaited<ReturnType<typeof startPool>>;
  // Every simulator this file starts: none of them counts as an "ordinary" process.
  const simPids: number[] = [];

  before(async () => {
    // The dropper's favourite places: a hidden directory under /tmp.
    work = mkdtempSync('/tmp/.deminer-e2e-');
    testRoot = mkdtempSync('/tmp/deminer-root-');
    onCleanup(() => rmSync(work, { recursive: true, force: true }));
    onCleanup(() => rmSync(testRoot, { recursive: true, force: true }));
    pool = await startPool();
  });
  after(() => cleanup());

  test('deleted kswapd0 in a hidden /tmp dir, full CPU, stratum login, cron persistence → critical on its pid', async () => {
    const exe = dropSim(work, 'kswapd0');
    mkdirSync(join(testRoot, 'etc/cron.d'), { recursive: true });
    writeFileSync(
      join(testRoot, 'etc/cron.d/deminer-test'),
      `# keeps the "kernel" alive\n*/5 * * * * root ${exe} >/dev/null 2>&1\n`,
    );
    const sim = await startSim({
      exe,
      argv0: 'kswapd0',
      env: { SIM_POOL: `127.0.0.1:${pool.port}`, SIM_DUTY: '1', SIM_NAME: 'kswapd0', SIM_DELETE: '1' },
    });
    simPids.push(sim.pid);
    onCleanup(() => sim.child.kill('SIGKILL'));
    assert.ok(
      pool.logins.some((l) => l.includes('XMRig')),
      'the simulator logged in to the pool',
    );
    const r = await runDeminer(['scan', '--format', 'json', '--window', '4s', '--root', testRoot, '--live']);
    assert.equal(r.status, 1, r.stderr);
    const json = parseScan(r);
    const f = json.findings.find((x) => x.process?.pid === sim.pid);
    assert.ok(f, `a finding on pid ${sim.pid}`);
    assert.equal(f.severity, 'critical', f.message);
    const ids = signalIds(f);
    for (const id of [
      'masquerade.kernel_thread_name',
      'masquerade.deleted_executable',
      'masquerade.temp_dir_executable',
      'cpu.sustained',
      'persistence.restarts_process',
    ]) {
      assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
    }
    assert.ok(f.threat.technique.includes('T1496'));
    assert.ok(f.threat.technique.some((t) => t.startsWith('T1036')));
    assert.equal(f.process?.executable, exe);
    assert.match(f.process?.hash?.sha256 ?? '', /^[0-9a-f]{64}$/, 'the deleted binary is still hashed');
    const cron = json.findings.find((x) => x.rule.id === 'deminer.persistence.cron');
    assert.ok(cron, 'the cron entry is reported');
    assert.ok(HIGH.has(cron.severity), cron.message);
    assert.deepEqual(cron.evidence['running_pids'], [sim.pid]);
    assertNoOtherHigh(json, simPids, testRoot);
    sim.child.kill('SIGKILL');
  });

  test('throttled svchost.exe with XMRig flags and no "stratum" word → high or critical, throttling recognised', async () => {
    const dir = mkdtempSync('/var/tmp/deminer-e2e-');
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const exe = dropSim(dir, 'svchost.exe');
    const sim = await startSim({
      exe,
      args: [
        '-o',
        `127.0.0.1:${pool.port}`,
        '-u',
        WALLET,
        '-a',
        'rx/0',
        '--donate-level',
        '1',
        '--cpu-max-threads-hint',
        '25',
      ],
      env: { SIM_POOL: `127.0.0.1:${pool.port}`, SIM_DUTY: '0.25' },
    });
    simPids.push(sim.pid);
    onCleanup(() => sim.child.kill('SIGKILL'));
    const r = await runDeminer(['scan', '--format', 'jsonl', '--window', '6s', '--root', testRoot, '--live']);
    assert.equal(r.status, 1, r.stderr);
    const findings = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Finding);
    const f = findings.find((x) => x.process?.pid === sim.pid);
    assert.ok(f, `a finding on pid ${sim.pid}`);
    assert.ok(HIGH.has(f.severity), f.message);
    assert.equal(f.rule.id, 'deminer.process.miner');
    const ids = signalIds(f);
    assert.ok(ids.includes('miner.flags'), ids.join(','));
    assert.ok(ids.includes('miner.wallet'), ids.join(','));
    assert.ok(ids.includes('masquerade.windows_name'), ids.join(','));
    assert.ok(
      ids.includes('cpu.throttled'),
      `throttled duty cycle recognised: ${JSON.stringify(f.evidence['cpu'])}`,
    );
    sim.child.kill('SIGKILL');
  });

  test(
    'a miner inside another network namespace is seen through its sockets (pool port 3333)',
    { skip: cannotNetns() },
    async () => {
      const ns = `dmscan${process.pid}`;
      execFileSync('ip', ['netns', 'add', ns]);
      onCleanup(() => execFileSync('ip', ['netns', 'del', ns]));
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const nsPool = await startPool({ port: 3333, netns: ns });
      const exe = dropSim(work, 'kworker');
      const sim = await startSim({
        exe,
        netns: ns,
        env: { SIM_POOL: '127.0.0.1:3333', SIM_DUTY: '0.3', SIM_NAME: 'kworker/1:2' },
      });
      simPids.push(sim.pid);
      onCleanup(() => sim.child.kill('SIGKILL'));
      assert.equal(nsPool.logins.length, 1);
      const r = await runDeminer([
        'scan',
        '--format',
        'json',
        '--window',
        '3s',
        '--root',
        testRoot,
        '--live',
      ]);
      assert.equal(r.status, 1, r.stderr);
      const json = parseScan(r);
      assert.ok(json.stats['netns']! >= 2, `sockets read from ${json.stats['netns']} namespaces`);
      const f = json.findings.find((x) => x.process?.pid === sim.pid);
      assert.ok(f, `a finding on pid ${sim.pid}`);
      assert.ok(HIGH.has(f.severity), f.message);
      const ids = signalIds(f);
      assert.ok(ids.includes('network.pool_port'), ids.join(','));
      assert.ok(ids.includes('masquerade.kernel_thread_name'), ids.join(','));
      assert.equal(f.destination?.port, 3333);
      assert.equal(f.destination?.ip, '127.0.0.1');
      assertNoOtherHigh(json, simPids, testRoot);
      sim.child.kill('SIGKILL');
    },
  );

  test('more than 50 outbound connections a minute from one process is reported', async () => {
    const exe = dropSim(work, 'probe');
    const sim = await startSim({
      exe,
      env: {
        SIM_POOL: `127.0.0.1:${pool.port}`,
        SIM_DUTY: '0.02',
        SIM_BURST: '600',
        SIM_BURST_SECONDS: '90',
      },
    });
    simPids.push(sim.pid);
    onCleanup(() => sim.child.kill('SIGKILL'));
    const r = await runDeminer(['scan', '--format', 'json', '--window', '6s', '--root', testRoot, '--live']);
    const json = parseScan(r);
    const f = json.findings.find((x) => x.process?.pid === sim.pid);
    assert.ok(f, `a finding on pid ${sim.pid}`);
    const burst = (f.evidence['signals'] as { id: string; evidence?: { newConnections?: number } }[]).find(
      (s) => s.id === 'network.connection_burst',
    );
    assert.ok(burst, signalIds(f).join(','));
    assert.ok((burst.evidence?.newConnections ?? 0) >= 6, JSON.stringify(burst));
    sim.child.kill('SIGKILL');
  });
});
