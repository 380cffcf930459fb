/**
 * What must never reach a switch, a controller or a command line: targets
 * that are not one host address, protected hosts (the never-isolate list from
 * options, the config file, this host's gateways), options meant for another
 * backend. Each is a usage error (exit 2) that names what was refused, and
 * nothing is sent or run. `ovs-ofctl` and `nft` are stand-ins on PATH here
 * that log how they were called, so "nothing run" is checked, not assumed.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Fake, startGeneric } from './fake-controllers.ts';
import { deminer } from './netns.ts';

let dir = '';
let log = '';
let env: Record<string, string> = {};
let fake: Fake;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deminer-respond-'));
  log = join(dir, 'calls.log');
  writeFileSync(log, '');
  for (const tool of ['ovs-ofctl', 'nft']) {
    const p = join(dir, tool);
    writeFileSync(p, `#!/bin/sh\necho "${tool} $*" >> '${log}'\nexit 0\n`);
    chmodSync(p, 0o755);
  }
  env = {
    PATH: `${dir}:${process.env['PATH'] ?? ''}`,
    DEMINER_HOME: dir,
    DEMINER_CONTROLLER_TOKEN: 'sdn-secret',
  };
  fake = await startGeneric('sdn-secret');
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const calls = () => readFileSync(log, 'utf8');
const ovs = ['--backend', 'ovs', '--bridge', 'br0'];

// More malformed addresses are refused in src/respond/isolate/target.test.ts; here, the command as a whole.
for (const bad of ['192.0.2.1; rm -rf /', '$(id)', '999.1.1.1', '192.0.2.0/24', '-rf'])
  test(`refuses the target ${JSON.stringify(bad)} (exit 2, named, nothing run or sent)`, async () => {
    const before = fake.requests.length;
    for (const args of [ovs, ['--backend', 'http', '--controller', fake.url]]) {
      const r = await deminer(['isolate', ...args, '--', bad], { env });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^deminer: ISOLATE_BAD_TARGET: TARGET: /m);
      assert.ok(r.stderr.includes(JSON.stringify(bad)) || r.stderr.includes(bad), r.stderr);
    }
    assert.equal(calls(), '', 'no command ran');
    assert.equal(fake.requests.length, before, 'no request was sent');
  });

test('--never-isolate protects a prefix: refused, naming the entry; even a dry run', async () => {
  for (const extra of [[], ['--dry-run']]) {
    const r = await deminer(['isolate', '192.0.2.10', ...ovs, '--never-isolate', '192.0.2.0/28', ...extra], {
      env,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /ISOLATE_PROTECTED: TARGET: refused: 192\.0\.2\.10 is on the never-isolate list \(entry 192\.0\.2\.0\/28 from --never-isolate\)/,
    );
  }
  assert.equal(calls(), '');
  // Release is always allowed: undoing an isolation is never the danger.
  const rel = await deminer(['release', '192.0.2.10', ...ovs, '--dry-run'], { env });
  assert.equal(rel.status, 0, rel.stderr);
});

test('the config file’s respond.never_isolate protects hosts and says why; a bad entry names its line', async () => {
  const cfg = join(dir, 'given.yaml');
  writeFileSync(
    cfg,
    'respond:\n  never_isolate:\n    - 198.51.100.1\n    - { cidr: "2001:db8::/64", reason: domain controllers }\n',
  );
  const r = await deminer(['isolate', '2001:db8::53', ...ovs, '-c', cfg], { env });
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /entry 2001:db8::\/64 from .*given\.yaml respond\.never_isolate\[1\] "domain controllers"/,
  );
  const r2 = await deminer(['isolate', '198.51.100.1', ...ovs, '-c', cfg], { env });
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /entry 198\.51\.100\.1\/32/);
  // The default config file ($DEMINER_HOME/config.yaml) applies without -c.
  writeFileSync(join(dir, 'config.yaml'), 'respond:\n  never_isolate: [192.0.2.10]\n');
  const r3 = await deminer(['isolate', '192.0.2.10', ...ovs], { env });
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /ISOLATE_PROTECTED/);
  writeFileSync(cfg, 'respond:\n  never_isolate:\n    - 10.0.0.1\n    - 10.0.0.300\n');
  const bad = await deminer(['isolate', '192.0.2.10', ...ovs, '-c', cfg], { env });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /CONFIG_INVALID: .*given\.yaml:4: respond\.never_isolate\.1/);
  rmSync(join(dir, 'config.yaml'));
  assert.equal(calls(), '');
});

test('options of another backend, a bad duration, a missing backend option: usage errors', async () => {
  const cases: [string[], RegExp][] = [
    [['--backend', 'http', '--controller', fake.url, '--bridge', 'br0'], /--bridge goes with --backend ovs/],
    [['--backend', 'ovs', '--bridge', 'br0', '--allow', '192.0.2.1'], /--allow goes with --backend nftables/],
    [['--backend', 'ovs'], /--backend ovs needs --bridge/],
    [['--backend', 'ovs', '--bridge', '-rf'], /--bridge must be a bridge name/],
    [['--backend', 'ovs', '--bridge', 'tcp:10.0.0.1:6653'], /--bridge must be a bridge name/],
    [['--backend', 'ryu', '--controller', 'ftp://x', '--dpid', '1'], /--controller must be an http/],
    [['--backend', 'ryu', '--controller', 'http://u:p@x', '--dpid', '1'], /not in the URL/],
    [
      ['--backend', 'onos', '--controller', fake.url, '--device', 'of:1;reboot'],
      /--device must be an ONOS device id/,
    ],
    [
      ['--backend', 'odl', '--controller', fake.url, '--node', 'openflow:1/../x'],
      /--node must be an OpenFlow node id/,
    ],
    [['--backend', 'http', '--controller', fake.url, '--header', 'X: a\r\nHost: evil'], /--header must be/],
    [[...ovs, '--ttl', 'forever'], /BAD_DURATION/],
    [[...ovs, '--retries', '99'], /--retries must be a whole number from 0 to 10/],
    [[...ovs, '--mac', 'ff:ff:ff:ff:ff:ff'], /--mac must be one unicast MAC/],
    [['--backend', 'magic'], /--backend must be one of ovs, nftables, ryu, onos, odl, http/],
  ];
  for (const [args, re] of cases) {
    const r = await deminer(['isolate', '192.0.2.10', ...args], { env });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.equal(calls(), '');
  assert.equal(fake.requests.length, 0);
});

test('ovs --dry-run prints the exact commands, runs none', async () => {
  const r = await deminer(
    ['isolate', '192.0.2.10', ...ovs, '--mac', '02:00:00:00:00:0A', '--port', '3', '--dry-run'],
    { env },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ovs-ofctl --no-stats --no-names dump-flows br0 cookie=0x646d6e72\/-1$/m);
  assert.match(r.stdout, /^ovs-ofctl --bundle add-flow br0 - <<'EOF'$/m);
  for (const flow of [
    'ip,nw_src=192.0.2.10',
    'ip,nw_dst=192.0.2.10',
    'arp,arp_spa=192.0.2.10',
    'arp,arp_tpa=192.0.2.10',
    'dl_src=02:00:00:00:00:0a',
    'dl_dst=02:00:00:00:00:0a',
    'in_port=3',
  ])
    assert.match(r.stdout, new RegExp(`^cookie=0x646d6e72,priority=65000,${flow},actions=drop$`, 'm'));
  const rel = await deminer(['release', '2001:DB8:0:0::10', ...ovs, '--dry-run', '-f', 'json'], { env });
  assert.equal(rel.status, 0, rel.stderr);
  const plan = (JSON.parse(rel.stdout) as { plan: { argv: string[]; stdin?: string }[] }).plan;
  assert.deepEqual(plan[1]!.argv, ['ovs-ofctl', '--bundle', '--strict', 'del-flows', 'br0', '-']);
  assert.equal(
    plan[1]!.stdin,
    'cookie=0x646d6e72/-1,priority=65000,ipv6,ipv6_src=2001:db8::10\ncookie=0x646d6e72/-1,priority=65000,ipv6,ipv6_dst=2001:db8::10\n',
  );
  assert.equal(calls(), '');
});

test('nftables --dry-run prints the whole table it would load; it needs --allow; other hosts are refused', async (t) => {
  const own = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!own) return t.skip('this machine has no non-loopback IPv4 address');
  const r = await deminer(
    ['isolate', own, '--backend', 'nftables', '--allow', '192.0.2.1', '--dns', '192.0.2.53', '--dry-run'],
    { env },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^nft -f - <<'EOF'$/m);
  assert.match(r.stdout, /^table inet deminer\ndelete table inet deminer\ntable inet deminer \{$/m);
  assert.match(r.stdout, /set allow4 \{ type ipv4_addr; flags interval; elements = \{ 192\.0\.2\.1 \}; \}/);
  assert.match(r.stdout, /set dns4 \{ type ipv4_addr; flags interval; elements = \{ 192\.0\.2\.53 \}; \}/);
  assert.match(r.stdout, /type filter hook forward priority filter - 10; policy drop;/);
  const noAllow = await deminer(['isolate', own, '--backend', 'nftables', '--dry-run'], { env });
  assert.equal(noAllow.status, 2);
  assert.match(noAllow.stderr, /ISOLATE_NO_ALLOW/);
  const other = await deminer(
    ['isolate', '192.0.2.222', '--backend', 'nftables', '--allow', '192.0.2.1', '--dry-run'],
    { env },
  );
  assert.equal(other.status, 2);
  assert.match(other.stderr, /ISOLATE_NOT_LOCAL/);
  assert.equal(calls(), '');
});

test('a host name is resolved through the deminer server (--server, --token) to its one routable address', async () => {
  const hosts = [
    { id: 'h-1', name: 'ws-017', addresses: ['127.0.0.1', 'fe80::1', '192.0.2.10'] },
    { id: 'h-2', name: 'ws-018', addresses: ['192.0.2.11', '2001:db8::11'] },
  ];
  let auth = '';
  const server = createServer((req, res) => {
    auth = req.headers.authorization ?? '';
    const text = new URL(req.url ?? '/', 'http://x').searchParams.get('text') ?? '';
    res.writeHead(200, { 'Content-Type': 'application/json' });
    // The server's text search ignores case, as this stand-in does.
    res.end(JSON.stringify({ items: hosts.filter((h) => h.name.includes(text.toLowerCase())), next: null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const r = await deminer(['isolate', 'WS-017', ...ovs, '--server', url, '--dry-run', '-f', 'json'], {
      env: { ...env, DEMINER_TOKEN: 'analyst-token' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { target: { ip: string } }).target.ip, '192.0.2.10');
    assert.equal(auth, 'Bearer analyst-token');
    const two = await deminer(['isolate', 'ws-018', ...ovs, '--server', url, '--token', 't', '--dry-run'], {
      env,
    });
    assert.equal(two.status, 2);
    assert.match(
      two.stderr,
      /has 2 addresses \(192\.0\.2\.11, 2001:db8::11\): isolate each address on its own/,
    );
    const none = await deminer(['isolate', 'ws-404', ...ovs, '--server', url, '--token', 't'], { env });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /ISOLATE_UNKNOWN_HOST/);
    const noServer = await deminer(['isolate', 'ws-017', ...ovs], { env });
    assert.equal(noServer.status, 2);
    assert.match(noServer.stderr, /a host name needs --server URL --token T/);
  } finally {
    server.close();
  }
  assert.equal(calls(), '');
});
