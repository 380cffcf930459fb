// Learned pools: one host seen mining teaches the pool check its pool, so that
// hosts that only resolve the pool's name or connect to its address are
// reported in the same run. Events are built by hand (net-event-fixture.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../core/finding.ts';
import type { NetEvent } from '../../core/net-event.ts';
import { networkLists } from './lists.ts';
import { answer, connection, query } from './net-event-fixture.ts';
import { NetworkDetector } from './network-detector.ts';

const MINER = '10.4.0.5';
const RESOLVER_ONLY = '10.4.0.6';
const CONNECTOR_ONLY = '10.4.0.7';
const BYSTANDER = '10.4.0.8';
/** A pool no shipped list names: only the mining seen on the wire makes it known. */
const POOL_NAME = 'stratum.private-pool.example.net';
const POOL_IP = '198.51.100.77';
const POOL_PORT = 14_444;
const T0 = Date.UTC(2026, 2, 2, 8);
const DAY = 24 * 3600_000;

function mining(
  src: string,
  dst: string,
  port: number,
  tsMs: number,
  frame: number,
  method = 'login',
): NetEvent {
  return {
    kind: 'mining',
    tsMs,
    file: 'learned.pcap',
    frame,
    transport: 'tcp',
    src: { ip: src, port: 41_000 + frame },
    dst: { ip: dst, port },
    mining: { protocol: 'cryptonote-stratum', method, role: 'client', agent: 'XMRig/6.21.0' },
  };
}

function tls(
  src: string,
  dst: string,
  port: number,
  serverName: string,
  tsMs: number,
  frame: number,
): NetEvent {
  return {
    kind: 'tls',
    tsMs,
    file: 'learned.pcap',
    frame,
    transport: 'tcp',
    src: { ip: src, port: 42_000 + frame },
    dst: { ip: dst, port },
    tls: { serverName },
  };
}

function run(events: NetEvent[]): Finding[] {
  // No intel: the learned pools must carry it alone.
  const d = new NetworkDetector({ lists: networkLists() });
  const out: Finding[] = [];
  for (const e of events) out.push(...d.observe(e));
  out.push(...d.finalize());
  return out;
}

const poolFindings = (fs: Finding[], host: string) =>
  fs.filter(
    (f) =>
      f.host.name === host &&
      (f.rule.id === 'deminer.network.pool_domain' || f.rule.id === 'deminer.network.pool_address'),
  );

test('a host seen mining teaches its pool: a host that only resolves it and one that only connects are reported', () => {
  let frame = 1;
  const events: NetEvent[] = [
    query(MINER, POOL_NAME, T0, frame++),
    answer(MINER, POOL_NAME, [POOL_IP], T0 + 10, frame++),
    connection(MINER, POOL_IP, POOL_PORT, T0 + 20, frame++),
    mining(MINER, POOL_IP, POOL_PORT, T0 + 30, frame++),
    // Later, other hosts: one only resolves the name, one only opens a connection.
    query(RESOLVER_ONLY, POOL_NAME, T0 + 60_000, frame++),
    connection(CONNECTOR_ONLY, POOL_IP, POOL_PORT, T0 + 120_000, frame++),
    // The same address on another port is not the pool endpoint.
    connection(BYSTANDER, POOL_IP, 443, T0 + 130_000, frame++),
  ];
  const fs = run(events);

  assert.ok(
    fs.some((f) => f.rule.id === 'deminer.network.mining_protocol' && f.host.name === MINER),
    'the miner itself: mining_protocol',
  );
  // The teacher is not reported again for the pool it taught.
  assert.deepEqual(poolFindings(fs, MINER), []);

  const [byName] = poolFindings(fs, RESOLVER_ONLY);
  assert.ok(byName, 'the host that only resolved the pool name');
  assert.equal(byName.rule.id, 'deminer.network.pool_domain');
  assert.equal(byName.severity, 'high');
  assert.equal(byName.dns?.question.name, POOL_NAME);
  const learnedByName = byName.evidence['learned_from'] as Record<string, unknown>;
  assert.equal(learnedByName['host'], MINER);
  assert.equal(learnedByName['endpoint'], `${POOL_IP}:${POOL_PORT}`);
  assert.equal(learnedByName['name'], POOL_NAME);
  assert.equal(learnedByName['protocol'], 'cryptonote-stratum');
  assert.equal(learnedByName['method'], 'login');
  assert.equal((byName.evidence['intel'] as Record<string, unknown>)['source'], 'deminer-learned');
  assert.match(byName.message, /learned from 10\.4\.0\.5/);

  const [byAddress] = poolFindings(fs, CONNECTOR_ONLY);
  assert.ok(byAddress, 'the host that only connected to the pool address');
  assert.equal(byAddress.rule.id, 'deminer.network.pool_address');
  assert.equal(byAddress.destination?.ip, POOL_IP);
  assert.equal(byAddress.destination?.port, POOL_PORT);
  assert.equal((byAddress.evidence['learned_from'] as Record<string, unknown>)['host'], MINER);

  assert.deepEqual(poolFindings(fs, BYSTANDER), []);
});

test('the TLS name a miner used is learned with the endpoint', () => {
  const ip = '198.51.100.78';
  const name = 'tls-pool.example.org';
  const fs = run([
    tls(MINER, ip, 443, name, T0, 1),
    mining(MINER, ip, 443, T0 + 5, 2, 'mining.subscribe'),
    tls(RESOLVER_ONLY, '198.51.100.79', 443, name, T0 + 60_000, 3),
  ]);
  const [f] = poolFindings(fs, RESOLVER_ONLY);
  assert.ok(f, 'a TLS session to the learned name, at another address');
  assert.equal(f.tls?.server_name, name);
  assert.equal((f.evidence['learned_from'] as Record<string, unknown>)['name'], name);
});

test('learned pools expire: a host connecting after the expiry is not reported', () => {
  const fs = run([
    mining(MINER, POOL_IP, POOL_PORT, T0, 1),
    connection(CONNECTOR_ONLY, POOL_IP, POOL_PORT, T0 + 6 * DAY, 2),
    connection(BYSTANDER, POOL_IP, POOL_PORT, T0 + 14 * DAY, 3),
  ]);
  assert.equal(poolFindings(fs, CONNECTOR_ONLY).length, 1, 'within 7 days');
  assert.deepEqual(poolFindings(fs, BYSTANDER), [], 'after 7 days without mining seen');
});

test('getblocktemplate to a node teaches nothing (a wallet node may be sanctioned)', () => {
  const fs = run([
    {
      ...mining(MINER, '10.4.9.9', 8332, T0, 1),
      mining: { protocol: 'getblocktemplate', method: 'getblocktemplate', role: 'client' },
    },
    connection(CONNECTOR_ONLY, '10.4.9.9', 8332, T0 + 1000, 2),
  ]);
  assert.deepEqual(poolFindings(fs, CONNECTOR_ONLY), []);
});
