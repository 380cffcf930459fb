import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Finding, makeFinding } from '../core/finding.ts';
import { Collected, HOSTILE, hostileFindings, rawControls } from './finding-fixtures.ts';
import { evidenceFile, renderTimeline, timelineDetails, timelineSink, wrapLine } from './timeline.ts';

/** A table line starts with a border; anything else is text that escaped its cell. */
const BORDER = new Set(['┌', '├', '│', '└']);
const SGR = /\x1b\[[0-9;]*m/g;

const RULE = { id: 'deminer.test.timeline', name: 'Timeline rule', ruleset: 'builtin' } as const;

function at(
  timestamp: string,
  severity: Finding['severity'],
  host: string,
  extra: Partial<Finding> = {},
): Finding {
  return {
    ...makeFinding({
      rule: RULE,
      severity,
      techniques: ['T1496'],
      host,
      subject: [host, timestamp],
      timestamp,
      message: 'm',
    }),
    ...extra,
  };
}

/** The first cell of every data row (the first line of each row), in order. */
function firstColumn(out: string): string[] {
  const lines = out.split('\n');
  const cells: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const prev = lines[i - 1] ?? '';
    if (lines[i]!.startsWith('│') && (prev.startsWith('├') || prev.startsWith('┌')))
      cells.push(lines[i]!.split('│')[1]!.trim());
  }
  return cells;
}

function visible(line: string): number {
  return Array.from(line.replace(SGR, '')).length;
}

test('oldest first whatever the input order; ties in the usual finding order', () => {
  const findings = [
    at('2026-01-02T00:00:00.000Z', 'low', 'h3'),
    at('2026-01-01T00:00:00.500Z', 'medium', 'h2'),
    // Same instant as the next one, without milliseconds: ordered as a time, not as text.
    at('2026-01-01T00:00:00Z', 'low', 'h1b'),
    at('2026-01-01T00:00:00.000Z', 'critical', 'h1a'),
    at('2025-12-31T23:59:59.999Z', 'high', 'h0'),
  ];
  const out = renderTimeline(findings, { width: 200 });
  const times = firstColumn(out);
  assert.equal(times[0], 'Timestamp', 'the timestamp is the first column');
  assert.deepEqual(times.slice(1), [
    '2025-12-31T23:59:59.999Z',
    '2026-01-01T00:00:00.000Z',
    '2026-01-01T00:00:00Z',
    '2026-01-01T00:00:00.500Z',
    '2026-01-02T00:00:00.000Z',
  ]);
  const hosts = ['h0', 'h1a', 'h1b', 'h2', 'h3'].map((h) => out.indexOf(` ${h} `));
  assert.ok(hosts.every((i) => i > 0));
  assert.deepEqual(
    [...hosts].sort((a, b) => a - b),
    hosts,
    'critical before low at the same instant',
  );
  assert.equal(findings[0]!.host.name, 'h3', 'the input is not reordered');
});

test('narrow terminals put the date above the time, still first', () => {
  const out = renderTimeline([at('2026-03-04T05:06:07.890Z', 'high', 'h')], { width: 80 });
  const row = out.split('\n').find((l) => l.includes('2026-03-04'))!;
  assert.match(row, /^│ 2026-03-04 +│ high/);
  assert.ok(out.includes('│ 05:06:07.890Z │'));
});

test('hostile strings never reach the terminal raw, at any width', () => {
  for (const width of [40, 80, 120, 200, 400]) {
    const out = renderTimeline(hostileFindings(), { color: false, width });
    assert.deepEqual(rawControls(out), [], `width ${width}`);
    for (const line of out.trimEnd().split('\n'))
      assert.ok(BORDER.has(line.charAt(0)), `width ${width}: ${JSON.stringify(line)}`);
  }
  const wide = renderTimeline(hostileFindings(), { width: 400 });
  assert.ok(wide.includes('host\\x1b]0;pwned\\x07'));
  assert.ok(wide.includes('kworker\\x1b[2J pid 4242: xmrig \\x1b[8m--donate-level 0'));
  assert.ok(wide.includes('pool\\x9b2J\\t.example:3333'));
  assert.ok(wide.includes('dns line1\\nline2.evil\\u202egpj.exe.example'));
});

test('colour forced on adds only SGR sequences; every line is a table line that fits', () => {
  for (const width of [80, 200]) {
    const out = renderTimeline(hostileFindings(), { color: true, width });
    assert.match(out, SGR, 'colour is on');
    const plain = out.replace(SGR, '');
    assert.deepEqual(rawControls(plain), [], `width ${width}`);
    assert.ok(!plain.includes('pwned\x07'));
    for (const line of plain.trimEnd().split('\n')) {
      assert.ok(BORDER.has(line.charAt(0)), `width ${width}: ${JSON.stringify(line)}`);
      assert.ok(visible(line) <= width, `width ${width}: ${visible(line)} columns: ${line}`);
    }
    // Only the severity is painted: the rest of a row carries no colour but the grey borders.
    assert.ok(out.includes('\x1b[1m\x1b[31mcritical\x1b[39m\x1b[22m'));
  }
});

