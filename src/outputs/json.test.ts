import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ParseIssue } from '../core/errors.ts';
import { Collected, HOSTILE, hostileFindings } from './finding-fixtures.ts';
import { jsonSink } from './json.ts';
import { jsonlSink, renderJsonl } from './jsonl.ts';

const ISSUES: ParseIssue[] = [{ code: 'JSON_NOT_A_DOCUMENT', message: 'bad line', location: 'a.jsonl:5' }];

test('json: one envelope {findings, issues, stats}, extra fields first, values exact', () => {
  const out = new Collected();
  const sink = jsonSink({ out });
  assert.equal(sink.machine, true);
  const findings = hostileFindings();
  for (const f of findings) sink.write(f);
  assert.equal(out.text, '', 'nothing before the end');
  sink.end({ findings, issues: ISSUES, stats: { files: 1 }, extra: { host: { name: 'h1' } } });
  const doc = JSON.parse(out.text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc), ['host', 'findings', 'issues', 'stats']);
  assert.deepEqual(doc['host'], { name: 'h1' });
  assert.deepEqual(doc['findings'], JSON.parse(JSON.stringify(findings)), 'attacker strings survive exactly');
  assert.deepEqual(doc['issues'], ISSUES);
  assert.deepEqual(doc['stats'], { files: 1 });
  assert.ok(!/[\x00-\x09\x0b-\x1f]/.test(out.text), 'JSON escapes C0 controls itself');
  assert.ok(out.text.endsWith('}\n'));
});

test('json: extra fields cannot replace findings, issues or stats', () => {
  const out = new Collected();
  jsonSink({ out }).end({
    findings: [],
    issues: [],
    stats: {},
    extra: { findings: 'x', issues: 'y', stats: 'z', command: 'hunt' },
  });
  assert.deepEqual(JSON.parse(out.text), { findings: [], issues: [], stats: {}, command: 'hunt' });
});

test('jsonl: each finding when written, then only those not yet printed', () => {
  const out = new Collected();
  const sink = jsonlSink({ out });
  assert.equal(sink.machine, true);
  const [a, b, c] = hostileFindings();
  sink.write(a!);
  assert.equal(out.text, `${JSON.stringify(a)}\n`, 'printed at once, for live use');
  sink.write(b!);
  sink.end({ findings: [a!, b!, c!], issues: ISSUES, stats: {} });
  const ids = out.text
    .trimEnd()
    .split('\n')
    .map((l) => (JSON.parse(l) as { id: string }).id);
  assert.deepEqual(ids, [a!.id, b!.id, c!.id]);
});

test('jsonl: a one-shot run hands everything to end', () => {
  const out = new Collected();
  const findings = hostileFindings();
  jsonlSink({ out }).end({ findings, issues: [], stats: {} });
  assert.equal(out.text, renderJsonl(findings));
  assert.equal(out.writes, 1, 'batched, not one write per finding');
  const back = out.text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { message: string });
  assert.equal(back[0]!.message, `${HOSTILE.hide}secret ${HOSTILE.overwrite}`);
  assert.equal(out.text.split('\n').length, findings.length + 1, 'a newline in a value never splits a line');
});
