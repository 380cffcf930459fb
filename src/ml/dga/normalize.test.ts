import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeminerError } from '../../core/errors.ts';
import { normalizeName, parseSuffixList } from './normalize.ts';

const dyn = parseSuffixList('# test list\nddns.net\n.mooo.com\n');

test('scores the registrable label, not subdomains or the public suffix', () => {
  assert.deepEqual(normalizeName('cdn1.img.example.co.uk', dyn), {
    kind: 'label',
    name: 'cdn1.img.example.co.uk',
    label: 'example',
  });
});

test('uppercase and trailing dots are normalised', () => {
  const n = normalizeName('  WWW.Example.COM.. ', dyn);
  assert.equal(n.kind, 'label');
  assert.equal(n.kind === 'label' ? n.label : '', 'example');
});

test('dynamic-DNS providers: the label left of the provider domain is scored', () => {
  const a = normalizeName('x7f3kq9z.ddns.net', dyn);
  const b = normalizeName('www.abcxyz.mooo.com', dyn);
  assert.equal(a.kind === 'label' && a.label, 'x7f3kq9z');
  assert.equal(b.kind === 'label' && b.label, 'abcxyz');
});

test('IP literals and reverse-DNS names are not labels', () => {
  assert.equal(normalizeName('192.0.2.1', dyn).kind, 'ip');
  assert.equal(normalizeName('[2001:db8::1]', dyn).kind, 'ip');
  assert.equal(normalizeName('2001:db8::1', dyn).kind, 'ip');
  assert.equal(normalizeName('1.2.0.192.in-addr.arpa.', dyn).kind, 'reverse');
});

test('punycode: Latin IDNs are folded to ASCII, other scripts are reported', () => {
  const latin = normalizeName('xn--mnchen-3ya.de', dyn);
  assert.equal(latin.kind === 'label' && latin.label, 'munchen');
  assert.equal(normalizeName('xn--80ak6aa92e.com', dyn).kind, 'non-latin');
  assert.equal(normalizeName('пример.рф', dyn).kind, 'non-latin');
  // Not valid punycode: scored as typed.
  const bad = normalizeName('xn--a.com', dyn);
  assert.equal(bad.kind, 'label');
});

test('single labels and bare public suffixes still yield a label', () => {
  const a = normalizeName('localhost', dyn);
  assert.equal(a.kind === 'label' && a.label, 'localhost');
  const b = normalizeName('co.uk', dyn);
  assert.equal(b.kind === 'label' && b.label, 'co');
});

test('empty input is a clear error', () => {
  for (const empty of ['', '   ', '.', '..']) {
    assert.throws(
      () => normalizeName(empty, dyn),
      (e: unknown) => e instanceof DeminerError && e.code === 'DGA_EMPTY_NAME',
    );
  }
});
