import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { EcsEventSchema } from './event.ts';
import { FindingSchema, fingerprint, makeFinding } from './finding.ts';
import { HostSnapshotSchema } from './host-snapshot.ts';
import { WinlogEventSchema } from './winlog-event.ts';

const finding = makeFinding({
  rule: { id: 'deminer.process.miner', name: 'Cryptocurrency miner process', ruleset: 'builtin' },
  severity: 'high',
  techniques: ['T1496', 'T1036.005', 'T1496'],
  host: 'web-01',
  hostname: 'WEB-01.corp.example',
  subject: ['/tmp/x'],
  message: 'xmrig (pid 1) names a pool.',
  timestamp: '2026-01-01T00:00:00.000Z',
  process: { pid: 1, name: 'xmrig', executable: '/tmp/x' },
  destination: { ip: '198.51.100.1', port: 3333 },
  evidence: { score: 7 },
});

test('makeFinding builds what FindingSchema accepts', () => {
  assert.deepEqual(FindingSchema.parse(finding), finding);
  assert.deepEqual(finding.threat.technique, ['T1036.005', 'T1496']);
  assert.deepEqual(finding.host, { name: 'web-01', hostname: 'WEB-01.corp.example' });
  assert.equal(finding.fingerprint, fingerprint('web-01', 'deminer.process.miner', ['/tmp/x']));
  const same = makeFinding({
    ...finding,
    rule: finding.rule,
    techniques: [],
    host: 'web-01',
    hostname: 'web-01',
    subject: [],
    message: 'm',
  });
  assert.deepEqual(same.host, { name: 'web-01' }, 'no hostname when it is the identity itself');
});

test('FindingSchema names what is wrong', () => {
  const issues = (value: unknown): string[] => {
    const r = FindingSchema.safeParse(value);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}:${i.code}`);
  };
  assert.deepEqual(issues({ ...finding, hots: 'x' }), [':unrecognized_keys']);
  assert.deepEqual(issues({ ...finding, severity: 'severe' }), ['severity:invalid_value']);
  assert.deepEqual(issues({ ...finding, '@timestamp': '2026-01-01 00:00' }), ['@timestamp:invalid_format']);
  assert.deepEqual(issues({ ...finding, threat: { technique: ['attack.t1496'] } }), [
    'threat.technique.0:invalid_format',
  ]);
  assert.deepEqual(issues({ ...finding, process: { pid: -1 } }), ['process.pid:too_small']);
  assert.deepEqual(issues({ ...finding, host: {} }), ['host.name:invalid_type']);
});

test('event and snapshot schemas: events are open, snapshots closed', () => {
  const ecs = {
    '@timestamp': '2025-03-04T09:00:00.123456Z',
    event: { category: ['process'], type: ['start'] },
    process: { pid: 1, executable: '/x', pe: { original_file_name: 'x.exe' } },
    agent: { type: 'endpoint' },
  };
  assert.deepEqual(EcsEventSchema.parse(ecs), ecs, 'unknown ECS fields pass through');
  assert.ok(!EcsEventSchema.safeParse({ process: { pid: 'one' } }).success);
  assert.ok(WinlogEventSchema.safeParse({ winlog: { channel: 'Security', event_id: 4688 } }).success);
  assert.ok(!WinlogEventSchema.safeParse({ event: { code: '1' } }).success, 'a winlog event has winlog');
  const snapshot = {
    host: { name: 'web-01', os: 'linux', cpus: 2 },
    takenAt: '2026-01-01T00:00:00.000Z',
    windowMs: 0,
    processes: [],
    sockets: [],
    newOutbound: { '42': 3 },
    files: [],
    stats: {
      processes: 0,
      kernelThreads: 0,
      vanished: 0,
      unreadable: 0,
      sockets: 0,
      netns: 1,
      files: 0,
      collectMs: 1,
    },
  };
  assert.ok(HostSnapshotSchema.safeParse(snapshot).success);
  assert.ok(!HostSnapshotSchema.safeParse({ ...snapshot, extra: 1 }).success);
  assert.ok(!HostSnapshotSchema.safeParse({ ...snapshot, newOutbound: { x: 1 } }).success);
});

test('the server can extend the finding schema with its own fields', () => {
  const stored = FindingSchema.unwrap().extend({ count: z.number().int().positive() });
  assert.ok(stored.safeParse({ ...finding, count: 2 }).success);
  assert.ok(!stored.safeParse(finding).success);
});
