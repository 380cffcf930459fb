import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../core/finding.ts';
import { declarationProblems } from '../catalog.ts';
import { SigmaCorrelations, SigmaEngine, sigmaRuleDeclaration } from './engine.ts';
import { parseRuleText } from './load-rules.ts';
import { loadLogsourceMap } from './logsource-map.ts';
import type { WinlogEvent } from './winlog-event.ts';

const logsources = loadLogsourceMap();

function ev(
  data: Record<string, unknown>,
  extra: Partial<WinlogEvent['winlog']> = {},
  ts = '2025-01-01T00:00:00.000Z',
): WinlogEvent {
  return {
    '@timestamp': ts,
    winlog: {
      channel: 'Microsoft-Windows-Sysmon/Operational',
      event_id: '1',
      record_id: 1,
      computer_name: 'h',
      event_data: data,
      ...extra,
    },
  };
}

function engineFor(detection: string, logsource = 'category: process_creation', extraDocs = ''): SigmaEngine {
  const text = `title: t\nid: r1\nlevel: high\nlogsource:\n  product: windows\n  ${logsource}\ndetection:\n${detection}\n${extraDocs}`;
  const { rules, issues } = parseRuleText(text, 'r.yml');
  assert.deepEqual(issues, []);
  const e = new SigmaEngine(rules, { logsources });
  assert.deepEqual(e.issues, []);
  return e;
}
const fires = (e: SigmaEngine, event: WinlogEvent): boolean => e.observe(event).length > 0;

test('wildcards, escapes and the case-insensitive default', () => {
  const e = engineFor("  sel:\n    Image: 'C:\\Win*\\cmd.ex?'\n    CommandLine: 'a\\*b'\n  condition: sel");
  assert.ok(fires(e, ev({ Image: 'c:\\windows\\CMD.EXE', CommandLine: 'A*B' })));
  assert.ok(!fires(e, ev({ Image: 'c:\\windows\\cmd.exe', CommandLine: 'axxb' })));
});

test('contains/startswith/endswith, all, cased, exists, null and empty', () => {
  const e = engineFor(
    "  a:\n    CommandLine|contains|all: ['-enc', 'hidden']\n  b:\n    Image|endswith|cased: '\\X.exe'\n  c:\n    Hashes|exists: false\n  d:\n    User: null\n  condition: a and b and c and d",
  );
  assert.ok(fires(e, ev({ CommandLine: 'p -ENC x -w HIDDEN', Image: 'C:\\X.exe' })));
  assert.ok(!fires(e, ev({ CommandLine: 'p -ENC x', Image: 'C:\\X.exe' })), 'all');
  assert.ok(!fires(e, ev({ CommandLine: '-enc hidden', Image: 'C:\\x.exe' })), 'cased');
  assert.ok(!fires(e, ev({ CommandLine: '-enc hidden', Image: 'C:\\X.exe', Hashes: 'x' })), 'exists');
  assert.ok(!fires(e, ev({ CommandLine: '-enc hidden', Image: 'C:\\X.exe', User: 'bob' })), 'null');
  assert.ok(
    fires(e, ev({ CommandLine: '-enc hidden', Image: 'C:\\X.exe', User: '' })),
    'empty counts as null',
  );
});

test('re with i/m/s, windash, cidr, numeric comparisons, neq, fieldref', () => {
  assert.ok(
    fires(
      engineFor("  s:\n    CommandLine|re|i: 'IEX\\s*\\('\n  condition: s"),
      ev({ CommandLine: 'iex (x)' }),
    ),
  );
  assert.ok(
    !fires(
      engineFor("  s:\n    CommandLine|re: 'IEX\\s*\\('\n  condition: s"),
      ev({ CommandLine: 'iex (x)' }),
    ),
  );
  const wd = engineFor("  s:\n    CommandLine|windash|contains: ' -decode '\n  condition: s");
  for (const c of ['certutil /decode a', 'certutil -decode a', 'certutil \u2013decode a'])
    assert.ok(fires(wd, ev({ CommandLine: c })), c);
  const net = engineFor(
    "  s:\n    DestinationIp|cidr: '203.0.113.0/24'\n    DestinationPort|gte: 3333\n    DestinationPort|lt: 4000\n  condition: s",
    'category: network_connection',
  );
  const n3 = (ip: string, port: number) =>
    ev({ DestinationIp: ip, DestinationPort: port }, { event_id: '3' });
  assert.ok(fires(net, n3('203.0.113.7', 3333)));
  assert.ok(!fires(net, n3('198.51.100.7', 3333)));
  assert.ok(!fires(net, n3('203.0.113.7', 4000)));
  assert.ok(fires(engineFor("  s:\n    User|neq: 'SYSTEM'\n  condition: s"), ev({ User: 'bob' })));
  assert.ok(!fires(engineFor("  s:\n    User|neq: 'SYSTEM'\n  condition: s"), ev({ User: 'system' })));
  const fr = engineFor('  s:\n    ParentImage|fieldref: Image\n  condition: s');
  assert.ok(fires(fr, ev({ Image: 'C:\\a.exe', ParentImage: 'c:\\A.exe' })));
  assert.ok(!fires(fr, ev({ Image: 'C:\\a.exe', ParentImage: 'c:\\b.exe' })));
});

