import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { ParseIssue } from '../core/errors.ts';
import { type Finding, makeFinding } from '../core/finding.ts';
import { Collected, hostileFindings, rawControls } from './finding-fixtures.ts';
import { attackUrl, escapeHtml, flatten, HTML_CSP, htmlSink, renderHtml } from './html.ts';
import type { RunReport } from './sink.ts';

const XSS_SCRIPT = '<script>alert(1)</script>';
const XSS_ATTR = '"><img src=x onerror=alert(1)>';
const XSS_QUOTE = "' onmouseover='alert(1)";

/** The fixture's hostile findings, with markup in every field a page shows. */
function hostileHtmlFindings(): Finding[] {
  const [a, b, c] = hostileFindings();
  return [
    {
      ...a!,
      message: `${a!.message} ${XSS_SCRIPT}`,
      process: { ...a!.process, command_line: `xmrig ${XSS_ATTR}` },
      evidence: {
        ...a!.evidence,
        [`<b>${XSS_SCRIPT}</b>`]: XSS_ATTR,
        nested: {
          [XSS_QUOTE]: [XSS_SCRIPT, 1, null],
          deeper: [{ link: '<a href="https://evil.example/">x</a>' }],
        },
        next_step: `${XSS_ATTR} then ${XSS_SCRIPT}`,
      },
    },
    {
      ...b!,
      rule: { ...b!.rule, id: `${XSS_ATTR}id`, name: `${b!.rule.name}${XSS_SCRIPT}` },
      host: { name: `${XSS_ATTR}host`, hostname: XSS_QUOTE },
      // Not a technique id: must be shown as text, never become a link.
      threat: { technique: ['javascript:alert(1)', `T1496"${XSS_ATTR}`, 'T1071.004'] },
    },
    {
      ...c!,
      '@timestamp': `2026-01-01T00:00:02.000Z${XSS_ATTR}`,
      message: `</td></tr></table>${XSS_SCRIPT}`,
    },
  ];
}

const ISSUES: ParseIssue[] = [
  { code: `BAD${XSS_ATTR}`, message: `broken ${XSS_SCRIPT}`, location: `evil${XSS_QUOTE}.evtx:12` },
];

function hostileRun(): RunReport {
  return {
    findings: hostileHtmlFindings(),
    issues: ISSUES,
    stats: { files: 3, [`kind${XSS_SCRIPT}`]: { [XSS_ATTR]: 2 }, ms: 12 },
    extra: { host: { name: `scan-host${XSS_SCRIPT}` } },
  };
}

const GENERATED = new Date('2026-02-03T04:05:06.000Z');

/** The elements and attributes the report is made of; anything else came from data. */
const TAGS = new Set([
  '!DOCTYPE',
  'html',
  'head',
  'meta',
  'title',
  'style',
  'body',
  'header',
  'h1',
  'h2',
  'h3',
  'p',
  'main',
  'section',
  'div',
  'table',
  'caption',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'span',
  'code',
  'br',
  'small',
  'time',
  'a',
  'details',
  'summary',
  'dl',
  'dt',
  'dd',
  'label',
  'input',
  'select',
  'option',
  'output',
  'script',
]);
const ATTRIBUTES = new Set([
  'lang',
  'charset',
  'http-equiv',
  'content',
  'name',
  'class',
  'id',
  'scope',
  'datetime',
  'data-severity',
  'data-key',
  'href',
  'rel',
  'target',
  'hidden',
  'type',
  'placeholder',
  'value',
]);
const VOID = new Set(['!DOCTYPE', 'meta', 'br', 'input']);

