import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../core/errors.ts';
import { makeFinding } from '../core/finding.ts';
import { SEVERITIES, type Severity } from '../core/severity.ts';
import { rawControls } from './finding-fixtures.ts';
import { filterMinLevel, parseMinLevel } from './min-level.ts';

test('the four levels parse to themselves', () => {
  for (const s of SEVERITIES) assert.equal(parseMinLevel(s), s);
});

test('anything else is a usage error naming the option and the value', () => {
  for (const bad of ['urgent', 'HIGH', '', ' high', '__proto__', 'constructor', 'informational']) {
    assert.throws(
      () => parseMinLevel(bad),
      (e: unknown) =>
        e instanceof UsageError &&
        e.code === 'BAD_OPTION' &&
        e.message.includes('--min-level') &&
        e.message.includes(`"${bad}"`) &&
        e.message.includes('low, medium, high, critical'),
      bad,
    );
  }
  assert.throws(() => parseMinLevel('x', 'scan.min_level'), /^UsageError: scan\.min_level must be/);
});

test('a hostile value is escaped in the message', () => {
  assert.throws(
    () => parseMinLevel('\x1b]0;pwned\x07'),
    (e: unknown) => e instanceof UsageError && rawControls(e.message).length === 0,
  );
});

test('the filter keeps findings at or above the level, in order', () => {
  const of = (severity: Severity, id: string) =>
    makeFinding({
      rule: { id, name: id, ruleset: 'builtin' },
      severity,
      techniques: [],
      host: 'h',
      subject: [],
      message: id,
    });
  const findings = [of('high', 'a'), of('low', 'b'), of('critical', 'c'), of('medium', 'd')];
  assert.deepEqual(
    filterMinLevel(findings, 'high').map((f) => f.rule.id),
    ['a', 'c'],
  );
  assert.equal(filterMinLevel(findings, 'low').length, 4);
  assert.equal(filterMinLevel(findings, 'critical').length, 1);
});
