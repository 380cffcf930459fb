import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { loadChecks } from '../../src/audit/checks.ts';
import { auditHost, CheckEngine } from '../../src/audit/engine.ts';
import { LinuxFacts } from '../../src/audit/linux/reader.ts';
import { sudoGrants } from '../../src/audit/linux/sudoers.ts';
import type { CheckResult } from '../../src/audit/types.ts';
import { canonicalHostName } from '../../src/core/host-identity.ts';
import { badLinuxRoot, cleanLinuxRoot, tempDir, write } from './fixtures.ts';

const checks = loadChecks();
const linuxChecks = checks.filter((c) => c.platform === 'linux');

function audit(root: string, live = false): Map<string, CheckResult> {
  const lf = new LinuxFacts(root, live);
  const results = auditHost(new CheckEngine(), checks, lf, lf.hostName(), 'linux');
  return new Map(results.map((r) => [r.check.id, r]));
}

const bad = badLinuxRoot();
const clean = cleanLinuxRoot();

test('a prepared root with known-bad settings: each one is reported', (t) => {
  const r = audit(bad.root);
  const st = (id: string): string => r.get(id)!.status;
  assert.deepEqual(r.get('linux.accounts.uid0')!.observed, ['root', 'toor']);
  assert.equal(st('linux.accounts.uid0'), 'fail');
  assert.equal(st('linux.sudo.root_grants'), 'fail');
  assert.deepEqual(r.get('linux.sudo.root_grants')!.observed, ['root', '%sudo', 'mallory', 'eve']);
  assert.match(r.get('linux.sudo.root_grants')!.source, /\/etc\/sudoers\.d\/90-deploy:2/);
  assert.equal(st('linux.groups.admin_members'), 'fail');
  // bob by his primary group, toor by gid 0.
  assert.deepEqual(r.get('linux.groups.admin_members')!.observed, ['docker:bob', 'root:toor', 'sudo:alice']);
  assert.equal(st('linux.mount.tmp_noexec'), 'fail');
  assert.equal(r.get('linux.mount.tmp_noexec')!.source, '/proc/mounts:2');
  assert.equal(st('linux.mount.dev_shm_noexec'), 'pass');
  assert.equal(st('linux.sysctl.ptrace_scope'), 'fail');
  assert.equal(st('linux.sysctl.modules_disabled'), 'fail');
  assert.match(r.get('linux.sysctl.ptrace_scope')!.source, /^\/etc\/sysctl\.d\/10-debug\.conf:1$/);
  assert.equal(st('linux.firmware.secure_boot'), 'fail');
  assert.equal(st('linux.auditd.execve'), 'fail');
  assert.equal(st('linux.auditd.cron'), 'fail');
  assert.equal(st('linux.auditd.systemd'), 'fail');
  assert.equal(st('linux.updates.automatic'), 'fail');
  assert.equal(r.get('linux.updates.automatic')!.observed, 'disabled');
  // Only the live host knows what updates are pending.
  assert.equal(st('linux.updates.pending_security'), 'unknown');
  assert.equal(r.get('linux.accounts.uid0')!.host, 'bad-box');
  if (!bad.caps) {
    t.diagnostic('setcap failed here (not root, or no xattrs): capability checks only asserted not to pass');
    assert.notEqual(st('linux.caps.sys_ptrace'), 'fail');
    return;
  }
  assert.equal(st('linux.caps.sys_ptrace'), 'fail');
  assert.deepEqual(r.get('linux.caps.sys_ptrace')!.observed, ['/usr/bin/debug-helper']);
  assert.equal(st('linux.caps.sys_module'), 'fail');
  assert.deepEqual(r.get('linux.caps.sys_module')!.observed, ['/usr/local/sbin/kmod-helper']);
});

