import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOSTILE, rawControls } from './finding-fixtures.ts';
import { escapeControls } from './safe-text.ts';

test('plain text, Windows paths and non-Latin names pass unchanged', () => {
  for (const s of ['xmrig --donate-level 1', 'C:\\Windows\\Temp\\svchost.exe', 'пример.рф', '例え.jp', ''])
    assert.equal(escapeControls(s), s);
});

test('terminal sequences become visible text, never raw bytes', () => {
  assert.equal(escapeControls(HOSTILE.title), '\\x1b]0;pwned\\x07');
  assert.equal(escapeControls(HOSTILE.clear), '\\x1b[2J');
  assert.equal(escapeControls(HOSTILE.hide), '\\x1b[8m');
  assert.equal(escapeControls(HOSTILE.overwrite), 'benign\\rFAKE');
  assert.equal(escapeControls(HOSTILE.split), 'line1\\nline2');
  assert.equal(escapeControls('a\tb\0c\x7f'), 'a\\tb\\x00c\\x7f');
  assert.equal(escapeControls(HOSTILE.c1), '\\x9b2J');
});

test('bidi controls and Unicode line separators are escaped too', () => {
  assert.equal(escapeControls(HOSTILE.rtl), 'evil\\u202egpj.exe');
  for (const c of [0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202d, 0x2066, 0x2069]) {
    const out = escapeControls(`x${String.fromCharCode(c)}y`);
    assert.deepEqual(rawControls(out), [], out);
    assert.equal(out, `x\\u${c.toString(16).padStart(4, '0')}y`);
  }
});

test('every code unit from U+0000 to U+FFFF: nothing a terminal acts on survives', () => {
  let all = '';
  for (let c = 0; c <= 0xffff; c++) if (c < 0xd800 || c > 0xdfff) all += String.fromCharCode(c);
  const out = escapeControls(all);
  assert.deepEqual(rawControls(out), []);
  assert.ok(!out.includes('\n'));
});

test('linear on long hostile input', () => {
  const long = '\x1b[2J'.repeat(250_000) + 'a'.repeat(1_000_000);
  const t0 = performance.now();
  const out = escapeControls(long);
  assert.ok(performance.now() - t0 < 2000, 'well under the seconds a backtracking matcher would take');
  assert.equal(out.length, long.length + 250_000 * 3);
});
