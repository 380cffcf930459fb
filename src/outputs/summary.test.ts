import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeFinding } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';
import { HOSTILE, rawControls } from './finding-fixtures.ts';
import { renderSummary, type SummaryStats, summarizeByRule } from './summary.ts';

function finding(ruleId: string, name: string, severity: Severity, host: string) {
  return makeFinding({
    rule: { id: ruleId, name, ruleset: 'sigma' },
    severity,
    techniques: [],
    host,
    subject: [host],
    message: 'm',
  });
}

const STATS: SummaryStats = {
  files: 2,
  filesByKind: { evtx: 1, zeek: 1 },
  unrecognized: 0,
  events: 5000,
  outOfRange: 0,
  issues: 0,
  ms: 2000,
};

test('per rule: worst severity, count and distinct hosts; most severe, then most frequent first', () => {
  const rules = summarizeByRule([
    finding('b', 'Pool DNS', 'medium', 'h1'),
    finding('b', 'Pool DNS', 'high', 'h2'),
    finding('b', 'Pool DNS', 'medium', 'h1'),
    finding('a', 'Miner', 'critical', 'h1'),
    finding('c', 'Odd port', 'high', 'h3'),
  ]);
  assert.deepEqual(rules, [
    { id: 'a', name: 'Miner', severity: 'critical', count: 1, hosts: 1 },
    { id: 'b', name: 'Pool DNS', severity: 'high', count: 3, hosts: 2 },
    { id: 'c', name: 'Odd port', severity: 'high', count: 1, hosts: 1 },
  ]);
});

test('the lines hunt prints', () => {
  const rules = summarizeByRule([
    finding('b', 'Pool DNS', 'high', 'h1'),
    finding('b', 'Pool DNS', 'high', 'h2'),
  ]);
  assert.equal(
    renderSummary(rules, { ...STATS, outOfRange: 7, unrecognized: 1, issues: 3 }, 2),
    'Findings by rule:\n' +
      '  2  high     Pool DNS (2 hosts)\n' +
      'Hunted 2 file(s) (1 evtx, 1 zeek), 5000 events in 2.0 s (2500/s): 2 finding(s), ' +
      '7 events left out by --from/--to or event ids, 1 file(s) of no known kind skipped, 3 input problem(s).\n',
  );
  assert.equal(
    renderSummary([], { ...STATS, files: 0, filesByKind: {}, events: 0, ms: 0 }, 0),
    'Hunted 0 file(s), 0 events in 0.0 s (0/s): 0 finding(s).\n',
  );
});

test('rule names (a --rules folder is input too) are escaped', () => {
  const rules = summarizeByRule([finding('x', `Evil ${HOSTILE.title}${HOSTILE.split}`, 'low', 'h')]);
  const out = renderSummary(rules, STATS, 1);
  assert.deepEqual(rawControls(out), []);
  assert.equal(
    out.split('\n').length,
    4,
    'two lines of findings by rule, the hunted line, the final newline',
  );
});
