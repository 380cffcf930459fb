/**
 * `deminer hunt` over Linux logs: audit.log, Sysmon for Linux in syslog and
 * journald's JSON export, found by content in a walked folder and hunted with
 * the built-in Linux rules (rules/linux). Runs the real `deminer` command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/deminer.js');
const linux = 'test/fixtures/linux';

function deminer(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Found {
  rule: { name: string };
  severity: string;
  host: { name: string };
  process?: { executable?: string; command_line?: string; pid?: number };
  winlog?: { channel?: string; record_id?: number | string };
  evidence: { sigma?: { file?: string }; source?: { path?: string; line?: number } };
}
const jsonl = (s: string): Found[] =>
  s
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Found);

/** The findings of the Linux rules, as `file:line rule (host)`: other detectors (intel, wallets) are theirs to test. */
function linuxRuleFindings(fs: readonly Found[]): string[] {
  return fs
    .filter((f) => f.evidence.sigma?.file?.startsWith('rules/linux/'))
    .map(
      (f) =>
        `${basename(f.evidence.source?.path ?? '?')}:${f.evidence.source?.line} ${f.rule.name} (${f.host.name})`,
    )
    .sort();
}

const EXPECTED = [
  'audit.log:16 Cron File Written by a Process Other Than Cron Tools (auditd) (unknown)',
  'audit.log:21 Immutable Attribute Set on Cron, SSH or System Binaries (unknown)',
  'audit.log:27 MSR Module Loaded or Made Writable for RandomX (unknown)',
  'audit.log:33 Linux Miner Started With Its Pool Options (unknown)',
  'audit.log:8 Download Piped Into a Shell on Linux (unknown)',
  'journal.json:3 Linux Miner Started With Its Pool Options (db-03)',
  'journal.json:5 Immutable Attribute Set on Cron, SSH or System Binaries (db-03)',
  'syslog:2 Download Piped Into a Shell on Linux (web-02)',
  'syslog:3 Cron File Created by a Process Other Than Cron Tools (web-02)',
  'syslog:4 Linux Miner Started With Its Pool Options (web-02)',
];

test('hunt over a folder of Linux logs: each format found by content, the campaign found, the real logs quiet', () => {
  const r = deminer(['hunt', `${linux}/campaign`, `${linux}/real`, '--format', 'jsonl']);
  assert.equal(r.code, 1, r.err);
  const findings = jsonl(r.out);
  assert.deepEqual(linuxRuleFindings(findings), EXPECTED);
  assert.deepEqual(
    findings.filter((f) => f.evidence.source?.path?.includes('/real/')).map((f) => f.rule.name),
    [],
    'nothing fires on the real (benign) audit log',
  );
  const miner = findings.find(
    (f) => f.rule.name === 'Linux Miner Started With Its Pool Options' && f.host.name === 'unknown',
  )!;
  assert.equal(miner.process?.executable, '/tmp/.x/kswapd0');
  assert.equal(miner.process?.pid, 2105);
  assert.deepEqual(miner.winlog, { channel: 'auditd', record_id: 9007 });
  assert.match(r.err, /Findings by rule:/);
});

test('bad lines of an audit log are problems with file:line: exit 2 alone, 1 beside findings', () => {
  const bad = deminer(['hunt', `${linux}/bad/audit-broken.log`, '--format', 'jsonl']);
  assert.equal(bad.code, 2, bad.err);
  assert.equal(bad.out.trim(), '');
  assert.match(bad.err, /AUDITD_BAD_LINE: test\/fixtures\/linux\/bad\/audit-broken\.log:3/);
  assert.match(bad.err, /AUDITD_BAD_LINE: test\/fixtures\/linux\/bad\/audit-broken\.log:4/);
  const both = deminer([
    'hunt',
    `${linux}/bad/audit-broken.log`,
    `${linux}/campaign/syslog`,
    '--format',
    'jsonl',
  ]);
  assert.equal(both.code, 1, both.err);
  assert.match(both.err, /audit-broken\.log:3/);
  const strict = deminer(['hunt', `${linux}/bad/audit-broken.log`, `${linux}/campaign/syslog`, '--strict']);
  assert.equal(strict.code, 2, strict.err);
});
