import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePieces, parseSigmaString, wildcardMatcher } from './sigma-string.ts';

/** The regular expression wildcards used to compile to: the reference the linear matcher must agree with. */
function reference(pattern: string): RegExp {
  const src = parseSigmaString(pattern)
    .map((p) =>
      p.kind === 'star' ? '.*' : p.kind === 'one' ? '.' : p.text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${src}$`, 's');
}

test('the linear wildcard matcher agrees with the regular expression on random patterns', () => {
  // A small fixed-seed generator, so a failure is reproducible.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = (alphabet: string, max: number): string => {
    let s = '';
    const n = rnd(max + 1);
    for (let i = 0; i < n; i++) s += alphabet[rnd(alphabet.length)];
    return s;
  };
  for (let i = 0; i < 20_000; i++) {
    const pattern = pick('ab*?', 7);
    const value = pick('ab', 9);
    const want = reference(pattern).test(value);
    const got = wildcardMatcher(parseSigmaString(pattern))(value);
    assert.equal(got, want, `${JSON.stringify(pattern)} on ${JSON.stringify(value)}`);
  }
});

test('wildcards: escapes, newlines and case folding as before', () => {
  const m = (pattern: string, value: string, cased = false): boolean =>
    compilePieces(parseSigmaString(pattern), cased)(cased ? value : value.toLowerCase());
  assert.ok(m('C:\\Win*\\cmd.ex?', 'c:\\windows\\CMD.EXE'));
  assert.ok(m('a\\*b', 'A*B'));
  assert.ok(!m('a\\*b', 'axb'));
  assert.ok(m('a*b?c', 'a\nxxb\nc'), 'stars and ? cross newlines');
  assert.ok(!m('*ab?ab*', 'abab'));
  assert.ok(m('*ab?ab*', 'xxabzab'));
  assert.ok(!m('A*b', 'a-b', true));
  assert.ok(m('*a*a', 'aa') && !m('*a*a', 'a'), 'segments do not overlap');
});
