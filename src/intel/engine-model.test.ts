import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IntelEngine } from './engine.ts';
import { IndicatorIndex } from './indicator-index.ts';
import { formatIPv4, maskV4, maskWords, parseIPv6Words } from './ip.ts';
import { PassiveDns } from './passive-dns.ts';
import type { Indicator } from './types.ts';

/**
 * The engine's tables, range flattening and verdict cache against a linear
 * scan over the same indicators: nested names and prefixes, two sources,
 * some expiring, an allow-list, lookups repeated after the clock moves.
 */
test('lookups agree with a linear scan, before and after expiry, with an allow-list', () => {
  let x = 11;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
  const labels = ['pool', 'eu', 'xmr', 'a', 'b'];
  const domains = new Set<string>();
  while (domains.size < 60) {
    let d = `${labels[rnd() % labels.length]}.example`;
    for (let k = rnd() % 3; k > 0; k--) d = `${labels[rnd() % labels.length]}.${d}`;
    domains.add(d);
  }
  const v4 = new Set<string>();
  while (v4.size < 80) {
    const len = [32, 32, 28, 24, 20, 16][rnd() % 6]!;
    const net = ((0xc6336400 | (rnd() & 0x3ffff)) & maskV4(len)) >>> 0; // 198.51.64.0/14-ish, nests a lot
    v4.add(len === 32 ? formatIPv4(net) : `${formatIPv4(net)}/${len}`);
  }
  const v6 = ['2001:db8::/32', '2001:db8:1::/48', '2001:db8:1:2::/64', '2001:db8:1:2::7', '2001:db8:9::5'];
  const values = [...domains, ...v4, ...v6];
  const typeOf = (v: string): Indicator['type'] =>
    v.includes(':')
      ? v.includes('/')
        ? 'ipv6-cidr'
        : 'ipv6'
      : /^\d/.test(v)
        ? v.includes('/')
          ? 'ipv4-cidr'
          : 'ipv4'
        : 'domain';
  const inds: Indicator[] = [];
  for (const [i, v] of values.entries()) {
    inds.push({
      value: v,
      type: typeOf(v),
      source: 'a',
      confidence: 60,
      ...(i % 7 === 0 ? { expires: 5_000 } : {}),
    });
    if (i % 5 === 0) inds.push({ value: v, type: typeOf(v), source: 'b', confidence: 80 });
  }
  const allowValues = ['xmr.pool.example', '198.51.100.0/24', '2001:db8:1:2::/64'];
  const feeds = new IndicatorIndex();
  for (const i of inds) feeds.add(i);
  const allow = new IndicatorIndex();
  for (const v of allowValues) allow.add({ value: v, type: typeOf(v), source: 'user', confidence: 100 });
  const clock = { t: 1_000 };
  const e = new IntelEngine(feeds, allow, new PassiveDns(), () => clock.t);

  const w = new Uint32Array(4);
  const m = new Uint32Array(4);
  const contains = (entry: string, q: string): boolean => {
    if (typeOf(entry) === 'domain') return q === entry || q.endsWith(`.${entry}`);
    const [net, lenText] = entry.split('/');
    if (entry.includes(':') !== q.includes(':')) return false;
    if (!q.includes(':')) {
      const len = Number(lenText ?? 32);
      const a = q.split('.').reduce((s, o) => s * 256 + Number(o), 0);
      const b = net!.split('.').reduce((s, o) => s * 256 + Number(o), 0);
      return (a & maskV4(len)) >>> 0 === (b & maskV4(len)) >>> 0;
    }
    const len = Number(lenText ?? 128);
    parseIPv6Words(q, w);
    maskWords(w, len, m);
    const qm = [...m];
    parseIPv6Words(net!, w);
    maskWords(w, len, m);
    return qm.every((v, i) => v === m[i]);
  };
  const model = (q: string) => {
    const live = inds.filter((i) => (!i.expires || i.expires > clock.t) && contains(i.value, q));
    const allowed = allowValues.some((a) => contains(a, q));
    return {
      listed: live.length > 0 && !allowed,
      allowed,
      values: live.map((i) => `${i.value}|${i.source}`).sort(),
    };
  };
  const queries: string[] = [];
  for (const d of domains) queries.push(d, `x.${d}`, `X.${d.toUpperCase()}.`);
  queries.push('example', 'other.example', 'pool.example.evil');
  for (let i = 0; i < 400; i++)
    queries.push(
      formatIPv4(i % 2 ? (0xc6336400 | (rnd() & 0x3ffff)) >>> 0 : (0xc6000000 | (rnd() & 0xffffff)) >>> 0),
    );
  for (const v of v4) queries.push(v.split('/')[0]!);
  queries.push(
    '2001:db8:1:2::7',
    '2001:db8:1:3::1',
    '2001:db8:2::1',
    '2001:db8:9::5',
    '2001:db9::1',
    '::ffff:198.51.100.1',
  );

  const seen = { listed: 0, allowed: 0, miss: 0 };
  for (const t of [1_000, 1_000, 6_000, 6_000]) {
    clock.t = t;
    for (const q of queries) {
      const isDomain = /[a-z]/i.test(q) && !q.includes(':');
      const v = isDomain ? e.matchDomain(q) : e.matchIp(q);
      const want = model(isDomain ? q.toLowerCase().replace(/\.$/, '') : q.replace(/^::ffff:/, ''));
      const got = v.matches.map((x) => `${x.indicator}|${x.source}`).sort();
      assert.deepEqual({ listed: v.listed, allowed: v.allowed, values: got }, want, `${q} at ${t}`);
      if (v.listed) seen.listed++;
      else if (v.allowed) seen.allowed++;
      else seen.miss++;
    }
  }
  // The draw must exercise all three outcomes, or the comparison proves little.
  assert.ok(seen.listed > 200 && seen.allowed > 20 && seen.miss > 100, JSON.stringify(seen));
});
