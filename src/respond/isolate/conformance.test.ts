/**
 * What every isolation backend promises (the shared conformance test of the
 * kind, DESIGN.md §2): its plan is pure and repeatable, starts and ends with
 * a read (idempotence before, verification after), holds the change it
 * names and no other, never shows a secret, and covers both directions of
 * the target's traffic. Talking to real devices is tested in test/respond/.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basicAuth, bearerAuth } from './controller.ts';
import { httpTemplates } from './http/index.ts';
import { parseDump } from './ovs/index.ts';
import { BACKENDS, type BackendSpec, createBackend } from './registry.ts';
import { parseTarget } from './target.ts';

const SECRET = 's3cret-pw';
const specs: BackendSpec[] = [
  { backend: 'ovs', bridge: 'br0' },
  { backend: 'nftables', allow: ['192.0.2.1', '2001:db8::1'], dns: ['192.0.2.53'] },
  { backend: 'ryu', controller: 'http://127.0.0.1:8080', dpid: 1, auth: basicAuth('u', SECRET) },
  {
    backend: 'onos',
    controller: 'http://127.0.0.1:8181',
    device: 'of:0000000000000001',
    auth: basicAuth('onos', SECRET),
  },
  {
    backend: 'odl',
    controller: 'http://127.0.0.1:8181',
    node: 'openflow:1',
    auth: basicAuth('admin', SECRET),
  },
  { backend: 'http', controller: 'http://127.0.0.1:9000', auth: bearerAuth(SECRET), ...httpTemplates({}) },
];

test('every registered backend is covered here', () => {
  assert.deepEqual(specs.map((s) => s.backend).sort(), [...BACKENDS].sort());
});

for (const spec of specs)
  test(`${spec.backend}: plans are pure, read first and last, hold the change, show no secret`, () => {
    const backend = createBackend(spec);
    assert.equal(backend.name, spec.backend);
    for (const target of [
      parseTarget('192.0.2.10', { mac: '02:00:00:00:00:0a', port: '3' }),
      parseTarget('2001:db8::10'),
    ]) {
      if (spec.backend === 'nftables' && (target.mac || target.port)) continue;
      for (const action of ['isolate', 'release'] as const) {
        const plan = backend.plan(action, target);
        assert.deepEqual(backend.plan(action, target), plan, 'the same plan every time');
        assert.equal(plan[0]?.purpose, 'read');
        assert.equal(plan[plan.length - 1]?.purpose, 'read');
        const change = action === 'isolate' ? 'apply' : 'release';
        assert.ok(plan.some((s) => s.purpose === change));
        assert.ok(!plan.some((s) => s.purpose === (action === 'isolate' ? 'release' : 'apply')));
        const text = JSON.stringify(plan);
        assert.ok(!text.includes(SECRET) && !text.includes(Buffer.from(`u:${SECRET}`).toString('base64')));
        if (action === 'isolate' && spec.backend !== 'nftables' && spec.backend !== 'http') {
          // Both directions: traffic from the host and traffic to it.
          assert.match(
            text,
            target.family === 4 ? /nw_src|IPV4_SRC|ipv4-source/ : /ipv6_src|IPV6_SRC|ipv6-source/,
          );
          assert.match(
            text,
            target.family === 4 ? /nw_dst|IPV4_DST|ipv4-destination/ : /ipv6_dst|IPV6_DST|ipv6-destination/,
          );
          if (target.family === 6) assert.doesNotMatch(text, /arp/i);
        }
        if (spec.backend !== 'nftables' && !(action === 'release' && ['onos', 'odl'].includes(spec.backend)))
          assert.ok(text.includes(target.ip), 'the plan names the target');
      }
    }
  });

test('ovs: our flows are found in dump-flows output, others are not', () => {
  const dump = [
    'NXST_FLOW reply (xid=0x4):',
    ' cookie=0x646d6e72, priority=65000,ip,nw_src=192.0.2.10 actions=drop',
    ' cookie=0x646d6e72, table=3, priority=65000,ip,nw_dst=192.0.2.10 actions=drop',
    ' cookie=0x1, priority=65000,ip,nw_dst=192.0.2.10 actions=drop',
    ' cookie=0x646d6e72, priority=100,arp,arp_spa=192.0.2.10 actions=drop',
    ' priority=0 actions=NORMAL',
  ].join('\n');
  assert.deepEqual(parseDump(dump, 0x646d6e72, 65000), [{ match: 'ip,nw_src=192.0.2.10', actions: 'drop' }]);
});
