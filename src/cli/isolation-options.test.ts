import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../core/errors.ts';
import { type IsolationCliOptions, serverIsolation } from './isolation-options.ts';

const dir = mkdtempSync(join(tmpdir(), 'deminer-iso-opts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const none = join(dir, 'none.yaml');
writeFileSync(none, 'scan: {}\n');

const opts = (o: Partial<IsolationCliOptions> = {}): IsolationCliOptions => ({
  config: none,
  isolateBackend: [],
  neverIsolate: [],
  autoIsolateRule: [],
  ...o,
});

test('serve/up: nothing configured, nothing isolated', () => {
  assert.equal(serverIsolation(opts()), undefined);
});

test('serve/up: the config file, with the command line on top', () => {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    [
      'respond:',
      '  never_isolate: [{ cidr: 10.0.0.0/29, reason: core routers }]',
      '  isolation:',
      '    backends:',
      '      ovs: { bridge: br0 }',
      '      ryu: { controller: "http://ryu:8080", dpid: 1 }',
      '    backend: ryu',
      '    auto: { min_severity: critical, rules: [deminer.process.miner] }',
      '    ttl: 4h',
      '    retries: 3',
      '',
    ].join('\n'),
  );
  const fromFile = serverIsolation(opts({ config: file }))!.settings;
  assert.equal(fromFile.defaultBackend, 'ryu');
  assert.deepEqual([...fromFile.network.keys()].sort(), ['ovs', 'ryu']);
  assert.deepEqual(fromFile.policy.auto, { minSeverity: 'critical', rules: ['deminer.process.miner'] });
  assert.equal(fromFile.ttlMs, 4 * 3600_000);
  assert.equal(fromFile.retries, 3);
  assert.equal(fromFile.neverIsolate[0]?.cidr, '10.0.0.0/29');
  assert.match(fromFile.neverIsolate[0]?.source ?? '', /respond\.never_isolate\[0\] "core routers"/);

  const both = serverIsolation(
    opts({
      config: file,
      isolateBackend: ['ovs:bridge=br1', 'agent-nftables'],
      autoIsolate: 'high',
      isolateApproval: 'medium',
      requireApproval: true,
      isolateTtl: '30m',
      neverIsolate: ['192.0.2.1'],
    }),
  )!.settings;
  assert.equal(both.defaultBackend, 'ovs', 'the first --isolate-backend is the default');
  assert.ok(both.agent);
  assert.deepEqual(both.policy.auto, { minSeverity: 'high', rules: ['deminer.process.miner'] });
  assert.deepEqual(both.policy.approval, { minSeverity: 'medium' });
  assert.equal(both.policy.requireApproval, true);
  assert.equal(both.ttlMs, 30 * 60_000);
  assert.deepEqual(
    both.neverIsolate.map((e) => e.source),
    [fromFile.neverIsolate[0]!.source, '--never-isolate'],
  );
});

test('serve/up: bad options are usage errors naming the option', () => {
  const bad: [Partial<IsolationCliOptions>, RegExp][] = [
    [{ isolateBackend: ['floodlight'] }, /not a backend/],
    [{ isolateBackend: ['ovs:bridge=br0,colour=red'] }, /--isolate-backend ovs: .*colour/],
    [{ isolateBackend: ['ryu:dpid=1'] }, /controller/],
    [{ autoIsolate: 'severe', isolateBackend: ['ovs:bridge=br0'] }, /--auto-isolate must be one of/],
    [{ autoIsolateRule: ['x'] }, /goes with --auto-isolate/],
    [{ autoIsolate: 'critical' }, /needs a backend/],
    [{ neverIsolate: ['10.0.0.0/33'] }, /not an address or CIDR/],
    [{ isolateTtl: 'forever', isolateBackend: ['ovs:bridge=br0'] }, /not a duration/],
  ];
  for (const [o, re] of bad)
    assert.throws(
      () => serverIsolation(opts(o)),
      (e: unknown) => e instanceof UsageError && re.test(e.message),
      JSON.stringify(o),
    );
});
