/**
 * Contract tests of the controller backends through the real `deminer`
 * command, against local controllers that check each request against the
 * vendor's documented format (fake-controllers.ts): isolate and release work
 * and are idempotent, secrets never reach the output, and every failure a
 * controller can answer with (401, an unknown device, 500, no answer at all,
 * a rule accepted but never installed) is a failed action: exit 1 and a
 * message that says what happened.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type Fake, type Mode, startGeneric, startOdl, startOnos, startRyu } from './fake-controllers.ts';
import { deminer, type Run } from './netns.ts';

const TARGET = '192.0.2.10';

interface Vendor {
  name: string;
  start(): Promise<Fake>;
  args(url: string): string[];
  /** The same, for a device or path the controller does not know. */
  unknown(url: string): string[];
  env?: Record<string, string>;
  /** Rules one isolation installs. */
  rules: number;
  /** A secret that must never appear in the output. */
  secret: string;
  /** What a dry run must show. */
  dryRun: RegExp[];
}

const VENDORS: Vendor[] = [
  {
    name: 'ryu',
    start: () => startRyu([1]),
    args: (url) => ['--backend', 'ryu', '--controller', url, '--dpid', '1'],
    unknown: (url) => ['--backend', 'ryu', '--controller', url, '--dpid', '7'],
    rules: 4,
    secret: 'no-secret-for-ryu',
    dryRun: [
      /^GET http:\/\/127\.0\.0\.1:\d+\/stats\/flow\/1$/m,
      /^POST http:\/\/127\.0\.0\.1:\d+\/stats\/flowentry\/add$/m,
      /"match":\{"dl_type":2048,"nw_src":"192\.0\.2\.10"\},"actions":\[\]/,
    ],
  },
  {
    name: 'onos',
    start: () => startOnos(['of:0000000000000001']),
    args: (url) => [
      '--backend',
      'onos',
      '--controller',
      url,
      '--device',
      'of:0000000000000001',
      '--user',
      'onos',
    ],
    unknown: (url) => [
      '--backend',
      'onos',
      '--controller',
      url,
      '--device',
      'of:00000000000000ff',
      '--user',
      'onos',
    ],
    env: { DEMINER_ONOS_PASSWORD: 'rocks' },
    rules: 4,
    secret: 'b25vczpyb2Nrcw',
    dryRun: [
      /^POST http:\/\/127\.0\.0\.1:\d+\/onos\/v1\/flows\/of%3A0000000000000001\?appId=org\.deminer\.isolate$/m,
      /^Authorization: Basic <onos:redacted>$/m,
      /"treatment":\{"instructions":\[\{"type":"NOACTION"\}\]\},"selector":\{"criteria":\[\{"type":"ETH_TYPE","ethType":"0x800"\},\{"type":"IPV4_SRC","ip":"192\.0\.2\.10\/32"\}\]\}/,
    ],
  },
  {
    name: 'odl',
    start: () => startOdl(['openflow:1']),
    args: (url) => ['--backend', 'odl', '--controller', url, '--node', 'openflow:1'],
    unknown: (url) => ['--backend', 'odl', '--controller', url, '--node', 'openflow:9'],
    rules: 4,
    secret: 'YWRtaW46YWRtaW4',
    dryRun: [
      /^PUT http:\/\/127\.0\.0\.1:\d+\/restconf\/config\/opendaylight-inventory:nodes\/node\/openflow:1\/flow-node-inventory:table\/0\/flow\/deminer-ipv4-src-192-0-2-10$/m,
      /^GET http:\/\/127\.0\.0\.1:\d+\/restconf\/operational\/opendaylight-inventory:nodes\/node\/openflow:1\/flow-node-inventory:table\/0\/flow\/deminer-ipv4-src-192-0-2-10$/m,
      /"drop-action":\{\}/,
    ],
  },
  {
    name: 'http',
    start: () => startGeneric('sdn-secret'),
    args: (url) => ['--backend', 'http', '--controller', url],
    unknown: (url) => ['--backend', 'http', '--controller', url, '--apply-path', '/api/v2/nothing'],
    env: { DEMINER_CONTROLLER_TOKEN: 'sdn-secret' },
    rules: 1,
    secret: 'sdn-secret',
    dryRun: [
      /^POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/flow-rules$/m,
      /^\{"match":\{"src-ip":"192\.0\.2\.10"\},"actions":\{"output":"DROP"\}\}$/m,
      /^Authorization: Bearer <redacted>$/m,
    ],
  },
];

/** Fast failure settings: two attempts, short timeouts. */
const FAST = ['--retries', '1', '--timeout', '400ms', '--settle', '400ms'];

function outcome(r: Run): { ok: boolean; outcome: string; attempts: number; error?: { code: string } } {
  return JSON.parse(r.stdout) as { ok: boolean; outcome: string; attempts: number; error?: { code: string } };
}

