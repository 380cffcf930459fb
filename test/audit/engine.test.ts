import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { applySiteConfig, loadChecks } from '../../src/audit/checks.ts';
import { decodeText } from '../../src/audit/decode.ts';
import { auditHost, CheckEngine } from '../../src/audit/engine.ts';
import { resultLine } from '../../src/audit/render.ts';
import { findingOf, scoreOf } from '../../src/audit/report.ts';
import { type Check, METHODS } from '../../src/audit/types.ts';
import { readWindowsExport } from '../../src/audit/windows/detect.ts';
import { WindowsFacts } from '../../src/audit/windows/facts.ts';
import { FindingSchema } from '../../src/core/finding.ts';
import { secEditInf, tempDir, write } from './fixtures.ts';

const checks = loadChecks();
const byId = (id: string): Check => checks.find((c) => c.id === id)!;

test('the shipped checks load: unique ids, every one with why, ATT&CK, read, expected, fix; both platforms', () => {
  assert.ok(checks.length >= 30, `${checks.length} checks`);
  assert.equal(new Set(checks.map((c) => c.id)).size, checks.length);
  for (const c of checks) {
    assert.ok(c.why.length > 20 && c.fix.length > 10, c.id);
    assert.ok(c.id.startsWith(`${c.platform === 'windows' ? 'win' : 'linux'}.`), c.id);
  }
  for (const need of [
    'win.rights.load_driver',
    'win.rights.debug',
    'win.exchange.proxylogon',
    'win.audit.process_creation',
    'win.audit.process_command_line',
    'win.audit.security_system_extension',
    'win.audit.detailed_file_share',
    'win.firmware.secure_boot',
    'win.appcontrol.enforced',
    'linux.caps.sys_module',
    'linux.caps.sys_ptrace',
    'linux.mount.tmp_noexec',
    'linux.auditd.execve',
  ])
    assert.ok(byId(need), need);
  // Every method a check names is one a reader provides.
  for (const c of checks)
    for (const r of c.read) assert.ok((METHODS as readonly string[]).includes(r.method));
});

test('a checks file with a bad record is refused with file and line', () => {
  const dir = tempDir('checks');
  const f = write(
    dir,
    'checks.yaml',
    'checks:\n  - id: x.y\n    title: t\n    platform: windows\n    area: audit\n    why: w\n    attack: [T1496]\n    read: [{ method: nosuch, arg: a }]\n    operator: eq\n    expected: 1\n    severity: low\n    fix: f\n',
  );
  assert.throws(
    () => loadChecks(f),
    (e: Error) => /checks\.yaml:\d+/.test(e.message) && /method/.test(e.message),
  );
  const g = write(
    dir,
    'list.yaml',
    'checks:\n  - id: x.y\n    title: t\n    platform: windows\n    area: audit\n    why: w\n    attack: [T1496]\n    read: [{ method: privilege, arg: a }]\n    operator: subset_of\n    expected: nobody\n    severity: low\n    fix: f\n',
  );
  assert.throws(() => loadChecks(g), /needs a list/);
});

function facts(inf: Parameters<typeof secEditInf>[0]): WindowsFacts {
  const f = new WindowsFacts();
  readWindowsExport(decodeText(secEditInf(inf)), 'secpol.inf', f);
  return f;
}

test('SeDebugPrivilege: nobody by default (the brief); a site override accepts Administrators; others still fail', () => {
  const engine = new CheckEngine();
  const admins = facts({ privileges: { SeDebugPrivilege: '*S-1-5-32-544' } });
  assert.equal(engine.evaluate(byId('win.rights.debug'), admins, 'h').status, 'fail');
  const site = applySiteConfig(checks, { expected: { 'win.rights.debug': ['S-1-5-32-544'] } });
  const debug = site.find((c) => c.id === 'win.rights.debug')!;
  assert.equal(engine.evaluate(debug, admins, 'h').status, 'pass');
  // Names work as well as SIDs in a site's list.
  const byName = applySiteConfig(checks, { expected: { 'win.rights.debug': ['BUILTIN\\Administrators'] } });
  assert.equal(engine.evaluate(byName.find((c) => c.id === 'win.rights.debug')!, admins, 'h').status, 'pass');
  const more = facts({ privileges: { SeDebugPrivilege: '*S-1-5-32-544,*S-1-5-21-5-5-5-1200' } });
  const r = engine.evaluate(debug, more, 'h');
  assert.equal(r.status, 'fail');
  assert.match(r.note!, /S-1-5-21-5-5-5-1200/);
});

