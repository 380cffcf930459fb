import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Collected, hostileFindings } from './finding-fixtures.ts';
import { FINDING_FORMATS, isFindingFormat, sinkFor } from './index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

test('every format has a sink of its name; json, jsonl, csv and html are machine formats', () => {
  assert.deepEqual(FINDING_FORMATS, ['table', 'json', 'jsonl', 'csv', 'timeline', 'html']);
  for (const format of FINDING_FORMATS) {
    const out = new Collected();
    const sink = sinkFor(format, { out, color: false, width: 100 });
    assert.equal(sink.format, format);
    assert.equal(sink.machine, format !== 'table' && format !== 'timeline');
    sink.end({ findings: hostileFindings(), issues: [], stats: {} });
    assert.ok(out.text.length > 0, format);
  }
  assert.equal(isFindingFormat('xml'), false);
  assert.equal(isFindingFormat('__proto__'), false);
  assert.equal(isFindingFormat('csv'), true);
});

test('outputs depends on core only', () => {
  const src = resolve(HERE, '..');
  for (const file of readdirSync(HERE)) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(join(HERE, file), 'utf8');
    for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const target = relative(src, resolve(HERE, m[1]!));
      assert.ok(target.startsWith('outputs/') || target.startsWith('core/'), `${file} imports ${m[1]}`);
    }
  }
});
