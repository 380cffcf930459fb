/**
 * Every host analytic passes these: a new one is a folder plus a registry
 * line, and this suite runs it on a snapshot with every kind of evidence.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { HOST_ANALYTICS } from './registry.ts';
import { proc, snapshot } from './snapshot-fixture.ts';

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
    proc({
      pid: 1,
      name: 'kswapd0',
      exe: '/tmp/.x/kswapd0',
      exeDeleted: true,
      argv: ['kswapd0', '-o', 'stratum+tcp://198.51.100.1:3333', '-u', WALLET],
      cpuCores: 1,
      cpuSeries: [1, 1, 1, 1, 1],
    }),
    proc({
      pid: 2,
      name: 'svchost.exe',
      exe: '/var/tmp/svchost.exe',
      packaged: false,
      cpuCores: 0.25,
      cpuSeries: [0.25, 0.25, 0.26, 0.24, 0.25],
    }),
    proc({ pid: 3, name: 'kworker/0:1', kernelThread: true, argv: [] }),
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
    assert.ok(
      existsSync(new URL(`./${a.id}/index.ts`, import.meta.url)),
      `src/detect/analytics/${a.id}/index.ts`,
    );
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
