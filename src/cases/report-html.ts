import { escapeControls } from '../outputs/safe-text.ts';
import { formatSeconds } from './impact.ts';
import { clockState, type IncidentReport, impactRows } from './report.ts';

/**
 * The reports as one self-contained HTML page: inline CSS, no script, no
 * external resource (fonts, images, links are plain text), so it can be
 * mailed, archived or printed as it is. Every value passes through `esc`:
 * command lines, file names, DNS names and titles are the attacker's words.
 * The server sends it with `Content-Security-Policy: default-src 'none';
 * style-src 'unsafe-inline'` as a second line of defence.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text for HTML text and attribute values: markup characters as entities,
 * control and bidi characters made visible. Line breaks stay (HTML shows
 * them as spaces, or as breaks where the style keeps them: root cause and
 * lessons); a CR is folded into the LF it precedes.
 */
export function esc(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => escapeControls(line).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!))
    .join('\n');
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:2rem auto;max-width:70rem;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:1.8rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f7}td{overflow-wrap:anywhere}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}
.muted{color:#57606a}.bad{color:#b42318;font-weight:600}.ok{color:#1a7f37}.text{white-space:pre-wrap;border-left:3px solid #d0d7de;padding-left:.8rem}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
`;

export function page(title: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A table whose every header and cell is plain text, escaped here. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table>`;
}

export function list(items: readonly string[], empty: string): string {
  if (items.length === 0) return `<p class="muted">${esc(empty)}</p>`;
  return `<ul>\n${items.map((i) => `<li>${esc(i)}</li>`).join('\n')}\n</ul>`;
}

export function reportHtml(r: IncidentReport): string {
  const i = r.incident;
  const b: string[] = [];
  b.push(`<h1>Incident ${esc(i.id)}: ${esc(i.title)}</h1>`);
  b.push(`<p class="muted">Generated ${esc(r.generated_at)}.</p>`);
  b.push('<h2>Summary</h2>', `<p>${esc(r.summary)}</p>`);
  b.push(
    table(
      ['field', 'value'],
      [
        ['host', i.host ?? '—'],
        ['severity', i.severity],
        ['phase', i.phase],
        ['opened', `${i.opened_at} by ${i.opened_by}`],
        ['assignee', i.assignee ?? '—'],
        ['closed', i.closed_at ?? '—'],
        ['campaign', i.campaign ?? '—'],
        ...i.links.map((l) => [`link: ${l.title}`, l.url]),
      ],
    ),
  );
  b.push('<h2>Affected hosts</h2>');
  b.push(list(r.campaign?.hosts.length ? r.campaign.hosts : r.hosts, '(none named)'));
  b.push('<h2>SLA</h2>');
  b.push(
    table(
      ['clock', 'due', 'met', 'state'],
      (['isolation', 'review'] as const).map((c) => [
        c,
        r.sla[c].due ?? '—',
        r.sla[c].met_at ?? '—',
        clockState(r.sla[c]),
      ]),
    ),
  );
  b.push('<h2>Impact</h2>');
  b.push(table(['measure', 'value'], impactRows(r.impact)));
  if (r.impact.gaps.length > 0) {
    b.push('<p>Not measured (no sample):</p>');
    const gaps = r.impact.gaps.map((g) => `${g.from} → ${g.to} (${formatSeconds(g.seconds)})`);
    if (r.impact.gap_count > r.impact.gaps.length)
      gaps.push(`… and ${r.impact.gap_count - r.impact.gaps.length} more`);
    b.push(list(gaps, ''));
  }
  if (r.impact.processes.length > 0)
    b.push(
      table(
        ['process (pid:start)', 'executable', 'CPU-seconds', 'measured', 'samples', 'buckets'],
        r.impact.processes.map((p) => [
          p.subject,
          p.label ?? '—',
          String(p.cpu_seconds),
          formatSeconds(p.measured_seconds),
          String(p.samples),
          String(p.buckets),
        ]),
      ),
    );
  b.push('<p>Assumptions:</p>', list(r.impact.assumptions, 'none'));
  b.push('<h2>Root cause</h2>');
  b.push(
    i.root_cause === null
      ? '<p class="muted">Not recorded yet.</p>'
      : `<div class="text">${esc(i.root_cause)}</div>`,
  );
  b.push('<h2>Lessons</h2>');
  b.push(
    i.lessons === null
      ? '<p class="muted">Not recorded yet.</p>'
      : `<div class="text">${esc(i.lessons)}</div>`,
  );
  b.push('<h2>Timeline</h2>');
  b.push(
    table(
      ['time (UTC)', 'who', 'what'],
      r.timeline.map((e) => [e.at, e.actor, e.text]),
    ),
  );
  b.push('<h2>Findings</h2>');
  if (r.findings.length === 0) b.push('<p class="muted">None linked.</p>');
  else
    b.push(
      table(
        ['severity', 'rule', 'first seen', 'last seen', 'count', 'message'],
        r.findings.map((f) => [
          f.severity,
          `${f.rule_name} (${f.rule_id})`,
          f.first_seen ?? '—',
          f.last_seen ?? '—',
          f.count === null ? '—' : String(f.count),
          f.message,
        ]),
      ),
    );
  b.push(`<p>ATT&amp;CK techniques: ${esc(r.techniques.length ? r.techniques.join(', ') : '—')}</p>`);
  b.push('<h2>Indicators</h2>');
  b.push(
    '<p>Wallets:</p>',
    list(
      r.indicators.wallets.map((w) => `${w.coin ?? 'unknown coin'}: ${w.address}`),
      'none',
    ),
  );
  b.push('<p>Pools:</p>', list(r.indicators.pools, 'none'));
  b.push('<p>Binary hashes:</p>', list(r.indicators.hashes, 'none'));
  b.push('<p>Domains (C2 candidates):</p>', list(r.indicators.domains, 'none'));
  b.push('<h2>Evidence</h2>');
  if (r.evidence.length === 0)
    b.push(
      `<p class="muted">${esc(r.evidence_collected ? 'None collected.' : 'None collected (this server collects no evidence).')}</p>`,
    );
  else
    b.push(
      table(
        ['id', 'kind', 'host', 'collected', 'bytes', 'SHA-256'],
        r.evidence.map((e) => [e.id, e.kind, e.host, e.collected_at, String(e.bytes), e.sha256]),
      ),
    );
  if (r.campaign) {
    b.push('<h2>Campaign</h2>', `<p>Campaign ${esc(r.campaign.id)}:</p>`);
    b.push(
      list(
        r.campaign.incidents.map((c) => `${c.id} on ${c.host ?? '—'} (${c.phase})`),
        'none',
      ),
    );
  }
  b.push('<h2>Not yet measured</h2>');
  b.push(list(r.not_measured, 'Nothing left out.'));
  return page(`Incident ${i.id}: ${i.title}`, b);
}
