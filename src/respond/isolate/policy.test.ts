import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../core/errors.ts';
import { makeFinding } from '../../core/finding.ts';
import type { Severity } from '../../core/severity.ts';
import { parseDirective } from './agent-protocol.ts';
import { decide, pickTarget } from './policy.ts';
import { isolationSettings, parseBackendOption } from './server-config.ts';

const f = (severity: Severity, rule = 'deminer.process.miner', source?: string) =>
  makeFinding({
    rule: { id: rule, name: 'r', ruleset: 'builtin' },
    severity,
    techniques: ['T1496'],
    host: 'web01',
    subject: ['x'],
    message: 'm',
    ...(source ? { source: { ip: source } } : {}),
  });

test('policy: auto for what it names, approval for what asks, nothing by default', () => {
  const p = {
    auto: { minSeverity: 'critical' as const, rules: ['deminer.process.miner'] },
    approval: { minSeverity: 'high' as const },
    requireApproval: false,
  };
  assert.equal(decide(f('critical'), p)?.mode, 'auto');
  assert.equal(decide(f('critical', 'other.rule'), p)?.mode, 'approval');
  assert.equal(decide(f('high'), p)?.mode, 'approval');
  assert.equal(decide(f('medium'), p), undefined);
  assert.equal(decide(f('critical'), { requireApproval: false }), undefined, 'the default names nothing');
  const d = decide(f('critical'), p)!;
  assert.equal(d.rule, 'deminer.process.miner');
  assert.match(d.fingerprint, /^[0-9a-f]{32}$/);
});

test('pickTarget: the one routable address; several need the finding or the heartbeat to choose; never a guess', () => {
  assert.deepEqual(pickTarget({ name: 'a', addresses: ['192.0.2.10', 'fe80::1%eth0', '127.0.0.1', '::1'] }), {
    ip: '192.0.2.10',
  });
  const two = { name: 'b', addresses: ['192.0.2.10', '10.0.0.5'] };
  assert.match((pickTarget(two) as { error: string }).error, /has 2 addresses/);
  assert.deepEqual(pickTarget(two, f('high', 'r', '10.0.0.5')), { ip: '10.0.0.5' });
  assert.deepEqual(pickTarget(two, undefined, '192.0.2.10'), { ip: '192.0.2.10' });
  assert.ok(
    'error' in pickTarget(two, undefined, '203.0.113.9'),
    'a NATed heartbeat address is not the host’s',
  );
  assert.deepEqual(pickTarget({ name: '192.0.2.77', addresses: [] }), { ip: '192.0.2.77' });
  assert.deepEqual(pickTarget({ name: 'win7', addresses: [] }, f('high', 'r', '192.0.2.8')), {
    ip: '192.0.2.8',
  });
  assert.match(
    (pickTarget({ name: 'win7', addresses: [] }) as { error: string }).error,
    /no routable address/,
  );
});

test('server config: --isolate-backend specs, the default backend, and refusals at start-up', () => {
  assert.deepEqual(parseBackendOption('ovs:bridge=br0,priority=100,bundle=false'), {
    name: 'ovs',
    options: { bridge: 'br0', priority: 100, bundle: false },
  });
  assert.deepEqual(parseBackendOption('ryu:controller=http://ryu:8080/x,dpid=0x1'), {
    name: 'ryu',
    options: { controller: 'http://ryu:8080/x', dpid: '0x1' },
  });
  assert.deepEqual(parseBackendOption('agent-nftables:allow=10.0.0.1+10.0.0.2'), {
    name: 'agent-nftables',
    options: { allow: ['10.0.0.1', '10.0.0.2'] },
  });
  assert.throws(() => parseBackendOption('floodlight'), UsageError);
  assert.throws(() => parseBackendOption('ovs:bridge'), UsageError);

  const one = isolationSettings({ backends: { ovs: { bridge: 'br0' } } });
  assert.equal(one.defaultBackend, 'ovs', 'the only backend is the default');
  assert.equal(one.retries, 2);
  const two = isolationSettings({
    backends: { ovs: { bridge: 'br0' }, 'agent-nftables': { allow: ['10.0.0.1'] } },
  });
  assert.equal(two.defaultBackend, undefined);
  assert.deepEqual(two.agent, { allow: ['10.0.0.1'] });
  assert.throws(
    () => isolationSettings({ backends: two.network.size ? { ovs: { bridge: 'br0' } } : {}, backend: 'ryu' }),
    /has no options/,
  );
  assert.throws(
    () =>
      isolationSettings({
        backends: { ovs: { bridge: 'br0' }, ryu: { controller: 'http://ryu:8080', dpid: 1 } },
        auto: { min_severity: 'critical' },
      }),
    /needs a backend/,
  );
  assert.throws(() => isolationSettings({ backends: { ovs: { bridge: 'br0;rm' } } }), /bridge/i);
  assert.throws(
    () => isolationSettings({ backends: { ryu: { controller: 'http://u:p@ryu:8080', dpid: 1 } } }),
    /not in the URL/,
  );
});

test('agent protocol: a directive that does not hold is none', () => {
  assert.deepEqual(parseDirective({ id: 'x', action: 'isolate', allow: ['10.0.0.1'] }), {
    id: 'x',
    action: 'isolate',
    allow: ['10.0.0.1'],
  });
  assert.equal(parseDirective({ id: 'x', action: 'explode', allow: [] }), undefined);
  assert.equal(parseDirective('isolate'), undefined);
});