test('base64, base64offset and UTF-16 encodings', () => {
  const b = engineFor("  s:\n    CommandLine|base64: 'http'\n  condition: s");
  assert.ok(
    fires(b, ev({ CommandLine: `x ${Buffer.from('http').toString('base64')}` })) === false,
    'base64 is a full match',
  );
  assert.ok(fires(b, ev({ CommandLine: Buffer.from('http').toString('base64') })));
  const off = engineFor("  s:\n    CommandLine|wide|base64offset|contains: 'IEX ('\n  condition: s");
  for (const prefix of ['', 'a', 'ab']) {
    const encoded = Buffer.from(`${prefix}IEX (New-Object Net.WebClient)`, 'utf16le').toString('base64');
    assert.ok(fires(off, ev({ CommandLine: `powershell -enc ${encoded}` })), `offset ${prefix.length}`);
  }
  const be = engineFor("  s:\n    CommandLine|utf16be|base64offset|contains: 'ab'\n  condition: s");
  assert.ok(
    fires(be, ev({ CommandLine: Buffer.from(Buffer.from('\u0000a\u0000b', 'latin1')).toString('base64') })),
  );
});

test('expand uses placeholders; unresolved ones never match', () => {
  const text =
    "title: t\nid: r1\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  s:\n    User|expand: '%admins%'\n  condition: s\n";
  const { rules } = parseRuleText(text, 'r.yml');
  const withList = new SigmaEngine(rules, {
    logsources,
    placeholders: new Map([['admins', ['CORP\\adm1', 'CORP\\adm2']]]),
  });
  assert.ok(fires(withList, ev({ User: 'corp\\adm2' })));
  assert.ok(!fires(new SigmaEngine(rules, { logsources }), ev({ User: 'corp\\adm2' })));
});

test('conditions: not, parentheses, 1 of / all of patterns, them without _ identifiers, keywords', () => {
  const e = engineFor(
    "  sel_a:\n    Image|endswith: '\\a.exe'\n  sel_b:\n    CommandLine|contains: 'x'\n  _aux:\n    User: 'nobody'\n  filter:\n    ParentImage|endswith: '\\ok.exe'\n  condition: (all of sel_* or 1 of them) and not filter",
  );
  assert.ok(fires(e, ev({ Image: 'C:\\a.exe' })));
  assert.ok(!fires(e, ev({ User: 'nobody' })), '_aux is not part of them');
  assert.ok(!fires(e, ev({ Image: 'C:\\a.exe', ParentImage: 'C:\\ok.exe' })));
  const kw = engineFor(
    "  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords",
    'service: security',
  );
  assert.ok(fires(kw, ev({ Foo: 'run Mimikatz now' }, { channel: 'Security', event_id: '4688' })));
  assert.ok(!fires(kw, ev({ Foo: 'benign' }, { channel: 'Security', event_id: '4688' })));
});

test('log sources: process_creation runs on Security 4688 with mapped names; unmapped sources never run', () => {
  const e = engineFor(
    "  s:\n    Image|endswith: '\\xmrig.exe'\n    ParentImage|endswith: '\\cmd.exe'\n  condition: s",
  );
  const sec = ev(
    { NewProcessName: 'C:\\t\\xmrig.exe', ParentProcessName: 'C:\\Windows\\cmd.exe' },
    { channel: 'Security', event_id: '4688' },
  );
  assert.ok(fires(e, sec));
  assert.ok(!fires(e, { ...sec, winlog: { ...sec.winlog, event_id: '4689' } }), 'other event id');
  const { rules } = parseRuleText(
    "title: t\nid: r9\nlogsource:\n  product: windows\n  category: no_such_category\ndetection:\n  s:\n    Image: '*'\n  condition: s\n",
    'r.yml',
  );
  const u = new SigmaEngine(rules, { logsources });
  assert.equal(u.stats().unmapped, 1);
  assert.ok(!fires(u, ev({ Image: 'x' })));
});

