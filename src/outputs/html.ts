import { createHash } from 'node:crypto';
import type { ParseIssue } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { isSeverity, SEVERITIES, severityRank } from '../core/severity.ts';
import { escapeControls } from './safe-text.ts';
import type { FindingSink, RunReport, SinkOptions } from './sink.ts';
import { summarizeByRule } from './summary.ts';
import { evidenceFile, sortByTime, timelineDetails } from './timeline.ts';

/**
 * A run as one self-contained HTML page (hayabusa's `-H`) that can be mailed
 * and opened offline: inline CSS, no external script, font, image or style.
 *
 * Every string that comes from findings, problems or stats was written, or
 * chosen, by an attacker (command lines, host names, file names, rule names
 * of imported rules, JSON keys). It goes through `text()`, which makes
 * control and bidi characters visible and escapes the five HTML specials;
 * nothing else is inserted. The Content-Security-Policy is the second wall:
 * no source may load anything, and only our own script (by its hash) runs,
 * so a missed escape could still not execute script or fetch a resource.
 */

const HTML_SPECIAL: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `s` safe as HTML text and as a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_SPECIAL[c] ?? c);
}

/** Attacker-written text for the page: controls made visible (bidi overrides reorder text in a browser too), then HTML-escaped. */
function text(s: string): string {
  return escapeHtml(escapeControls(s));
}

/** Longest evidence or stats value shown in full; the json formats carry the rest. */
const MAX_VALUE_CHARS = 2000;
/** Deeper evidence is shown as JSON on one line. */
const MAX_DEPTH = 6;
/** Key/value pairs shown per finding. */
const MAX_PAIRS = 200;
const TOP_RULES = 10;

const TECHNIQUE = /^T(\d{4})(?:\.(\d{3}))?$/;

/** The ATT&CK page of a technique id; undefined for anything that is not one. */
export function attackUrl(technique: string): string | undefined {
  const m = TECHNIQUE.exec(technique);
  if (!m) return undefined;
  return `https://attack.mitre.org/techniques/T${m[1]}/${m[2] ? `${m[2]}/` : ''}`;
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null) return 'null';
  if (v === undefined) return '';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function clip(s: string): string {
  return s.length > MAX_VALUE_CHARS
    ? `${s.slice(0, MAX_VALUE_CHARS)}… (${s.length - MAX_VALUE_CHARS} more characters)`
    : s;
}

/**
 * An object as dotted key/value pairs (`rules.runnable`, `event_data.Image`):
 * arrays of plain values joined with commas, other arrays by index.
 */
export function flatten(
  value: unknown,
  prefix = '',
  depth = 0,
  out: [string, string][] = [],
): [string, string][] {
  if (out.length >= MAX_PAIRS) return out;
  const isArray = Array.isArray(value);
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) {
    out.push([prefix, clip(scalar(value))]);
  } else if (isArray && value.every((v) => typeof v !== 'object' || v === null)) {
    out.push([prefix, clip(value.map(scalar).join(', '))]);
  } else {
    const entries = isArray ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value);
    if (entries.length === 0) out.push([prefix, isArray ? '[]' : '{}']);
    for (const [k, v] of entries) {
      const key = isArray ? `${prefix}${k}` : prefix ? `${prefix}.${k}` : k;
      flatten(v, key, depth + 1, out);
      if (out.length >= MAX_PAIRS) break;
    }
  }
  return out;
}

/** The pairs of an object, none for an empty one. */
function pairsOf(value: unknown): [string, string][] {
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return [];
  return flatten(value);
}

function keyValues(pairs: readonly [string, string][]): string {
  if (pairs.length === 0) return '';
  return `<dl class="kv">${pairs.map(([k, v]) => `<dt>${text(k)}</dt><dd>${text(v)}</dd>`).join('')}</dl>`;
}

/**
 * A severity as markup. The type says it is one of four words, but a sink
 * may be handed findings nobody validated: anything else is shown escaped.
 */
function sev(s: Finding['severity']): string {
  const known: string = s;
  return isSeverity(known)
    ? `<span class="sev sev-${known}">${known}</span>`
    : `<span class="sev">${text(known)}</span>`;
}

function techniques(list: readonly string[]): string {
  return list
    .map((t) => {
      const url = attackUrl(t);
      return url
        ? `<a href="${url}" rel="noreferrer noopener" target="_blank">${t}</a>`
        : `<span>${text(t)}</span>`;
    })
    .join(' ');
}

function severityCounts(findings: readonly Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const rows = [...SEVERITIES]
    .reverse()
    .map(
      (s) =>
        `<tr><th scope="row">${sev(s)}</th><td class="num" id="count-${s}">${counts.get(s) ?? 0}</td></tr>`,
    );
  rows.push(`<tr><th scope="row">total</th><td class="num" id="count-total">${findings.length}</td></tr>`);
  return `<table class="counts"><caption>Findings by severity</caption><tbody>${rows.join('')}</tbody></table>`;
}

