/**
 * The HTML and Markdown renderings of a report built from plain values:
 * attacker text (titles, finding messages, executables, pools) escaped in
 * every place it lands, no script or external resource, free text keeping
 * its lines, and the impact's numbers as the Markdown shows them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeImpact, impactSettings } from '../../src/cases/impact.ts';
import { type IncidentReport, reportMarkdown } from '../../src/cases/report.ts';
import { esc, reportHtml } from '../../src/cases/report-html.ts';

const at = (s: number): string => new Date(Date.parse('2026-11-03T10:00:00.000Z') + s * 1000).toISOString();
const EVIL = `<script>alert("x")</script><img src=x onerror='y'> \u001b[2J \u202egnp.exe &amp;`;

function report(o: Partial<IncidentReport> = {}): IncidentReport {
  const impact = computeImpact({
    window: { from: at(0), to: at(900), running: false },
    processes: [
      {
        subject: `4242:${at(-3600)}`,
        label: `/tmp/${EVIL}`,
        samples: Array.from({ length: 31 }, (_, i) => ({
          hostId: 'h',
          at: at(i * 10),
          subject: 'x',
          cpu: 1.5,
        })),
      },
    ],
    intervalS: 10,
    hostCores: 6,
    coins: [],
    settings: impactSettings(undefined),
  });
  return {
    generated_at: at(1000),
    incident: {
      id: 'inc_0123456789ab',
      title: `Miner ${EVIL}`,
      host: 'web01',
      severity: 'critical',
      phase: 'recovery',
      opened_at: at(0),
      opened_by: 'auto:deminer.process.miner_cmdline',
      assignee: `eve ${EVIL}`,
      closed_at: null,
      campaign: null,
      links: [{ title: `ticket ${EVIL}`, url: 'https://tickets.example/1?a="b"' }],
      root_cause: `Unpatched Exchange.\r\nDropped via ADMIN$ ${EVIL}`,
      lessons: null,
    },
    summary: `Summary ${EVIL}`,
    hosts: ['web01'],
    timeline: [{ at: at(0), actor: `actor ${EVIL}`, kind: 'note', text: `Note: ${EVIL}` }],
    findings: [
      {
        fingerprint: 'ab',
        rule_id: 'deminer.process.miner_cmdline',
        rule_name: 'Miner command line',
        severity: 'critical',
        first_seen: at(0),
        last_seen: at(300),
        count: 3,
        message: `XMRig ${EVIL}`,
      },
    ],
    techniques: ['T1496'],
    indicators: { wallets: [], pools: [`pool${EVIL}`], hashes: [], domains: [`dga${EVIL}`] },
    campaign: null,
    sla: {
      isolation: { due: at(1800), met_at: at(600), breached: false },
      review: { due: null, met_at: null, breached: false },
    },
    impact,
    evidence: [
      {
        id: 'ev_1',
        kind: 'binary',
        sha256: 'a'.repeat(64),
        bytes: 1024,
        collected_at: at(700),
        host: `web01${EVIL}`,
      },
    ],
    evidence_collected: true,
    not_measured: impact.not_measured,
    ...o,
  };
}

test('esc: markup as entities, control and bidi characters visible, lines kept', () => {
  assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(esc('a\u001b[2Jb\u202ec'), 'a\\x1b[2Jb\\u202ec');
  assert.equal(esc('one\r\ntwo\nthree'), 'one\ntwo\nthree');
});

test('HTML: every attacker string escaped; no script, no external resource; one page', () => {
  const html = reportHtml(report());
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
  // Escaped text may still read `onerror=` (harmless without a tag); no tag, no raw quote after it.
  assert.doesNotMatch(html, /<script|<img|onerror='|\u001b|\u202e/i);
  assert.doesNotMatch(html, /<[a-z][^>]*\b(src|href)=/i, 'no tag loads anything');
  assert.equal((html.match(/<style>/g) ?? []).length, 1);
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/,
  );
  // The title, the message, the executable, the pool, the evidence host and the link are all escaped.
  const escaped = esc(EVIL);
  assert.match(
    escaped,
    /^&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt; \\x1b\[2J \\u202egnp\.exe &amp;amp;$/,
  );
  for (const where of [
    `Miner ${escaped}`,
    `XMRig ${escaped}`,
    `/tmp/${escaped}`,
    `pool${escaped}`,
    `web01${escaped}`,
  ])
    assert.ok(html.includes(where), where);
  assert.ok(html.includes('https://tickets.example/1?a=&quot;b&quot;'));
  // Root cause keeps its lines (a pre-wrap block); lessons not recorded.
  assert.ok(html.includes(`<div class="text">Unpatched Exchange.\nDropped via ADMIN$ ${escaped}</div>`));
  assert.match(html, /<h2>Lessons<\/h2>\n<p class="muted">Not recorded yet\.<\/p>/);
  // 465 CPU-seconds, 1.5 of 6 cores = 25 %.
  assert.match(html, /<td>465 CPU-seconds \(1\.5 cores busy on average\)<\/td>/);
  assert.match(html, /<td>25 % of 6 cores<\/td>/);
  assert.match(html, /<td>ev_1<\/td><td>binary<\/td>/);
});

test('Markdown: the same report, markup and control characters escaped; evidence listed; none collected', () => {
  const text = reportMarkdown(report());
  // `<` only ever escaped (`\<`, CommonMark's literal), controls shown as escapes.
  assert.doesNotMatch(text, /[^\\]<script|\u001b|\u202e/);
  assert.match(text, /^# Incident inc_0123456789ab: Miner \\<script\\>/);
  assert.match(text, /\| CPU time \| 465 CPU-seconds \(1\.5 cores busy on average\) \|/);
  assert.match(text, /\| share of host capacity \| 25 % of 6 cores \|/);
  assert.match(text, /\| energy \| 0\.001937 kWh at 15 W per core \|/);
  assert.match(text, /\| cost \| 0\.000484 EUR at 0\.25 EUR\/kWh \|/);
  assert.match(text, /## Root cause\n\nUnpatched Exchange\. {2}\nDropped via ADMIN\$ \\<script\\>/);
  assert.match(text, /\| ev\\_1 \| binary \| web01\\<script\\>/);
  const none = reportMarkdown(report({ evidence: [] }));
  assert.match(none, /## Evidence\n\nNone collected\.\n/);
  const off = reportMarkdown(report({ evidence: [], evidence_collected: false }));
  assert.match(off, /None collected \(this server collects no evidence\)\./);
});