test('the table fits the width (at least 80) with long, unbreakable and spaced text alike', () => {
  const long = at('2026-01-01T00:00:00.000Z', 'critical', 'a-very-long-host-name.corp.example.internal', {
    process: {
      pid: 31337,
      name: 'xmrig',
      command_line: `/tmp/.x/${'a'.repeat(120)} -o pool.example:3333 ${'word '.repeat(20)}`,
    },
    source: { ip: '2001:db8::1', port: 51515 },
    destination: { domain: `${'sub.'.repeat(20)}example`, port: 443 },
    event: { code: '4688' },
    winlog: { channel: 'Microsoft-Windows-Sysmon/Operational', record_id: 123456789 },
    evidence: { source: { path: `C:\\${'Folder\\'.repeat(12)}Security.evtx`, offset: 4096 } },
  });
  const findings = [long, ...hostileFindings()];
  for (const width of [80, 99, 139, 140, 333]) {
    const out = renderTimeline(findings, { width, color: width % 2 === 0 });
    for (const line of out.trimEnd().split('\n'))
      assert.ok(visible(line) <= width, `width ${width}: ${visible(line)} columns: ${line}`);
  }
  for (const line of renderTimeline(findings, { width: 20 }).trimEnd().split('\n'))
    assert.ok(visible(line) <= 80, 'below 80 columns the table is 80 wide');
  // Wide terminals give the file a column of its own; narrow ones put it under the details.
  assert.match(renderTimeline(findings, { width: 200 }).split('\n')[1]!, /│ File +│$/);
  assert.doesNotMatch(renderTimeline(findings, { width: 100 }).split('\n')[1]!, /File/);
  assert.ok(renderTimeline(findings, { width: 100 }).includes('│ file C:\\Folder'));
});

test('details: the record of an event-log finding, the flow of a network one, the process of a host one', () => {
  const base = {
    rule: RULE,
    severity: 'high' as const,
    techniques: [],
    host: 'h',
    subject: [],
    message: 'm',
  };
  assert.deepEqual(
    timelineDetails(
      makeFinding({
        ...base,
        event: { code: '7045' },
        winlog: { channel: 'System', record_id: 777 },
        process: { executable: 'C:\\ProgramData\\wdu\\svchost.exe' },
      }),
    ),
    ['event 7045 · System · record 777', 'C:\\ProgramData\\wdu\\svchost.exe'],
  );
  assert.deepEqual(
    timelineDetails(
      makeFinding({
        ...base,
        source: { ip: '192.0.2.10', port: 50000 },
        destination: { ip: '198.51.100.7', port: 3333 },
        tls: { server_name: 'pool.example' },
      }),
    ),
    ['192.0.2.10:50000 → 198.51.100.7:3333', 'tls pool.example'],
  );
  assert.deepEqual(
    timelineDetails(
      makeFinding({
        ...base,
        destination: { domain: 'pool.example' },
        dns: { question: { name: 'pool.example' } },
      }),
    ),
    ['? → pool.example'],
    'the DNS name is not repeated when it is the destination',
  );
  assert.deepEqual(
    timelineDetails(
      makeFinding({
        ...base,
        process: { pid: 7, name: 'kswapd0', command_line: './kswapd0 -c config.json' },
      }),
    ),
    ['kswapd0 pid 7: ./kswapd0 -c config.json'],
  );
  assert.deepEqual(timelineDetails(makeFinding(base)), []);
});

test('the file the evidence names, with its line or offset', () => {
  const base = {
    rule: RULE,
    severity: 'high' as const,
    techniques: [],
    host: 'h',
    subject: [],
    message: 'm',
  };
  const file = (evidence: Record<string, unknown>) => evidenceFile(makeFinding({ ...base, evidence }));
  assert.equal(file({ source: { path: 'logs/Security.evtx', offset: 4608 } }), 'logs/Security.evtx:4608');
  assert.equal(file({ source: { path: 'export.jsonl', line: 3 } }), 'export.jsonl:3');
  assert.equal(file({ file: 'capture.pcapng', frames: [5] }), 'capture.pcapng');
  assert.equal(file({ file: '/etc/cron.d/x', line: 2 }), '/etc/cron.d/x:2');
  assert.equal(file({ path: '/tmp/.x/miner' }), '/tmp/.x/miner');
  assert.equal(file({ config: '/root/.xmrig.json' }), '/root/.xmrig.json');
  assert.equal(file({ source: 'deminer-pools', indicator: 'pool.example' }), undefined);
  assert.equal(file({ file: 42 }), undefined);
  assert.equal(file({}), undefined);
});

test('long lines break at spaces, else after separators, else anywhere', () => {
  assert.deepEqual(wrapLine('short', 10), ['short']);
  assert.deepEqual(wrapLine('one two three four', 9), ['one two', 'three', 'four']);
  assert.deepEqual(wrapLine('C:\\Users\\jdoe\\AppData', 10), ['C:\\Users\\', 'jdoe\\', 'AppData']);
  assert.deepEqual(wrapLine('abcdefghijklmnop', 6), ['abcdef', 'ghijkl', 'mnop']);
  for (const piece of wrapLine(`${'x'.repeat(50)} ${'y/'.repeat(40)}`, 13)) assert.ok(piece.length <= 13);
});

test('the timeline sink is for people and prints once, at the end', () => {
  const out = new Collected();
  const sink = timelineSink({ out, width: 400 });
  assert.equal(sink.format, 'timeline');
  assert.equal(sink.machine, false);
  const findings = [...hostileFindings()].reverse();
  for (const f of findings) sink.write(f);
  assert.equal(out.text, '');
  sink.end({ findings, issues: [], stats: {} });
  assert.equal(out.writes, 1);
  assert.equal(out.text, renderTimeline(findings, { width: 400 }));
  assert.ok(out.text.includes(HOSTILE.dde));
  assert.equal(renderTimeline([]), 'No findings.\n');
});
