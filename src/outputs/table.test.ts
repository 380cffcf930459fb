import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeFinding } from '../core/finding.ts';
import { Collected, HOSTILE, hostileFindings, rawControls } from './finding-fixtures.ts';
import { renderTable, subjectOf, tableSink } from './table.ts';

/** A table line starts with a border; anything else is text that escaped its cell. */
const BORDER = new Set(['┌', '├', '│', '└']);

test('hostile strings reach the table escaped: no raw control, no split row', () => {
  const out = renderTable(hostileFindings(), { color: false, width: 400 });
  assert.deepEqual(rawControls(out), []);
  for (const line of out.trimEnd().split('\n')) assert.ok(BORDER.has(line.charAt(0)), JSON.stringify(line));
  // Wide enough that no cell wraps, so the escapes can be read whole.
  assert.ok(out.includes('kworker\\x1b[2J'));
  assert.ok(out.includes('\\x1b[8msecret benign\\rFAKE'));
  assert.ok(out.includes('line1\\nline2.evil\\u202egpj.exe.example'));
  assert.ok(out.includes('pool\\x9b2J\\t.example:3333'));
  assert.ok(out.includes('→ kill it evil\\u202egpj.exe'));
});

test('narrow terminals wrap cells inside the table', () => {
  const out = renderTable(hostileFindings(), { color: false, width: 40 });
  assert.deepEqual(rawControls(out), []);
  for (const line of out.trimEnd().split('\n')) assert.ok(BORDER.has(line.charAt(0)), JSON.stringify(line));
});

test('colour adds only our own SGR sequences', () => {
  const out = renderTable(hostileFindings(), { color: true, width: 400 });
  const withoutSgr = out.replace(/\x1b\[[0-9;]*m/g, '');
  assert.deepEqual(rawControls(withoutSgr), []);
  assert.ok(!withoutSgr.includes('pwned\x07'));
});

test('colour forced on at 80 and 200 columns: every line fits, only SGR sequences, words kept whole', () => {
  for (const width of [80, 200]) {
    const out = renderTable(hostileFindings(), { color: true, width });
    const visible = out.replace(/\x1b\[[0-9;]*m/g, '');
    assert.deepEqual(rawControls(visible), [], `width ${width}`);
    for (const line of visible.trimEnd().split('\n')) {
      assert.ok([...line].length <= width, `${width}: ${line}`);
      assert.ok(BORDER.has(line.charAt(0)), JSON.stringify(line));
    }
    // The severity is painted whole (no fragment of an escape sequence around it).
    assert.match(out, /\x1b\[1m\x1b\[31mcritical\x1b\[39m\x1b\[22m/);
    // Short words are never cut: the rule name wraps between its words.
    assert.ok(!/Te\s*│\s*st rule/.test(visible));
    assert.ok(visible.includes('Test rule'));
  }
});

test('most severe first; no findings says so', () => {
  const out = renderTable([...hostileFindings()].reverse(), { width: 400 });
  const order = ['critical', 'high', 'medium'].map((s) => out.indexOf(`│ ${s}`));
  assert.ok(order.every((i) => i > 0));
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
  );
  assert.equal(renderTable([]), 'No findings.\n');
});

test('subjectOf names the process, the far end or the name, and the event', () => {
  const base = {
    rule: { id: 'r', name: 'R', ruleset: 'builtin' as const },
    severity: 'high' as const,
    techniques: [],
    host: 'h1',
    subject: [],
    message: 'm',
  };
  assert.equal(
    subjectOf(
      makeFinding({
        ...base,
        process: { pid: 7, name: 'xmrig' },
        destination: { ip: '192.0.2.1', port: 3333 },
      }),
    ),
    'pid 7 xmrig → 192.0.2.1:3333',
  );
  assert.equal(subjectOf(makeFinding({ ...base, process: { executable: '/tmp/x' } })), '/tmp/x');
  assert.equal(subjectOf(makeFinding({ ...base, tls: { server_name: 'pool.example' } })), 'tls pool.example');
  assert.equal(
    subjectOf(makeFinding({ ...base, event: { code: '4688' }, winlog: { record_id: 12 } })),
    'event 4688 #12',
  );
  assert.equal(subjectOf(makeFinding(base)), 'h1', 'the host when nothing else is known');
});

test('the table sink prints once, at the end', () => {
  const out = new Collected();
  const sink = tableSink({ out, width: 400 });
  assert.equal(sink.machine, false);
  const findings = hostileFindings();
  for (const f of findings) sink.write(f);
  assert.equal(out.text, '');
  sink.end({ findings, issues: [], stats: {} });
  assert.equal(out.text, renderTable(findings, { width: 400 }));
  assert.ok(out.text.includes(HOSTILE.dde));
});