test('invalid rules are errors with file:line, and the rest still load', () => {
  const text =
    'title: good\nid: g\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s: {Image: x}\n  condition: s\n---\ntitle: bad\nid: b\nlevel: severe\nlogsource: {product: windows}\ndetection: {s: {a: 1}, condition: s}\n---\ntitle: bad2\nid: b2\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    Image|nosuchmod: x\n  condition: s and missing\n';
  const { rules, issues } = parseRuleText(text, 'multi.yml');
  assert.deepEqual(
    issues.map((i) => [i.code, i.location]),
    [['SIGMA_BAD_LEVEL', 'multi.yml:10']],
  );
  const e = new SigmaEngine(rules, { logsources });
  assert.equal(e.issues.length, 1);
  assert.equal(e.issues[0]!.code, 'SIGMA_BAD_DETECTION');
  assert.match(e.issues[0]!.location, /^multi\.yml:\d+$/);
  assert.equal(e.stats().runnable, 1);
});

test('correlations: event_count, value_count, temporal, temporal_ordered and the old count() form', () => {
  const base = (id: string, img: string) =>
    `title: ${id}\nid: ${id}\nname: ${id}\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    Image|endswith: '${img}'\n  condition: s\n`;
  const corr = (id: string, body: string) => `title: ${id}\nid: ${id}\nlevel: high\ncorrelation:\n${body}\n`;
  const text = [
    base('a', 'a.exe'),
    base('b', 'b.exe'),
    corr(
      'ec',
      '  type: event_count\n  rules: [a]\n  group-by: [User]\n  timespan: 1m\n  condition: {gte: 3}',
    ),
    corr('vc', '  type: value_count\n  rules: [a]\n  timespan: 1h\n  condition: {field: User, gte: 2}'),
    corr('tp', '  type: temporal\n  rules: [b, a]\n  timespan: 10s'),
    corr('to', '  type: temporal_ordered\n  rules: [b, a]\n  timespan: 10s'),
  ].join('---\n');
  const { rules, issues } = parseRuleText(text, 'c.yml');
  assert.deepEqual(issues, []);
  const e = new SigmaEngine(rules, { logsources });
  assert.deepEqual(e.issues, []);
  const t = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
  const out = [
    ...e.observe(ev({ Image: 'x\\a.exe', User: 'u1' }, {}, t(0))),
    ...e.observe(ev({ Image: 'x\\a.exe', User: 'u1' }, {}, t(5))),
    ...e.observe(ev({ Image: 'x\\b.exe', User: 'u1' }, {}, t(7))),
    ...e.observe(ev({ Image: 'x\\a.exe', User: 'u1' }, {}, t(9))),
    ...e.observe(ev({ Image: 'x\\a.exe', User: 'u2' }, {}, t(30))),
  ];
  assert.deepEqual(out, [], 'correlated rules do not report on their own (generate: false)');
  const fin = e
    .finalize()
    .map((f) => f.rule.id)
    .sort();
  assert.deepEqual(fin, ['ec', 'to', 'tp', 'vc']);

  const old = parseRuleText(
    "title: old\nid: old\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    Image|endswith: 'a.exe'\n  timeframe: 1m\n  condition: s | count() by User > 1\n",
    'o.yml',
  );
  const oe = new SigmaEngine(old.rules, { logsources });
  oe.observe(ev({ Image: 'a.exe', User: 'u' }, {}, t(0)));
  oe.observe(ev({ Image: 'a.exe', User: 'u' }, {}, t(10)));
  oe.observe(ev({ Image: 'a.exe', User: 'v' }, {}, t(10)));
  const f = oe.finalize();
  assert.equal(f.length, 1);
  assert.deepEqual((f[0]!.evidence['correlation'] as { group: unknown }).group, { User: 'u' });
});

