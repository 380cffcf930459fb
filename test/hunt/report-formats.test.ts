import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const bin = join(root, 'bin/deminer.js');
const dir = mkdtempSync(join(tmpdir(), 'deminer-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real command with stdout redirected to a file, as a shell's `> FILE` does. */
function huntTo(file: string, args: string[]): { code: number; err: string; text: string } {
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync(process.execPath, [bin, 'hunt', ...args], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', fd, 'pipe'],
      maxBuffer: 64 << 20,
    });
    return { code: r.status ?? -1, err: r.stderr, text: readFileSync(file, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** The rule name of every finding the hunt reports, as jsonl gives them. */
function ruleNames(path: string): string[] {
  const r = spawnSync(process.execPath, [bin, 'hunt', path, '--format', 'jsonl', '--no-progress'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 1, r.stderr);
  const names = r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { rule: { name: string } }).rule.name);
  assert.ok(names.length > 0);
  return names;
}

const htmlText = (s: string) =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

test('hunt --format html > FILE writes one complete, self-contained report; the notes go to stderr', () => {
  for (const input of ['test/fixtures/evtx', 'test/fixtures/hunt/winlogbeat-miner.jsonl']) {
    const file = join(dir, 'report.html');
    const r = huntTo(file, [input, '--format', 'html', '--no-progress']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.text, /^<!DOCTYPE html>\n<html lang="en">\n<head>\n[\s\S]*<\/body>\n<\/html>\n$/);
    assert.equal(r.text.match(/<html/g)?.length, 1, 'one document, nothing else on stdout');
    assert.match(r.text, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    for (const name of ruleNames(input)) assert.ok(r.text.includes(htmlText(name)), `${input}: ${name}`);
    assert.match(r.err, /Findings by rule:/, 'the summary goes to stderr');
    // Nothing is fetched: no element loads a URL, only ATT&CK pages are linked.
    assert.ok(!/<(?:link|img|iframe|object|embed)\b|<script\s+src|url\(|@import/i.test(r.text));
    for (const m of r.text.matchAll(/href="([^"]*)"/g))
      assert.match(m[1]!, /^https:\/\/attack\.mitre\.org\/techniques\//);
  }
});

test('hunt --format timeline > FILE lists the findings oldest first in one table', () => {
  const input = 'test/fixtures/hunt/winlogbeat-miner.jsonl';
  const file = join(dir, 'timeline.txt');
  const r = huntTo(file, [input, '--format', 'timeline', '--no-progress']);
  assert.equal(r.code, 1, r.err);
  assert.ok(r.text.startsWith('┌'));
  const lines = r.text.split('\n');
  const end = lines.findIndex((l) => l.startsWith('└'));
  assert.ok(end > 0, 'the table ends');
  const table = lines.slice(0, end + 1).join('\n');
  const rest = lines.slice(end + 1).join('\n');
  for (const line of table.split('\n')) assert.ok(['┌', '├', '│', '└'].includes(line.charAt(0)), line);
  assert.ok(!r.text.includes('\x1b'), 'no colour when stdout is a file');
  assert.match(table.split('\n')[1]!, /^│ Timestamp +│ Severity +│ Computer +│ Rule +│ Details/);
  const times = [...table.matchAll(/^│ (\d{4}-\d\d-\d\d)(T\S+)? /gm)].map((m) => m[0]);
  assert.ok(times.length >= 2);
  assert.deepEqual([...times].sort(), times, 'oldest first');
  // One row per finding; a row's Rule cell, its lines joined, is the rule name.
  const rows: string[][] = [];
  for (const line of table.split('\n')) {
    if (!line.startsWith('│')) rows.push([]);
    else rows.at(-1)!.push(line.split('│')[4]!.trim());
  }
  const shown = rows
    .filter((cell) => cell.length > 0)
    .slice(1)
    .map((cell) => cell.filter(Boolean).join(' '));
  assert.deepEqual(shown.sort(), ruleNames(input).sort());
  // A person's format: the summary follows the table on stdout.
  assert.match(rest, /Findings by rule:/);
});
