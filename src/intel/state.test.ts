import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserializeIndicators, serializeIndicators } from './state.ts';
import type { Indicator } from './types.ts';

test('the byte and text readers of the compiled form agree, bad lines included', () => {
  const inds: Indicator[] = [
    { value: 'pool.example', type: 'domain', source: 's', confidence: 70 },
    {
      value: '198.51.100.0/24',
      type: 'ipv4-cidr',
      source: 's',
      confidence: 55.5,
      firstSeen: 1_700_000_000_000,
    },
    {
      value: '[2001:db8::9]:3333',
      type: 'ip-port',
      source: 's',
      confidence: 100,
      lastSeen: 5,
      expires: 1_900_000_000_000,
    },
    { value: 'stratum+tcp://pool.example:4444/é', type: 'url', source: 's', confidence: 0 },
  ];
  const text = `${serializeIndicators(inds)}9\tbad-type\t1\t0\t0\t0\n0\ttoo-few\t1\n\n0\tx.example\t-1\t0\t0\t0`;
  const a: Indicator[] = [];
  const b: Indicator[] = [];
  const na = deserializeIndicators(text, 'src', (i) => a.push(i));
  const nb = deserializeIndicators(Buffer.from(text, 'utf8'), 'src', (i) => b.push(i));
  assert.equal(na, 5);
  assert.equal(nb, na);
  assert.deepEqual(b, a);
  assert.equal(b[3]!.value, 'stratum+tcp://pool.example:4444/é');
  assert.equal(b[1]!.confidence, 55.5);
});