test('site config: unknown check ids and wrongly shaped values are errors; skip removes a check', () => {
  assert.throws(() => applySiteConfig(checks, { expected: { 'no.such': 1 } }), /no check has the id/);
  assert.throws(() => applySiteConfig(checks, { expected: { 'win.firmware.age': 'old' } }), /needs a number/);
  const fewer = applySiteConfig(checks, { skip: ['linux.sysctl.modules_disabled'] });
  assert.equal(fewer.length, checks.length - 1);
});

test('absent values: unknown by default, pass where the check says so, n/a for Exchange', () => {
  const engine = new CheckEngine();
  const empty = new WindowsFacts();
  assert.equal(engine.evaluate(byId('win.rights.load_driver'), empty, 'h').status, 'unknown');
  assert.equal(engine.evaluate(byId('win.installer.always_elevated'), empty, 'h').status, 'pass');
  assert.equal(engine.evaluate(byId('win.exchange.proxylogon'), empty, 'h').status, 'not_applicable');
});

test('operators: eq, ne, gte, in, subset_of, contains, flags_include, max_age_days', () => {
  const e = new CheckEngine(new Date('2026-11-30T00:00:00Z'));
  const c = (operator: Check['operator'], expected: Check['expected']): Check => ({
    ...byId('win.uac.enabled'),
    operator,
    expected,
  });
  assert.equal(e.compare(c('eq', '1'), 1).status, 'pass');
  assert.equal(e.compare(c('eq', true), false).status, 'fail');
  assert.equal(e.compare(c('ne', '1'), '0').status, 'pass');
  assert.equal(e.compare(c('gte', 1), 2).status, 'pass');
  assert.equal(e.compare(c('gte', 1), 0).status, 'fail');
  assert.equal(e.compare(c('gte', 1), 'abc').status, 'unknown');
  assert.equal(e.compare(c('in', ['enforced']), 'audit').status, 'fail');
  assert.equal(e.compare(c('subset_of', ['a']), ['A']).status, 'pass');
  assert.equal(e.compare(c('contains', 'noexec'), ['rw', 'noexec']).status, 'pass');
  assert.equal(e.compare(c('flags_include', 'success'), 'failure').status, 'fail');
  assert.equal(e.compare(c('flags_include', 'success'), 'success_and_failure').status, 'pass');
  assert.equal(e.compare(c('max_age_days', 60), '2026-11-01').status, 'pass');
  assert.equal(e.compare(c('max_age_days', 60), '2026-01-01').status, 'fail');
  assert.equal(e.compare(c('max_age_days', 60), 'yesterday').status, 'unknown');
});

test('score, jsonl line shape and findings of the usual shape for failures', () => {
  const engine = new CheckEngine();
  const f = facts({
    privileges: {
      SeDebugPrivilege: '*S-1-5-32-544',
      SeLoadDriverPrivilege: '*S-1-5-32-544',
      SeTcbPrivilege: '',
    },
  });
  const results = auditHost(engine, checks, f, 'ws01', 'windows');
  assert.ok(results.every((r) => r.check.id.startsWith('win.')));
  const s = scoreOf(results);
  assert.equal(s.counts.fail, 1);
  assert.ok(s.score !== null && s.score > 0 && s.score < 100);
  const line = JSON.parse(resultLine(results[0]!));
  assert.deepEqual(Object.keys(line), ['check', 'status', 'observed', 'expected', 'fix', 'host', 'source']);
  assert.deepEqual(Object.keys(line.check), ['id', 'title']);
  const failed = results.filter((r) => r.status === 'fail');
  for (const r of failed) {
    const finding = findingOf(r);
    assert.equal(FindingSchema.safeParse(finding).success, true);
    assert.equal(finding.rule.id, `deminer.posture.${r.check.id}`);
    assert.equal(finding.host.name, 'ws01');
    assert.ok(finding.threat.technique.length > 0);
    // Same host and check, same fingerprint (repeated audits de-duplicate).
    assert.equal(findingOf(r).fingerprint, finding.fingerprint);
  }
  assert.equal(scoreOf([]).score, null);
});

test('docs/audit.md lists every shipped check', () => {
  const doc = readFileSync(new URL('../../docs/audit.md', import.meta.url), 'utf8');
  for (const c of checks) assert.ok(doc.includes(`| \`${c.id}\` |`), `${c.id} missing from docs/audit.md`);
  assert.ok(doc.includes(`${checks.length} today`), 'the count of checks in docs/audit.md');
});