function topRules(findings: readonly Finding[]): string {
  const rules = summarizeByRule(findings);
  if (rules.length === 0) return '';
  const shown = rules.slice(0, TOP_RULES);
  const rows = shown.map(
    (r) =>
      `<tr><td>${sev(r.severity)}</td><td class="num">${r.count}</td><td class="num">${r.hosts}</td><td>${text(r.name)}<br><code>${text(r.id)}</code></td></tr>`,
  );
  const more = rules.length > shown.length ? ` (top ${shown.length} of ${rules.length})` : '';
  return `<table><caption>Rules${more}</caption><thead><tr><th>Severity</th><th>Findings</th><th>Hosts</th><th>Rule</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function hosts(findings: readonly Finding[]): string {
  const m = new Map<string, { count: number; severity: Finding['severity']; rules: Set<string> }>();
  for (const f of findings) {
    const h = m.get(f.host.name) ?? { count: 0, severity: f.severity, rules: new Set<string>() };
    h.count++;
    h.rules.add(f.rule.id);
    if (severityRank(f.severity) > severityRank(h.severity)) h.severity = f.severity;
    m.set(f.host.name, h);
  }
  if (m.size === 0) return '';
  const rows = [...m]
    .sort(
      ([an, a], [bn, b]) =>
        severityRank(b.severity) - severityRank(a.severity) || b.count - a.count || an.localeCompare(bn),
    )
    .map(
      ([name, h]) =>
        `<tr><td>${sev(h.severity)}</td><td class="num">${h.count}</td><td class="num">${h.rules.size}</td><td>${text(name)}</td></tr>`,
    );
  return `<table><caption>Hosts with findings (${m.size})</caption><thead><tr><th>Highest</th><th>Findings</th><th>Rules</th><th>Host</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function problems(issues: readonly ParseIssue[]): string {
  if (issues.length === 0) return '<h3>Problems</h3><p>No input problems were kept for this run.</p>';
  const rows = issues.map(
    (i) =>
      `<tr><td><code>${text(i.code)}</code></td><td>${text(i.location)}</td><td>${text(i.message)}</td></tr>`,
  );
  return `<h3>Problems (${issues.length})</h3><table><thead><tr><th>Code</th><th>Location</th><th>Problem</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** What the finding is about (record, process, flow, file), as in the timeline. */
function details(f: Finding): string {
  const lines = timelineDetails(f);
  const file = evidenceFile(f);
  if (file !== undefined) lines.push(`file ${file}`);
  return lines.length === 0
    ? ''
    : `<div class="details">${lines.map((l) => `<code>${text(l)}</code>`).join('<br>')}</div>`;
}

function findingRow(f: Finding): string {
  const host =
    f.host.hostname !== undefined
      ? `${text(f.host.name)}<br><small>${text(f.host.hostname)}</small>`
      : text(f.host.name);
  const next = f.evidence['next_step'];
  const pairs = pairsOf(f.evidence);
  const evidence =
    pairs.length === 0
      ? ''
      : `<details><summary>${pairs.length} field${pairs.length === 1 ? '' : 's'}</summary>${keyValues(pairs)}</details>`;
  return (
    `<tr data-severity="${text(f.severity)}">` +
    `<td><time datetime="${text(f['@timestamp'])}">${text(f['@timestamp'])}</time></td>` +
    `<td data-key="${isSeverity(f.severity) ? severityRank(f.severity) : 0}">${sev(f.severity)}</td>` +
    `<td>${host}</td>` +
    `<td>${text(f.rule.name)}<br><code>${text(f.rule.id)}</code></td>` +
    `<td>${techniques(f.threat.technique)}</td>` +
    `<td>${text(f.message)}${details(f)}${typeof next === 'string' ? `<p class="next">Next: ${text(next)}</p>` : ''}</td>` +
    `<td>${evidence}</td>` +
    '</tr>'
  );
}

function findingsTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return '<p>No findings.</p>';
  return (
    '<div id="controls" class="controls" hidden>' +
    '<label>Filter <input id="filter" type="search" placeholder="host, rule, text…"></label> ' +
    '<label>Severity <select id="severity"><option value="">any</option>' +
    [...SEVERITIES]
      .reverse()
      .map((s) => `<option>${s}</option>`)
      .join('') +
    '</select></label> <output id="shown"></output></div>' +
    '<table id="findings-table"><thead><tr><th>Time (UTC)</th><th>Severity</th><th>Host</th><th>Rule</th><th>ATT&amp;CK</th><th>Message</th><th>Evidence</th></tr></thead>' +
    `<tbody>${sortByTime(findings).map(findingRow).join('\n')}</tbody></table>`
  );
}

/**
 * Filtering and column sorting for large reports. The page shows everything
 * without it: the controls are hidden until this runs. It reads the page's
 * text only through textContent and dataset, never as HTML.
 */
const SCRIPT = `(() => {
  const table = document.getElementById('findings-table');
  if (!table) return;
  const rows = Array.from(table.tBodies[0].rows);
  const filter = document.getElementById('filter');
  const severity = document.getElementById('severity');
  const shown = document.getElementById('shown');
  const apply = () => {
    const q = filter.value.trim().toLowerCase();
    const s = severity.value;
    let n = 0;
    for (const r of rows) {
      const ok = (!s || r.dataset.severity === s) && (!q || r.textContent.toLowerCase().includes(q));
      r.hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = n + ' of ' + rows.length + ' shown';
  };
  filter.addEventListener('input', apply);
  severity.addEventListener('change', apply);
  Array.from(table.tHead.rows[0].cells).forEach((th, col) => {
    let up = true;
    th.classList.add('sortable');
    th.title = 'sort';
    th.addEventListener('click', () => {
      const key = (r) => r.cells[col].dataset.key ?? r.cells[col].textContent;
      const cmp = new Intl.Collator(undefined, { numeric: true }).compare;
      rows.sort((a, b) => (up ? 1 : -1) * cmp(key(a), key(b)));
      up = !up;
      table.tBodies[0].append(...rows);
    });
  });
  document.getElementById('controls').hidden = false;
  apply();
})();`;

const SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT, 'utf8').digest('base64')}`;

/** Nothing may load; only our inline style and our one script (by hash) apply. */
export const HTML_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src '${SCRIPT_HASH}'; base-uri 'none'; form-action 'none'`;

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa;
  --critical: #a40e26; --high: #d1242f; --medium: #9a6700; --low: #59636e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d;
  --head: #151b23; --critical: #ff8182; --high: #ff6a69; --medium: #d29922; --low: #9198a1; } }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 110rem; color: var(--fg); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); }
h3 { margin: 1.25rem 0 .5rem; }
.meta { color: var(--muted); margin: 0; }
.grid { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
table { border-collapse: collapse; margin: .5rem 0; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
thead th { background: var(--head); position: sticky; top: 0; }
th.sortable { cursor: pointer; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, time, .kv { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; }
#findings-table { width: 100%; }
#findings-table td:nth-child(1) { white-space: nowrap; }
#findings-table td:nth-child(6) { min-width: 20rem; }
.sev { font-weight: 600; text-transform: uppercase; font-size: .8em; }
.sev-critical { color: var(--critical); } .sev-high { color: var(--high); }
.sev-medium { color: var(--medium); } .sev-low { color: var(--low); }
tr[data-severity="critical"] td:first-child { box-shadow: inset 4px 0 var(--critical); }
tr[data-severity="high"] td:first-child { box-shadow: inset 4px 0 var(--high); }
.kv { display: grid; grid-template-columns: minmax(6rem, max-content) 1fr; gap: .1rem .75rem; margin: .25rem 0; }
.kv dt { color: var(--muted); overflow-wrap: anywhere; } .kv dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
details summary { cursor: pointer; color: var(--muted); }
.details { margin: .35rem 0 0; }
.next { margin: .35rem 0 0; color: var(--muted); }
.controls { margin: .5rem 0; } .controls input { min-width: 18rem; }
a { color: inherit; }
@media print { thead th { position: static; } .controls { display: none; } }
`;

export interface HtmlOptions {
  /** When the report was made (default: now). */
  generatedAt?: Date;
}

/** The whole report: summary, problems, then every finding in time order. */
export function renderHtml(run: RunReport, opts: HtmlOptions = {}): string {
  const at = (opts.generatedAt ?? new Date()).toISOString();
  const { findings } = run;
  const times = findings.map((f) => f['@timestamp']).filter((t) => !Number.isNaN(Date.parse(t)));
  times.sort((a, b) => Date.parse(a) - Date.parse(b));
  const span =
    times.length > 0
      ? ` Events from <time datetime="${text(times[0]!)}">${text(times[0]!)}</time> to <time datetime="${text(times.at(-1)!)}">${text(times.at(-1)!)}</time>.`
      : '';
  const runInfo = [...pairsOf(run.extra ?? {}), ...pairsOf(run.stats)];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${HTML_CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="deminer">
<title>deminer report ${at}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>deminer report, <time datetime="${at}">${at}</time></h1>
<p class="meta">${findings.length} finding${findings.length === 1 ? '' : 's'} on ${new Set(findings.map((f) => f.host.name)).size} host(s), ${run.issues.length} problem(s) kept.${span} All times are UTC.</p>
</header>
<main>
<section id="summary">
<h2>Summary</h2>
<div class="grid">
${severityCounts(findings)}
${topRules(findings)}
${hosts(findings)}
</div>
<h3>Run</h3>
${keyValues(runInfo) || '<p>No run statistics.</p>'}
${problems(run.issues)}
</section>
<section id="findings">
<h2>Findings by time</h2>
${findingsTable(findings)}
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** A file format: the report is written whole, at the end; the command's notes go to stderr. */
export function htmlSink(options: SinkOptions): FindingSink {
  return {
    format: 'html',
    machine: true,
    write() {},
    end(run) {
      options.out.write(renderHtml(run));
    },
  };
}
