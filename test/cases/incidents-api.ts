/**
 * The incident workflow through the HTTP API, run by api.suite.ts on every
 * store (SQLite, PostgreSQL): roles, automatic opening from an ingested
 * mining finding, joining, manual opening, phase moves, the SLA clocks with
 * an injected clock and their one stream event, campaign linking across
 * hosts, the report.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Finding, makeFinding } from '../../src/core/finding.ts';
import type { Severity } from '../../src/core/severity.ts';
import { type Api, type Json, openStream, type StoreOpener, withServer } from '../server/helpers.ts';

const WALLET_A =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const WALLET_B =
  '888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H';

let n = 0;
function miner(o: {
  host: string;
  severity?: Severity;
  wallet?: string;
  pool?: string;
  rule?: string;
  techniques?: string[];
}): Finding {
  return makeFinding({
    rule: { id: o.rule ?? 'deminer.process.miner_cmdline', name: 'Miner command line', ruleset: 'builtin' },
    severity: o.severity ?? 'critical',
    techniques: o.techniques ?? ['T1496'],
    host: o.host,
    subject: [`miner-${process.pid}-${n++}`],
    message: 'XMRig runs as kswapd0; isolate the host.',
    timestamp: new Date(Date.now() - 30_000).toISOString(),
    process: {
      pid: 4242,
      name: 'kswapd0',
      executable: '/tmp/.x/kswapd0',
      command_line: `/tmp/.x/kswapd0 -o ${o.pool ?? 'stratum+tcp://pool.example.org:3333'} -u ${o.wallet ?? WALLET_A}.w1 -p x`,
    },
    evidence: { pool: o.pool ?? 'pool.example.org:3333' },
  });
}

async function ingest(api: Api, token: string, items: Finding[]): Promise<void> {
  const r = await api.post('/findings', token, { items });
  assert.equal(r.status, 202, r.text);
}

/** Polls the list until `ok` holds (the workflow runs after the ingest's commit, queued). */
async function eventually(
  api: Api,
  token: string,
  query: string,
  ok: (items: Json[]) => boolean,
  timeoutMs = 5000,
): Promise<Json[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await api.get(`/incidents${query}`, token);
    assert.equal(r.status, 200, r.text);
    if (ok(r.body.items)) return r.body.items;
    if (Date.now() > end) assert.fail(`timed out; last: ${JSON.stringify(r.body.items)}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

function assertError(
  r: { status: number; body: Json; text: string },
  status: number,
  code: string,
  field?: string,
) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error?.code, code, r.text);
  if (field !== undefined) assert.equal(r.body.error.field, field, r.text);
}

export function incidentApiTests(open: StoreOpener): void {
  test('incidents: a critical mining finding opens one; later findings on the host join it; low ones open none', () =>
    withServer(open, async (h) => {
      const viewer = await h.token('viewer');
      const first = miner({ host: 'web01' });
      await ingest(h.api, h.admin, [first]);
      const [inc] = await eventually(h.api, viewer, '', (items) => items.length === 1);
      assert.match(inc.id, /^inc_[0-9a-f]{12}$/);
      assert.equal(inc.host, 'web01');
      assert.equal(inc.phase, 'discovery');
      assert.equal(inc.severity, 'critical');
      assert.equal(inc.opened_by, 'auto:deminer.process.miner_cmdline');
      assert.equal(inc.findings, 1);
      assert.deepEqual(inc.breached, []);
      assert.ok(Math.abs(Date.parse(inc.isolation_due) - (Date.parse(inc.opened_at) + 30 * 60_000)) < 1000);
      assert.equal(inc.review_due, null);

      // A second finding (and the first again) on the same host: joined once, no second incident.
      const second = miner({ host: 'web01', rule: 'deminer.net.mining_protocol', severity: 'high' });
      const persistence = {
        ...miner({
          host: 'web01',
          techniques: ['T1053.003'],
          severity: 'medium',
          rule: 'deminer.persistence.cron',
        }),
      };
      await ingest(h.api, h.admin, [second, first, persistence]);
      await ingest(h.api, h.admin, [{ ...first, id: crypto.randomUUID() }]);
      const items = await eventually(h.api, viewer, '', (xs) => xs[0]?.findings === 3);
      assert.equal(items.length, 1);
      // Low mining findings elsewhere open nothing.
      await ingest(h.api, h.admin, [miner({ host: 'db01', severity: 'medium' })]);
      await new Promise((res) => setTimeout(res, 200));
      assert.equal((await h.api.get('/incidents?host=db01', viewer)).body.items.length, 0);

      const d = await h.api.get(`/incidents/${inc.id}`, viewer);
      assert.equal(d.status, 200, d.text);
      assert.deepEqual(
        d.body.timeline.map((e: Json) => e.kind).filter((k: string) => k !== 'campaign'),
        ['opened', 'finding', 'finding', 'finding'],
      );
      assert.equal(new Set(d.body.finding_fingerprints).size, 3);
      const wallet = d.body.indicators.find((i: Json) => i.kind === 'wallet');
      assert.deepEqual([wallet.value, wallet.coin], [WALLET_A, 'monero']);
      assert.ok(d.body.indicators.some((i: Json) => i.kind === 'pool' && i.value === 'pool.example.org'));
    }));

  test('incidents: roles, manual opening (one open per host), PATCH, notes, actions, all audited', () =>
    withServer(open, async (h) => {
      const viewer = await h.token('viewer');
      const analyst = await h.token('analyst');
      assertError(await h.api.post('/incidents', viewer, { title: 'x' }), 403, 'DEMINER_FORBIDDEN');
      assertError(await h.api.get('/incidents', undefined), 401, 'DEMINER_UNAUTHORIZED');
      assertError(
        await h.api.post('/incidents', analyst, { title: 'x', colour: 'red' }),
        400,
        'DEMINER_VALIDATION',
      );
      const r = await h.api.post('/incidents', analyst, {
        title: 'Laptop fan loud, user reports slowness',
        host: 'lap07',
        severity: 'medium',
        note: 'Reported by Ana at the help desk',
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.opened_by.startsWith('auto:'), false);
      const again = await h.api.post('/incidents', analyst, { title: 'again', host: 'lap07' });
      assertError(again, 409, 'DEMINER_CONFLICT', 'host');
      assert.match(again.body.error.message, new RegExp(r.body.id));
      // A mining finding on that host joins the analyst's incident.
      await ingest(h.api, h.admin, [miner({ host: 'lap07' })]);
      await eventually(h.api, viewer, '?host=lap07', (xs) => xs.length === 1 && xs[0].findings === 1);

      const id = r.body.id as string;
      const p = await h.api.call('PATCH', `/incidents/${id}`, {
        token: analyst,
        body: { assignee: 'ana', links: [{ title: 'Ticket', url: 'https://tickets.example/1' }] },
      });
      assert.equal(p.status, 200, p.text);
      assert.equal(p.body.assignee, 'ana');
      assertError(
        await h.api.call('PATCH', `/incidents/${id}`, { token: viewer, body: { assignee: 'x' } }),
        403,
        'DEMINER_FORBIDDEN',
      );
      assert.equal(
        (await h.api.post(`/incidents/${id}/notes`, analyst, { text: 'fan confirmed' })).status,
        201,
      );
      const act = await h.api.post(`/incidents/${id}/actions`, analyst, {
        kind: 'isolate',
        detail: { backend: 'nftables', verified: true },
      });
      assert.equal(act.status, 201, act.text);
      assert.equal(act.body.data.action, 'isolate');
      assertError(await h.api.get('/incidents/inc_000000000000', viewer), 404, 'DEMINER_NOT_FOUND');
      assertError(await h.api.get('/incidents/nope', viewer), 400, 'DEMINER_VALIDATION', 'id');

      const d = await h.api.get(`/incidents/${id}`, viewer);
      const kinds = d.body.timeline.map((e: Json) => e.kind);
      for (const k of ['opened', 'finding', 'assignment', 'update', 'note', 'action'])
        assert.ok(kinds.includes(k), k);
      const audit = await h.api.get('/audit?limit=100', h.admin);
      const actions = audit.body.items.filter((e: Json) => e.target === id).map((e: Json) => e.action);
      for (const a of ['incidents.open', 'incidents.update', 'incidents.note', 'incidents.action'])
        assert.ok(actions.includes(a), `${a} audited: ${actions}`);
    }));

  test('incidents: phases move forward; a backwards move is refused (422 naming it); closed reopens to discovery', () =>
    withServer(open, async (h) => {
      const analyst = await h.token('analyst');
      const { body: inc } = await h.api.post('/incidents', analyst, { title: 'miner', host: 'web02' });
      const move = (to: string, note?: string) =>
        h.api.post(`/incidents/${inc.id}/phase`, analyst, note === undefined ? { to } : { to, note });
      assert.equal((await move('isolation')).status, 200);
      const f = await move('forensics', 'host isolated by nftables');
      assert.equal(f.status, 200, f.text);
      assert.equal(f.body.phase, 'forensics');
      assert.ok(f.body.sla.isolation.met_at !== null);
      assert.equal(f.body.sla.isolation.breached, false);
      const back = await move('isolation');
      assertError(back, 422, 'DEMINER_UNPROCESSABLE', 'to');
      assert.match(back.body.error.message, /forensics → isolation/);
      assertError(await move('bogus'), 400, 'DEMINER_VALIDATION', 'to');
      const rec = await move('recovery');
      assert.ok(rec.body.review_due !== null);
      assert.equal((await move('closed')).body.phase, 'closed');
      assertError(await move('review'), 422, 'DEMINER_UNPROCESSABLE', 'to');
      // Closed frees the host: a new incident may open there; reopening the old one then conflicts.
      const other = await h.api.post('/incidents', analyst, { title: 'again', host: 'web02' });
      assert.equal(other.status, 201, other.text);
      assertError(await move('discovery'), 409, 'DEMINER_CONFLICT');
      await h.api.post(`/incidents/${other.body.id}/phase`, analyst, { to: 'closed' });
      const reopened = await move('discovery');
      assert.equal(reopened.status, 200, reopened.text);
      assert.equal(reopened.body.sla.isolation.met_at, null, 'the clocks restart');
      const phases = (await h.api.get(`/incidents?phase=discovery`, analyst)).body.items.map(
        (i: Json) => i.id,
      );
      assert.deepEqual(phases, [inc.id]);
      const d = await h.api.get(`/incidents/${inc.id}`, analyst);
      const moves = d.body.timeline
        .filter((e: Json) => e.kind === 'phase')
        .map((e: Json) => `${e.data.from}>${e.data.to}`);
      assert.deepEqual(moves, [
        'discovery>isolation',
        'isolation>forensics',
        'forensics>recovery',
        'recovery>closed',
        'closed>discovery',
      ]);
    }));

  test('incidents: SLA breach with an injected clock is flagged and raised exactly once on the stream', async () => {
    let now = Date.now();
    await withServer(
      open,
      async (h) => {
        const analyst = await h.token('analyst');
        const stream = await openStream(h.url, h.admin);
        try {
          const { body: inc } = await h.api.post('/incidents', analyst, { title: 'slow', host: 'web03' });
          let r = await h.api.get(`/incidents/${inc.id}`, analyst);
          assert.deepEqual(r.body.breached, []);
          now += 31 * 60_000;
          await stream.until(/event: incident\.sla_breached\ndata: [^\n]*"clock":"isolation"/);
          // Reads and further checks do not raise it again.
          r = await h.api.get(`/incidents/${inc.id}`, analyst);
          assert.deepEqual(r.body.breached, ['isolation']);
          assert.equal(r.body.sla.isolation.breached, true);
          assert.equal(r.body.sla.isolation.met_at, null);
          await h.api.get('/incidents', analyst);
          await new Promise((res) => setTimeout(res, 300));
          const count = stream.text().match(/event: incident\.sla_breached/g)?.length ?? 0;
          assert.equal(count, 1, stream.text());
          assert.equal(r.body.timeline.filter((e: Json) => e.kind === 'sla_breached').length, 1);
          // Moving past isolation late keeps it breached.
          const moved = await h.api.post(`/incidents/${inc.id}/phase`, analyst, { to: 'forensics' });
          assert.deepEqual(moved.body.breached, ['isolation']);
        } finally {
          stream.close();
        }
      },
      { cases: { now: () => now, checkEveryMs: 40 } },
    );
  });

  test('campaigns: incidents on two hosts sharing a wallet are one campaign; another pool is another', () =>
    withServer(open, async (h) => {
      const viewer = await h.token('viewer');
      await ingest(h.api, h.admin, [
        miner({ host: 'web01', wallet: WALLET_A, pool: 'stratum+tcp://p1.example.org:3333' }),
      ]);
      await ingest(h.api, h.admin, [
        miner({ host: 'web02', wallet: WALLET_A, pool: 'stratum+tcp://p2.example.org:443' }),
      ]);
      await ingest(h.api, h.admin, [
        miner({ host: 'db09', wallet: WALLET_B, pool: 'stratum+tcp://p3.example.net:3333' }),
      ]);
      const items = await eventually(
        h.api,
        viewer,
        '',
        (xs) =>
          xs.length === 3 &&
          xs.every((x) => x.campaign !== null) &&
          new Set(xs.map((x) => x.campaign)).size === 2,
      );
      const by = new Map(items.map((i) => [i.host, i.campaign]));
      assert.equal(by.get('web01'), by.get('web02'));
      assert.notEqual(by.get('web01'), by.get('db09'));
      const c = await h.api.get(`/campaigns/${by.get('web01')}`, viewer);
      assert.equal(c.status, 200, c.text);
      assert.deepEqual(c.body.hosts, ['web01', 'web02']);
      assert.ok(
        c.body.indicators.some(
          (i: Json) => i.kind === 'wallet' && i.value === WALLET_A && i.coin === 'monero',
        ),
      );
      const list = await h.api.get('/campaigns', viewer);
      assert.equal(list.body.items.length, 2);
      const filtered = await h.api.get(`/incidents?campaign=${by.get('web01')}`, viewer);
      assert.deepEqual(filtered.body.items.map((i: Json) => i.host).sort(), ['web01', 'web02']);
      // A later finding of db09 using p1's pool merges the two campaigns into one.
      await ingest(h.api, h.admin, [
        miner({ host: 'db09', wallet: WALLET_B, pool: 'stratum+tcp://p1.example.org:5555' }),
      ]);
      await eventually(h.api, viewer, '', (xs) => new Set(xs.map((x) => x.campaign)).size === 1);
      const merged = await h.api.get(`/campaigns/${by.get('db09')}`, viewer);
      assert.deepEqual(merged.body.hosts, ['db09', 'web01', 'web02']);
      assertError(await h.api.get('/campaigns/cmp_000000000000', viewer), 404, 'DEMINER_NOT_FOUND');
    }));

  test('incidents: the report in Markdown and JSON, with indicators and honest placeholders for cost', () =>
    withServer(open, async (h) => {
      const viewer = await h.token('viewer');
      await ingest(h.api, h.admin, [miner({ host: 'web05' })]);
      const [inc] = await eventually(h.api, viewer, '', (xs) => xs.length === 1 && xs[0].campaign !== null);
      const md = await h.api.get(`/incidents/${inc.id}/report`, viewer);
      assert.equal(md.status, 200, md.text);
      assert.match(md.headers.get('content-type') ?? '', /^text\/markdown/);
      assert.match(md.text, new RegExp(`^# Incident ${inc.id}`));
      assert.match(md.text, /## Timeline/);
      assert.match(md.text, new RegExp(`monero: \`${WALLET_A}\``));
      assert.match(md.text, /## Not yet measured/);
      assert.match(md.text, /Isolation: due .* running/);
      const js = await h.api.get(`/incidents/${inc.id}/report?format=json`, viewer);
      assert.equal(js.status, 200, js.text);
      assert.equal(js.body.incident.id, inc.id);
      assert.deepEqual(js.body.hosts, ['web05']);
      assert.deepEqual(js.body.indicators.wallets, [{ address: WALLET_A, coin: 'monero' }]);
      assert.deepEqual(js.body.indicators.pools, ['pool.example.org']);
      assert.deepEqual(js.body.techniques, ['T1496']);
      assert.ok(js.body.not_measured.some((s: string) => /Cost/.test(s)));
      assert.ok(!('cost' in js.body), 'no invented numbers');
      assertError(
        await h.api.get(`/incidents/${inc.id}/report?format=pdf`, viewer),
        400,
        'DEMINER_VALIDATION',
        'format',
      );
    }));
}
