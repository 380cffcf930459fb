/**
 * The host firewall backend in a network namespace of its own (nft tables are
 * per namespace, so the machine running the test is never touched): after
 * `deminer isolate --backend nftables --allow SERVER` the namespace still
 * reaches the deminer server's address and nothing else; `release` restores
 * everything and leaves no table behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { addHost, cannotNft, deminer, inNs, POOL, type Proc, probe, quiet, sh, skipOrFail } from './netns.ts';

const id = process.pid % 100_000;
const HOST = { ns: `dmh${id}`, ip: '192.0.2.50' };
const NET = { ns: `dmn${id}`, server: '192.0.2.1', pool: '192.0.2.99' };
const PORT = 3333;

function tables(ns: string): string {
  return spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' }).stdout;
}

test(
  'nftables: the isolated namespace reaches only the deminer server; release restores it',
  { timeout: 120_000 },
  async (t) => {
    if (skipOrFail(t, cannotNft())) return;
    const procs: Proc[] = [];
    try {
      // The isolated host, and one peer namespace holding both the server's and a pool's address.
      addHost(HOST.ns, `dmw${id}h`, `dmw${id}n`, `${HOST.ip}/24`);
      sh('ip', ['netns', 'add', NET.ns]);
      sh('ip', ['link', 'set', `dmw${id}n`, 'netns', NET.ns]);
      sh('ip', ['-n', NET.ns, 'addr', 'add', `${NET.server}/24`, 'dev', `dmw${id}n`]);
      sh('ip', ['-n', NET.ns, 'addr', 'add', `${NET.pool}/24`, 'dev', `dmw${id}n`]);
      sh('ip', ['-n', NET.ns, 'link', 'set', `dmw${id}n`, 'up']);
      sh('ip', ['-n', NET.ns, 'link', 'set', 'lo', 'up']);
      const pool = inNs(NET.ns, [process.execPath, POOL, '--host', '0.0.0.0', '--port', String(PORT)]);
      procs.push(pool);
      await pool.waitFor('LISTENING ');
      assert.ok(probe(HOST.ns, NET.server, PORT), 'before: the host reaches the server');
      assert.ok(probe(HOST.ns, NET.pool, PORT), 'before: the host reaches the pool');

      const args = [
        'isolate',
        HOST.ip,
        '--backend',
        'nftables',
        '--allow',
        NET.server,
        '--ttl',
        '2h',
        '-f',
        'json',
      ];
      const iso = await deminer(args, { ns: HOST.ns });
      assert.equal(iso.status, 0, iso.stderr);
      const r = JSON.parse(iso.stdout) as {
        ok: boolean;
        outcome: string;
        ttl: { ms: number; enforced: boolean };
        exchanges: { step: { argv: string[]; stdin?: string } }[];
      };
      assert.equal(r.outcome, 'isolated');
      assert.deepEqual([r.ttl.ms, r.ttl.enforced], [7_200_000, false]);
      const load = r.exchanges.find((e) => e.step.argv.includes('-f'));
      assert.match(load?.step.stdin ?? '', /table inet deminer \{/);
      assert.ok(probe(HOST.ns, NET.server, PORT), 'isolated: the deminer server is still reachable');
      assert.ok(!probe(HOST.ns, NET.pool, PORT, 800), 'isolated: the pool is not');
      assert.ok(!probe(NET.ns, HOST.ip, PORT, 800), 'isolated: nothing but the server gets in either');

      const again = await deminer(args, { ns: HOST.ns });
      assert.equal(again.status, 0, again.stderr);
      assert.equal((JSON.parse(again.stdout) as { outcome: string }).outcome, 'already_isolated');
      assert.equal(tables(HOST.ns).trim(), 'table inet deminer', 'one table, however often isolated');

      // A different allow list replaces the table atomically: the old address is no longer allowed.
      const moved = await deminer(['isolate', HOST.ip, '--backend', 'nftables', '--allow', NET.pool], {
        ns: HOST.ns,
      });
      assert.equal(moved.status, 0, moved.stderr);
      assert.ok(probe(HOST.ns, NET.pool, PORT), 'the newly allowed address is reachable');
      assert.ok(!probe(HOST.ns, NET.server, PORT, 800), 'the formerly allowed one is not');

      const rel = await deminer(['release', HOST.ip, '--backend', 'nftables'], { ns: HOST.ns });
      assert.equal(rel.status, 0, rel.stderr);
      assert.equal(tables(HOST.ns).trim(), '', 'release leaves no table');
      assert.ok(probe(HOST.ns, NET.pool, PORT), 'released: the pool is reachable again');
      const rel2 = await deminer(['release', HOST.ip, '--backend', 'nftables'], { ns: HOST.ns });
      assert.equal(rel2.status, 0, rel2.stderr);
      assert.match(rel2.stdout, /nothing to release/);

      // The backend isolates the host it runs on, never another one.
      const other = await deminer(['isolate', '192.0.2.77', '--backend', 'nftables', '--allow', NET.server], {
        ns: HOST.ns,
      });
      assert.equal(other.status, 2);
      assert.match(other.stderr, /ISOLATE_NOT_LOCAL/);
      assert.equal(tables(HOST.ns).trim(), '');
    } finally {
      for (const p of procs) p.stop();
      quiet('ip', ['netns', 'del', HOST.ns]);
      quiet('ip', ['netns', 'del', NET.ns]);
    }
  },
);
