/**
 * The HTTP API's behaviour, one suite for every store: api-sqlite.test.ts
 * and api-postgres.test.ts run it against a real server over a real
 * database each. Every test gets its own server and empty store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Finding } from '../../src/core/finding.ts';
import { writeFeedState } from '../../src/intel/state.ts';
import { CONSOLE_CSP, EventHub } from '../../src/server/index.ts';
import { KyselyStore } from '../../src/store/kysely-store.ts';
import { incidentApiTests } from '../cases/incidents-api.ts';
import { allFindings, finding, type Json, openStream, type StoreOpener, withServer } from './helpers.ts';

const FUTURE = (): string => new Date(Date.now() + 3_600_000).toISOString();

function assertError(
  r: { status: number; body: Json; text: string },
  status: number,
  code: string,
  field?: string,
): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error?.code, code, r.text);
  assert.equal(typeof r.body.error.message, 'string');
  if (field !== undefined) assert.equal(r.body.error.field, field, r.text);
  assert.doesNotMatch(r.text, /\n\s+at /, 'no stack trace');
}

/** Every route of the API as `METHOD /path` (OpenAPI path syntax). */
export const EXPECTED_ROUTES = [
  'GET /health',
  'GET /openapi.json',
  'POST /enrolments',
  'POST /enrol',
  'POST /heartbeat',
  'GET /agent-config',
  'PUT /agent-config',
  'POST /findings',
  'GET /findings',
  'GET /findings/{fingerprint}',
  'POST /findings/ack',
  'GET /hosts',
  'GET /hosts/{id}',
  'GET /hosts/{id}/metrics',
  'POST /metrics',
  'POST /tokens',
  'GET /tokens',
  'DELETE /tokens/{id}',
  'GET /audit',
  'GET /stream',
  'GET /whoami',
  'GET /overview',
  'GET /rules',
  'GET /rules/{id}',
  'GET /enrolments',
  'DELETE /enrolments/{id}',
  // The incident workflow (test/cases/incidents-api.ts).
  'GET /incidents',
  'POST /incidents',
  'GET /incidents/{id}',
  'PATCH /incidents/{id}',
  'POST /incidents/{id}/phase',
  'POST /incidents/{id}/notes',
  'POST /incidents/{id}/actions',
  'GET /incidents/{id}/report',
  'GET /reports/month/{month}',
  'GET /campaigns',
  'GET /campaigns/{id}',
  // Isolation (test/server/isolation-api.test.ts).
  'POST /hosts/{id}/isolate',
  'POST /hosts/{id}/release',
  'GET /hosts/{id}/isolation',
  'POST /hosts/{id}/isolation/report',
  'GET /isolations',
  'GET /isolations/{id}',
  'POST /isolations/{id}/approve',
  // Threat-intel feeds (test/server/intel-feeds.test.ts).
  'GET /intel/feeds',
  'GET /intel/learned-pools',
  'POST /intel/feeds/refresh',
  // Forensics and eradication through the agent (test/cases/response-api.test.ts, response-e2e.serial.test.ts).
  'POST /incidents/{id}/evidence',
  'GET /incidents/{id}/evidence',
  'POST /incidents/{id}/eradicate',
  'GET /incidents/{id}/tasks',
  'GET /evidence/{id}',
  'GET /evidence/{id}/custody',
  'POST /hosts/{id}/tasks/{task}/evidence',
  'POST /hosts/{id}/tasks/{task}/result',
].sort();

