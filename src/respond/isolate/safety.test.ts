import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  canonicalCidr,
  localInfrastructure,
  protectedEntry,
  protectingEntry,
  refuseProtected,
} from './safety.ts';

test('never-isolate entries: addresses and prefixes, strictly parsed and canonical', () => {
  assert.equal(canonicalCidr('192.0.2.1'), '192.0.2.1/32');
  assert.equal(canonicalCidr('2001:DB8::/32'), '2001:db8::/32');
  for (const bad of ['192.0.2.1/33', '10.0.0.0/8/8', '10.1/8', 'gateway', '192.0.2.1/-1', '::/129'])
    assert.equal(canonicalCidr(bad), undefined, bad);
  assert.throws(
    () => protectedEntry('10.0.0.300', '--never-isolate'),
    /--never-isolate: "10\.0\.0\.300" is not an address/,
  );
});

test('a protected target is refused, naming the entry and its source', () => {
  const list = [
    protectedEntry('10.0.0.0/8', 'config.yaml respond.never_isolate[0]'),
    protectedEntry('2001:db8::53', '--never-isolate'),
  ];
  assert.equal(protectingEntry({ ip: '10.20.30.40' }, list)?.cidr, '10.0.0.0/8');
  assert.equal(protectingEntry({ ip: '2001:db8::53' }, list)?.source, '--never-isolate');
  assert.equal(protectingEntry({ ip: '192.0.2.10' }, list), undefined);
  assert.throws(
    () => refuseProtected({ ip: '10.1.1.1' }, list),
    /ISOLATE_PROTECTED|refused: 10\.1\.1\.1 is on the never-isolate list \(entry 10\.0\.0\.0\/8 from config\.yaml respond\.never_isolate\[0\]\)/,
  );
  // ::ffff:10.0.0.1 entries protect the IPv4 host as well.
  assert.ok(protectingEntry({ ip: '10.0.0.1' }, [protectedEntry('::ffff:10.0.0.1', 'x')]));
});

test("this host's gateways and DNS servers are protected without being listed", () => {
  const root = mkdtempSync(join(tmpdir(), 'deminer-infra-'));
  try {
    mkdirSync(join(root, 'proc/net'), { recursive: true });
    mkdirSync(join(root, 'etc'));
    writeFileSync(
      join(root, 'proc/net/route'),
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
        'eth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
        'eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n',
    );
    writeFileSync(
      join(root, 'proc/net/ipv6_route'),
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n',
    );
    writeFileSync(join(root, 'etc/resolv.conf'), '# comment\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n');
    const got = localInfrastructure(root).map((e) => e.cidr);
    assert.deepEqual(got, ['10.0.2.1/32', 'fe80::1/128', '192.0.2.53/32']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
