import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ParseIssue } from '../core/errors.ts';
import { Collected, HOSTILE, rawControls } from './finding-fixtures.ts';
import { formatProblem, MAX_SHOWN_PROBLEMS, ProblemPrinter, printProblems } from './problems.ts';

function issues(n: number): ParseIssue[] {
  return Array.from({ length: n }, (_, i) => ({
    code: 'EVTX_BAD_RECORD',
    message: `record ${i + 1} is damaged`,
    location: `Security.evtx:${4096 * (i + 1)}`,
  }));
}

function lines(text: string): string[] {
  return text.trimEnd().split('\n');
}

test('the wording hunt prints: deminer: warning: CODE: LOCATION: MESSAGE', () => {
  assert.equal(
    formatProblem({ code: 'JSON_NOT_A_DOCUMENT', message: 'not JSON', location: 'a.jsonl:5' }),
    'deminer: warning: JSON_NOT_A_DOCUMENT: a.jsonl:5: not JSON\n',
  );
  assert.equal(
    formatProblem({ code: 'X', message: 'm', location: '' }),
    'deminer: warning: X: m\n',
    'no empty location',
  );
});

test('locations and messages quote the input: escaped', () => {
  const line = formatProblem({
    code: 'DGA_BAD_NAME',
    message: `not a DNS name: ${HOSTILE.title}${HOSTILE.rtl}`,
    location: `logs/${HOSTILE.split}${HOSTILE.clear}.txt:3`,
  });
  assert.deepEqual(rawControls(line), []);
  assert.equal(line.split('\n').length, 2, 'one line');
  assert.ok(line.includes('logs/line1\\nline2\\x1b[2J.txt:3'));
});

test('at most 20 shown, then a count of the rest', () => {
  assert.equal(MAX_SHOWN_PROBLEMS, 20);
  const out = new Collected();
  printProblems(issues(25), out);
  const ls = lines(out.text);
  assert.equal(ls.length, 21);
  assert.equal(ls[0], 'deminer: warning: EVTX_BAD_RECORD: Security.evtx:4096: record 1 is damaged');
  assert.equal(ls[19], 'deminer: warning: EVTX_BAD_RECORD: Security.evtx:81920: record 20 is damaged');
  assert.equal(ls[20], 'deminer: … and 5 more problem(s)');
});

test('the count covers problems met but not kept', () => {
  const kept = new Collected();
  printProblems(issues(30), kept, 1500);
  assert.equal(lines(kept.text).at(-1), 'deminer: … and 1480 more problem(s)');
  const few = new Collected();
  printProblems(issues(3), few, 3);
  assert.equal(lines(few.text).length, 3, 'no tail line when all are shown');
  const none = new Collected();
  printProblems([], none);
  assert.equal(none.writes, 0);
});

test('one at a time: the same lines as printing them all at the end', () => {
  const live = new Collected();
  const printer = new ProblemPrinter(live);
  const all = issues(23);
  for (const [i, issue] of all.entries()) {
    printer.add(issue);
    assert.equal(lines(live.text).length, Math.min(i + 1, MAX_SHOWN_PROBLEMS), 'printed when it comes');
  }
  printer.end();
  assert.equal(printer.count, 23);
  const batch = new Collected();
  printProblems(all, batch);
  assert.equal(live.text, batch.text);
});