export function apiSuite(name: string, open: StoreOpener): void {
  describe(`HTTP API on ${name}`, () => {
    test('health answers without a token', () =>
      withServer(open, async ({ api }) => {
        const r = await api.get('/health');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.status, 'ok');
        assert.equal(r.body.version, '0.0.0-test');
        assert.equal(r.body.store, name);
        assert.ok(Number.isInteger(r.body.uptime_ms) && r.body.uptime_ms >= 0);
        assert.ok(Number.isInteger(r.body.data_bytes) && r.body.data_bytes > 0);
      }));

    test('no token or a bad token → 401, audited as anonymous; unknown route → 404 in the same shape', () =>
      withServer(open, async ({ api, admin }) => {
        assertError(await api.get('/findings'), 401, 'DEMINER_UNAUTHORIZED');
        assertError(await api.get('/findings', 'dmt_not-a-token'), 401, 'DEMINER_UNAUTHORIZED');
        assertError(
          await api.call('GET', '/findings', { headers: { authorization: 'Basic eDp5' } }),
          401,
          'DEMINER_UNAUTHORIZED',
        );
        assertError(await api.post('/findings', undefined, { items: [] }), 401, 'DEMINER_UNAUTHORIZED');
        assertError(await api.get('/nowhere', admin), 404, 'DEMINER_NOT_FOUND');
        const audit = await api.get('/audit?limit=50', admin);
        assert.equal(audit.status, 200, audit.text);
        const refusals = audit.body.items.filter((e: Json) => e.outcome === '401');
        assert.equal(refusals.length, 4, JSON.stringify(audit.body.items));
        assert.ok(
          refusals.every((e: Json) => e.actor === 'anonymous' && e.detail.code === 'DEMINER_UNAUTHORIZED'),
        );
        assert.doesNotMatch(JSON.stringify(audit.body), /not-a-token/, 'a presented token is never logged');
      }));

    test('wrong role → 403: a viewer posting findings, an agent reading tokens, an analyst creating tokens', () =>
      withServer(open, async (h) => {
        const viewer = await h.token('viewer');
        const analyst = await h.token('analyst');
        const agent = await h.enrolAgent('web01');
        assertError(await h.api.post('/findings', viewer, { items: [finding()] }), 403, 'DEMINER_FORBIDDEN');
        assertError(await h.api.get('/tokens', agent.token), 403, 'DEMINER_FORBIDDEN');
        assertError(await h.api.get('/findings', agent.token), 403, 'DEMINER_FORBIDDEN');
        assertError(
          await h.api.post('/tokens', analyst, { role: 'admin', name: 'x' }),
          403,
          'DEMINER_FORBIDDEN',
        );
        assertError(
          await h.api.post('/findings/ack', viewer, { fingerprints: ['0123456789abcdef'] }),
          403,
          'DEMINER_FORBIDDEN',
        );
        assert.equal((await h.api.get('/findings', viewer)).status, 200);
        assert.deepEqual(await allFindings(h.api, h.admin), [], 'the refused post stored nothing');
        const audit = await h.api.get('/audit?limit=50', h.admin);
        assert.equal(audit.body.items.filter((e: Json) => e.outcome === '403').length, 5);
      }));

    test('enrolment: admin creates a secret, an agent enrols, its token works; a used-up secret → 401', () =>
      withServer(open, async ({ api, admin }) => {
        const e = await api.post('/enrolments', admin, { uses: 1, expires_in_s: 3600 });
        assert.equal(e.status, 201, e.text);
        assert.equal(e.body.uses_left, 1);
        assert.ok(Math.abs(Date.parse(e.body.expires_at) - (Date.now() + 3_600_000)) < 60_000);
        const r = await api.post('/enrol', undefined, {
          secret: e.body.secret,
          host: {
            name: 'Web01.corp.example',
            os: 'linux',
            kernel: '6.1',
            addresses: ['10.0.0.5'],
            agent_version: '0.1.0',
          },
        });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.host.name, 'web01');
        const agent = r.body.token as string;

        const hb = await api.post('/heartbeat', agent, { host: { agent_version: '0.1.1' } });
        assert.equal(hb.status, 200, hb.text);
        assert.equal(typeof hb.body.config.interval_s, 'number');
        const ingest = await api.post('/findings', agent, { items: [finding({ host: 'web01' })] });
        assert.equal(ingest.status, 202, ingest.text);
        assert.equal(ingest.body.stored, 1);

        const host = await api.get(`/hosts/${encodeURIComponent(r.body.host.id)}`, admin);
        assert.equal(host.status, 200, host.text);
        assert.equal(host.body.name, 'web01');
        assert.equal(host.body.status, 'reporting');
        assert.equal(host.body.agent, true);
        assert.equal(host.body.agent_version, '0.1.1');
        const hosts = await api.get('/hosts', admin);
        assert.deepEqual(
          hosts.body.items.map((x: Json) => x.name),
          ['web01'],
        );
        assert.equal(hosts.body.next, null);

        assertError(
          await api.post('/enrol', undefined, { secret: e.body.secret, host: { name: 'web02' } }),
          401,
          'DEMINER_ENROLMENT_INVALID',
        );
        assertError(
          await api.post('/enrol', undefined, { secret: 'dme_wrong', host: { name: 'web03' } }),
          401,
          'DEMINER_ENROLMENT_INVALID',
        );
        assertError(
          await api.post('/enrolments', admin, { expires_in_s: 31 * 86_400 }),
          400,
          'DEMINER_VALIDATION',
          'expires_in_s',
        );
        assertError(
          await api.post('/enrolments', admin, { uses: 10_001 }),
          400,
          'DEMINER_VALIDATION',
          'uses',
        );
        assertError(await api.get('/hosts/nope', admin), 404, 'DEMINER_NOT_FOUND');

        // The same machine enrolling again (reinstalled) keeps its host id.
        const again = await api.post('/enrolments', admin, {});
        const re = await api.post('/enrol', undefined, {
          secret: again.body.secret,
          host: { name: 'WEB01' },
        });
        assert.equal(re.status, 201, re.text);
        assert.equal(re.body.host.id, r.body.host.id);
        assert.equal((await api.post('/heartbeat', re.body.token, {})).status, 200);
      }));

    test('an agent posting a finding of another host → 403 naming it; nothing of the batch is stored', () =>
      withServer(open, async (h) => {
        const agent = await h.enrolAgent('web01');
        const batch = [finding({ host: 'web01' }), finding({ host: 'db01' })];
        const r = await h.api.post('/findings', agent.token, { items: batch });
        assertError(r, 403, 'DEMINER_FOREIGN_HOST', 'items[1].host.name');
        assert.deepEqual(await allFindings(h.api, h.admin), []);
        // A sensor may report any host.
        const sensor = await h.token('sensor');
        const s = await h.api.post('/findings', sensor, { items: batch });
        assert.equal(s.status, 202, s.text);
        assert.equal((await allFindings(h.api, h.admin)).length, 2);
      }));

    test('idempotent ingest: the same key twice stores once and says replayed', () =>
      withServer(open, async (h) => {
        const sensor = await h.token('sensor');
        const f = finding();
        const key = { 'idempotency-key': 'batch-0001' };
        const a = await h.api.post('/findings', sensor, { items: [f] }, key);
        assert.equal(a.status, 202, a.text);
        assert.deepEqual(a.body, { stored: 1, duplicates: 0, replayed: false });
        const b = await h.api.post('/findings', sensor, { items: [f] }, key);
        assert.equal(b.status, 202, b.text);
        assert.equal(b.body.replayed, true);
        assert.equal(b.body.stored, 0);
        const got = await h.api.get(`/findings/${f.fingerprint}`, h.admin);
        assert.equal(got.status, 200, got.text);
        assert.equal(got.body.count, 1);
        assertError(
          await h.api.post('/findings', sensor, { items: [f] }, { 'idempotency-key': 'x'.repeat(201) }),
          400,
          'DEMINER_VALIDATION',
          'Idempotency-Key',
        );
        assert.equal((await h.api.get(`/findings/${f.fingerprint}`, h.admin)).body.count, 1);
      }));

    test('de-duplication: the same fingerprint twice → one finding with count 2', () =>
      withServer(open, async (h) => {
        const sensor = await h.token('sensor');
        const f = finding();
        const again: Finding = { ...finding({ subject: 'other' }), fingerprint: f.fingerprint };
        const a = await h.api.post('/findings', sensor, { items: [f] });
        assert.deepEqual(a.body, { stored: 1, duplicates: 0, replayed: false });
        const b = await h.api.post('/findings', sensor, { items: [again] });
        assert.deepEqual(b.body, { stored: 0, duplicates: 1, replayed: false });
        const list = await allFindings(h.api, h.admin);
        assert.equal(list.length, 1);
        assert.equal(list[0].count, 2);
        assert.equal(list[0].fingerprint, f.fingerprint);
        assert.equal(list[0].acknowledged, false);
        assert.ok(list[0].first_seen <= list[0].last_seen);
      }));

    test('validation: unknown field, wrong type, 1001 items, future timestamp, bad JSON → 4xx naming the field; nothing stored', () =>
      withServer(open, async (h) => {
        const sensor = await h.token('sensor');
        const good = (): Finding => finding();
        const post = (body: unknown) => h.api.post('/findings', sensor, body);

        assertError(
          await post({ items: [good(), { ...good(), colour: 'red' }] }),
          400,
          'DEMINER_VALIDATION',
          'items[1].colour',
        );
        assertError(
          await post({ items: [{ ...good(), severity: 5 }] }),
          400,
          'DEMINER_VALIDATION',
          'items[0].severity',
        );
        assertError(
          await post({ items: [{ ...good(), host: { name: 'web01', ip: '10.0.0.1' } }] }),
          400,
          'DEMINER_VALIDATION',
          'items[0].host.ip',
        );
        assertError(await post({ items: [good()], extra: 1 }), 400, 'DEMINER_VALIDATION', 'extra');
        assertError(
          await post({ items: Array.from({ length: 1001 }, good) }),
          400,
          'DEMINER_VALIDATION',
          'items',
        );
        const future = [good(), good(), good(), { ...good(), '@timestamp': FUTURE() }];
        assertError(await post({ items: future }), 422, 'DEMINER_FUTURE_TIMESTAMP', 'items[3].@timestamp');
        assertError(
          await h.api.call('POST', '/findings', { token: sensor, raw: '{"items": [' }),
          400,
          'DEMINER_BAD_JSON',
        );
        assertError(
          await h.api.call('POST', '/findings', {
            token: sensor,
            raw: 'items=1',
            headers: { 'content-type': 'text/plain' },
          }),
          415,
          'DEMINER_UNSUPPORTED_MEDIA_TYPE',
        );
        assertError(await post([good()]), 400, 'DEMINER_VALIDATION');
        assert.deepEqual(await allFindings(h.api, h.admin), [], 'no bad batch stored anything');

        const audit = await h.api.get('/audit?limit=100', h.admin);
        const refused = audit.body.items.filter(
          (e: Json) => e.action === 'findings.ingest' && e.outcome !== 'ok',
        );
        assert.equal(refused.length, 9, JSON.stringify(refused));
        assert.ok(refused.some((e: Json) => e.outcome === '422' && e.detail.field === 'items[3].@timestamp'));

        // Query strings are checked the same way.
        assertError(await h.api.get('/findings?limit=501', h.admin), 400, 'DEMINER_VALIDATION', 'limit');
        assertError(
          await h.api.get('/findings?severity=high,urgent', h.admin),
          400,
          'DEMINER_VALIDATION',
          'severity[1]',
        );
        assertError(await h.api.get('/findings?sevrity=high', h.admin), 400, 'DEMINER_VALIDATION', 'sevrity');
        assertError(
          await h.api.get('/findings?cursor=garbage', h.admin),
          400,
          'DEMINER_VALIDATION',
          'cursor',
        );
      }));

    test('a NUL in a string is kept visible as U+FFFD, not refused (it would hide the finding) nor a 500', () =>
      withServer(open, async (h) => {
        const sensor = await h.token('sensor');
        const f = {
          ...finding(),
          process: { pid: 7, name: 'kworker\u0000xmrig' },
          evidence: { 'k\u0000': 'v\u0000' },
        };
        const r = await h.api.post('/findings', sensor, { items: [f] });
        assert.equal(r.status, 202, r.text);
        const got = await h.api.get(`/findings/${f.fingerprint}`, h.admin);
        assert.equal(got.body.process.name, 'kworker\uFFFDxmrig');
        assert.deepEqual(got.body.evidence, { 'k\uFFFD': 'v\uFFFD' });
        assert.equal((await h.api.get('/findings?text=a%00b', h.admin)).status, 200);
        assertError(await h.api.get('/hosts/a%00b', h.admin), 404, 'DEMINER_NOT_FOUND');
      }));

    test('JSON nested a million levels deep is a 400, not a 500 (no walk of it recurses unbounded)', () =>
      withServer(open, async (h) => {
        const sensor = await h.token('sensor');
        for (const depth of [100, 1_000_000]) {
          const body = `{"items":[{"evidence":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
          const r = await h.api.call('POST', '/findings', {
            token: sensor,
            raw: body,
            headers: { 'content-type': 'application/json' },
          });
          assertError(r, 400, 'DEMINER_BAD_JSON');
          assert.match(r.body.error.message, /nested deeper than 64 levels/);
        }
        assert.deepEqual(await allFindings(h.api, h.admin), []);
      }));

    test('paging through 250 findings with filters', () =>
      withServer(open, async (h) => {
        const sensor = await h.token('sensor');
        const base = Date.now() - 3_600_000;
        const items = Array.from({ length: 250 }, (_, i) =>
          finding({
            host: i % 2 === 0 ? 'web01' : 'db01',
            severity: i % 5 === 0 ? 'critical' : 'medium',
            at: new Date(base + i * 1000).toISOString(),
          }),
        );
        const r = await h.api.post('/findings', sensor, { items });
        assert.equal(r.status, 202, r.text);
        assert.equal(r.body.stored, 250);
        const seen = new Set<string>();
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: Json = await h.api.get(
            `/findings?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            h.admin,
          );
          assert.equal(page.status, 200, page.text);
          assert.ok(page.body.items.length <= 100);
          for (const f of page.body.items) {
            assert.ok(!seen.has(f.fingerprint), 'no finding on two pages');
            seen.add(f.fingerprint);
          }
          cursor = page.body.next;
          pages++;
        } while (cursor !== null && pages < 10);
        assert.equal(pages, 3);
        assert.equal(seen.size, 250);
        const critical = await allFindings(h.api, h.admin, 'severity=critical');
        assert.equal(critical.length, 50);
        const webHigh = await allFindings(h.api, h.admin, 'host=web01&severity=critical,medium');
        assert.equal(webHigh.length, 125);
        const one = await h.api.get('/findings?limit=1&sort=first_seen&order=asc', h.admin);
        assert.equal(one.body.items.length, 1);
        assert.notEqual(one.body.next, null);
      }));

    test('acknowledge: an analyst acks, the list filters on it; a viewer may not', () =>
      withServer(open, async (h) => {
        const sensor = await h.token('sensor');
        const analyst = await h.token('analyst');
        const items = [finding(), finding(), finding()];
        await h.api.post('/findings', sensor, { items });
        const ack = await h.api.post('/findings/ack', analyst, {
          fingerprints: [items[0]!.fingerprint, items[1]!.fingerprint],
        });
        assert.equal(ack.status, 200, ack.text);
        assert.deepEqual(ack.body, { acknowledged: 2 });
        const acked = await allFindings(h.api, h.admin, 'acknowledged=true');
        assert.deepEqual(
          acked.map((f: Json) => f.fingerprint).sort(),
          [items[0]!.fingerprint, items[1]!.fingerprint].sort(),
        );
        assert.equal((await allFindings(h.api, h.admin, 'acknowledged=false')).length, 1);
        assertError(
          await h.api.post('/findings/ack', analyst, { fingerprints: ['NOT-HEX'] }),
          400,
          'DEMINER_VALIDATION',
          'fingerprints[0]',
        );
        assertError(
          await h.api.get('/findings/00000000000000000000000000000000', analyst),
          404,
          'DEMINER_NOT_FOUND',
        );
      }));

    test('metrics: an agent sends samples for its host, readers get them back', () =>
      withServer(open, async (h) => {
        const agent = await h.enrolAgent('web01');
        const at = new Date(Date.now() - 5000).toISOString();
        const r = await h.api.post('/metrics', agent.token, {
          items: [
            { subject: 'host', at, cpu: 12.5, memory_bytes: 1024, connections_per_minute: 3 },
            { subject: 'pid:42:1000', at, cpu: 99 },
          ],
        });
        assert.equal(r.status, 202, r.text);
        assert.deepEqual(r.body, { stored: 2 });
        const got = await h.api.get(
          `/hosts/${encodeURIComponent(agent.hostId)}/metrics?subject=host`,
          h.admin,
        );
        assert.equal(got.status, 200, got.text);
        assert.equal(got.body.items.length, 1);
        assert.equal(got.body.items[0].cpu, 12.5);
        assert.equal(got.body.items[0].memory_bytes, 1024);
        assert.equal(got.body.items[0].resolution_s, 0, 'a sample as sent');
        // A chart asks for a whole series at once: up to 10,000 points, as documented.
        const series = `/hosts/${encodeURIComponent(agent.hostId)}/metrics?subject=host&limit=`;
        assert.equal((await h.api.get(`${series}10000`, h.admin)).status, 200);
        assertError(await h.api.get(`${series}10001`, h.admin), 400, 'DEMINER_VALIDATION', 'limit');
        // Samples two days old are folded into a 5-minute bucket by the prune pass, and read back as one.
        const old = Date.now() - 2 * 86_400_000;
        const bucket = old - (old % 300_000);
        const r2 = await h.api.post('/metrics', agent.token, {
          items: [
            { subject: 'pid:7:1', at: new Date(bucket + 1000).toISOString(), cpu: 1, memory_bytes: 100 },
            { subject: 'pid:7:1', at: new Date(bucket + 2000).toISOString(), cpu: 3, memory_bytes: 300 },
          ],
        });
        assert.equal(r2.status, 202, r2.text);
        const pruned = await h.store.prune({ rawMetrics: new Date(Date.now() - 86_400_000).toISOString() });
        assert.equal(pruned.rolledUp.raw, 2);
        const buckets = await h.api.get(
          `/hosts/${encodeURIComponent(agent.hostId)}/metrics?subject=pid:7:1`,
          h.admin,
        );
        assert.equal(buckets.status, 200, buckets.text);
        assert.deepEqual(buckets.body.items, [
          {
            subject: 'pid:7:1',
            at: new Date(bucket).toISOString(),
            resolution_s: 300,
            samples: 2,
            cpu: 2,
            cpu_max: 3,
            memory_bytes: 200,
            memory_bytes_max: 300,
          },
        ]);
        assertError(
          await h.api.post('/metrics', agent.token, { items: [{ subject: 'host', at: FUTURE() }] }),
          422,
          'DEMINER_FUTURE_TIMESTAMP',
          'items[0].at',
        );
        const sensor = await h.token('sensor');
        assertError(await h.api.post('/metrics', sensor, { items: [] }), 403, 'DEMINER_FORBIDDEN');
      }));

    test('agent config: readers see the default, only an admin sets it, heartbeats hand it out, audited and streamed', () =>
      withServer(open, async (h) => {
        const viewer = await h.token('viewer');
        const analyst = await h.token('analyst');
        const agent = await h.enrolAgent('web01');
        const initial = await h.api.get('/agent-config', viewer);
        assert.equal(initial.status, 200, initial.text);
        assert.deepEqual(initial.body, { config: { interval_s: 10 }, updated_at: null, updated_by: null });
        assert.equal((await h.api.get('/agent-config', analyst)).status, 200);
        assertError(await h.api.get('/agent-config', agent.token), 403, 'DEMINER_FORBIDDEN');
        assert.deepEqual(
          (await h.api.post('/heartbeat', agent.token, {})).body,
          { config: { interval_s: 10 } },
          'the default until one is stored',
        );

        const config = {
          interval_s: 30,
          allowlist:
            '<ApplicationControl>\n  <AllowedProcesses>\n    <Process name="nginx" path="/usr/sbin/nginx"/>\n  </AllowedProcesses>\n</ApplicationControl>\n',
          never_alert: ['deminer.persistence.cron', 'deminer.process.masquerade'],
        };
        const put = (token: string, body: unknown) => h.api.call('PUT', '/agent-config', { token, body });
        assertError(await put(viewer, config), 403, 'DEMINER_FORBIDDEN');
        assertError(await put(analyst, config), 403, 'DEMINER_FORBIDDEN');
        assertError(await put(agent.token, config), 403, 'DEMINER_FORBIDDEN');
        assert.equal(
          (await h.api.get('/agent-config', viewer)).body.updated_at,
          null,
          'refused: nothing stored',
        );

        const stream = await openStream(h.url, viewer);
        try {
          await stream.until(/: connected/);
          const r = await put(h.admin, config);
          assert.equal(r.status, 200, r.text);
          const adminId = (await h.store.verifyToken(h.admin))!.id;
          assert.deepEqual(r.body.config, config);
          assert.equal(r.body.updated_by, adminId);
          assert.ok(Math.abs(Date.parse(r.body.updated_at) - Date.now()) < 60_000);
          assert.deepEqual((await h.api.get('/agent-config', viewer)).body, r.body, 'round trip');
          const event = await stream.until(/event: config\ndata: (.*)\n\n/);
          assert.deepEqual(JSON.parse(event.split('\ndata: ')[1]!), {
            updated_at: r.body.updated_at,
            updated_by: adminId,
          });
        } finally {
          stream.close();
        }
        const hb = await h.api.post('/heartbeat', agent.token, {});
        assert.equal(hb.status, 200, hb.text);
        assert.deepEqual(hb.body, { config }, 'the heartbeat hands out the stored configuration');

        // A new PUT replaces the whole: what it leaves out is unset.
        const again = await put(h.admin, { interval_s: 5 });
        assert.equal(again.status, 200, again.text);
        assert.deepEqual((await h.api.post('/heartbeat', agent.token, {})).body, {
          config: { interval_s: 5 },
        });

        const audit = (await h.api.get('/audit?limit=100', h.admin)).body.items as Json[];
        const sets = audit.filter((e) => e.action === 'agent-config.set');
        assert.equal(sets.filter((e) => e.outcome === '403').length, 3, 'refusals are audited');
        const ok = sets.filter((e) => e.outcome === 'ok');
        assert.equal(ok.length, 2);
        const first = ok[ok.length - 1];
        assert.equal(first.target, 'agent-config');
        assert.equal(first.detail.interval_s, 30);
        assert.equal(first.detail.never_alert, 2);
        assert.equal(first.detail.allowlist_entries, 1);
        assert.match(first.detail.allowlist_sha256, /^[0-9a-f]{64}$/);
        assert.ok(
          !JSON.stringify(audit).includes('/usr/sbin/nginx'),
          'the allow-list text stays out of the log',
        );
      }));

    test('agent config validation: a bad allow-list → 400 naming the line; bounds → 400 naming the field; nothing stored', () =>
      withServer(open, async (h) => {
        const put = (body: unknown) => h.api.call('PUT', '/agent-config', { token: h.admin, body });
        const badHash =
          '<ApplicationControl>\n  <AllowedProcesses>\n    <Process name="nginx" hash="zzz"/>\n  </AllowedProcesses>\n</ApplicationControl>';
        const r1 = await put({ interval_s: 10, allowlist: badHash });
        assertError(r1, 400, 'DEMINER_BAD_ALLOWLIST', 'allowlist');
        assert.match(r1.body.error.message, /line 3\b/, r1.text);
        const unclosed =
          '<ApplicationControl>\n  <AllowedProcesses>\n    <Process name="a">\n  </AllowedProcesses>\n</ApplicationControl>';
        const r2 = await put({ interval_s: 10, allowlist: unclosed });
        assertError(r2, 400, 'DEMINER_BAD_ALLOWLIST', 'allowlist');
        assert.match(r2.body.error.message, /line 4\b/, r2.text);
        const dtd =
          '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<ApplicationControl/>';
        const r3 = await put({ interval_s: 10, allowlist: dtd });
        assertError(r3, 400, 'DEMINER_BAD_ALLOWLIST', 'allowlist');
        assert.match(r3.body.error.message, /line 2\b/, r3.text);

        assertError(await put({ interval_s: 1 }), 400, 'DEMINER_VALIDATION', 'interval_s');
        assertError(await put({ interval_s: 3601 }), 400, 'DEMINER_VALIDATION', 'interval_s');
        assertError(await put({ interval_s: 10.5 }), 400, 'DEMINER_VALIDATION', 'interval_s');
        assertError(await put({}), 400, 'DEMINER_VALIDATION', 'interval_s');
        assertError(
          await put({ interval_s: 10, never_alert: Array.from({ length: 1001 }, (_, i) => `r${i}`) }),
          400,
          'DEMINER_VALIDATION',
          'never_alert',
        );
        assertError(
          await put({ interval_s: 10, never_alert: ['ok', 'x'.repeat(201)] }),
          400,
          'DEMINER_VALIDATION',
          'never_alert[1]',
        );
        assertError(
          await put({
            interval_s: 10,
            allowlist: `<ApplicationControl>${' '.repeat(1024 * 1024)}</ApplicationControl>`,
          }),
          400,
          'DEMINER_VALIDATION',
          'allowlist',
        );
        assertError(await put({ interval_s: 10, colour: 'red' }), 400, 'DEMINER_VALIDATION', 'colour');
        assert.deepEqual(
          (await h.api.get('/agent-config', h.admin)).body,
          { config: { interval_s: 10 }, updated_at: null, updated_by: null },
          'nothing refused was stored',
        );
        const audit = (await h.api.get('/audit?limit=100', h.admin)).body.items as Json[];
        const refused = audit.filter((e) => e.action === 'agent-config.set' && e.outcome === '400');
        assert.equal(refused.length, 11);
        assert.ok(
          refused.some((e) => e.detail.code === 'DEMINER_BAD_ALLOWLIST' && /line 3/.test(e.detail.message)),
        );
      }));

    test('tokens: create, list without secrets, revoke', () =>
      withServer(open, async (h) => {
        const c = await h.api.post('/tokens', h.admin, { role: 'viewer', name: 'dashboard' });
        assert.equal(c.status, 201, c.text);
        assert.equal(c.body.role, 'viewer');
        const viewer = c.body.token as string;
        assert.equal((await h.api.get('/findings', viewer)).status, 200);
        const list = await h.api.get('/tokens', h.admin);
        assert.equal(list.status, 200);
        assert.ok(list.body.items.some((t: Json) => t.id === c.body.id && t.name === 'dashboard'));
        assert.ok(!list.text.includes(viewer), 'listing never shows a token');
        assertError(
          await h.api.post('/tokens', h.admin, { role: 'agent', name: 'x' }),
          422,
          'DEMINER_UNPROCESSABLE',
          'host_id',
        );
        assertError(
          await h.api.post('/tokens', h.admin, { role: 'root', name: 'x' }),
          400,
          'DEMINER_VALIDATION',
          'role',
        );
        const del = await h.api.call('DELETE', `/tokens/${c.body.id}`, { token: h.admin });
        assert.equal(del.status, 204, del.text);
        assertError(await h.api.get('/findings', viewer), 401, 'DEMINER_UNAUTHORIZED');
        assertError(
          await h.api.call('DELETE', '/tokens/no-such-token', { token: h.admin }),
          404,
          'DEMINER_NOT_FOUND',
        );
        const audit = await h.api.get('/audit', h.admin);
        assert.ok(
          audit.body.items.some(
            (e: Json) => e.action === 'tokens.revoke' && e.outcome === 'ok' && e.target === c.body.id,
          ),
        );
        assert.ok(audit.body.items.some((e: Json) => e.action === 'tokens.create' && e.outcome === 'ok'));
      }));

    test('the live stream sends a finding event after an ingest and a host event on enrolment', () =>
      withServer(open, async (h) => {
        const viewer = await h.token('viewer');
        const stream = await openStream(h.url, viewer);
        try {
          assert.equal(stream.status, 200);
          await stream.until(/: connected/);
          const f = finding({ host: 'web01' });
          const sensor = await h.token('sensor');
          await h.api.post('/findings', sensor, { items: [f] });
          const event = await stream.until(/event: finding\ndata: (.*)\n\n/);
          const data = JSON.parse(event.split('\ndata: ')[1]!);
          assert.equal(data.fingerprint, f.fingerprint);
          assert.equal(data.count, 1);
          await h.enrolAgent('db01');
          await stream.until(/event: host\ndata: .*"name":"db01"/);
        } finally {
          stream.close();
        }
        const unauth = await h.api.get('/stream');
        assertError(unauth, 401, 'DEMINER_UNAUTHORIZED');
      }));

    test(
      'the stream sends heartbeat comments, forgets a client that leaves and ends open streams on close',
      { timeout: 30_000 },
      async () => {
        const hub = new EventHub();
        await withServer(
          open,
          async (h) => {
            const viewer = await h.token('viewer');
            const first = await openStream(h.url, viewer);
            await first.until(/: heartbeat\n\n/, 3000);
            assert.equal(hub.size, 1);
            first.close();
            for (let i = 0; i < 100 && hub.size > 0; i++) await new Promise((ok) => setTimeout(ok, 20));
            assert.equal(hub.size, 0, 'the hub forgot the client that left');
            // Left open: closing the server must end it rather than wait for it.
            const second = await openStream(h.url, viewer);
            await second.until(/: connected/);
            assert.equal(hub.size, 1);
          },
          { hub, streamHeartbeatMs: 100 },
        );
        assert.equal(hub.size, 0);
      },
    );

    test('overview: roles, hosts by status, open findings, active miners, series, top rules and techniques, intel', () =>
      withServer(
        open,
        async (h) => {
          const viewer = await h.token('viewer');
          const sensor = await h.token('sensor');
          const agent = await h.enrolAgent('web01');
          assertError(await h.api.get('/overview', agent.token), 403, 'DEMINER_FORBIDDEN');
          assertError(await h.api.get('/overview', sensor), 403, 'DEMINER_FORBIDDEN');
          assertError(await h.api.get('/overview'), 401, 'DEMINER_UNAUTHORIZED');
          assertError(await h.api.get('/overview?range=1y', viewer), 400, 'DEMINER_VALIDATION', 'range');

          const empty = await h.api.get('/overview', viewer);
          assert.equal(empty.status, 200, empty.text);
          assert.deepEqual(empty.body.open_by_severity, { critical: 0, high: 0, medium: 0, low: 0, info: 0 });
          assert.deepEqual(empty.body.hosts, { reporting: 1, stale: 0, offline: 0, total: 1 });
          assert.equal(empty.body.findings_over_time.bucket_s, 21_600, '7d by default: 6-hourly');
          assert.equal(empty.body.findings_over_time.series.length, 28);
          assert.deepEqual(empty.body.active_miners, []);
          assert.equal(empty.body.intel, null, 'no feed state in the folder');

          const now = Date.now();
          const ago = (ms: number) => new Date(now - ms).toISOString();
          const items = [
            finding({ host: 'web01', severity: 'critical', rule: 'deminer.test.miner', at: ago(60_000) }),
            finding({ host: 'web01', severity: 'high', rule: 'deminer.test.miner', at: ago(120_000) }),
            finding({ host: 'db01', severity: 'high', rule: 'deminer.test.miner', at: ago(3_600_000) }),
            finding({ host: 'db01', severity: 'medium', rule: 'deminer.test.pool', at: ago(2 * 86_400_000) }),
            finding({ host: 'ws-7', severity: 'low', rule: 'deminer.test.pool', at: ago(10 * 86_400_000) }),
          ];
          const r = await h.api.post('/findings', sensor, { items });
          assert.equal(r.status, 202, r.text);
          const ov = await h.api.get('/overview?range=7d', viewer);
          assert.equal(ov.status, 200, ov.text);
          const b = ov.body;
          assert.ok(Math.abs(Date.parse(b.generated_at) - Date.now()) < 60_000);
          assert.deepEqual(b.open_by_severity, { critical: 1, high: 2, medium: 1, low: 1, info: 0 });
          assert.equal(b.hosts.total, 3, 'web01 (agent), db01 and ws-7 (named by findings)');
          assert.deepEqual(
            b.active_miners.map((m: Json) => [m.host, m.severity]),
            [
              ['web01', 'critical'],
              ['web01', 'high'],
            ],
            'high and critical of the last 15 minutes, newest first',
          );
          assert.equal(b.active_miners[0].host_id, agent.hostId);
          assert.deepEqual(b.active_miners[0].rule, { id: 'deminer.test.miner', name: 'Server test rule' });
          assert.equal(b.active_miners[0].fingerprint, items[0]!.fingerprint);
          const totals = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
          const series = b.findings_over_time.series as Json[];
          for (let i = 1; i < series.length; i++)
            assert.equal(Date.parse(series[i].t) - Date.parse(series[i - 1].t), 21_600_000);
          for (const s of series)
            for (const k of Object.keys(totals)) totals[k as keyof typeof totals] += s[k];
          assert.deepEqual(
            totals,
            { critical: 1, high: 2, medium: 1, low: 0, info: 0 },
            'the 10-day-old one is out',
          );
          assert.deepEqual(b.top_rules, [
            { id: 'deminer.test.miner', name: 'Server test rule', count: 3 },
            { id: 'deminer.test.pool', name: 'Server test rule', count: 1 },
          ]);
          assert.deepEqual(b.top_techniques, [{ id: 'T1496', count: 4 }]);

          const day = await h.api.get('/overview?range=24h', viewer);
          assert.equal(day.body.findings_over_time.bucket_s, 3600);
          assert.equal(day.body.findings_over_time.series.length, 24);
          assert.deepEqual(day.body.top_rules, [
            { id: 'deminer.test.miner', name: 'Server test rule', count: 3 },
          ]);
          const month = await h.api.get('/overview?range=30d', viewer);
          assert.equal(month.body.findings_over_time.bucket_s, 86_400);
          assert.equal(month.body.findings_over_time.series.length, 30);
          assert.equal(
            month.body.findings_over_time.series.reduce((n: number, s: Json) => n + s.low, 0),
            1,
          );
          // Acknowledged findings are not active miners, nor open.
          const analyst = await h.token('analyst');
          await h.api.post('/findings/ack', analyst, { fingerprints: [items[0]!.fingerprint] });
          const after = await h.api.get('/overview', viewer);
          assert.deepEqual(
            after.body.active_miners.map((m: Json) => m.severity),
            ['high'],
          );
          assert.equal(after.body.open_by_severity.critical, 0);
        },
        { intelStateDir: null },
      ));

    test('overview: the intel feeds of the local state folder', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'deminer-intel-'));
      try {
        writeFeedState(dir, {
          name: 'pools',
          role: 'block',
          origin: 'https://example.org/pools.txt',
          format: 'plain',
          lastSuccess: '2026-01-01T00:00:00.000Z',
          status: 'ok',
          indicators: 42,
          issues: 0,
          bytes: 100,
          intervalMs: 3_600_000,
        });
        writeFeedState(dir, {
          name: 'broken',
          role: 'block',
          origin: 'https://example.org/x',
          format: 'plain',
          status: 'failed',
          warning: 'HTTP 503',
          indicators: 0,
          issues: 0,
          bytes: 0,
          intervalMs: 3_600_000,
        });
        await withServer(
          open,
          async (h) => {
            const r = await h.api.get('/overview', h.admin);
            assert.equal(r.status, 200, r.text);
            assert.deepEqual(r.body.intel, {
              feeds: [
                { name: 'broken', ok: false, last_success: null, indicators: 0, message: 'HTTP 503' },
                {
                  name: 'pools',
                  ok: true,
                  last_success: '2026-01-01T00:00:00.000Z',
                  indicators: 42,
                  message: null,
                },
              ],
            });
          },
          { intelStateDir: dir },
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('counters stay right (against COUNT(*)) through ingest, re-sightings that move severity or host, acknowledge and prune', () =>
      withServer(
        open,
        async (h) => {
          assert.ok(h.store instanceof KyselyStore);
          const db = h.store.db;
          const viewer = await h.token('viewer');
          const sensor = await h.token('sensor');
          const analyst = await h.token('analyst');
          const check = async (step: string): Promise<void> => {
            const truth = await db
              .selectFrom('findings')
              .select((eb) => ['host_name', 'severity', eb.fn.countAll<number | string>().as('n')])
              .where('acknowledged', '=', 0)
              .groupBy(['host_name', 'severity'])
              .execute();
            const total = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
            const byHost = new Map<string, typeof total>();
            for (const t of truth) {
              const k = t.severity as keyof typeof total;
              total[k] += Number(t.n);
              const c = byHost.get(t.host_name) ?? { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
              c[k] += Number(t.n);
              byHost.set(t.host_name, c);
            }
            const ov = await h.api.get('/overview', viewer);
            assert.deepEqual(ov.body.open_by_severity, total, `${step}: open by severity`);
            const hosts = await h.api.get('/hosts?limit=500', viewer);
            for (const host of hosts.body.items) {
              const want = byHost.get(host.name) ?? { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
              assert.deepEqual(host.open_findings, want, `${step}: open findings of ${host.name}`);
            }
            const counted = await db
              .selectFrom('findings')
              .select((eb) => eb.fn.sum<number | string>('count').as('n'))
              .executeTakeFirst();
            const sighted = await db
              .selectFrom('finding_sightings')
              .select((eb) => eb.fn.sum<number | string>('sightings').as('n'))
              .executeTakeFirst();
            assert.equal(Number(sighted?.n ?? 0), Number(counted?.n ?? 0), `${step}: one sighting per count`);
          };

          const now = Date.now();
          const at = (msAgo: number) => new Date(now - msAgo).toISOString();
          const hosts = ['web01', 'db01', 'ws-7', 'ws-8'];
          const sevs = ['low', 'medium', 'high', 'critical'] as const;
          const batch = Array.from({ length: 60 }, (_, i) =>
            finding({ host: hosts[i % 4]!, severity: sevs[i % 3]!, at: at(60_000 + i * 1000) }),
          );
          assert.equal((await h.api.post('/findings', sensor, { items: batch })).status, 202);
          await check('ingest');

          // The same fingerprints again: later with another severity (kept), earlier with another one (not kept),
          // later on another host, and in one batch twice.
          const moved = [
            { ...batch[0]!, id: randomUUID(), severity: 'critical' as const, '@timestamp': at(30_000) },
            { ...batch[1]!, id: randomUUID(), severity: 'critical' as const, '@timestamp': at(3_600_000) },
            { ...batch[2]!, id: randomUUID(), host: { name: 'ws-9' }, '@timestamp': at(20_000) },
            { ...batch[3]!, id: randomUUID(), severity: 'low' as const, '@timestamp': at(25_000) },
            { ...batch[3]!, id: randomUUID(), severity: 'high' as const, '@timestamp': at(24_000) },
            { ...batch[4]!, id: randomUUID(), '@timestamp': at(10_000) },
          ];
          const r = await h.api.post('/findings', sensor, { items: moved });
          assert.deepEqual(r.body, { stored: 0, duplicates: 6, replayed: false });
          assert.equal(
            (await h.api.get(`/findings/${batch[0]!.fingerprint}`, viewer)).body.severity,
            'critical',
          );
          assert.equal(
            (await h.api.get(`/findings/${batch[1]!.fingerprint}`, viewer)).body.severity,
            batch[1]!.severity,
          );
          await check('re-sightings');

          // Acknowledged: out of the open counts; a re-sighting that moves it does not bring it back.
          const acked = [batch[0]!.fingerprint, batch[5]!.fingerprint, batch[6]!.fingerprint];
          assert.equal(
            (await h.api.post('/findings/ack', analyst, { fingerprints: acked })).body.acknowledged,
            3,
          );
          assert.equal(
            (await h.api.post('/findings/ack', analyst, { fingerprints: acked })).body.acknowledged,
            0,
          );
          await check('acknowledge');
          await h.api.post('/findings', sensor, {
            items: [{ ...batch[5]!, id: randomUUID(), severity: 'critical', '@timestamp': at(5000) }],
          });
          await check('re-sighting an acknowledged finding');

          // Prune: findings last seen 40 days ago go, with their counts and their hours of sightings.
          const old = Array.from({ length: 8 }, (_, i) =>
            finding({ host: hosts[i % 2]!, severity: sevs[i % 4]!, at: at(40 * 86_400_000 + i * 1000) }),
          );
          await h.api.post('/findings', sensor, { items: old });
          await h.api.post('/findings/ack', analyst, { fingerprints: [old[0]!.fingerprint] });
          await check('old findings');
          const pruned = await h.store.prune({ findings: at(30 * 86_400_000) });
          assert.equal(pruned.findings, 8);
          await check('prune');
          assert.equal((await h.store.prune({ findings: at(30 * 86_400_000) })).findings, 0);
          await check('prune again');
        },
        { intelStateDir: null },
      ));

    test('rules: the built-in catalog with how often each fired, rules only sensors know, one rule, 404', () =>
      withServer(open, async (h) => {
        const viewer = await h.token('viewer');
        const sensor = await h.token('sensor');
        const agent = await h.enrolAgent('web01');
        assertError(await h.api.get('/rules', agent.token), 403, 'DEMINER_FORBIDDEN');
        const before = await h.api.get('/rules', viewer);
        assert.equal(before.status, 200, before.text);
        const ids = before.body.items.map((r: Json) => r.id);
        assert.ok(ids.length >= 20, `the built-in catalog (${ids.length} rules)`);
        assert.equal(new Set(ids).size, ids.length, 'each rule once');
        const builtin = before.body.items.find((r: Json) => r.ruleset === 'builtin');
        assert.ok(
          builtin.name && builtin.triage && builtin.detectors.length > 0 && builtin.techniques.length > 0,
        );
        assert.ok(before.body.items.every((r: Json) => r.fired === 0 && r.last_fired === null));

        const rule = { id: builtin.id, name: builtin.name, ruleset: 'builtin' as const };
        const at1 = new Date(Date.now() - 120_000).toISOString();
        const at2 = new Date(Date.now() - 60_000).toISOString();
        const custom = {
          id: 'acme.custom.sigma.rule',
          name: 'Acme: miner in /dev/shm',
          ruleset: 'sigma' as const,
        };
        const items = [
          { ...finding({ at: at1 }), rule, severity: builtin.severity.max },
          { ...finding({ at: at2 }), rule, severity: builtin.severity.max },
          {
            ...finding({ at: at1 }),
            rule: custom,
            severity: 'high',
            threat: { technique: ['T1059.004', 'T1496'] },
          },
        ];
        assert.equal((await h.api.post('/findings', sensor, { items })).status, 202);
        const list = await h.api.get('/rules', viewer);
        const fired = list.body.items.find((r: Json) => r.id === builtin.id);
        assert.equal(fired.fired, 2);
        assert.equal(fired.last_fired, at2);
        const acme = list.body.items.find((r: Json) => r.id === custom.id);
        assert.deepEqual(acme, {
          id: custom.id,
          name: custom.name,
          ruleset: 'sigma',
          severity: { min: 'high', max: 'high' },
          techniques: ['T1059.004', 'T1496'],
          triage: '',
          detectors: [],
          fired: 1,
          last_fired: at1,
        });
        const one = await h.api.get(`/rules/${encodeURIComponent(builtin.id)}`, viewer);
        assert.equal(one.status, 200, one.text);
        assert.deepEqual(one.body, fired);
        assert.deepEqual((await h.api.get(`/rules/${custom.id}`, viewer)).body, acme);
        assertError(await h.api.get('/rules/no.such.rule', viewer), 404, 'DEMINER_NOT_FOUND');
      }));

    test('hosts: open findings and recent CPU per host; sort by name, last_seen, status, open; keyset paging', () =>
      withServer(
        open,
        async (h) => {
          const viewer = await h.token('viewer');
          const sensor = await h.token('sensor');
          const agent = await h.enrolAgent('web01');
          const t0 = Date.now() - 100_000;
          const samples = Array.from({ length: 35 }, (_, i) => ({
            subject: 'host',
            at: new Date(t0 + i * 1000).toISOString(),
            cpu: i,
          }));
          const m = await h.api.post('/metrics', agent.token, {
            items: [...samples, { subject: 'pid:1:1', at: samples[0]!.at, cpu: 99 }],
          });
          assert.equal(m.status, 202, m.text);
          // 25 more hosts, named by findings, seen at different times; some with open findings.
          const items = Array.from({ length: 25 }, (_, i) =>
            finding({
              host: `h${String(i).padStart(2, '0')}`,
              severity: i % 5 === 0 ? 'critical' : i % 3 === 0 ? 'high' : 'low',
              at: new Date(Date.now() - (i % 3 === 0 ? 30 * 60_000 : 5000) - i * 1000).toISOString(),
            }),
          );
          items.push(
            finding({
              host: 'h07',
              severity: 'critical',
              at: new Date(Date.now() - 20 * 60_000).toISOString(),
            }),
          );
          assert.equal((await h.api.post('/findings', sensor, { items })).status, 202);

          const first = await h.api.get('/hosts?limit=5', viewer);
          assert.equal(first.status, 200, first.text);
          assert.deepEqual(
            first.body.items.map((x: Json) => x.name),
            ['h00', 'h01', 'h02', 'h03', 'h04'],
          );
          assert.deepEqual(first.body.items[0].open_findings, {
            critical: 1,
            high: 0,
            medium: 0,
            low: 0,
            info: 0,
          });
          const web = (await h.api.get('/hosts?text=web01', viewer)).body.items[0];
          assert.deepEqual(
            web.cpu_recent,
            Array.from({ length: 30 }, (_, i) => i + 5),
            'the newest 30, oldest first',
          );
          assert.deepEqual(web.open_findings, { critical: 0, high: 0, medium: 0, low: 0, info: 0 });
          const one = await h.api.get(`/hosts/${encodeURIComponent(agent.hostId)}`, viewer);
          assert.deepEqual(one.body.cpu_recent, web.cpu_recent);
          assert.deepEqual(first.body.items[1].cpu_recent, []);

          const everything = async (query: string): Promise<Json[]> => {
            const out: Json[] = [];
            let cursor: string | null = null;
            for (let i = 0; i < 50; i++) {
              const r: Json = await h.api.get(
                `/hosts?${query}&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
                viewer,
              );
              assert.equal(r.status, 200, r.text);
              out.push(...r.body.items);
              cursor = r.body.next;
              if (cursor === null) return out;
            }
            throw new Error('paging did not end');
          };
          const names = (xs: Json[]) => xs.map((x) => x.name);
          const byName = [...names((await h.api.get('/hosts?limit=500', viewer)).body.items)];
          assert.equal(byName.length, 26);
          assert.deepEqual(names(await everything('sort=name')), byName);
          assert.deepEqual(names(await everything('sort=name&order=desc')), [...byName].reverse());
          const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
          const bySeen = await everything('sort=last_seen&order=desc');
          assert.equal(bySeen.length, 26);
          for (let i = 1; i < bySeen.length; i++) {
            const a = bySeen[i - 1];
            const b = bySeen[i];
            assert.ok(
              a.last_seen > b.last_seen || (a.last_seen === b.last_seen && a.name < b.name),
              'last_seen desc',
            );
          }
          const rank = { reporting: 0, stale: 1, offline: 2 } as Record<string, number>;
          for (const order of ['asc', 'desc']) {
            const byStatus = await everything(`sort=status&order=${order}`);
            const want = [...byStatus].sort(
              (a, b) =>
                (rank[a.status]! - rank[b.status]!) * (order === 'asc' ? 1 : -1) || cmp(a.name, b.name),
            );
            assert.deepEqual(names(byStatus), names(want), `status ${order}`);
          }
          assert.ok(bySeen.some((x) => x.status === 'stale' || x.status === 'offline'));
          const byOpen = await everything('sort=open&order=desc');
          const key = (x: Json) => [
            x.open_findings.critical,
            x.open_findings.high,
            x.open_findings.medium,
            x.open_findings.low,
          ];
          const want = [...byOpen].sort((a, b) => {
            const ka = key(a);
            const kb = key(b);
            for (let i = 0; i < 4; i++) if (ka[i] !== kb[i]) return kb[i] - ka[i];
            return cmp(a.name, b.name);
          });
          assert.deepEqual(names(byOpen), names(want));
          assert.equal(byOpen[0].name, 'h07', 'h00, h05 … have a critical; h07 a critical and a low');
          assert.deepEqual(key(byOpen[0]), [1, 0, 0, 1]);
          assert.deepEqual(key(byOpen[1]), [1, 0, 0, 0]);
          assert.equal(byOpen.length, 26);
          assert.deepEqual(names(await everything('sort=open&order=asc')).length, 26);
          assert.deepEqual(
            names(await everything('sort=open&order=desc&status=reporting')),
            names(byOpen.filter((x) => x.status === 'reporting')),
          );
          assertError(await h.api.get('/hosts?sort=cpu', viewer), 400, 'DEMINER_VALIDATION', 'sort');
          const page: Json = await h.api.get('/hosts?sort=open&limit=2', viewer);
          assertError(
            await h.api.get(`/hosts?sort=name&cursor=${encodeURIComponent(page.body.next)}`, viewer),
            400,
            'DEMINER_VALIDATION',
            'cursor',
          );
        },
        { gaps: { staleMs: 10 * 60_000, offlineMs: 25 * 60_000 } },
      ));

    test('enrolments: the install command, a list without secrets for admins only, delete (audited)', () =>
      withServer(open, async (h) => {
        const viewer = await h.token('viewer');
        const analyst = await h.token('analyst');
        const e = await h.api.post('/enrolments', h.admin, { uses: 3 });
        assert.equal(e.status, 201, e.text);
        const port = new URL(h.url).port;
        assert.equal(
          e.body.install_command,
          `sudo npx deminer agent install --server http://127.0.0.1:${port} --enroll ${e.body.secret}`,
        );
        // The server as the request saw it (a name behind DNS or a proxy), never pasted unquoted when odd.
        const withHost = (host: string) =>
          new Promise<Json>((ok, fail) => {
            const req = request(
              `${h.url}/api/v1/enrolments`,
              {
                method: 'POST',
                headers: { host, authorization: `Bearer ${h.admin}`, 'content-type': 'application/json' },
              },
              (res) => {
                let text = '';
                res.setEncoding('utf8');
                res.on('data', (d: string) => {
                  text += d;
                });
                res.on('end', () => ok(JSON.parse(text)));
              },
            );
            req.on('error', fail);
            req.end('{}');
          });
        const proxied = await withHost('deminer.example:7878');
        assert.match(proxied.install_command, / --server http:\/\/deminer\.example:7878 --enroll dme_/);
        const odd = await withHost("x$(id)'y");
        assert.match(odd.install_command, / --server 'http:\/\/x\$\(id\)'\\''y' --enroll dme_/);
        const short = await h.api.post('/enrolments', h.admin, { expires_in_s: 60 });

        assertError(await h.api.get('/enrolments', viewer), 403, 'DEMINER_FORBIDDEN');
        assertError(await h.api.get('/enrolments', analyst), 403, 'DEMINER_FORBIDDEN');
        const list = await h.api.get('/enrolments', h.admin);
        assert.equal(list.status, 200, list.text);
        assert.deepEqual(
          list.body.items.map((x: Json) => x.id).sort(),
          [e.body.id, proxied.id, odd.id, short.body.id].sort(),
        );
        assert.ok(!list.text.includes(e.body.secret.slice(4)), 'never a secret');
        const adminId = (await h.store.verifyToken(h.admin))!.id;
        const mine = list.body.items.find((x: Json) => x.id === e.body.id);
        assert.deepEqual(Object.keys(mine).sort(), [
          'created_at',
          'created_by',
          'expired',
          'expires_at',
          'id',
          'uses_left',
        ]);
        assert.equal(mine.uses_left, 3);
        assert.equal(mine.created_by, adminId);
        assert.equal(mine.expired, false);

        assertError(
          await h.api.call('DELETE', `/enrolments/${e.body.id}`, { token: viewer }),
          403,
          'DEMINER_FORBIDDEN',
        );
        const del = await h.api.call('DELETE', `/enrolments/${e.body.id}`, { token: h.admin });
        assert.equal(del.status, 204, del.text);
        assertError(
          await h.api.post('/enrol', undefined, { secret: e.body.secret, host: { name: 'web09' } }),
          401,
          'DEMINER_ENROLMENT_INVALID',
        );
        assertError(
          await h.api.call('DELETE', `/enrolments/${e.body.id}`, { token: h.admin }),
          404,
          'DEMINER_NOT_FOUND',
        );
        assert.equal((await h.api.get('/enrolments', h.admin)).body.items.length, 3);
        const audit = (await h.api.get('/audit?limit=100', h.admin)).body.items as Json[];
        assert.ok(
          audit.some((x) => x.action === 'enrolments.delete' && x.outcome === 'ok' && x.target === e.body.id),
        );
        assert.ok(audit.some((x) => x.action === 'enrolments.delete' && x.outcome === '403'));
        const who = await h.api.get('/whoami', viewer);
        assert.equal(who.body.role, 'viewer');
      }));

    test('the console: index.html at / and deep links, files with their cache headers, CSP, JSON 404 under /api', async () => {
      const root = mkdtempSync(join(tmpdir(), 'deminer-web-'));
      try {
        mkdirSync(join(root, 'assets'));
        writeFileSync(
          join(root, 'index.html'),
          '<!doctype html><title>console</title><script src="/assets/app-1a2b3c.js"></script>',
        );
        writeFileSync(join(root, 'assets', 'app-1a2b3c.js'), 'console.log(1)');
        writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
        await withServer(
          open,
          async (h) => {
            const get = (path: string, init?: RequestInit) => fetch(`${h.url}${path}`, init);
            for (const path of ['/', '/hosts/abc', '/findings?severity=high', '/hosts/web01.corp.example']) {
              const r = await get(path);
              assert.equal(r.status, 200, path);
              assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
              assert.match(await r.text(), /<title>console<\/title>/, path);
              assert.equal(r.headers.get('content-security-policy'), CONSOLE_CSP, path);
              assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
              assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
              assert.equal(r.headers.get('cache-control'), 'no-cache');
            }
            assert.equal((await get('/', { method: 'HEAD' })).status, 200);
            const js = await get('/assets/app-1a2b3c.js');
            assert.equal(js.status, 200);
            assert.match(js.headers.get('content-type') ?? '', /javascript/);
            assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
            assert.equal(js.headers.get('content-security-policy'), CONSOLE_CSP);
            assert.equal(await js.text(), 'console.log(1)');
            const icon = await get('/favicon.svg');
            assert.equal(icon.status, 200);
            assert.equal(icon.headers.get('cache-control'), 'no-cache');
            assert.equal((await get('/assets/gone-123.js')).status, 404, 'a missing file is not the app');
            for (const path of ['/assets/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd'])
              assert.doesNotMatch(await (await get(path)).text(), /root:/, `${path} stays inside the folder`);
            for (const path of ['/api/v1/nowhere', '/api/nope', '/api']) {
              const raw = await get(path);
              assert.equal(raw.status, 404, path);
              const body = (await raw.json()) as Json;
              assert.equal(body.error.code, 'DEMINER_NOT_FOUND', path);
              assert.equal(raw.headers.get('cache-control'), 'no-store');
            }
            assertError(await h.api.get('/findings'), 401, 'DEMINER_UNAUTHORIZED');
            const post = await get('/hosts/abc', { method: 'POST' });
            assert.equal(post.status, 404, 'only GET answers pages');
          },
          { webRoot: root },
        );
        await withServer(
          open,
          async (h) => {
            for (const path of ['/', '/overview']) {
              const r = await fetch(`${h.url}${path}`);
              assert.equal(r.status, 200, path);
              assert.match(await r.text(), /not built[\s\S]*npm run build/);
              assert.equal(r.headers.get('content-security-policy'), CONSOLE_CSP);
            }
            assert.equal((await h.api.get('/health')).status, 200);
          },
          { webRoot: join(root, 'missing') },
        );
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    test('the live stream through fetch() with a bearer token (as the console reads it): finding, host and config events', () =>
      withServer(open, async (h) => {
        const viewer = await h.token('viewer');
        const ac = new AbortController();
        const res = await fetch(`${h.url}/api/v1/stream`, {
          headers: { authorization: `Bearer ${viewer}` },
          signal: ac.signal,
        });
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        const until = async (re: RegExp): Promise<string> => {
          const deadline = Date.now() + 5000;
          while (!re.test(text)) {
            if (Date.now() > deadline) throw new Error(`stream did not show ${re}; got:\n${text}`);
            const { value, done } = await reader.read();
            if (done) throw new Error(`stream ended; got:\n${text}`);
            text += value;
          }
          return re.exec(text)![0];
        };
        try {
          await until(/: connected\n\n/);
          const f = finding({ host: 'web01' });
          await h.api.post('/findings', await h.token('sensor'), { items: [f] });
          await until(new RegExp(`event: finding\\ndata: .*"fingerprint":"${f.fingerprint}"`));
          await h.enrolAgent('db01');
          await until(/event: host\ndata: .*"name":"db01"/);
          await h.api.call('PUT', '/agent-config', { token: h.admin, body: { interval_s: 20 } });
          await until(/event: config\ndata: \{"updated_at":/);
        } finally {
          ac.abort();
          await reader.cancel().catch(() => undefined);
        }
      }));

    test('the OpenAPI document lists every route with its schemas', () =>
      withServer(open, async ({ api }) => {
        const r = await api.get('/openapi.json');
        assert.equal(r.status, 200, r.text);
        const doc = r.body;
        assert.equal(doc.openapi, '3.1.0');
        const listed: string[] = [];
        for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
          for (const [method, op] of Object.entries(ops)) {
            listed.push(`${method.toUpperCase()} ${path}`);
            assert.ok(
              op.responses && Object.keys(op.responses).length > 0,
              `${method} ${path} has responses`,
            );
            assert.ok(op.operationId, `${method} ${path} has an operationId`);
          }
        }
        assert.deepEqual(listed.sort(), EXPECTED_ROUTES);
        const ingest = doc.paths['/findings'].post;
        const items = ingest.requestBody.content['application/json'].schema.properties.items;
        assert.equal(items.maxItems, 1000);
        assert.equal(items.items.additionalProperties, false, 'the finding schema is closed');
        assert.ok(items.items.required.includes('fingerprint'));
        assert.ok(ingest.parameters.some((p: Json) => p.name === 'Idempotency-Key' && p.in === 'header'));
        assert.ok(ingest.responses['202'].content['application/json'].schema.properties.replayed);
        const list = doc.paths['/findings'].get;
        assert.ok(list.parameters.some((p: Json) => p.name === 'severity' && p.in === 'query'));
        assert.ok(doc.paths['/findings/{fingerprint}'].get.parameters.some((p: Json) => p.in === 'path'));
        assert.deepEqual(doc.paths['/health'].get.security, []);
        assert.deepEqual(doc.paths['/tokens'].get.security, [{ bearer: [] }]);
      }));

    test('failed authentications are rate limited per address → 429 with Retry-After', () =>
      withServer(
        open,
        async (h) => {
          for (let i = 0; i < 4; i++)
            assertError(await h.api.get('/findings', `bad-${i}`), 401, 'DEMINER_UNAUTHORIZED');
          assertError(
            await h.api.post('/enrol', undefined, { secret: 'bad', host: { name: 'x' } }),
            401,
            'DEMINER_ENROLMENT_INVALID',
          );
          const r = await h.api.get('/findings', 'bad-5');
          assertError(r, 429, 'DEMINER_RATE_LIMITED');
          const after = Number(r.headers.get('retry-after'));
          assert.ok(after >= 1 && after <= 60, `Retry-After ${after}`);
          // While blocked, even a valid token is not looked at: the answer tells a guesser nothing.
          assertError(await h.api.get('/findings', h.admin), 429, 'DEMINER_RATE_LIMITED');
          assertError(
            await h.api.post('/enrol', undefined, { secret: 'bad', host: { name: 'x' } }),
            429,
            'DEMINER_RATE_LIMITED',
          );
          assert.equal((await h.api.get('/health')).status, 200, 'health stays open');
        },
        { authFailures: { max: 5, windowMs: 60_000 } },
      ));

    test('body limit → 413 in the error shape', () =>
      withServer(
        open,
        async (h) => {
          const sensor = await h.token('sensor');
          const big = {
            items: Array.from({ length: 50 }, () => ({ ...finding(), evidence: { pad: 'x'.repeat(1000) } })),
          };
          assertError(await h.api.post('/findings', sensor, big), 413, 'DEMINER_BODY_TOO_LARGE');
          assert.deepEqual(await allFindings(h.api, h.admin), []);
        },
        { bodyLimit: 16 * 1024 },
      ));

    test('fuzz: 200 random and mutated bodies never give a 500 and never a partial write', () =>
      withServer(open, async (h) => {
        const sensor = await h.token('sensor');
        const seed = Number(process.env.DEMINER_FUZZ_SEED ?? Date.now() % 1_000_000);
        const rnd = prng(seed);
        let expected = 0;
        const statuses = new Map<number, number>();
        for (let i = 0; i < 200; i++) {
          const { raw, n } = mutatedBody(rnd);
          const r = await h.api.call('POST', '/findings', { token: sensor, raw });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          const context = `seed ${seed}, case ${i}: ${raw.slice(0, 300)} → ${r.status} ${r.text.slice(0, 300)}`;
          assert.ok(r.status < 500, context);
          assert.ok(r.body?.error || r.status === 202, context);
          if (r.status === 202) {
            // Every finding of a batch is new (fresh fingerprints): an accepted batch is stored whole.
            assert.equal(r.body.stored, n, context);
            expected += n;
          } else assertError(r, r.status, r.body.error.code);
          const total = (await allFindings(h.api, h.admin)).length;
          assert.equal(total, expected, `partial write? ${context}`);
        }
        assert.ok((statuses.get(202) ?? 0) > 0, `some bodies were valid: ${JSON.stringify([...statuses])}`);
        assert.ok(
          [...statuses.keys()].some((s) => s >= 400),
          'some bodies were refused',
        );
      }));

    test('an internal failure is a 500 without detail', () =>
      withServer(open, async (h) => {
        await h.store.close();
        const r = await h.api.get('/findings', h.admin);
        // The token check itself needs the store: either way the answer is our shape and says nothing.
        assertError(r, 500, 'DEMINER_INTERNAL');
        assert.doesNotMatch(r.text, /sqlite|postgres|kysely|Error:/i);
      }));

    incidentApiTests(open);
  });
}

// ---- fuzzing ---------------------------------------------------------------------

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32: reproducible from the printed seed.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const WEIRD: unknown[] = [
  null,
  0,
  -1,
  1e308,
  '',
  ' ',
  'x'.repeat(5000),
  '\u0000\u202e\u001b[31m',
  true,
  [],
  {},
  [null],
  { $ne: 1 },
  '2026-13-45T99:99:99Z',
  '<script>',
  "'; drop table findings; --",
];

function randomJson(rnd: () => number, depth = 0): unknown {
  const k = Math.floor(rnd() * (depth > 3 ? 4 : 6));
  switch (k) {
    case 0:
      return pick(rnd, WEIRD);
    case 1:
      return Math.floor(rnd() * 1e6) - 5e5;
    case 2:
      return Math.floor(rnd() * 2 ** 40).toString(36);
    case 3:
      return rnd() < 0.5;
    case 4:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => randomJson(rnd, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(rnd() * 4); i++)
        o[pick(rnd, ['items', 'id', 'host', 'a', '__proto__', 'constructor'])] = randomJson(rnd, depth + 1);
      return o;
    }
  }
}

/** Mutates one path of a finding: deletes it, retypes it or adds an unknown key beside it. */
function mutateFinding(rnd: () => number, f: Finding): unknown {
  const copy: Record<string, unknown> = JSON.parse(JSON.stringify(f));
  const keys = Object.keys(copy);
  const key = pick(rnd, keys);
  const what = Math.floor(rnd() * 5);
  if (what === 0) delete copy[key];
  else if (what === 1) copy[key] = pick(rnd, WEIRD);
  else if (what === 2) copy[`x_${Math.floor(rnd() * 100)}`] = 1;
  else if (what === 3) {
    const inner = copy[key];
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      const o = inner as Record<string, unknown>;
      const ik = Object.keys(o);
      if (ik.length > 0) o[pick(rnd, ik)] = pick(rnd, WEIRD);
      else o.unknown = 1;
    } else copy[key] = { nested: inner };
  } else copy['@timestamp'] = new Date(Date.now() + 3_600_000 * (1 + rnd() * 1000)).toISOString();
  return copy;
}

/** A request body: a valid batch of `n` new findings, or one with a broken finding, or noise. */
function mutatedBody(rnd: () => number): { raw: string; n: number } {
  const n = 1 + Math.floor(rnd() * 4);
  const batch: unknown[] = Array.from({ length: n }, () =>
    finding({ host: pick(rnd, ['web01', 'db01', 'ws-7']) }),
  );
  const kind = Math.floor(rnd() * 8);
  if (kind === 0) return { raw: JSON.stringify({ items: batch }), n };
  if (kind <= 3) {
    const at = Math.floor(rnd() * n);
    batch[at] = mutateFinding(rnd, batch[at] as Finding);
    return { raw: JSON.stringify({ items: batch }), n };
  }
  if (kind === 4) return { raw: JSON.stringify(randomJson(rnd)), n };
  if (kind === 5) {
    const text = JSON.stringify({ items: batch });
    return { raw: text.slice(0, Math.floor(rnd() * text.length)), n };
  }
  if (kind === 6)
    return {
      raw: JSON.stringify({ items: batch, [pick(rnd, ['extra', 'Items', '__proto__'])]: { polluted: true } }),
      n,
    };
  // Valid JSON but an item that is not an object at all.
  batch[Math.floor(rnd() * n)] = randomJson(rnd, 3);
  return { raw: JSON.stringify({ items: batch }), n };
}
