/**
 * What is absent (sudo, module support, Yama) gets the verdict it deserves
 * rather than `unknown`; long observed lists stay readable in a table and
 * bounded in the machine formats.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadChecks } from '../../src/audit/checks.ts';
import { auditHost, CheckEngine, MAX_OBSERVED_ITEMS } from '../../src/audit/engine.ts';
import { LinuxFacts } from '../../src/audit/linux/reader.ts';
import { renderJson, renderJsonl, renderTable } from '../../src/audit/render.ts';
import { findingOf, scoreOf } from '../../src/audit/report.ts';
import type { HostReport } from '../../src/audit/run.ts';
import type { Check, CheckResult, Fact, FactReader } from '../../src/audit/types.ts';
import { bareLinuxRoot, tempDir, write } from './fixtures.ts';

const checks = loadChecks();
const byId = (id: string): Check => checks.find((c) => c.id === id)!;

function audit(root: string): Map<string, CheckResult> {
  const lf = new LinuxFacts(root, false);
  return new Map(
    auditHost(new CheckEngine(), checks, lf, lf.hostName(), 'linux').map((r) => [r.check.id, r]),
  );
}

test('no sudo, no module support, no Yama: n/a, n/a and fail (ptrace unrestricted by Yama)', () => {
  const root = bareLinuxRoot();
  // Configuring Yama changes nothing on a kernel without it.
  write(root, 'etc/sysctl.d/10-ptrace.conf', 'kernel.yama.ptrace_scope = 2\n');
  const r = audit(root);
  const sudo = r.get('linux.sudo.root_grants')!;
  assert.equal(sudo.status, 'not_applicable');
  assert.equal(sudo.observed, 'sudo not installed');
  const mods = r.get('linux.sysctl.modules_disabled')!;
  assert.equal(mods.status, 'not_applicable');
  assert.equal(mods.observed, 'no module support');
  const ptrace = r.get('linux.sysctl.ptrace_scope')!;
  assert.equal(ptrace.status, 'fail');
  assert.equal(ptrace.observed, 'Yama not enabled');
  assert.match(ptrace.note!, /not restricted by Yama/);
  assert.equal(ptrace.source, '/proc/sys/kernel/yama/ptrace_scope');
  // n/a does not count in the score; the Yama failure does.
  const s = scoreOf([...r.values()]);
  assert.ok(s.counts.not_applicable >= 2);
});

test('the same files present decide as before: modules loaded, Yama on, sudo unreadable is unknown', () => {
  const root = bareLinuxRoot();
  write(root, 'proc/modules', 'ext4 1 0 - Live 0x0\n');
  write(root, 'proc/sys/kernel/yama/ptrace_scope', '1\n');
  write(root, 'etc/sysctl.d/10-mods.conf', 'kernel.modules_disabled = 0\n');
  // sudoers.d without a readable sudoers: sudo may be there, it cannot be read.
  write(root, 'etc/sudoers.d/.keep', '');
  const r = audit(root);
  assert.equal(r.get('linux.sysctl.ptrace_scope')!.status, 'pass');
  assert.equal(r.get('linux.sysctl.modules_disabled')!.status, 'fail');
  assert.equal(r.get('linux.sudo.root_grants')!.status, 'unknown');
});

test('a tree without /proc (not collected): absence proves nothing, the configured values are used', () => {
  const root = tempDir('no-proc');
  write(root, 'etc/hostname', 'cold\n');
  write(root, 'etc/sysctl.d/10-ptrace.conf', 'kernel.yama.ptrace_scope = 1\n');
  const r = audit(root);
  assert.equal(r.get('linux.sysctl.ptrace_scope')!.status, 'pass');
  assert.equal(r.get('linux.sysctl.modules_disabled')!.status, 'unknown');
});

class ListReader implements FactReader {
  constructor(private readonly list: string[]) {}
  read(): Fact {
    return { value: this.list, source: 'apt-get -s upgrade' };
  }
}

function report(results: CheckResult[]): HostReport {
  return { host: 'h', platform: 'linux', origin: 'live host', inputs: [], results, score: scoreOf(results) };
}

test('a long list: the table shows its first 8 and a count, once; json keeps every item', () => {
  const pkgs = Array.from({ length: 150 }, (_, i) => `pkg-${String(i).padStart(3, '0')}`);
  const r = new CheckEngine().evaluate(byId('linux.updates.pending_security'), new ListReader(pkgs), 'h');
  assert.equal(r.status, 'fail');
  // Nothing allowed: the note does not repeat the list.
  assert.equal(r.note, undefined);
  const table = renderTable([report([r])], { color: false, width: 120 });
  assert.match(table.replace(/[│\s]+/g, ' '), /… and 142 more/);
  assert.equal(table.split('pkg-').length - 1, 8);
  assert.ok(!table.includes('pkg-008'));
  assert.ok(table.split('\n').length < 20, table);
  const json = JSON.parse(renderJson([report([r])], [findingOf(r)], []));
  assert.equal(json.hosts[0].results[0].observed.length, 150);
  assert.equal(JSON.parse(renderJsonl([report([r])])).observed.length, 150);
  // A finding's message is prose: cut too; its evidence has the list.
  const f = findingOf(r);
  assert.match(f.message, /pkg-007 … and 142 more/);
  assert.equal((f.evidence as { observed: string[] }).observed.length, 150);
});

test('some items allowed: the note names the others, cut to 8; a huge list is cut to the maximum with a count', () => {
  const engine = new CheckEngine();
  const uid0 = ['root', ...Array.from({ length: 20 }, (_, i) => `u${i}`)];
  const r = engine.evaluate(byId('linux.accounts.uid0'), new ListReader(uid0), 'h');
  assert.equal(r.status, 'fail');
  assert.equal(r.note, 'not allowed: u0, u1, u2, u3, u4, u5, u6, u7 … and 12 more');
  const many = Array.from({ length: MAX_OBSERVED_ITEMS + 500 }, (_, i) => `p${i}`);
  const big = engine.evaluate(byId('linux.updates.pending_security'), new ListReader(many), 'h');
  assert.equal(big.status, 'fail');
  assert.equal((big.observed as string[]).length, MAX_OBSERVED_ITEMS);
  assert.equal(big.note, `first ${MAX_OBSERVED_ITEMS} of ${MAX_OBSERVED_ITEMS + 500} listed`);
});