test('declared rules: what can fire, once per id; matching in a worker gives the same findings', () => {
  const base = (id: string, img: string) =>
    `title: ${id}\nid: ${id}\nname: ${id}\nlevel: medium\ntags: [attack.t1496]\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    Image|endswith: '${img}'\n  condition: s\n`;
  const text = [
    base('a', 'a.exe'),
    base('b', 'b.exe'),
    base('unmapped', 'x.exe').replace('process_creation', 'no_such_category'),
    'title: ec\nid: ec\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [User]\n  timespan: 1m\n  condition: {gte: 2}\n',
    "title: old\nid: old\nlevel: critical\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    Image|endswith: 'c.exe'\n  timeframe: 1m\n  condition: s | count() by User > 1\n",
  ].join('---\n');
  const { rules, issues } = parseRuleText(text, 'd.yml');
  assert.deepEqual(issues, []);
  const e = new SigmaEngine(rules, { logsources });
  assert.deepEqual(
    e.rules.map((r) => [r.id, r.severity.min, r.severity.max]),
    [
      ['b', 'medium', 'medium'],
      ['ec', 'high', 'high'],
      ['old', 'critical', 'critical'],
    ],
    'a (only feeds ec), the unmapped rule and the aggregation itself cannot fire on their own',
  );
  assert.deepEqual(e.rules[0]!.techniques, ['T1496']);
  assert.equal(e.stats().unmapped, 1);

  const t = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
  const events = [
    ev({ Image: 'x\\a.exe', User: 'u1' }, {}, t(0)),
    ev({ Image: 'x\\b.exe', User: 'u1' }, {}, t(1)),
    ev({ Image: 'x\\c.exe', User: 'u1' }, {}, t(2)),
    ev({ Image: 'x\\a.exe', User: 'u1' }, {}, t(3)),
    ev({ Image: 'x\\c.exe', User: 'u1' }, {}, t(4)),
  ];
  const key = (f: Finding) => `${f.rule.id} ${f.fingerprint}`;
  const inline = [...events.flatMap((x) => e.observe(x)), ...e.finalize()];
  const worker = new SigmaEngine(rules, { logsources });
  const correlations = new SigmaCorrelations(rules);
  const split = events.flatMap((x) => {
    const m = worker.observeSplit(x);
    for (const i of m.correlated) correlations.record(i, x);
    return m.findings;
  });
  split.push(...correlations.finalize());
  assert.deepEqual(inline.map((f) => f.rule.id).sort(), ['b', 'ec', 'old']);
  assert.deepEqual(split.map(key).sort(), inline.map(key).sort());
  assert.deepEqual(declarationProblems(inline, e.rules), []);
});

test('a rule without a triage note is triaged by its false positives, else its description', () => {
  const declared = (extra: string) => {
    const { rules } = parseRuleText(
      `title: t\nid: r1\nlevel: informational\ndescription: What it means.\n${extra}logsource: {product: windows, category: process_creation}\ndetection:\n  s: {Image: x}\n  condition: s\n`,
      'r.yml',
    );
    return sigmaRuleDeclaration(rules[0]!);
  };
  assert.equal(
    declared('falsepositives: [Admin scripts]\n').triage,
    'Rule out the known false positives: Admin scripts.',
  );
  assert.equal(declared('falsepositives: [Unknown]\n').triage, 'What it means.');
  assert.equal(declared('triage: Look at the parent.\n').triage, 'Look at the parent.');
  assert.deepEqual(declared('').severity, { min: 'low', max: 'low' }, 'informational reports as low');
});

test('re values on RE2 keep the i, m and s sub-modifiers and inline flags; backtracking patterns are refused', () => {
  const e = engineFor(
    "  a:\n    CommandLine|re|i: '^XMRIG'\n  b:\n    CommandLine|re|m: '^--donate$'\n  c:\n    CommandLine|re|s: 'a.b'\n  d:\n    CommandLine|re: '(?i)MINERD'\n  condition: 1 of them",
  );
  assert.ok(fires(e, ev({ CommandLine: 'xmrig -o x' })), 'i');
  assert.ok(fires(e, ev({ CommandLine: 'x\n--donate\ny' })), 'm');
  assert.ok(fires(e, ev({ CommandLine: 'a\nb' })), 's');
  assert.ok(fires(e, ev({ CommandLine: '/tmp/minerd' })), '(?i)');
  assert.ok(!fires(e, ev({ CommandLine: 'x --donate y' })));
  const text =
    "title: t\nid: r1\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    CommandLine|re: '(a)\\1'\n  condition: sel\n";
  const bad = new SigmaEngine(parseRuleText(text, 'r.yml').rules, { logsources });
  assert.deepEqual(
    bad.issues.map((i) => `${i.code} ${i.location}`),
    ['SIGMA_UNSUPPORTED_REGEX r.yml:7'],
  );
});
