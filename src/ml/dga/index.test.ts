import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DeminerError } from '../../core/errors.ts';
import { DGA_THRESHOLD, explainDomain, isDga, scoreDomain } from './index.ts';

const fixture = fileURLToPath(new URL('../../../test/dga/fixtures/names.tsv', import.meta.url));
const rows = readFileSync(fixture, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0 && !l.startsWith('#'))
  .map((l) => l.split('\t') as [string, string]);

test('the shipped model separates the fixture names', () => {
  const benign = rows.filter(([, label]) => label === 'benign').map(([name]) => name);
  const dga = rows.filter(([, label]) => label === 'dga').map(([name]) => name);
  const worstBenign = Math.max(...benign.map(scoreDomain));
  for (const name of benign)
    assert.equal(isDga(name), false, `${name}: score ${scoreDomain(name).toFixed(3)}`);
  for (const name of dga) {
    const s = scoreDomain(name);
    assert.ok(s >= 0 && s <= 1);
    assert.ok(s > worstBenign, `${name}: score ${s.toFixed(3)} not above the benign names`);
  }
  // Since the threshold was moved to 0.3 % false positives on benign lists never trained on
  // (issue 18, docs/dga.md "Calibration"), one fixture name, shiotob's wtipubctwiekhir.net
  // (score 0.26, was 0.61), is ranked above every benign name but no longer flagged on its own.
  const missed = dga.filter((name) => !isDga(name));
  assert.ok(missed.length <= 1, `not flagged: ${missed.join(' ')}`);
});

test('the shipped model file is under 5 MB', () => {
  const size = statSync(fileURLToPath(new URL('../../../data/dga/model.json', import.meta.url))).size;
  assert.ok(size < 5 * 1024 * 1024, `${size} bytes`);
});

test('case and trailing dot do not change the score', () => {
  assert.equal(scoreDomain('CIQCUCMUYYICIAEG.ORG.'), scoreDomain('ciqcucmuyyiciaeg.org'));
});

test('IP literals and reverse names score 0', () => {
  assert.equal(scoreDomain('192.0.2.10'), 0);
  assert.equal(scoreDomain('2001:db8::5'), 0);
  assert.equal(scoreDomain('10.2.0.192.in-addr.arpa'), 0);
});

test('IDNs: Latin ones are scored folded, other scripts are not judged', () => {
  assert.equal(isDga('xn--mnchen-3ya.de'), false);
  assert.equal(isDga('bücher.de'), false);
  assert.equal(explainDomain('xn--80ak6aa92e.com').kind, 'non-latin');
  assert.equal(scoreDomain('xn--80ak6aa92e.com'), 0);
});

test('very long labels are scored without error', () => {
  const s = scoreDomain(`${'qzx'.repeat(200)}.com`);
  assert.ok(s > DGA_THRESHOLD);
  assert.ok(Number.isFinite(scoreDomain(`${'a'.repeat(5000)}.com`)));
});

test('empty input throws DGA_EMPTY_NAME', () => {
  assert.throws(
    () => scoreDomain(''),
    (e: unknown) => e instanceof DeminerError && e.code === 'DGA_EMPTY_NAME',
  );
});
