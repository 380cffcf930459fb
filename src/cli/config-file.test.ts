import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../core/errors.ts';
import { loadDeminerConfig } from './config-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'deminer-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('sections and defaults', () => {
  const f = join(dir, 'ok.yaml');
  writeFileSync(f, 'scan:\n  window: 30s\n  min_level: high\n  intel: false\nintel:\n  builtin: true\n');
  const c = loadDeminerConfig(f);
  assert.equal(c.scan.window, 30_000);
  assert.equal(c.scan.min_level, 'high');
  assert.equal(c.scan.intel, false);
  assert.equal(c.intel.builtin, true);
});

test('unknown keys at any level are errors with the line', () => {
  const f = join(dir, 'bad.yaml');
  writeFileSync(f, 'scan:\n  window: 30s\n  windw: 5s\n');
  assert.throws(
    () => loadDeminerConfig(f),
    (e: unknown) => e instanceof UsageError && e.location === `${f}:3` && /windw/.test(e.message),
  );
  writeFileSync(f, 'scan: {}\nsacn: {}\n');
  assert.throws(
    () => loadDeminerConfig(f),
    (e: unknown) => e instanceof UsageError && /sacn/.test(e.message),
  );
  writeFileSync(f, 'scan:\n  min_level: severe\n');
  assert.throws(
    () => loadDeminerConfig(f),
    (e: unknown) => e instanceof UsageError && e.location === `${f}:2`,
  );
});

test('a missing file given explicitly is an error; no file at all means defaults', () => {
  assert.throws(
    () => loadDeminerConfig(join(dir, 'nope.yaml')),
    (e: unknown) => e instanceof UsageError && e.code === 'CONFIG_UNREADABLE',
  );
  const old = process.env['DEMINER_HOME'];
  process.env['DEMINER_HOME'] = join(dir, 'empty-home');
  try {
    assert.equal(loadDeminerConfig().scan.window, undefined);
  } finally {
    if (old === undefined) delete process.env['DEMINER_HOME'];
    else process.env['DEMINER_HOME'] = old;
  }
});
