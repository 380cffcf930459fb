import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { EcsEvent } from '../../core/event.ts';
import { packagePath } from '../../core/paths.ts';
import { withoutCovered } from '../../pipeline/hunt.ts';
import { BUILTIN_RULES_DIR, loadRules, parseRuleText, sigmaEngineOf } from '../sigma/index.ts';
import { POOL_MATCH_RULES } from './intel-match-detector.ts';
import { PoolCheck } from './pool-check.ts';
import { poolRuleData, poolSigmaRules } from './sigma-rules.ts';

test('the Sigma rules naming pools and pool ports are exactly what the pool data writes (no drift)', () => {
  for (const r of poolSigmaRules())
    assert.equal(
      readFileSync(packagePath(r.file), 'utf8'),
      r.text,
      `${r.file} differs from the pool data: run node --import tsx scripts/pool-rules.ts`,
    );
});

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const dnsEvent = (name: string): EcsEvent =>
  ({
    '@timestamp': '2026-11-30T10:00:00.000Z',
    host: { name: 'ws-1' },
    event: { code: '22' },
    winlog: {
      channel: SYSMON,
      event_id: 22,
      provider_name: 'Microsoft-Windows-Sysmon',
      event_data: { QueryName: name, Image: 'C:\\Users\\Public\\svc.exe' },
    },
  }) as unknown as EcsEvent;

test('the generated DNS rule and the pool matcher agree on every listed pool, its subdomains and benign names', () => {
  const rules = poolSigmaRules().flatMap((r) => parseRuleText(r.text, r.file).rules);
  const dnsRule = rules.find((r) => r.id === '4eb031dc-4d50-5a2c-b036-02f7081d5ca2')!;
  const likeRule = rules.find((r) => r.title === 'DNS Query for a Pool-like Host Name')!;
  const dns = sigmaEngineOf([dnsRule]);
  const like = sigmaEngineOf([likeRule]);
  assert.deepEqual(dns.issues, []);
  const { domains } = poolRuleData();
  const check = new PoolCheck({ builtinPools: new Set(domains) });
  assert.ok(domains.length > 500, `${domains.length} pool domains`);
  for (const d of domains) {
    for (const name of [d, `xmr-eu1.${d}`]) {
      assert.equal(dns.observe(dnsEvent(name)).length, 1, `${name}: the rule fires`);
      const v = check.domain(name);
      assert.ok(v && v !== 'allowed' && v.indicator === d, `${name}: the matcher names ${d}`);
      assert.equal(like.observe(dnsEvent(name)).length, 0, `${name}: listed, so not "pool-like" too`);
    }
  }
  for (const name of ['www.example.com', `notreally${domains[0]}`, `${domains[0]}.evil.example`]) {
    assert.equal(dns.observe(dnsEvent(name)).length, 0, `${name}: not a pool`);
    assert.equal(check.domain(name), undefined, `${name}: not a pool for the matcher either`);
  }
  assert.equal(like.observe(dnsEvent('xmr.unlisted-pool.example')).length, 1);
});

test('hunt skips exactly the rules the pool matcher covers', () => {
  const loaded = loadRules([BUILTIN_RULES_DIR]);
  const kept = withoutCovered(loaded.rules, POOL_MATCH_RULES);
  const dropped = loaded.rules.filter((r) => !kept.includes(r)).map((r) => [r.id, r.coveredBy]);
  assert.deepEqual(dropped.sort(), [
    ['4eb031dc-4d50-5a2c-b036-02f7081d5ca2', 'deminer.intel.pool_dns'],
    ['e2352fe1-5cf9-5ae3-bb2c-5208823ed126', 'deminer.intel.pool_connection'],
  ]);
  // Without the matcher running, nothing is dropped.
  assert.equal(withoutCovered(loaded.rules, []).length, loaded.rules.length);
});
