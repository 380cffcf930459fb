import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DeminerError } from '../core/errors.ts';
import { makeFinding } from '../core/finding.ts';
import { packagePath } from '../core/paths.ts';
import type { DetectorInfo, RuleDeclaration } from '../core/stages.ts';
import {
  builtinDetectors,
  catalogMarkdown,
  declarationProblem,
  declarationProblems,
  ruleCatalog,
} from './catalog.ts';

const rule = (id: string, extra: Partial<RuleDeclaration> = {}): RuleDeclaration => ({
  id,
  name: `Rule ${id}`,
  ruleset: 'builtin',
  severity: { min: 'medium', max: 'high' },
  techniques: ['T1496'],
  triage: 'look at it',
  ...extra,
});
const detector = (id: string, rules: RuleDeclaration[]): DetectorInfo => ({
  id,
  description: `detector ${id}`,
  rules,
});

test('the catalog is sorted, builtin before sigma, and merges identical declarations', () => {
  const shared = rule('deminer.b');
  const entries = ruleCatalog([
    detector('one', [rule('deminer.c'), shared, rule('0a-uuid', { ruleset: 'sigma' })]),
    detector('two', [{ ...shared, techniques: ['T1496', 'T1496'] }, rule('deminer.a')]),
  ]);
  assert.deepEqual(
    entries.map((e) => [e.id, e.detectors]),
    [
      ['deminer.a', ['two']],
      ['deminer.b', ['one', 'two']],
      ['deminer.c', ['one']],
      ['0a-uuid', ['one']],
    ],
  );
});

test('the catalog refuses one id declared two ways, and declarations that are wrong on their own', () => {
  const conflict = (e: unknown): boolean =>
    e instanceof DeminerError && e.code === 'RULE_CONFLICT' && /deminer\.x.*one.*two/.test(e.message);
  assert.throws(
    () =>
      ruleCatalog([
        detector('one', [rule('deminer.x')]),
        detector('two', [rule('deminer.x', { severity: { min: 'low', max: 'high' } })]),
      ]),
    conflict,
  );
  assert.throws(
    () =>
      ruleCatalog([
        detector('one', [rule('deminer.x')]),
        detector('two', [rule('deminer.x', { name: 'Other' })]),
      ]),
    conflict,
  );
  const invalid = (r: RuleDeclaration) => () => ruleCatalog([detector('one', [r])]);
  const isInvalid = (e: unknown): boolean => e instanceof DeminerError && e.code === 'RULE_INVALID';
  assert.throws(invalid(rule('deminer.x', { severity: { min: 'high', max: 'low' } })), isInvalid);
  assert.throws(invalid(rule('deminer.x', { techniques: ['attack.t1496'] })), isInvalid);
  assert.throws(invalid(rule('deminer.x', { triage: ' ' })), isInvalid);
});

test('declarationProblems: undeclared ids, other names and severities outside the range fail', () => {
  const declared = [rule('deminer.x')];
  const finding = (id: string, severity: 'low' | 'medium' | 'high' | 'critical', name = `Rule ${id}`) =>
    makeFinding({
      rule: { id, name, ruleset: 'builtin' },
      severity,
      techniques: ['T1496'],
      host: 'h',
      subject: [],
      message: 'm',
    });
  assert.deepEqual(
    declarationProblems([finding('deminer.x', 'medium'), finding('deminer.x', 'high')], declared),
    [],
  );
  assert.deepEqual(declarationProblems([finding('deminer.y', 'high')], declared), [
    'deminer.y: emitted but not declared',
  ]);
  assert.deepEqual(declarationProblems([finding('deminer.x', 'critical')], declared), [
    'deminer.x: severity critical outside the declared medium..high',
  ]);
  assert.deepEqual(declarationProblems([finding('deminer.x', 'low')], declared), [
    'deminer.x: severity low outside the declared medium..high',
  ]);
  assert.equal(declarationProblems([finding('deminer.x', 'high', 'Renamed')], declared).length, 1);
});

test('the built-in detectors form one catalog of valid, unique rules', () => {
  const detectors = builtinDetectors();
  const entries = ruleCatalog(detectors);
  for (const e of entries) assert.equal(declarationProblem(e), undefined, e.id);
  const ids = new Set(entries.map((e) => e.id));
  for (const id of [
    'deminer.process.miner',
    'deminer.persistence.cron',
    'deminer.intel.pool_dns',
    'deminer.intel.pool_connection',
  ])
    assert.ok(ids.has(id), id);
  const sigma = detectors.find((d) => d.id === 'sigma');
  assert.ok(sigma && sigma.rules.length >= 10, 'the built-in Sigma rules are declared');
  assert.ok(entries.filter((e) => e.ruleset === 'sigma').length === sigma.rules.length);
});

test('docs/rules.md is the catalog of the built-in detectors', () => {
  const file = packagePath('docs', 'rules.md');
  assert.equal(
    readFileSync(file, 'utf8'),
    catalogMarkdown(builtinDetectors()),
    'docs/rules.md is out of date: run `node --import tsx scripts/rules-doc.ts`',
  );
});
