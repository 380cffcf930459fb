import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetEvent } from '../../core/net-event.ts';
import { parseEveLine } from './eve-json.ts';

test('Suricata eve.json DNS answers carry their rcode', () => {
  const base = {
    timestamp: '2026-01-05T09:00:00.000000+0000',
    event_type: 'dns',
    src_ip: '192.0.2.53',
    src_port: 53,
    dest_ip: '198.51.100.9',
    dest_port: 40000,
    proto: 'UDP',
  };
  const nx = parseEveLine(
    JSON.stringify({
      ...base,
      dns: { version: 2, type: 'answer', rrname: 'qxkzvbwplm.info', rrtype: 'A', rcode: 'NXDOMAIN' },
    }),
    'eve.json',
    1,
  ) as NetEvent;
  assert.equal(nx.dns?.rcode, 3);
  assert.equal(nx.dns?.response, true);
  // The client is the source, whichever way the answer travelled.
  assert.equal(nx.src?.ip, '198.51.100.9');
  const q = parseEveLine(
    JSON.stringify({
      ...base,
      src_port: 40000,
      dest_port: 53,
      dns: { type: 'query', rrname: 'example.org', rrtype: 'A' },
    }),
    'eve.json',
    2,
  ) as NetEvent;
  assert.equal(q.dns?.rcode, undefined);
  const odd = parseEveLine(
    JSON.stringify({ ...base, dns: { type: 'answer', rrname: 'example.org', rcode: '__proto__' } }),
    'eve.json',
    3,
  ) as NetEvent;
  assert.equal(odd.dns?.rcode, undefined);
});