for (const v of VENDORS) {
  describe(`${v.name} backend`, () => {
    const fakes: Fake[] = [];
    const fresh = async () => {
      const f = await v.start();
      fakes.push(f);
      return f;
    };
    const run = (action: string, args: string[], extra: string[] = []) =>
      deminer([action, TARGET, ...args, '-f', 'json', ...extra], v.env ? { env: v.env } : {});
    after(async () => {
      for (const f of fakes) await f.close();
    });

    test('isolate, isolate again, release, release again: verified each time, one set of rules', async () => {
      const f = await fresh();
      const iso = await run('isolate', v.args(f.url));
      assert.equal(iso.status, 0, iso.stderr);
      assert.equal(outcome(iso).outcome, 'isolated');
      assert.equal(f.rules().length, v.rules);
      assert.ok(
        !iso.stdout.includes(v.secret) && !iso.stderr.includes(v.secret),
        'the credentials stay out of the output',
      );
      const again = await run('isolate', v.args(f.url));
      assert.equal(again.status, 0, again.stderr);
      assert.equal(outcome(again).outcome, 'already_isolated');
      assert.equal(f.rules().length, v.rules, 'isolating twice installs nothing twice');
      const rel = await run('release', v.args(f.url));
      assert.equal(rel.status, 0, rel.stderr);
      assert.equal(outcome(rel).outcome, 'released');
      assert.equal(f.rules().length, 0);
      const rel2 = await run('release', v.args(f.url));
      assert.equal(rel2.status, 0, rel2.stderr);
      assert.equal(outcome(rel2).outcome, 'nothing_to_release');
      assert.deepEqual(f.violations, []);
    });

    test('--dry-run prints the exact requests and sends none', async () => {
      const f = await fresh();
      const r = await deminer(
        ['isolate', TARGET, ...v.args(f.url), '--dry-run'],
        v.env ? { env: v.env } : {},
      );
      assert.equal(r.status, 0, r.stderr);
      for (const re of v.dryRun) assert.match(r.stdout, re);
      assert.ok(!r.stdout.includes(v.secret));
      assert.equal(f.requests.length, 0, 'a dry run sends nothing');
    });

    const failures: [string, (f: Fake) => string[], Mode, string, number][] = [
      ['an unknown device (404)', (f) => v.unknown(f.url), 'ok', 'CONTROLLER_NOT_FOUND', 1],
      ['401: credentials refused', (f) => v.args(f.url), 'auth', 'CONTROLLER_AUTH', 1],
      ['500 on every request', (f) => v.args(f.url), 'error', 'CONTROLLER_ERROR', 2],
      ['a controller that never answers', (f) => v.args(f.url), 'hang', 'CONTROLLER_TIMEOUT', 2],
      [
        'a controller that accepts the rule but never installs it',
        (f) => v.args(f.url),
        'noinstall',
        'ISOLATE_NOT_VERIFIED',
        2,
      ],
    ];
    for (const [what, args, mode, code, attempts] of failures)
      test(`${what}: a failed action, exit 1, ${code}`, async () => {
        const f = await fresh();
        f.mode = mode;
        const t0 = Date.now();
        const r = await run('isolate', args(f), FAST);
        assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
        const o = outcome(r);
        assert.equal(o.ok, false);
        assert.equal(o.error?.code, code);
        assert.equal(o.attempts, attempts, 'retried only when it may help');
        assert.match(r.stderr, new RegExp(`^deminer: ${code}: `, 'm'));
        assert.ok(Date.now() - t0 < 15_000, 'bounded: timeouts and retries end the run');
        assert.deepEqual(f.violations, []);
      });
  });
}

test('odl: the RFC 8040 API and the config datastore', async () => {
  const f = await startOdl(['openflow:1']);
  try {
    const args = ['--backend', 'odl', '--controller', f.url, '--node', 'openflow:1', '--restconf', 'rfc8040'];
    const iso = await deminer(['isolate', TARGET, ...args, '-f', 'json']);
    assert.equal(iso.status, 0, iso.stderr);
    assert.ok(
      f.requests.some(
        (r) =>
          r.method === 'PUT' &&
          r.path.includes('/rests/data/opendaylight-inventory:nodes/node=openflow%3A1/'),
      ),
    );
    assert.ok(f.requests.some((r) => r.method === 'GET' && r.path.endsWith('?content=nonconfig')));
    const rel = await deminer(['release', TARGET, ...args, '--datastore', 'config']);
    assert.equal(rel.status, 0, rel.stderr);
    assert.deepEqual(f.violations, []);
  } finally {
    await f.close();
  }
});

test('http: templates put the target in by value (JSON-encoded), MAC and port included', async () => {
  const f = await startGeneric('t');
  try {
    const r = await deminer(
      [
        'isolate',
        TARGET,
        '--backend',
        'http',
        '--controller',
        f.url,
        '--header',
        'X-Tenant: blue',
        '--mac',
        '02:00:00:00:00:0a',
        '--apply-body',
        '{"match":{"src-ip":"{{ip}}","mac":"{{mac}}","note":"isolated by deminer"},"actions":{"output":"DROP"}}',
        '--dry-run',
        '-f',
        'json',
      ],
      { env: { DEMINER_CONTROLLER_TOKEN: 't' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const plan = (JSON.parse(r.stdout) as { plan: { body?: string; headers: Record<string, string> }[] })
      .plan;
    const body = JSON.parse(plan[1]!.body!) as { match: Record<string, string> };
    assert.deepEqual(body.match, { 'src-ip': TARGET, mac: '02:00:00:00:00:0a', note: 'isolated by deminer' });
    assert.equal(plan[1]!.headers['X-Tenant'], 'blue');
    const bad = await deminer([
      'isolate',
      TARGET,
      '--backend',
      'http',
      '--controller',
      f.url,
      '--apply-body',
      '{"x":"{{mac}}"}',
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--apply-body uses \{\{mac\}\}, which needs --mac/);
    const unknown = await deminer([
      'isolate',
      TARGET,
      '--backend',
      'http',
      '--controller',
      f.url,
      '--apply-body',
      '{"x":"{{cmd}}"}',
    ]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown placeholder \{\{cmd\}\}/);
    assert.equal(f.requests.length, 0);
  } finally {
    await f.close();
  }
});
