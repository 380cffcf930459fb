import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalAddress, parseTarget } from './target.ts';

test('one host address, strictly; canonical text (RFC 5952, IPv4-mapped to IPv4)', () => {
  assert.deepEqual(canonicalAddress('192.0.2.10'), { ip: '192.0.2.10', family: 4 });
  assert.deepEqual(canonicalAddress('2001:DB8:0:0:0:0:0:0010'), { ip: '2001:db8::10', family: 6 });
  assert.deepEqual(canonicalAddress('::ffff:192.0.2.7'), { ip: '192.0.2.7', family: 4 });
  for (const bad of [
    '',
    '192.0.2.1; rm -rf /',
    '$(id)',
    '`id`',
    '999.1.1.1',
    '10.1',
    '010.0.0.1',
    '0x7f.0.0.1',
    '192.0.2.1 ',
    ' 192.0.2.1\n',
    '192.0.2.0/24',
    'fe80::1%eth0',
    '1::2::3',
    'localhost',
    '-rf',
    '192.0.2.1\u0000',
  ])
    assert.equal(canonicalAddress(bad), undefined, JSON.stringify(bad));
});

test('parseTarget refuses what is no single host, and checks --mac and --port', () => {
  assert.deepEqual(parseTarget('192.0.2.10', { mac: '02-00-00-00-00-AA', port: '07' }), {
    ip: '192.0.2.10',
    family: 4,
    mac: '02:00:00:00:00:aa',
    port: '7',
  });
  for (const [t, re] of [
    ['0.0.0.0', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.5', /multicast/],
    ['127.0.0.1', /loopback/],
    ['::1', /loopback/],
    ['192.0.2.0/24', /one host address, not a network/],
    ['ws-017', /a host name needs --server/],
  ] as const)
    assert.throws(() => parseTarget(t), re);
  assert.throws(() => parseTarget('192.0.2.1', { mac: '01:00:5e:00:00:01' }), /multicast/);
  assert.throws(() => parseTarget('192.0.2.1', { mac: '02:00:00:00:00' }), /ISOLATE_BAD_MAC|unicast MAC/);
  assert.throws(() => parseTarget('192.0.2.1', { port: '0' }), /OpenFlow port number/);
  assert.throws(() => parseTarget('192.0.2.1', { port: '1;reboot' }), /OpenFlow port number/);
});
