/**
 * The review fields, the impact in the report, the HTML report and the
 * monthly summary through the HTTP API, on SQLite and on PostgreSQL
 * (skipped with the reason printed when PostgreSQL is unreachable; a
 * failure under CI): migration 0007's columns, PATCH root_cause/lessons
 * (bounded, audited, on the timeline), CPU-seconds and cost computed from
 * an enrolled agent's samples, attacker text escaped in the HTML, the
 * month's counts and its 400 naming the field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaseEngine } from '../../src/cases/engine.ts';
import { impactSettings } from '../../src/cases/impact.ts';
import { buildReport, reportMarkdown } from '../../src/cases/report.ts';
import { makeFinding } from '../../src/core/finding.ts';
import {
  type Api,
  type Json,
  PG_URL,
  postgresOpener,
  postgresUnavailable,
  type StoreOpener,
  sqliteOpener,
  withServer,
} from '../server/helpers.ts';

const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const HOSTILE = `<script>alert("x")</script> ' onload="steal()" &amp;`;

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function openIncidentWithSamples(h: {
  api: Api;
  admin: string;
  enrolAgent(name: string): Promise<{ token: string; hostId: string; hostName: string }>;
}) {
  const agent = await h.enrolAgent(`miner-host-${process.pid}`);
  const t0 = Date.now() - 10 * 60_000;
  const start = new Date(t0 - 3600_000).toISOString();
  const finding = makeFinding({
    rule: { id: 'deminer.process.miner_cmdline', name: 'Miner command line', ruleset: 'builtin' },
    severity: 'critical',
    techniques: ['T1496'],
    host: agent.hostName,
    subject: [`kswapd0-${process.pid}`],
    message: `XMRig runs as kswapd0 ${HOSTILE}`,
    timestamp: new Date(t0).toISOString(),
    process: {
      pid: 4242,
      name: 'kswapd0',
      executable: '/tmp/.x/<b>kswapd0</b>',
      start,
      command_line: `/tmp/.x/kswapd0 -o pool.example.org:3333 -u ${WALLET}`,
    },
    evidence: { pool: 'pool.example.org:3333' },
  });
  const r = await h.api.post('/findings', h.admin, { items: [finding] });
  assert.equal(r.status, 202, r.text);
  // 2 cores every 10 s from t0 to t0 + 60 s: 6 spans of 10 s to the next sample, the last for one interval: 2 × 70 = 140.
  const items = [0, 10, 20, 30, 40, 50, 60].map((s) => ({
    subject: `4242:${start}`,
    at: new Date(t0 + s * 1000).toISOString(),
    cpu: 2,
  }));
  // Another process and the host itself are not the miner's.
  items.push({ subject: '99:', at: new Date(t0).toISOString(), cpu: 3 });
  items.push({ subject: 'host', at: new Date(t0).toISOString(), cpu: 5 });
  const m = await h.api.post('/metrics', agent.token, { items });
  assert.equal(m.status, 202, m.text);
  const inc = await eventually(async () => {
    const l = await h.api.get('/incidents', h.admin);
    // Indicators (the wallet, hence the coin) are added just after the opening: wait for its campaign.
    return l.body.items.find((i: Json) => i.host === agent.hostName && i.campaign !== null);
  });
  return { agent, inc };
}

function reportTests(name: string, open: StoreOpener): void {
  describe(`reports on ${name}`, () => {
    test('root cause and lessons: PATCH (analyst+), bounded, on the timeline, audited, in the JSON', () =>
      withServer(open, async (h) => {
        const analyst = await h.token('analyst');
        const viewer = await h.token('viewer');
        const c = await h.api.post('/incidents', analyst, { title: 'User reports a slow laptop' });
        assert.equal(c.status, 201, c.text);
        assert.equal(c.body.root_cause, null);
        assert.equal(c.body.lessons, null);
        const id = c.body.id;
        const patch = (token: string, body: unknown) =>
          h.api.call('PATCH', `/incidents/${id}`, { token, body });
        assert.equal((await patch(viewer, { root_cause: 'x' })).status, 403);
        const text = 'Unpatched Exchange (CVE-2021-26855).\nThe miner was dropped as kswapd0.';
        const p = await patch(analyst, { root_cause: text, lessons: 'Patch faster.' });
        assert.equal(p.status, 200, p.text);
        assert.equal(p.body.root_cause, text);
        assert.equal(p.body.lessons, 'Patch faster.');
        const long = await patch(analyst, { lessons: 'x'.repeat(20_001) });
        assert.equal(long.status, 400, long.text);
        assert.equal(long.body.error.field, 'lessons');
        const d = await h.api.get(`/incidents/${id}`, viewer);
        assert.equal(d.body.root_cause, text);
        const updates = d.body.timeline.filter((e: Json) => e.kind === 'update').map((e: Json) => e.data);
        assert.deepEqual(updates, [
          { field: 'root_cause', length: text.length },
          { field: 'lessons', length: 13 },
        ]);
        const audit = await h.api.get('/audit?limit=100', h.admin);
        assert.ok(
          audit.body.items.some(
            (a: Json) =>
              a.action === 'incidents.update' &&
              a.target === id &&
              a.outcome === 'ok' &&
              a.detail.fields.includes('root_cause'),
          ),
          audit.text,
        );
        // null clears; the report says so again.
        assert.equal((await patch(analyst, { lessons: null })).body.lessons, null);
        const md = await h.api.get(`/incidents/${id}/report`, viewer);
        assert.match(
          md.text,
          /## Root cause\n\nUnpatched Exchange \(CVE-2021-26855\)\. {2}\nThe miner was dropped as kswapd0\. {2}\n/,
        );
        assert.match(md.text, /## Lessons\n\nNot recorded yet\./);
      }));

    test('the report computes CPU-seconds and cost from the agent samples; HTML escaped, under a CSP', () =>
      withServer(open, async (h) => {
        const viewer = await h.token('viewer');
        const analyst = await h.token('analyst');
        const { inc } = await openIncidentWithSamples(h);
        await h.api.call('PATCH', `/incidents/${inc.id}`, {
          token: analyst,
          body: { title: `Miner ${HOSTILE}` },
        });
        const js = await h.api.get(`/incidents/${inc.id}/report?format=json`, viewer);
        assert.equal(js.status, 200, js.text);
        const x = js.body.impact;
        assert.equal(x.measured, true);
        assert.equal(x.cpu_seconds, 140);
        assert.equal(x.window.running, true);
        // 140 s × 15 W / 3.6e6 = 0.000583333 kWh; × 0.25 EUR = 0.000145833 (six significant digits).
        assert.equal(x.energy_kwh, 0.000583333);
        assert.equal(x.cost, 0.000145833);
        assert.equal(x.currency, 'EUR');
        assert.deepEqual(
          x.processes.map((p: Json) => [p.label, p.cpu_seconds, p.samples]),
          [['/tmp/.x/<b>kswapd0</b>', 140, 7]],
        );
        assert.equal(x.host_share, null);
        assert.ok(x.not_measured.some((l: string) => /Share of host capacity: unknown/.test(l)));
        // A validated Monero wallet, but no coin price configured: not estimated, and said so.
        assert.deepEqual(x.earnings, []);
        assert.ok(js.body.not_measured.some((l: string) => /coins\.monero/.test(l)));
        assert.ok(js.body.not_measured.some((l: string) => /^Evidence: this server collects none/.test(l)));
        assert.deepEqual(js.body.evidence, []);

        const md = await h.api.get(`/incidents/${inc.id}/report?format=md`, viewer);
        assert.match(md.text, /\| CPU time \| 140 CPU-seconds \(2 cores busy on average\) \|/);
        assert.match(md.text, /\| cost \| 0\.000146 EUR at 0\.25 EUR\/kWh \|/);
        assert.match(md.text, /## Evidence\n\nNone collected \(this server collects no evidence\)\./);
        assert.doesNotMatch(md.text, /<script>/);

        const html = await h.api.get(`/incidents/${inc.id}/report?format=html`, viewer);
        assert.equal(html.status, 200, html.text);
        assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
        assert.equal(
          html.headers.get('content-security-policy'),
          "default-src 'none'; style-src 'unsafe-inline'",
        );
        assert.match(html.text, /^<!DOCTYPE html>/);
        assert.doesNotMatch(html.text, /<script|onload="|<b>kswapd0/i);
        assert.match(
          html.text,
          /Miner &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &#39; onload=&quot;steal\(\)&quot; &amp;amp;/,
        );
        assert.match(html.text, /\/tmp\/\.x\/&lt;b&gt;kswapd0&lt;\/b&gt;/);
        assert.doesNotMatch(html.text, /\b(src|href)=/i, 'no external resource');
        assert.match(html.text, /<td>140 CPU-seconds/);
        const pdf = await h.api.get(`/incidents/${inc.id}/report?format=pdf`, viewer);
        assert.equal(pdf.status, 400);
        assert.equal(pdf.body.error.field, 'format');

        // Eradication ends the window; the figure stays.
        for (const to of ['eradication']) {
          const mv = await h.api.post(`/incidents/${inc.id}/phase`, analyst, { to });
          assert.equal(mv.status, 200, mv.text);
        }
        const after = await h.api.get(`/incidents/${inc.id}/report?format=json`, viewer);
        assert.equal(after.body.impact.window.running, false);
        assert.equal(after.body.impact.cpu_seconds, 140);
      }));

    test('evidence from the forensics provider is listed (a list or a function); a custom cost model applies', () =>
      withServer(open, async (h) => {
        const { inc } = await openIncidentWithSamples(h);
        const engine = new CaseEngine({ store: h.store });
        const item = {
          id: 'ev_1',
          kind: 'binary',
          sha256: 'ab'.repeat(32),
          bytes: 4096,
          collected_at: new Date().toISOString(),
          host: inc.host,
        };
        const settings = impactSettings({
          watts_per_core: 30,
          price_per_kwh: 0.5,
          currency: 'USD',
          coins: { monero: { price: 200, network_hashrate: 4e9 } },
        });
        const viaList = await buildReport(engine, inc.id, { evidence: [item], impact: settings });
        assert.deepEqual(viaList.evidence, [item]);
        assert.equal(viaList.evidence_collected, true);
        assert.ok(!viaList.not_measured.some((l) => /^Evidence/.test(l)));
        // 140 s × 30 W / 3.6e6 = 0.00116667 kWh × 0.5 USD = 0.000583333 USD;
        // 140 × 500 H/s = 70,000 hashes / 4e9 × 0.6 / 120 = 8.75e-8 XMR × 200 = 0.0000175 USD.
        assert.equal(viaList.impact.cost, 0.000583333);
        assert.equal(viaList.impact.currency, 'USD');
        assert.deepEqual(
          viaList.impact.earnings.map((e) => [e.coin, e.hashes, e.coins, e.value]),
          [['monero', 70_000, 8.75e-8, 0.0000175]],
        );
        const viaFn = await buildReport(engine, inc.id, {
          evidence: async (id) => (id === inc.id ? [item] : []),
        });
        assert.match(
          reportMarkdown(viaFn),
          /\| ev\\_1 \| binary \| miner-host-\d+ \| .* \| 4096 \| (ab){32} \|/,
        );
        const none = await buildReport(engine, inc.id, { evidence: [] });
        assert.match(reportMarkdown(none), /## Evidence\n\nNone collected\.\n/);
        engine.stop();
      }));

    test('the monthly summary: counts, mean times, cost; UTC months; a bad month is a 400 naming it', () =>
      withServer(open, async (h) => {
        const viewer = await h.token('viewer');
        const analyst = await h.token('analyst');
        const { inc } = await openIncidentWithSamples(h);
        const manual = await h.api.post('/incidents', analyst, {
          title: `Manual ${HOSTILE}`,
          severity: 'low',
        });
        assert.equal(manual.status, 201);
        assert.equal(
          (await h.api.post(`/incidents/${inc.id}/phase`, analyst, { to: 'forensics' })).status,
          200,
        );
        const month = new Date().toISOString().slice(0, 7);
        const r = await h.api.get(`/reports/month/${month}?format=json`, viewer);
        assert.equal(r.status, 200, r.text);
        const s = r.body;
        assert.equal(s.month, month);
        assert.equal(s.from, `${month}-01T00:00:00.000Z`);
        assert.equal(s.incidents, 2);
        assert.equal(s.cut, false);
        assert.equal(s.by_phase.forensics, 1);
        assert.equal(s.by_phase.discovery, 1);
        assert.equal(s.by_severity.critical, 1);
        assert.equal(s.by_severity.low, 1);
        // Found 10 minutes after the finding's time (the finding was dated then); the manual one has no finding.
        assert.equal(s.time_to_detect.n, 1);
        assert.ok(
          s.time_to_detect.mean_s >= 590 && s.time_to_detect.mean_s < 700,
          String(s.time_to_detect.mean_s),
        );
        assert.equal(s.time_to_isolate.n, 1);
        assert.equal(s.time_to_recover.n, 0);
        assert.deepEqual(s.sla_breaches, { isolation: 0, review: 0 });
        assert.equal(s.impact.computed, 2);
        assert.equal(s.impact.measured, 1);
        assert.equal(s.impact.not_measured, 1);
        assert.equal(s.impact.cpu_seconds, 140);
        assert.equal(s.impact.cost, 0.000145833);
        assert.equal(s.hosts.count, 1);
        assert.equal(s.campaigns.count, 1);
        assert.ok(s.notes.some((n: string) => /1 incident had no metric samples/.test(n)));

        const md = await h.api.get(`/reports/month/${month}`, viewer);
        assert.match(md.headers.get('content-type') ?? '', /^text\/markdown/);
        assert.match(md.text, /\| CPU time \| 140 CPU-seconds \(1 of 2 incidents measured\) \|/);
        const html = await h.api.get(`/reports/month/${month}?format=html`, viewer);
        assert.equal(
          html.headers.get('content-security-policy'),
          "default-src 'none'; style-src 'unsafe-inline'",
        );
        assert.doesNotMatch(html.text, /<script|onload="/);
        assert.match(html.text, /Manual &lt;script&gt;/);

        const empty = await h.api.get('/reports/month/2001-02?format=json', viewer);
        assert.equal(empty.status, 200, empty.text);
        assert.equal(empty.body.incidents, 0);
        assert.equal(empty.body.to, '2001-03-01T00:00:00.000Z');
        assert.equal(empty.body.time_to_detect.mean_s, null);
        for (const bad of ['2026-13', '2026-1', '26-11', '1969-12', '2026-11-01']) {
          const b = await h.api.get(`/reports/month/${bad}`, viewer);
          assert.equal(b.status, 400, `${bad}: ${b.text}`);
          assert.equal(b.body.error.code, 'DEMINER_VALIDATION');
          assert.equal(b.body.error.field, 'month');
        }
        assert.equal((await h.api.get(`/reports/month/${month}`)).status, 401);
        const sensor = await h.token('sensor');
        assert.equal((await h.api.get(`/reports/month/${month}`, sensor)).status, 403);
      }));
  });
}

reportTests('sqlite', sqliteOpener);
const unavailable = await postgresUnavailable(PG_URL);
if (unavailable === undefined) reportTests('postgres', postgresOpener(PG_URL));
else if (process.env.CI)
  test('PostgreSQL is reachable (required under CI)', () => {
    throw new Error(unavailable);
  });
else {
  process.stdout.write(`# skipping the PostgreSQL report tests: ${unavailable}\n`);
  test('reports on postgres', { skip: unavailable }, () => undefined);
}
