/**
 * The incident engine processes what an ingest group brought in one go
 * (src/cases/engine.ts `processFindings`): it must decide exactly as one
 * finding at a time would (openers, joins, findings before any opener
 * ignored, each link once), tell the response once per incident, and keep
 * its queue bounded. Real SQLite store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CaseEngine } from '../../src/cases/engine.ts';
import { type Finding, makeFinding } from '../../src/core/finding.ts';
import type { Severity } from '../../src/core/severity.ts';
import { openStore, type Store } from '../../src/store/index.ts';

const root = mkdtempSync(join(tmpdir(), 'deminer-engine-'));
let n = 0;
const stores: Store[] = [];
after(async () => {
  for (const s of stores) await s.close();
  rmSync(root, { recursive: true, force: true });
});
async function store(): Promise<Store> {
  const s = await openStore({ dataDir: join(root, `db${n++}`) });
  stores.push(s);
  return s;
}

const T0 = Date.parse('2026-11-20T10:00:00.000Z');
function finding(host: string, subject: string, severity: Severity, mining: boolean, s = 0): Finding {
  return makeFinding({
    rule: { id: mining ? 'deminer.host.miner_cmdline' : 'deminer.host.other', name: 'r', ruleset: 'builtin' },
    severity,
    techniques: mining ? ['T1496'] : ['T1059'],
    host,
    subject: [subject],
    timestamp: new Date(T0 + s * 1000).toISOString(),
    message: `${subject} on ${host}`,
    evidence: {},
  });
}

/** host → the fingerprints its open incident holds (none: absent). */
async function linked(s: Store, hosts: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const h of hosts) {
    const i = await s.incidents.openFor(h);
    if (i) out.set(h, (await s.incidents.linkedFindings(i.id)).sort());
  }
  return out;
}

test('a group is decided as one finding at a time would be', async () => {
  const a = finding('a', 'before', 'medium', false, 0);
  const opener = finding('a', 'miner', 'high', true, 1);
  const join1 = finding('a', 'after', 'medium', false, 2);
  const bMedium = finding('b', 'weak', 'medium', true, 3);
  const bHigh = finding('b', 'strong', 'critical', true, 4);
  const cLow = finding('c', 'x', 'high', false, 5);
  const group = [a, opener, join1, bMedium, bHigh, opener, cLow];

  const batched = await store();
  const e1 = new CaseEngine({ store: batched });
  const placed = await e1.processFindings(group);
  const one = await store();
  const e2 = new CaseEngine({ store: one });
  for (const f of group) await e2.processFinding(f);

  const hosts = ['a', 'b', 'c'];
  const got = await linked(batched, hosts);
  assert.deepEqual(got, await linked(one, hosts), 'same incidents and links as one at a time');
  assert.deepEqual(
    got.get('a'),
    [opener.fingerprint, join1.fingerprint].sort(),
    'before the opener: ignored',
  );
  assert.deepEqual(got.get('b'), [bHigh.fingerprint], 'a medium mining finding opens nothing');
  assert.equal(got.has('c'), false, 'a high finding that is not mining opens nothing');
  assert.equal(placed.has(a.fingerprint), false);
  assert.equal(placed.get(join1.fingerprint), placed.get(opener.fingerprint));

  const inc = (await batched.incidents.openFor('a'))!;
  const kinds = (await batched.incidents.events(inc.id)).map((e) => e.kind);
  assert.deepEqual(kinds, ['opened', 'finding', 'finding'], 'opened, its finding, then the one that joined');
  assert.equal((await batched.incidents.openFor('b'))!.severity, 'critical');

  // Again: the finding from before the opening now joins (the incident is open); then nothing more.
  await e1.processFindings(group);
  for (const f of group) await e2.processFinding(f);
  assert.deepEqual(await linked(batched, hosts), await linked(one, hosts));
  assert.equal((await batched.incidents.events(inc.id)).length, 4);
  await e1.processFindings(group);
  assert.equal((await batched.incidents.events(inc.id)).length, 4, 'each link once');
});

test('severity is raised once to the highest of a group; the response hears once per incident', async () => {
  const s = await store();
  const heard: { id: string; fps: string[] }[] = [];
  const e = new CaseEngine({ store: s });
  e.onJoined = async (id, fs) => {
    heard.push({ id, fps: fs.map((f) => f.fingerprint) });
  };
  await e.processFindings([finding('h', 'open', 'high', true, 0)]);
  const g = [
    finding('h', 'm1', 'medium', true, 1),
    finding('h', 'c1', 'critical', true, 2),
    finding('h', 'm2', 'medium', false, 3),
  ];
  await e.processFindings(g);
  const inc = (await s.incidents.openFor('h'))!;
  assert.equal(inc.severity, 'critical');
  assert.equal(heard.length, 1, 'one call for the incident');
  assert.deepEqual(heard[0], { id: inc.id, fps: g.map((f) => f.fingerprint) }, 'the new links, in order');
  await e.processFindings(g);
  assert.equal(heard.length, 1, 'nothing new: not called');
});

test('many hosts in one group: each opens its own incident; one query per group, not per finding', async () => {
  const s = await store();
  const e = new CaseEngine({ store: s });
  const group: Finding[] = [];
  for (let i = 0; i < 300; i++) group.push(finding(`host-${i % 60}`, `pool-${i}`, 'high', true, i));
  await e.processFindings(group);
  for (let h = 0; h < 60; h++) {
    const inc = await s.incidents.openFor(`host-${h}`);
    assert.ok(inc, `host-${h} has an incident`);
    assert.equal((await s.incidents.linkedFindings(inc.id)).length, 5);
  }
});

test('the queue is bounded: the oldest wait for the sweep, with a warning', async () => {
  const s = await store();
  const logged: string[] = [];
  const e = new CaseEngine({ store: s, maxQueue: 10, log: (m) => logged.push(m) });
  const many = Array.from({ length: 25 }, (_, i) => finding('q', `f${i}`, 'high', true, i));
  e.enqueue(many);
  await e.idle();
  assert.match(logged.join('\n'), /incident queue full: 15 findings left to the sweep/);
  const inc = (await s.incidents.openFor('q'))!;
  assert.deepEqual(
    (await s.incidents.linkedFindings(inc.id)).sort(),
    many
      .slice(15)
      .map((f) => f.fingerprint)
      .sort(),
    'the newest ten were processed',
  );
});
