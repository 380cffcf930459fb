/**
 * `deminer report incident|month` as users run it: a real server over a
 * real SQLite store in a temporary folder, an enrolled agent's metric
 * samples for the miner's process, and the CLI as a child process. Checks
 * the computed CPU-seconds and cost in the Markdown, attacker text escaped
 * in the HTML, JSON, --out, PDF (when Chromium is installed) and the exit
 * codes of what users get wrong.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeFinding } from '../../src/core/finding.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { Api, type Json } from '../server/helpers.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/deminer.js');
const tmp = mkdtempSync(join(tmpdir(), 'deminer-report-cli-'));
const HOSTILE = `<script>alert("x")</script> ' onload="steal()"`;
const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

let server: RunningServer;
let viewer: string;
let incident: string;
const month = new Date().toISOString().slice(0, 7);

/** The CLI as a child process (asynchronously: the server answers from this process). */
function deminer(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
        maxBuffer: 64 << 20,
        env: { ...process.env, DEMINER_TOKEN: '', DEMINER_SERVER: '', ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        ok({ code, out: stdout, err: stderr });
      },
    );
  });
}

const withServer = (args: string[], token = viewer) =>
  deminer([...args, '--server', server.url], { DEMINER_TOKEN: token });

before(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(tmp, 'data') });
  const api = new Api(server.url);
  const admin = (await server.store.createToken({ role: 'admin', name: 'report test' })).token;
  viewer = (await server.store.createToken({ role: 'viewer', name: 'report reader' })).token;
  const e = await api.post('/enrolments', admin, {});
  const enrolled = await api.post('/enrol', undefined, {
    secret: e.body.secret,
    host: { name: 'web-miner-01' },
  });
  assert.equal(enrolled.status, 201, enrolled.text);
  const agentToken = enrolled.body.token as string;
  const t0 = Date.now() - 15 * 60_000;
  const start = new Date(t0 - 3_600_000).toISOString();
  const finding = makeFinding({
    rule: { id: 'deminer.process.miner_cmdline', name: 'Miner command line', ruleset: 'builtin' },
    severity: 'critical',
    techniques: ['T1496'],
    host: 'web-miner-01',
    subject: ['kswapd0'],
    message: `XMRig runs as kswapd0 ${HOSTILE}`,
    timestamp: new Date(t0).toISOString(),
    process: {
      pid: 31337,
      name: 'kswapd0',
      executable: '/tmp/.x/kswapd0',
      start,
      command_line: `kswapd0 -u ${WALLET}`,
    },
    evidence: { pool: 'pool.example.org:3333' },
  });
  assert.equal((await api.post('/findings', admin, { items: [finding] })).status, 202);
  // 1.5 cores, a sample every 10 s for 5 minutes (31 samples): 30 spans of 10 s to the next and the last for one
  // interval, 31 × 10 s × 1.5 = 465 CPU-seconds; 465 × 15 W / 3.6e6 = 0.0019375 kWh; × 0.25 = 0.000484375 EUR.
  const items = Array.from({ length: 31 }, (_, i) => ({
    subject: `31337:${start}`,
    at: new Date(t0 + i * 10_000).toISOString(),
    cpu: 1.5,
  }));
  const m = await api.post('/metrics', agentToken, { items });
  assert.equal(m.status, 202, m.text);
  for (let i = 0; i < 200; i++) {
    const l = await api.get('/incidents', viewer);
    // Its indicators (the wallet) are added just after the opening: wait for its campaign.
    if (l.body.items.length > 0 && l.body.items[0].campaign !== null) {
      incident = l.body.items[0].id;
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(incident, 'the mining finding opened an incident');
  const p = await api.call('PATCH', `/incidents/${incident}`, {
    token: admin,
    body: {
      title: `Miner on web-miner-01 ${HOSTILE}`,
      root_cause: 'SSH password reuse',
      lessons: 'Keys only.',
    },
  });
  assert.equal(p.status, 200, p.text);
});