test('a clean prepared root passes every check it can decide', () => {
  const r = audit(clean);
  const fails = [...r.values()]
    .filter((x) => x.status === 'fail')
    .map((x) => `${x.check.id}: ${JSON.stringify(x.observed)} ${x.note ?? ''}`);
  assert.deepEqual(fails, []);
  for (const id of linuxChecks.map((c) => c.id)) {
    if (id === 'linux.updates.pending_security') continue;
    assert.equal(r.get(id)!.status, 'pass', `${id}: ${r.get(id)!.note ?? ''}`);
  }
  // The running value of a collected /proc/sys wins over the configured one.
  assert.equal(r.get('linux.sysctl.ptrace_scope')!.observed, 2);
});

test('--root never reads outside the tree: links are resolved inside it', () => {
  const root = tempDir('escape');
  const outside = tempDir('outside');
  const rule = write(outside, 'sudo-rule', 'outsider ALL=(ALL) NOPASSWD: ALL\n');
  write(root, 'etc/.keep', '');
  // Absolute and ../ links that would name this machine's files if the kernel followed them.
  symlinkSync('/etc/hostname', `${root}/etc/hostname`);
  symlinkSync('../../../../../../../../etc/passwd', `${root}/etc/passwd`);
  write(root, 'etc/sudoers', '@includedir /etc/sudoers.d\n');
  mkdirSync(`${root}/etc/sudoers.d`);
  symlinkSync(rule, `${root}/etc/sudoers.d/outside`);
  const lf = new LinuxFacts(root, false);
  assert.notEqual(lf.hostName(), readFileSync('/etc/hostname', 'utf8').trim());
  assert.equal(lf.read({ method: 'uid0_accounts', arg: '/etc/passwd' }), undefined);
  const { files, grants } = sudoGrants(root);
  assert.deepEqual(files, ['/etc/sudoers']);
  assert.deepEqual(grants, []);
});

test('sudoers: aliases, runas users, continuation lines, comments, #uid and tags', () => {
  const root = tempDir('sudoers');
  write(
    root,
    'etc/sudoers',
    [
      'User_Alias OPS = alice, bob',
      'OPS ALL = (root) NOPASSWD: SETENV: /bin/bash',
      'carol ALL=(postgres) ALL',
      '#1001 ALL=(ALL) /usr/bin/dnf \\',
      '  , /usr/bin/rpm',
      'dave ALL=(ALL) /usr/bin/systemctl restart nginx # only a restart',
      '# erin ALL=(ALL) ALL',
      '',
    ].join('\n'),
  );
  const g = sudoGrants(root).grants;
  assert.deepEqual(
    g.map((x) => `${x.principal}:${x.command}`),
    ['OPS:/bin/bash', '#1001:/usr/bin/dnf'],
  );
});

test('this machine (--host): every Linux check gives a result, and the mounts agree with /proc/self/mounts', () => {
  if (process.platform !== 'linux') {
    process.stdout.write('# skip: not Linux\n');
    return;
  }
  const r = audit('/', true);
  assert.equal(r.size, linuxChecks.length);
  for (const x of r.values())
    assert.ok(['pass', 'fail', 'unknown', 'not_applicable'].includes(x.status), x.check.id);
  assert.equal([...r.values()][0]!.host, canonicalHostName(readHostname()));
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '));
  const tmp = mounts.filter((m) => m[1] === '/tmp').at(-1) ?? mounts.filter((m) => m[1] === '/').at(-1);
  const noexec = tmp?.[3]?.split(',').includes('noexec') ?? false;
  assert.equal(r.get('linux.mount.tmp_noexec')!.status, noexec ? 'pass' : 'fail');
  // uid 0 accounts read from the real /etc/passwd.
  const uid0 = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .filter((l) => l.split(':')[2] === '0')
    .map((l) => l.split(':')[0]);
  assert.deepEqual(r.get('linux.accounts.uid0')!.observed, uid0);
});

function readHostname(): string {
  try {
    return readFileSync('/etc/hostname', 'utf8').split('\n')[0]!.trim() || hostname();
  } catch {
    return hostname();
  }
}
