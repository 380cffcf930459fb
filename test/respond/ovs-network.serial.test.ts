/**
 * Isolation on a real network: three network-namespace hosts on an Open
 * vSwitch bridge (userspace datapath), documentation addresses only. The
 * "infected" host talks stratum to a pool on a second host; `deminer isolate
 * --backend ovs` must stop its traffic and only its traffic (the third host
 * still reaches the pool), `deminer release` must bring it back, and the time
 * from the decision to the last packet through is printed. Serial: it times
 * live traffic.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ovsBackend } from '../../src/respond/isolate/ovs/index.ts';
import { runIsolation } from '../../src/respond/isolate/run.ts';
import { parseTarget } from '../../src/respond/isolate/target.ts';
import {
  addHost,
  CHATTER,
  cannotOvs,
  deminer,
  ensureOvs,
  inNs,
  POOL,
  type Proc,
  probe,
  quiet,
  sh,
  skipOrFail,
  sleep,
} from './netns.ts';

const id = process.pid % 100_000;
const BR = `dmbr${id}`;
const HOSTS = {
  infected: { ns: `dmi${id}`, ip: '192.0.2.10' },
  pool: { ns: `dmp${id}`, ip: '192.0.2.20' },
  other: { ns: `dmo${id}`, ip: '192.0.2.30' },
};
const PORT = 3333;
const PORT6 = 3334;
/** ICMP as well when iputils' ping is there (Node cannot send it itself); TCP is checked either way. */
const PING = spawnSync('ping', ['-V'], { stdio: 'ignore' }).status === 0;

function ping(ns: string, ip: string): boolean {
  return (
    spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', ip], { stdio: 'ignore' }).status === 0
  );
}

/** Answers the chatter got after `from` (epoch ms). */
function answersAfter(p: Proc, from: number): number {
  return p.lines.filter((l) => l.text.startsWith('ANS ') && Number(l.text.slice(4)) > from).length;
}

/** The epoch ms of the last answer the chatter got. */
function lastAnswer(p: Proc): number {
  const a = p.lines.filter((l) => l.text.startsWith('ANS '));
  return a.length > 0 ? Number(a[a.length - 1]!.text.slice(4)) : 0;
}

/** Waits until answers flow (again): at least `n` after now. */
async function flowing(p: Proc, n = 5, timeoutMs = 15_000): Promise<void> {
  const from = Date.now();
  while (answersAfter(p, from) < n) {
    if (Date.now() - from > timeoutMs) throw new Error(`the chatter got no answers for ${timeoutMs} ms`);
    await sleep(20);
  }
}

