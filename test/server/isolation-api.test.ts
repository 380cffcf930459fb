/**
 * The isolation API against a real server and store (SQLite, and PostgreSQL
 * when it is reachable), with the Ryu controller stand-in of
 * test/respond/fake-controllers.ts as the network backend: roles, dry run,
 * the never-isolate list, approval, a failing controller (retries counted,
 * the error kept), expiry, the automatic policy on ingest, and the agent
 * path's directive and report.
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { isolationSettings, type ParsedIsolationConfig } from '../../src/respond/isolate/server-config.ts';
import { type Fake, startRyu } from '../respond/fake-controllers.ts';
import {
  finding,
  type Harness,
  type Json,
  openStream,
  postgresOpener,
  postgresUnavailable,
  type StoreOpener,
  sqliteOpener,
  withServer,
} from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function settings(cfg: ParsedIsolationConfig, never: string[] = []) {
  return isolationSettings(
    cfg,
    never.map((cidr) => ({
      cidr: cidr.includes('/') ? cidr : `${cidr}/32`,
      source: 'the test never_isolate',
    })),
  );
}

/** An agent host with the given addresses; its token and id. */
async function agentHost(
  h: Harness,
  name: string,
  addresses: string[],
): Promise<{ token: string; id: string }> {
  const e = await h.api.post('/enrolments', h.admin, {});
  const r = await h.api.post('/enrol', undefined, { secret: e.body.secret, host: { name, addresses } });
  assert.equal(r.status, 201, r.text);
  return { token: r.body.token, id: r.body.host.id };
}

