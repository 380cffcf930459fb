/** The `deminer scan` contract of DESIGN.md §4: formats, exit codes, errors that name the place. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Finding } from '../../src/core/finding.ts';
import { runDeminer } from '../sim/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'deminer-scan-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('json: { host, findings, stats } and an exit code that agrees with the findings', async () => {
  const r = await runDeminer(['scan', '--window', '0s', '--format', 'json']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const json = JSON.parse(r.stdout) as {
    host: { name: string };
    findings: Finding[];
    stats: Record<string, number>;
  };
  assert.equal(typeof json.host.name, 'string');
  assert.ok(Array.isArray(json.findings));
  assert.ok(json.stats['processes']! > 1);
  assert.ok(json.stats['netns']! >= 1);
  assert.equal(r.status, json.findings.length > 0 ? 1 : 0);
  assert.equal(r.stderr, '', 'nothing on stderr without a terminal');
});

test('jsonl: one finding per line with the contract fields; --min-level filters', async () => {
  const r = await runDeminer(['scan', '--window', '0s', '--format', 'jsonl', '--min-level', 'medium']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(r.status, lines.length > 0 ? 1 : 0);
  for (const l of lines) {
    const f = JSON.parse(l) as Finding;
    for (const k of [
      'id',
      '@timestamp',
      'fingerprint',
      'rule',
      'severity',
      'threat',
      'host',
      'message',
      'evidence',
    ] as const) {
      assert.ok(f[k] !== undefined, `${k} in ${l.slice(0, 200)}`);
    }
    assert.notEqual(f.severity, 'low');
    assert.match(f['@timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
});

test('table: a summary a person can read', async () => {
  const r = await runDeminer(['scan', '--window', '0s']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  assert.match(r.stdout, /\d+ processes \(\d+ kernel threads\), \d+ sockets in \d+ network namespace/);
});

test('usage errors exit 2 with a message', async () => {
  const a = await runDeminer(['scan', '--format', 'xml']);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--format must be one of table, json, jsonl/);
  const b = await runDeminer(['scan', '--window', 'ten']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /BAD_DURATION/);
  const c = await runDeminer(['scan', '--bogus']);
  assert.equal(c.status, 2);
  assert.equal(c.stdout, '');
});

test('a malformed allow-list is an error naming its file and line', async () => {
  const f = join(dir, 'allow.xml');
  writeFileSync(
    f,
    '<ApplicationControl>\n  <AllowedProcesses>\n    <Process name="sshd">\n  </AllowedProcesses>\n</ApplicationControl>\n',
  );
  const r = await runDeminer(['scan', '--window', '0s', '--allowlist', f]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`ALLOWLIST_BAD_XML: ${f.replaceAll('/', '\\/')}:\\d+`));
  assert.equal(r.stdout, '');
});

test('audit mode with an allow-list reports the processes not on it', async () => {
  const f = join(dir, 'allow-node.xml');
  writeFileSync(
    f,
    `<ApplicationControl><AllowedProcesses><Process path="${process.execPath}"/></AllowedProcesses></ApplicationControl>\n`,
  );
  const r = await runDeminer(['scan', '--window', '0s', '--format', 'jsonl', '--allowlist', f]);
  assert.equal(r.status, 1, r.stderr);
  const findings = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Finding);
  const audit = findings.filter((x) => x.rule.id === 'deminer.process.not_allowlisted');
  assert.ok(audit.length > 0);
  assert.ok(
    audit.every((x) => x.process?.executable !== process.execPath),
    'allowed processes are not reported',
  );
});