test(
  'ovs: isolating the infected host stops its pool traffic and only its; release restores it',
  { timeout: 180_000 },
  async (t) => {
    if (skipOrFail(t, cannotOvs())) return;
    const ovs = ensureOvs();
    if (skipOrFail(t, ovs.error)) return;
    const procs: Proc[] = [];
    try {
      sh('ovs-vsctl', ['--may-exist', 'add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev']);
      for (const [i, h] of Object.values(HOSTS).entries()) {
        addHost(h.ns, `dmv${id}h${i}`, `dmv${id}b${i}`, `${h.ip}/24`);
        sh('ovs-vsctl', ['add-port', BR, `dmv${id}b${i}`]);
      }
      sh('ip', ['link', 'set', BR, 'up']);

      const pool = inNs(HOSTS.pool.ns, [process.execPath, POOL, '--host', '0.0.0.0', '--port', String(PORT)]);
      procs.push(pool);
      await pool.waitFor('LISTENING ');
      const chatter = inNs(HOSTS.infected.ns, [process.execPath, CHATTER, HOSTS.pool.ip, String(PORT), '10']);
      procs.push(chatter);
      await flowing(chatter);
      assert.ok(probe(HOSTS.other.ns, HOSTS.pool.ip, PORT), 'before: the third host reaches the pool');
      if (PING)
        assert.ok(ping(HOSTS.infected.ns, HOSTS.pool.ip), 'before: ping from the infected host answers');
      else t.diagnostic('ping is not installed: ICMP is not checked (TCP is)');

      // 1. The CLI, as an analyst would run it.
      const decided = Date.now();
      const iso = await deminer([
        'isolate',
        HOSTS.infected.ip,
        '--backend',
        'ovs',
        '--bridge',
        BR,
        '-f',
        'json',
      ]);
      assert.equal(iso.status, 0, iso.stderr);
      const r = JSON.parse(iso.stdout) as {
        ok: boolean;
        outcome: string;
        timings: { to_verified_ms: number };
      };
      assert.equal(r.ok, true);
      assert.equal(r.outcome, 'isolated');
      await sleep(1500);
      const stoppedCli = lastAnswer(chatter) - decided;
      assert.equal(
        answersAfter(chatter, Date.now() - 1000),
        0,
        'no answer reaches the infected host after isolation',
      );
      assert.ok(
        !probe(HOSTS.infected.ns, HOSTS.pool.ip, PORT, 800),
        'a new connection from the infected host fails',
      );
      assert.ok(probe(HOSTS.other.ns, HOSTS.pool.ip, PORT), 'the third host still reaches the pool');
      assert.ok(
        !probe(HOSTS.other.ns, HOSTS.infected.ip, PORT, 800),
        'nothing reaches the infected host either',
      );
      t.diagnostic(
        `CLI: decision (deminer isolate started) -> last packet through: ${Math.max(0, stoppedCli)} ms; ` +
          `the command took ${iso.ms} ms (node start-up included), its rules were read back ${r.timings.to_verified_ms} ms after it began`,
      );

      const again = await deminer([
        'isolate',
        HOSTS.infected.ip,
        '--backend',
        'ovs',
        '--bridge',
        BR,
        '-f',
        'json',
      ]);
      assert.equal(again.status, 0, again.stderr);
      assert.equal((JSON.parse(again.stdout) as { outcome: string }).outcome, 'already_isolated');
      const flows = sh('ovs-ofctl', ['--no-stats', 'dump-flows', BR, 'cookie=0x646d6e72/-1'])
        .trim()
        .split('\n');
      assert.equal(flows.length, 4, `isolating twice leaves one set of flows:\n${flows.join('\n')}`);

      const rel = await deminer(['release', HOSTS.infected.ip, '--backend', 'ovs', '--bridge', BR]);
      assert.equal(rel.status, 0, rel.stderr);
      assert.match(rel.stdout, /released via ovs/);
      await flowing(chatter);
      assert.ok(
        probe(HOSTS.infected.ns, HOSTS.pool.ip, PORT),
        'after release the infected host reaches the pool again',
      );
      const rel2 = await deminer(['release', HOSTS.infected.ip, '--backend', 'ovs', '--bridge', BR]);
      assert.equal(rel2.status, 0, rel2.stderr);
      assert.match(rel2.stdout, /nothing to release/);

      // 2. The library path the server and automatic policy will take: no process start-up.
      const backend = ovsBackend({ bridge: BR });
      const target = parseTarget(HOSTS.infected.ip);
      const t0 = Date.now();
      const lib = await runIsolation('isolate', backend, target, {
        retries: 2,
        backoffMs: 100,
        timeoutMs: 5000,
      });
      assert.equal(lib.ok, true, JSON.stringify(lib.error));
      await sleep(1000);
      const stoppedLib = lastAnswer(chatter) - t0;
      assert.equal(answersAfter(chatter, Date.now() - 800), 0);
      t.diagnostic(
        `library: decision -> rules read back ${lib.timings.to_verified_ms} ms; decision -> last packet through ${Math.max(0, stoppedLib)} ms`,
      );
      assert.ok(stoppedLib < 1000, `traffic stopped within 1 s of the decision (took ${stoppedLib} ms)`);
      const back = await runIsolation('release', backend, target, {
        retries: 2,
        backoffMs: 100,
        timeoutMs: 5000,
      });
      assert.equal(back.ok, true);
      await flowing(chatter);

      // 3. IPv6, and the MAC: an address is one way to a dual-stack host; its MAC closes all of them.
      for (const [i, h] of Object.values(HOSTS).entries())
        sh('ip', ['-n', h.ns, 'addr', 'add', `2001:db8::${i + 1}0/64`, 'dev', `dmv${id}h${i}`, 'nodad']);
      const [v6infected, v6pool] = ['2001:db8::10', '2001:db8::20'];
      const link = JSON.parse(sh('ip', ['-n', HOSTS.infected.ns, '-j', 'link', 'show', `dmv${id}h0`])) as {
        address: string;
      }[];
      const mac = link[0]!.address;
      const pool6 = inNs(HOSTS.pool.ns, [process.execPath, POOL, '--host', '::', '--port', String(PORT6)]);
      procs.push(pool6);
      await pool6.waitFor('LISTENING ');
      let reached = false;
      for (let i = 0; i < 20 && !reached; i++) reached = probe(HOSTS.infected.ns, v6pool, PORT6);
      assert.ok(reached, 'before: the infected host reaches the pool over IPv6');
      const v6 = await deminer(['isolate', v6infected, '--mac', mac, '--backend', 'ovs', '--bridge', BR]);
      assert.equal(v6.status, 0, v6.stderr);
      assert.match(v6.stdout, /4 of 4 rules in place/);
      assert.ok(!probe(HOSTS.infected.ns, v6pool, PORT6, 800), 'isolated: no IPv6');
      assert.ok(!probe(HOSTS.infected.ns, HOSTS.pool.ip, PORT, 800), 'isolated by MAC: no IPv4 either');
      assert.ok(probe(HOSTS.other.ns, v6pool, PORT6), 'the third host still reaches the pool over IPv6');
      const v6rel = await deminer(['release', v6infected, '--mac', mac, '--backend', 'ovs', '--bridge', BR]);
      assert.equal(v6rel.status, 0, v6rel.stderr);
      assert.ok(probe(HOSTS.infected.ns, v6pool, PORT6), 'released: IPv6 again');
      const left = sh('ovs-ofctl', ['--no-stats', 'dump-flows', BR, 'cookie=0x646d6e72/-1']).trim();
      assert.equal(left, '', 'no flow of ours is left');
    } finally {
      for (const p of procs) p.stop();
      quiet('ovs-vsctl', ['--if-exists', 'del-br', BR]);
      for (const [i, h] of Object.values(HOSTS).entries()) {
        quiet('ip', ['netns', 'del', h.ns]);
        quiet('ip', ['link', 'del', `dmv${id}b${i}`]);
      }
      ovs.stop();
    }
  },
);