async function until(
  h: Harness,
  hostId: string,
  ok: (iso: Json) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<Json> {
  const end = Date.now() + timeoutMs;
  let last: Json;
  for (;;) {
    const r = await h.api.get(`/hosts/${hostId}/isolation`, h.admin);
    assert.equal(r.status, 200, r.text);
    last = r.body.isolation;
    if (last && ok(last)) return last;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

const engines: [string, StoreOpener, () => Promise<string | undefined>][] = [
  ['sqlite', sqliteOpener, async () => undefined],
  ['postgres', postgresOpener(), () => postgresUnavailable()],
];

for (const [engine, opener, unavailable] of engines) {
  describe(`isolation API (${engine})`, () => {
    let ryu: Fake;
    let skip: string | undefined;
    before(async () => {
      skip = await unavailable();
      ryu = await startRyu([1]);
    });
    after(() => ryu.close());

    const ryuBackend = () => ({ ryu: { controller: ryu.url, dpid: 1 } });

    test('roles, dry run, isolate, idempotence, action log and audit, release', async (t) => {
      if (skip) return t.skip(skip);
      await withServer(
        opener,
        async (h) => {
          const host = await agentHost(h, 'web-iso-1', ['192.0.2.10', 'fe80::1', '127.0.0.1']);
          const viewer = await h.token('viewer', 'vera');
          const analyst = await h.token('analyst', 'alice');
          const stream = await openStream(h.url, viewer);
          try {
            assert.equal((await h.api.post(`/hosts/${host.id}/isolate`, undefined, {})).status, 401);
            for (const tok of [viewer, host.token]) {
              assert.equal((await h.api.post(`/hosts/${host.id}/isolate`, tok, {})).status, 403);
              assert.equal((await h.api.post(`/hosts/${host.id}/release`, tok, {})).status, 403);
            }
            assert.equal((await h.api.post('/hosts/nope/isolate', analyst, {})).status, 404);
            const bad = await h.api.post(`/hosts/${host.id}/isolate`, analyst, { backend: 'ovs' });
            assert.equal(bad.status, 422);
            assert.equal(bad.body.error.field, 'backend');
            assert.match(bad.body.error.message, /not configured.*ryu/);
            const none = await h.api.get(`/hosts/${host.id}/isolation`, viewer);
            assert.equal(none.status, 200);
            assert.equal(none.body.isolation, null);
            assert.deepEqual(none.body.backends, ['ryu']);

            // Dry run: the plan, nothing sent, nothing recorded.
            const sent = ryu.requests.length;
            const dry = await h.api.post(`/hosts/${host.id}/isolate`, analyst, { dry_run: true });
            assert.equal(dry.status, 200, dry.text);
            assert.equal(dry.body.dry_run, true);
            assert.equal(
              dry.body.target,
              '192.0.2.10',
              'the one routable address (loopback and link-local left out)',
            );
            assert.ok(
              dry.body.plan.some((s: Json) => s.method === 'POST' && s.url.endsWith('/stats/flowentry/add')),
            );
            assert.equal(ryu.requests.length, sent, 'a dry run sends nothing');
            assert.equal((await h.api.get(`/hosts/${host.id}/isolation`, viewer)).body.isolation, null);

            const t0 = Date.now();
            const r = await h.api.post(`/hosts/${host.id}/isolate`, analyst, {
              reason: 'f'.repeat(32),
              ttl_s: 3600,
            });
            assert.equal(r.status, 202, r.text);
            assert.equal(r.body.requested_by, 'alice');
            assert.equal(r.body.backend, 'ryu');
            const done = await until(h, host.id, (i) => i.state === 'isolated', 'isolated');
            const ms = Date.now() - t0;
            assert.equal(done.attempts, 1);
            assert.equal(done.last_error, null);
            assert.ok(done.expires_at, 'the expiry is set once isolated');
            assert.ok(ryu.rules().length > 0, 'the controller holds the drop rules');
            assert.deepEqual(ryu.violations, []);
            const kinds = done.actions.map((a: Json) => a.kind);
            assert.deepEqual(kinds.slice(0, 2), ['request', 'apply']);
            assert.ok(kinds.includes('exchange') && kinds.at(-1) === 'verify', kinds.join(','));
            const ex = done.actions.find(
              (a: Json) => a.kind === 'exchange' && a.detail.step.method === 'POST',
            );
            assert.equal(ex.detail.answer.status, 200, 'the controller answer is in the log');
            t.diagnostic(`API request -> isolated (read back from the controller) in ${ms} ms`);

            // Isolating twice is the same isolation.
            const again = await h.api.post(`/hosts/${host.id}/isolate`, analyst, {});
            assert.equal(again.status, 200);
            assert.equal(again.body.id, r.body.id);
            const list = await h.api.get('/isolations?state=isolated', viewer);
            assert.deepEqual(
              list.body.items.map((i: Json) => i.id),
              [r.body.id],
            );
            assert.equal((await h.api.get('/isolations?state=gone', viewer)).status, 400);
            const audit = await h.api.get('/audit?limit=500', h.admin);
            const actions = audit.body.items.map((e: Json) => e.action);
            for (const a of [
              'isolation.request',
              'isolation.apply',
              'isolation.exchange',
              'isolation.verify',
              'hosts.isolate',
            ])
              assert.ok(actions.includes(a), `${a} in the audit log`);
            assert.ok(
              actions.includes('hosts.isolate') && audit.body.items.some((e: Json) => e.outcome === '403'),
            );

            const rel = await h.api.post(`/hosts/${host.id}/release`, analyst, {});
            assert.equal(rel.status, 202, rel.text);
            const gone = await until(h, host.id, (i) => i.state === 'released', 'released');
            assert.equal(gone.released_by, 'alice');
            assert.equal(ryu.rules().length, 0);
            const rel2 = await h.api.post(`/hosts/${host.id}/release`, analyst, {});
            assert.equal(rel2.status, 200, 'releasing twice: released already');
            await stream.until(/event: isolation\ndata: \{[^\n]*"state":"isolated"/);
            await stream.until(/event: isolation\ndata: \{[^\n]*"state":"released"/);
          } finally {
            stream.close();
          }
        },
        {
          isolation: { settings: settings({ backends: ryuBackend(), retries: 2, backoff: 50 }), tickMs: 100 },
        },
      );
    });

    test('never-isolate: refused with the entry named, even as a dry run; the server’s own addresses too', async (t) => {
      if (skip) return t.skip(skip);
      await withServer(
        opener,
        async (h) => {
          const analyst = await h.token('analyst');
          const dc = await agentHost(h, 'dc01', ['192.0.2.53']);
          const sent = ryu.requests.length;
          for (const dry_run of [false, true]) {
            const r = await h.api.post(`/hosts/${dc.id}/isolate`, analyst, { dry_run });
            assert.equal(r.status, 422, r.text);
            assert.equal(r.body.error.field, 'address');
            assert.match(
              r.body.error.message,
              /never-isolate list \(entry 192\.0\.2\.48\/28 from the test never_isolate\)/,
            );
          }
          const other = await agentHost(h, 'web-iso-2', ['192.0.2.99']);
          const given = await h.api.post(`/hosts/${other.id}/isolate`, analyst, { address: '192.0.2.54' });
          assert.equal(given.status, 422, 'an address given in the request is checked the same way');
          const own = Object.values(networkInterfaces())
            .flat()
            .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
          if (own) {
            const self = await agentHost(h, 'the-server-itself', [own]);
            const r = await h.api.post(`/hosts/${self.id}/isolate`, analyst, {});
            assert.equal(r.status, 422);
            assert.match(r.body.error.message, /this deminer server's own address/);
          }
          assert.equal(ryu.requests.length, sent, 'nothing was sent');
          const audit = await h.api.get('/audit', h.admin);
          assert.ok(
            audit.body.items.some(
              (e: Json) =>
                e.action === 'hosts.isolate' && e.outcome === '422' && /never-isolate/.test(e.detail.message),
            ),
            'the refusal is audited',
          );
        },
        { isolation: { settings: settings({ backends: ryuBackend() }, ['192.0.2.48/28']), tickMs: 100 } },
      );
    });

    test('approval: a request waits; viewers cannot approve; analysts can, once', async (t) => {
      if (skip) return t.skip(skip);
      await withServer(
        opener,
        async (h) => {
          const analyst = await h.token('analyst', 'ann');
          const viewer = await h.token('viewer');
          const host = await agentHost(h, 'web-iso-3', ['192.0.2.13']);
          const sent = ryu.requests.length;
          const r = await h.api.post(`/hosts/${host.id}/isolate`, analyst, {});
          assert.equal(r.status, 202);
          assert.equal(r.body.state, 'requested');
          assert.equal(r.body.approval, 'pending');
          await sleep(300);
          assert.equal(ryu.requests.length, sent, 'nothing is sent before approval');
          const pending = await h.api.get('/isolations?state=requested', viewer);
          assert.equal(pending.body.items.length, 1);
          assert.equal((await h.api.post(`/isolations/${r.body.id}/approve`, viewer, {})).status, 403);
          const ok = await h.api.post(`/isolations/${r.body.id}/approve`, analyst, {});
          assert.equal(ok.status, 202, ok.text);
          const done = await until(h, host.id, (i) => i.state === 'isolated', 'isolated after approval');
          assert.equal(done.approval, 'approved');
          assert.equal(done.approved_by, 'ann');
          assert.ok(done.actions.some((a: Json) => a.kind === 'approve' && a.actor === 'ann'));
          assert.equal((await h.api.post(`/isolations/${r.body.id}/approve`, analyst, {})).status, 409);
          assert.equal((await h.api.post('/isolations/nope/approve', analyst, {})).status, 404);
          // A request still waiting is withdrawn by a release, with nothing sent.
          const other = await agentHost(h, 'web-iso-4', ['192.0.2.14']);
          const w = await h.api.post(`/hosts/${other.id}/isolate`, analyst, {});
          const before = ryu.requests.length;
          const rel = await h.api.post(`/hosts/${other.id}/release`, analyst, {});
          assert.equal(rel.status, 200);
          assert.equal(rel.body.state, 'released');
          assert.equal(rel.body.id, w.body.id);
          assert.equal(ryu.requests.length, before);
          await h.api.post(`/hosts/${host.id}/release`, analyst, {});
          await until(h, host.id, (i) => i.state === 'released', 'released');
        },
        {
          isolation: { settings: settings({ backends: ryuBackend(), require_approval: true }), tickMs: 100 },
        },
      );
    });

    test('a failing controller: state failed with its error, every attempt counted; a retry succeeds', async (t) => {
      if (skip) return t.skip(skip);
      await withServer(
        opener,
        async (h) => {
          const analyst = await h.token('analyst');
          const host = await agentHost(h, 'web-iso-5', ['192.0.2.15']);
          ryu.mode = 'error';
          try {
            const r = await h.api.post(`/hosts/${host.id}/isolate`, analyst, {});
            assert.equal(r.status, 202);
            const failed = await until(h, host.id, (i) => i.state === 'failed', 'failed');
            assert.equal(failed.attempts, 3, 'the first attempt and two retries');
            assert.equal(failed.failed_action, 'isolate');
            assert.equal(failed.last_error.code, 'CONTROLLER_ERROR');
            assert.match(failed.last_error.message, /answered 500/);
            assert.equal(failed.actions.filter((a: Json) => a.kind === 'retry').length, 2);
            assert.ok(
              failed.actions.some((a: Json) => a.kind === 'error' && a.outcome === 'CONTROLLER_ERROR'),
            );
            ryu.mode = 'auth';
            const again = await h.api.post(`/hosts/${host.id}/isolate`, analyst, {});
            assert.equal(again.status, 202);
            assert.equal(again.body.id, r.body.id, 'the same isolation is tried again');
            const refused = await until(
              h,
              host.id,
              (i) => i.state === 'failed' && i.last_error.code === 'CONTROLLER_AUTH',
              'refused credentials',
            );
            assert.equal(refused.attempts, 4, 'refused credentials are not retried');
          } finally {
            ryu.mode = 'ok';
          }
          await h.api.post(`/hosts/${host.id}/isolate`, analyst, {});
          const ok = await until(h, host.id, (i) => i.state === 'isolated', 'isolated');
          assert.equal(ok.attempts, 5);
          assert.equal(ok.last_error, null);
          await h.api.post(`/hosts/${host.id}/release`, analyst, {});
          await until(h, host.id, (i) => i.state === 'released', 'released');
        },
        {
          isolation: { settings: settings({ backends: ryuBackend(), retries: 2, backoff: 50 }), tickMs: 100 },
        },
      );
    });

    test('expiry: released when its time is up', async (t) => {
      if (skip) return t.skip(skip);
      await withServer(
        opener,
        async (h) => {
          const analyst = await h.token('analyst');
          const host = await agentHost(h, 'web-iso-6', ['192.0.2.16']);
          const r = await h.api.post(`/hosts/${host.id}/isolate`, analyst, { ttl_s: 1 });
          assert.equal(r.status, 202);
          const iso = await until(h, host.id, (i) => i.state === 'isolated', 'isolated');
          assert.ok(Date.parse(iso.expires_at) - Date.parse(iso.isolated_at) === 1000);
          const rel = await until(h, host.id, (i) => i.state === 'released', 'released at expiry', 10_000);
          assert.equal(rel.released_by, 'ttl');
          assert.ok(rel.actions.some((a: Json) => a.kind === 'expire'));
          assert.ok(Date.parse(rel.released_at) >= Date.parse(iso.expires_at));
          assert.equal(ryu.rules().length, 0);
        },
        { isolation: { settings: settings({ backends: ryuBackend() }), tickMs: 100 } },
      );
    });

    test('policy: critical findings of a confirmatory rule isolate at once; high ones ask; others do nothing', async (t) => {
      if (skip) return t.skip(skip);
      await withServer(
        opener,
        async (h) => {
          const sensor = await h.token('sensor');
          const analyst = await h.token('analyst');
          const a = await agentHost(h, 'miner-a', ['192.0.2.21']);
          const b = await agentHost(h, 'miner-b', ['192.0.2.22']);
          const c = await agentHost(h, 'miner-c', ['192.0.2.23']);
          const confirm = finding({ host: 'miner-a', severity: 'critical', rule: 'deminer.process.miner' });
          const t0 = Date.now();
          const ingest = await h.api.post('/findings', sensor, {
            items: [
              confirm,
              finding({ host: 'miner-b', severity: 'high', rule: 'deminer.process.miner' }),
              finding({ host: 'miner-c', severity: 'critical', rule: 'deminer.other.rule' }),
              finding({ host: 'miner-c', severity: 'medium', rule: 'deminer.process.miner' }),
            ],
          });
          assert.equal(ingest.status, 202, ingest.text);
          const auto = await until(h, a.id, (i) => i.state === 'isolated', 'automatic isolation');
          t.diagnostic(`ingest -> isolated by policy in ${Date.now() - t0} ms`);
          assert.equal(auto.requested_by, 'policy:deminer.process.miner');
          assert.equal(auto.reason, confirm.fingerprint);
          assert.equal(auto.approval, 'not_required');
          // The critical mining finding opened an incident for the host; the isolation is on its timeline.
          const end = Date.now() + 15_000;
          let steps: Json[] = [];
          for (;;) {
            const list = await h.api.get('/incidents?host=miner-a', analyst);
            assert.equal(list.status, 200, list.text);
            if (list.body.items.length === 1) {
              const one = await h.api.get(`/incidents/${list.body.items[0].id}`, analyst);
              steps = one.body.timeline.filter((e: Json) => e.kind === 'action');
              if (steps.some((e: Json) => e.data.action === 'isolation.isolated')) break;
            }
            if (Date.now() > end)
              assert.fail(`no isolation step on the incident; actions: ${JSON.stringify(steps)}`);
            await sleep(50);
          }
          const done = steps.find((e: Json) => e.data.action === 'isolation.isolated')!;
          assert.equal(done.actor, 'isolation');
          assert.equal(done.data.detail.isolation_id, auto.id);
          assert.equal(done.data.detail.target, '192.0.2.21');
          assert.equal(done.data.detail.backend, 'ryu');
          // Verified isolation ends the isolation phase: the incident moves on and its isolation clock is met.
          let moved: Json;
          for (const stop = Date.now() + 15_000; ; await sleep(50)) {
            moved = (await h.api.get(`/incidents?host=miner-a`, analyst)).body.items[0];
            if (moved.phase === 'forensics') break;
            if (Date.now() > stop) assert.fail(`incident not moved on: ${JSON.stringify(moved)}`);
          }
          assert.ok(moved.sla.isolation.met_at, JSON.stringify(moved.sla));
          assert.equal(moved.sla.isolation.breached, false);
          const asks = await until(h, b.id, (i) => i.state === 'requested', 'a request pending approval');
          assert.equal(asks.approval, 'pending');
          await sleep(200);
          assert.equal((await h.api.get(`/hosts/${c.id}/isolation`, analyst)).body.isolation, null);

          // Released by a person: the same finding arriving again does not isolate it again.
          await h.api.post(`/hosts/${a.id}/release`, analyst, {});
          await until(h, a.id, (i) => i.state === 'released', 'released');
          await h.api.post('/findings', sensor, { items: [{ ...confirm, id: crypto.randomUUID() }] });
          await sleep(300);
          assert.equal(
            (await h.api.get(`/hosts/${a.id}/isolation`, analyst)).body.isolation.state,
            'released',
          );

          // A protected host is never isolated by the policy; the refusal is audited once.
          const dc = await agentHost(h, 'dc-99', ['192.0.2.250']);
          for (let i = 0; i < 2; i++)
            await h.api.post('/findings', sensor, {
              items: [
                finding({ host: 'dc-99', subject: 'x', severity: 'critical', rule: 'deminer.process.miner' }),
              ],
            });
          await sleep(300);
          assert.equal((await h.api.get(`/hosts/${dc.id}/isolation`, analyst)).body.isolation, null);
          const audit = await h.api.get('/audit?limit=500', h.admin);
          const refusals = audit.body.items.filter(
            (e: Json) => e.action === 'isolation.policy' && e.target === dc.id,
          );
          assert.equal(refusals.length, 1);
          assert.equal(refusals[0].outcome, 'ISOLATE_PROTECTED');
        },
        {
          isolation: {
            settings: settings(
              {
                backends: ryuBackend(),
                auto: { min_severity: 'critical', rules: ['deminer.process.miner'] },
                approval: { min_severity: 'high', rules: ['deminer.process.miner'] },
              },
              ['192.0.2.250'],
            ),
            tickMs: 100,
          },
        },
      );
    });

    test('agent path: the heartbeat carries the directive, the agent reports for its own host only', async (t) => {
      if (skip) return t.skip(skip);
      await withServer(
        opener,
        async (h) => {
          const analyst = await h.token('analyst');
          const host = await agentHost(h, 'agent-iso-1', ['192.0.2.31']);
          const other = await agentHost(h, 'agent-iso-2', ['192.0.2.32']);
          const sensorOnly = await h.api.post('/findings', await h.token('sensor'), {
            items: [finding({ host: '192.0.2.33', severity: 'low' })],
          });
          assert.equal(sensorOnly.status, 202);
          const agentless = (await h.api.get('/hosts?text=192.0.2.33', analyst)).body.items[0];
          const noAgent = await h.api.post(`/hosts/${agentless.id}/isolate`, analyst, {});
          assert.equal(noAgent.status, 422);
          assert.match(noAgent.body.error.message, /has no agent/);

          const hb0 = await h.api.post('/heartbeat', host.token, { host: {} });
          assert.equal(hb0.body.isolation, undefined, 'no directive while nothing holds');
          const r = await h.api.post(`/hosts/${host.id}/isolate`, analyst, {});
          assert.equal(r.status, 202);
          assert.equal(r.body.state, 'applying');
          const hb = await h.api.post('/heartbeat', host.token, { host: {} });
          assert.equal(hb.body.isolation.id, r.body.id);
          assert.equal(hb.body.isolation.action, 'isolate');
          assert.deepEqual(hb.body.isolation.allow, ['198.51.100.7']);
          assert.equal((await h.api.post('/heartbeat', other.token, { host: {} })).body.isolation, undefined);

          const report = {
            isolation_id: r.body.id,
            action: 'isolate',
            ok: true,
            outcome: 'isolated',
            attempts: 1,
            verification: { state: 'isolated', present: ['table inet deminer'] },
          };
          const foreign = await h.api.post(`/hosts/${host.id}/isolation/report`, other.token, report);
          assert.equal(foreign.status, 403);
          assert.equal((await h.api.post(`/hosts/${host.id}/isolation/report`, analyst, report)).status, 403);
          const rep = await h.api.post(`/hosts/${host.id}/isolation/report`, host.token, report);
          assert.equal(rep.status, 200, rep.text);
          assert.equal(rep.body.state, 'isolated');
          assert.equal(rep.body.attempts, 1);

          await h.api.post(`/hosts/${host.id}/release`, analyst, {});
          const hb2 = await h.api.post('/heartbeat', host.token, { host: {} });
          assert.equal(hb2.body.isolation.action, 'release');
          const done = await h.api.post(`/hosts/${host.id}/isolation/report`, host.token, {
            ...report,
            action: 'release',
            outcome: 'released',
          });
          assert.equal(done.body.state, 'released');
          assert.equal((await h.api.post('/heartbeat', host.token, { host: {} })).body.isolation, undefined);
          const log = (await h.api.get(`/isolations/${r.body.id}`, analyst)).body.actions;
          assert.deepEqual(
            log.filter((a: Json) => a.kind === 'report').map((a: Json) => [a.actor, a.detail.action]),
            [
              ['agent:agent-iso-1', 'isolate'],
              ['agent:agent-iso-1', 'release'],
            ],
          );
        },
        {
          isolation: {
            settings: settings({ backends: { 'agent-nftables': { allow: ['198.51.100.7'] } } }),
            tickMs: 100,
          },
        },
      );
    });
  });
}
