import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/deminer.js', import.meta.url));

function deminer(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('jsonl: one {domain, score, dga} object per name, exit 1 when one is DGA-like', () => {
  const r = deminer(['dga', 'score', '--format', 'jsonl', 'google.com', 'ciqcucmuyyiciaeg.org']);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  assert.deepEqual(Object.keys(lines[0]!), ['domain', 'score', 'dga']);
  assert.equal(lines[0]!['domain'], 'google.com');
  assert.equal(lines[0]!['dga'], false);
  assert.equal(lines[1]!['dga'], true);
  assert.equal(r.stderr, '');
});

test('exit 0 and a table when nothing is DGA-like', () => {
  const r = deminer(['dga', 'score', 'wikipedia.org', '192.0.2.1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wikipedia\.org/);
  assert.match(r.stdout, /\(ip\)/);
});

test('--file: comments and blanks skipped, bad lines reported with file:line and skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deminer-dga-'));
  try {
    const file = join(dir, 'names.txt');
    writeFileSync(file, '# names\ngoogle.com\n\nhttp://x/y\ngogpjrvnixph.com\t42\n');
    const r = deminer(['dga', 'score', '--file', file, '--format', 'jsonl']);
    assert.equal(r.code, 1);
    const names = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { domain: string }).domain);
    assert.deepEqual(names, ['google.com', 'gogpjrvnixph.com']);
    assert.match(r.stderr, /DGA_BAD_NAME: .*names\.txt:4/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stdin with --file -', () => {
  const r = deminer(['dga', 'score', '--file', '-', '--format', 'jsonl'], 'github.com\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { dga: boolean }).dga, false);
});

test('usage errors exit 2 with a clear message', () => {
  const empty = deminer(['dga', 'score', '']);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /DGA_EMPTY_NAME/);
  const none = deminer(['dga', 'score']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /DGA_NO_INPUT/);
  const fmt = deminer(['dga', 'score', '--format', 'csv', 'a.com']);
  assert.equal(fmt.code, 2);
  const missing = deminer(['dga', 'score', '--file', '/nonexistent/names.txt']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /LIST_MISSING/);
});

test('names with control characters are input errors, never echoed raw; problems capped at 20 with a count of the rest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deminer-dga-'));
  try {
    const file = join(dir, 'names.txt');
    const bad = Array.from({ length: 25 }, (_, i) => `http://x/${i}`);
    writeFileSync(file, ['evil\x1b[2J.com', 'hide\x1b[8m.example\x07', ...bad, 'google.com'].join('\n'));
    const r = deminer(['dga', 'score', '--file', file]);
    assert.equal(r.code, 2, 'skipped lines and nothing DGA-like: exit 2');
    assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, 'no raw control character in the table');
    assert.doesNotMatch(r.stderr, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, 'nor in the problems');
    assert.ok(r.stdout.includes('google.com'), r.stdout);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('deminer: warning: LIST_BINARY_LINE: ')).length, 2);
    assert.equal(lines.filter((l) => l.startsWith('deminer: warning: DGA_BAD_NAME: ')).length, 18);
    assert.ok(lines.includes('deminer: … and 7 more problem(s)'), r.stderr);
    assert.match(lines.at(-1)!, /^deminer: 1 names scored, 27 skipped, 0 DGA-like$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