/** Every tag of the page outside the style and script (whose contents are not markup), in order. */
function tags(html: string): { name: string; closing: boolean; attrs: [string, string][] }[] {
  const body = html
    .replace(/<style>[\s\S]*?<\/style>/, '<style></style>')
    .replace(/<script>[\s\S]*?<\/script>/g, '<script></script>');
  const out: { name: string; closing: boolean; attrs: [string, string][] }[] = [];
  for (const m of body.matchAll(/<(\/?)([!A-Za-z][\w-]*)((?:\s+[\w-]+(?:="[^"]*")?)*)\s*>/g)) {
    const attrs = [...m[3]!.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].map(
      (a) => [a[1]!, a[2] ?? ''] as [string, string],
    );
    out.push({ name: m[2]!, closing: m[1] === '/', attrs });
  }
  return out;
}

/** Open and close tags nest properly (void elements aside). */
function assertBalanced(html: string): void {
  const stack: string[] = [];
  for (const t of tags(html)) {
    if (VOID.has(t.name)) continue;
    if (!t.closing) stack.push(t.name);
    else assert.equal(stack.pop(), t.name, `</${t.name}> closes <${stack.at(-1) ?? 'nothing'}>`);
  }
  assert.deepEqual(stack, [], 'every element is closed');
}

test('attacker text is escaped everywhere: no markup, attribute or link comes from data', () => {
  const html = renderHtml(hostileRun(), { generatedAt: GENERATED });
  assert.equal(html.match(/<script/gi)?.length, 1, 'only our own script');
  assert.ok(!/<img/i.test(html));
  assert.ok(!html.includes(XSS_SCRIPT));
  assert.ok(!html.includes(XSS_ATTR));
  assert.ok(!html.includes(XSS_QUOTE));
  assert.ok(!html.includes('<b>'));
  // The hostile text is there, escaped, to be read.
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('xmrig &quot;&gt;&lt;img src=x onerror=alert(1)&gt;'), 'the command line is shown');
  assert.ok(html.includes('&#39; onmouseover=&#39;alert(1)'));
  assert.ok(html.includes('&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;'));
  // Controls and bidi overrides are shown as escapes, as in the terminal formats.
  assert.deepEqual(rawControls(html), []);
  assert.ok(html.includes('kworker\\x1b[2J pid 4242'));
  assert.ok(html.includes('dns line1\\nline2.evil\\u202egpj.exe.example'));

  for (const t of tags(html)) {
    assert.ok(TAGS.has(t.name), `element <${t.name}> from data`);
    if (t.name === '!DOCTYPE') continue;
    for (const [name, value] of t.attrs) {
      assert.ok(ATTRIBUTES.has(name), `attribute ${name} on <${t.name}>`);
      if (name === 'href')
        assert.match(value, /^https:\/\/attack\.mitre\.org\/techniques\/T\d{4}\/(\d{3}\/)?$/);
    }
  }
  assertBalanced(html);
  const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(hrefs.sort(), [
    'https://attack.mitre.org/techniques/T1071/004/',
    'https://attack.mitre.org/techniques/T1496/',
    'https://attack.mitre.org/techniques/T1496/',
  ]);
  assert.ok(html.includes('<span>javascript:alert(1)</span>'));
});

test('a severity nobody validated is escaped too', () => {
  const [f] = hostileFindings();
  const severity = JSON.parse('"<img src=x onerror=alert(1)>"') as Finding['severity'];
  const html = renderHtml(
    { findings: [{ ...f!, severity }], issues: [], stats: {} },
    { generatedAt: GENERATED },
  );
  assert.ok(!/<img/i.test(html));
  assert.ok(html.includes('<tr data-severity="&lt;img src=x onerror=alert(1)&gt;">'));
  assert.ok(html.includes('id="count-total">1<'));
});

test('nothing loads from elsewhere: a strict CSP and no URL but ATT&CK links', () => {
  const html = renderHtml(hostileRun(), { generatedAt: GENERATED });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.ok(csp, 'CSP meta tag present');
  assert.equal(csp, HTML_CSP);
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, /style-src 'unsafe-inline'/);
  assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/);
  assert.ok(html.indexOf(csp) < html.indexOf('<style>'), 'the policy comes before anything it governs');
  // The script may run: its hash is the one the policy names.
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  assert.ok(csp.includes(`script-src 'sha256-${hash}'`));
  // No resource from the network: the only URLs are the ATT&CK links and,
  // escaped in a text node, the one an attacker put in the evidence.
  const urls = [...html.matchAll(/https?:\/\/[^\s"'<>&]+/g)].map((m) => m[0]);
  assert.ok(urls.length > 0);
  for (const url of urls)
    assert.ok(url.startsWith('https://attack.mitre.org/techniques/') || url === 'https://evil.example/', url);
  assert.ok(html.includes('&lt;a href=&quot;https://evil.example/&quot;&gt;'));
  assert.ok(!/url\(|@import|<link|<img|<iframe|<object/i.test(html));
});

test('without evidence URLs the page holds no URL but ATT&CK links', () => {
  const html = renderHtml(
    { findings: hostileFindings(), issues: ISSUES, stats: { files: 1 } },
    { generatedAt: GENERATED },
  );
  for (const m of html.matchAll(/https?:\/\/[^\s"'<>]*/g))
    assert.ok(m[0].startsWith('https://attack.mitre.org/techniques/'), m[0]);
});

test('summary: counts by severity, rules, hosts, run stats and problems', () => {
  const run = hostileRun();
  const extra = makeFinding({
    rule: { id: 'deminer.test.extra', name: 'Extra rule', ruleset: 'builtin' },
    severity: 'critical',
    techniques: ['T1496'],
    host: 'h2',
    subject: [],
    timestamp: '2025-12-31T00:00:00.000Z',
    message: 'another',
  });
  const findings = [...run.findings, extra];
  const html = renderHtml({ ...run, findings }, { generatedAt: GENERATED });
  const count = (s: string) => Number(new RegExp(`id="count-${s}">(\\d+)<`).exec(html)?.[1]);
  for (const s of ['critical', 'high', 'medium', 'low'] as const)
    assert.equal(count(s), findings.filter((f) => f.severity === s).length, s);
  assert.equal(count('critical'), 2);
  assert.equal(count('low'), 0);
  assert.equal(count('total'), findings.length);
  assert.ok(html.includes('<title>deminer report 2026-02-03T04:05:06.000Z</title>'));
  assert.ok(html.includes('Extra rule<br><code>deminer.test.extra</code>'));
  assert.match(html, /Hosts with findings \(4\)/);
  // Stats and extra as generic key/value pairs, nested keys dotted.
  assert.ok(html.includes('<dt>files</dt><dd>3</dd>'));
  assert.ok(html.includes('<dt>ms</dt><dd>12</dd>'));
  assert.ok(html.includes('<dt>host.name</dt><dd>scan-host&lt;script&gt;'));
  assert.ok(html.includes('Problems (1)'));
  assert.ok(html.includes('evil&#39; onmouseover=&#39;alert(1).evtx:12'));
  const empty = renderHtml({ findings: [], issues: [], stats: {} }, { generatedAt: GENERATED });
  assert.ok(empty.includes('id="count-total">0<'));
  assert.ok(empty.includes('<p>No findings.</p>'));
  assertBalanced(empty);
});

test('findings by time, with technique links and evidence as key/values', () => {
  const run = hostileRun();
  const html = renderHtml({ ...run, findings: [...run.findings].reverse() }, { generatedAt: GENERATED });
  const times = [...html.matchAll(/<tr data-severity="\w+"><td><time datetime="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(times, [
    '2026-01-01T00:00:00.000Z',
    '2026-01-01T00:00:01.000Z',
    '2026-01-01T00:00:02.000Z&quot;&gt;&lt;img src=x onerror=alert(1)&gt;',
  ]);
  assert.ok(html.includes('<dt>process</dt>') === false, 'evidence only, not the finding');
  assert.ok(
    html.includes(
      '<dt>nested.&#39; onmouseover=&#39;alert(1)</dt><dd>&lt;script&gt;alert(1)&lt;/script&gt;, 1, null</dd>',
    ),
  );
  assert.ok(html.includes('<dt>nested.deeper[0].link</dt>'));
  assert.ok(html.includes('<p class="next">Next: &quot;&gt;&lt;img'));
});

test('escaping and helpers', () => {
  assert.equal(
    escapeHtml(`<a href="x" title='y'>&amp;</a>`),
    '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
  );
  assert.equal(attackUrl('T1496'), 'https://attack.mitre.org/techniques/T1496/');
  assert.equal(attackUrl('T1036.005'), 'https://attack.mitre.org/techniques/T1036/005/');
  assert.equal(attackUrl('T1036.005/../../x'), undefined);
  assert.equal(attackUrl('javascript:alert(1)'), undefined);
  assert.deepEqual(flatten({ a: { b: 1, c: [1, 'x'] }, d: [], e: {}, f: [{ g: true }] }), [
    ['a.b', '1'],
    ['a.c', '1, x'],
    ['d', ''],
    ['e', '{}'],
    ['f[0].g', 'true'],
  ]);
  const long = flatten({ v: 'x'.repeat(5000) })[0]![1];
  assert.ok(long.length < 2100 && long.endsWith('(3000 more characters)'));
});

test('the html sink is a file format written once, at the end', () => {
  const out = new Collected();
  const sink = htmlSink({ out, color: true, width: 80 });
  assert.equal(sink.format, 'html');
  assert.equal(sink.machine, true);
  const run = hostileRun();
  for (const f of run.findings) sink.write(f);
  assert.equal(out.text, '');
  sink.end(run);
  assert.equal(out.writes, 1);
  assert.match(out.text, /^<!DOCTYPE html>\n<html lang="en">[\s\S]*<\/html>\n$/);
  assert.ok(!out.text.includes('\x1b'), 'no terminal colour in a file');
});