after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('report incident: Markdown with the computed CPU-seconds and cost, exit 0', async () => {
  const r = await withServer(['report', 'incident', incident]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  assert.match(r.out, new RegExp(`^# Incident ${incident}: Miner on web-miner-01 \\\\<script\\\\>`));
  assert.match(r.out, /\| CPU time \| 465 CPU-seconds \(1\.5 cores busy on average\) \|/);
  assert.match(r.out, /\| energy \| 0\.001937 kWh at 15 W per core \|/);
  assert.match(r.out, /\| cost \| 0\.000484 EUR at 0\.25 EUR\/kWh \|/);
  assert.match(r.out, /## Root cause\n\nSSH password reuse {2}\n/);
  assert.match(r.out, /## Lessons\n\nKeys only\. {2}\n/);
  assert.match(r.out, /monero: `44AFF/);
  assert.doesNotMatch(r.out, /<script>/);
});

test('report incident: HTML escaped, JSON exact, --out writes the file', async () => {
  const html = await withServer(['report', 'incident', incident, '--format', 'html']);
  assert.equal(html.code, 0, html.err);
  assert.match(html.out, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html.out, /<script|onload="/i);
  assert.match(
    html.out,
    /Miner on web-miner-01 &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &#39; onload=&quot;steal\(\)&quot;/,
  );
  assert.match(html.out, /XMRig runs as kswapd0 &lt;script&gt;/);
  assert.match(html.out, /<td>465 CPU-seconds/);
  assert.match(html.out, /content="default-src 'none'; style-src 'unsafe-inline'"/);

  const json = await withServer(['report', 'incident', incident, '-f', 'json']);
  assert.equal(json.code, 0, json.err);
  const body: Json = JSON.parse(json.out);
  assert.equal(body.incident.title, `Miner on web-miner-01 ${HOSTILE}`);
  assert.equal(body.impact.cpu_seconds, 465);
  assert.equal(body.impact.energy_kwh, 0.0019375);
  assert.equal(body.impact.cost, 0.000484375);
  assert.equal(body.incident.root_cause, 'SSH password reuse');

  const file = join(tmp, 'report.html');
  const out = await withServer(['report', 'incident', incident, '--format', 'html', '--out', file]);
  assert.equal(out.code, 0, out.err);
  assert.equal(out.out, '');
  assert.match(readFileSync(file, 'utf8'), /<td>465 CPU-seconds/);
});

test('report month: the month summary with the total cost', async () => {
  const r = await withServer(['report', 'month', month]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^# Incidents of ${month}`));
  assert.match(r.out, /\| incidents opened \| 1 \|/);
  assert.match(r.out, /\| CPU time \| 465 CPU-seconds \(1 of 1 incidents measured\) \|/);
  assert.match(r.out, /\| cost \| 0\.000484 EUR \|/);
  const json = await withServer(['report', 'month', month, '--format', 'json']);
  assert.equal(JSON.parse(json.out).impact.cpu_seconds, 465);
});

test('exit 2 naming what was wrong: unknown incident, bad id, bad month, no token, bad token, no server', async () => {
  const missing = await withServer(['report', 'incident', 'inc_000000000000']);
  assert.equal(missing.code, 2, missing.err);
  assert.equal(missing.out, '');
  assert.match(missing.err, /REPORT_NOT_FOUND: ID: the server has no incident inc_000000000000/);
  const badId = await withServer(['report', 'incident', 'INC-1']);
  assert.equal(badId.code, 2);
  assert.match(badId.err, /REPORT_BAD_ID: ID: "INC-1" is not an incident id/);
  for (const m of ['2026-13', '26-11', 'november']) {
    const bad = await withServer(['report', 'month', m]);
    assert.equal(bad.code, 2, `${m}: ${bad.err}`);
    assert.match(bad.err, /REPORT_BAD_MONTH: MONTH: .* is not a month: give YYYY-MM/);
  }
  const noToken = await deminer(['report', 'month', month, '--server', server.url]);
  assert.equal(noToken.code, 2);
  assert.match(noToken.err, /REPORT_NO_TOKEN: --token/);
  const badToken = await withServer(['report', 'month', month], 'not-a-token');
  assert.equal(badToken.code, 2);
  assert.match(badToken.err, /REPORT_SERVER_AUTH: --token: the server refused the token \(401\)/);
  const down = await deminer(['report', 'month', month, '--server', 'http://127.0.0.1:1'], {
    DEMINER_TOKEN: viewer,
  });
  assert.equal(down.code, 2);
  assert.match(down.err, /REPORT_SERVER_UNREACHABLE: --server/);
  const badFormat = await withServer(['report', 'month', month, '--format', 'docx']);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.err, /--format must be one of md, html, json, pdf/);
  const pdfNoOut = await withServer(['report', 'month', month, '--format', 'pdf']);
  assert.equal(pdfNoOut.code, 2);
  assert.match(pdfNoOut.err, /--format pdf needs --out FILE/);
});

const chromium = process.env['DEMINER_CHROMIUM'] ?? '/usr/bin/chromium';
test(
  'report incident --format pdf: printed by Chromium from the HTML',
  { skip: existsSync(chromium) ? false : `no Chromium at ${chromium}` },
  async () => {
    const file = join(tmp, 'report.pdf');
    const r = await withServer(['report', 'incident', incident, '--format', 'pdf', '--out', file]);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(file).subarray(0, 5).toString('latin1'), '%PDF-');
  },
);
