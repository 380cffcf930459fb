import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { EcsEvent } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { FindingSchema } from '../../core/finding.ts';
import { buildIntel, intelConfigSchema } from '../../intel/index.ts';
import { declarationProblems } from '../catalog.ts';
import { IntelMatchDetector, POOL_MATCH_RULES } from './intel-match-detector.ts';

const dir = mkdtempSync(join(tmpdir(), 'deminer-intel-match-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function engine(allowDomains: string[] = []) {
  return buildIntel({
    stateDir: mkdtempSync(join(dir, 's-')),
    config: intelConfigSchema.parse({ allow: { domains: allowDomains } }),
  });
}

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

function sysmon22(record: number, query: string, results = '-'): EcsEvent {
  return {
    '@timestamp': '2025-03-04T09:00:05.000Z',
    host: { name: 'ws-fin-07' },
    event: { code: '22' },
    winlog: {
      channel: SYSMON,
      event_id: '22',
      record_id: record,
      event_data: { Image: 'C:\\Temp\\svc.exe', ProcessId: '6120', QueryName: query, QueryResults: results },
    },
  };
}

function sysmon3(record: number, ip: string, port: number, initiated = 'true'): EcsEvent {
  return {
    '@timestamp': '2025-03-04T09:00:06.000Z',
    host: { name: 'ws-fin-07' },
    event: { code: '3' },
    winlog: {
      channel: SYSMON,
      event_id: '3',
      record_id: record,
      event_data: {
        Image: 'C:\\Temp\\svc.exe',
        DestinationIp: ip,
        DestinationPort: String(port),
        Initiated: initiated,
      },
    },
  };
}

function security5156(record: number, ip: string, port: number, direction: string): EcsEvent {
  return {
    host: { name: 'srv-01' },
    event: { code: '5156' },
    winlog: {
      channel: 'Security',
      event_id: '5156',
      record_id: record,
      event_data: {
        Application: '\\device\\harddiskvolume1\\programdata\\x\\svchost.exe',
        ProcessID: 4410,
        Direction: direction,
        DestAddress: ip,
        DestPort: String(port),
      },
    },
  };
}

test('Sysmon 22 for a listed pool: builtin finding with record identity, indicator and process', () => {
  const d = new IntelMatchDetector({ intel: engine() });
  const [f, ...rest] = d.observe(sysmon22(5002, 'pool.minexmr.com'));
  assert.equal(rest.length, 0);
  assert.ok(f);
  assert.equal(f.rule.id, 'deminer.intel.pool_dns');
  assert.equal(f.rule.ruleset, 'builtin');
  assert.equal(f.severity, 'high');
  assert.deepEqual(f.threat.technique, ['T1496']);
  assert.deepEqual(f.event, { code: '22' });
  assert.deepEqual(f.winlog, { channel: SYSMON, record_id: 5002 });
  assert.deepEqual(f.dns, { question: { name: 'pool.minexmr.com' } });
  assert.equal(f['@timestamp'], '2025-03-04T09:00:05.000Z');
  assert.equal(f.process?.pid, 6120);
  assert.equal(f.process?.name, 'svc.exe');
  assert.deepEqual(f.evidence['intel'], {
    indicator: 'minexmr.com',
    type: 'domain',
    source: 'deminer-pools',
    confidence: 80,
  });
  // Another host or another name under the same indicator: fingerprint is host + rule + indicator.
  const again = new IntelMatchDetector({ intel: engine() }).observe(sysmon22(9, 'eu.minexmr.com'))[0];
  assert.equal(again?.fingerprint, f.fingerprint);
  // The same story again from the same detector is not repeated.
  assert.deepEqual(d.observe(sysmon22(5003, 'pool.minexmr.com')), []);
});

test('answers of a listed name make its addresses pool addresses for Sysmon 3 (passive DNS)', () => {
  const d = new IntelMatchDetector({ intel: engine() });
  assert.deepEqual(d.observe(sysmon3(1, '203.0.113.9', 4444)), [], 'unknown before the answer');
  d.observe(sysmon22(2, 'pool.minexmr.com', 'type:  5 alias.example;::ffff:203.0.113.9;'));
  const [f] = d.observe(sysmon3(3, '203.0.113.9', 4444));
  assert.equal(f?.rule.id, 'deminer.intel.pool_connection');
  assert.deepEqual(f?.destination, { ip: '203.0.113.9', port: 4444 });
  assert.equal((f?.evidence['intel'] as Record<string, unknown>)['via'], 'pool.minexmr.com');
  assert.deepEqual(f?.winlog, { channel: SYSMON, record_id: 3 });
  // Inbound connections are not pool traffic.
  assert.deepEqual(
    new IntelMatchDetector({ intel: engine() }).observe(sysmon3(4, '45.32.105.134', 3333, 'false')),
    [],
  );
});

test('Security 5156 outbound to a listed address; inbound ignored', () => {
  const d = new IntelMatchDetector({ intel: engine() });
  const [f] = d.observe(security5156(10, '45.32.105.134', 3333, '%%14593'));
  assert.equal(f?.rule.id, 'deminer.intel.pool_connection');
  assert.equal(f?.host.name, 'srv-01');
  assert.deepEqual(f?.event, { code: '5156' });
  assert.equal(f?.process?.pid, 4410);
  assert.equal((f?.evidence['intel'] as Record<string, unknown>)['indicator'], '45.32.105.134');
  assert.deepEqual(d.observe(security5156(11, '45.32.105.134', 3333, '%%14592')), []);
});

test('allow-listed names give nothing; without intel only the built-in pool list counts', () => {
  assert.deepEqual(
    new IntelMatchDetector({ intel: engine(['minexmr.com']) }).observe(sysmon22(1, 'pool.minexmr.com')),
    [],
  );
  const builtinOnly = new IntelMatchDetector({ builtinPools: new Set(['nanopool.org']) });
  assert.deepEqual(builtinOnly.observe(sysmon22(1, 'pool.minexmr.com')), []);
  const [f] = builtinOnly.observe(sysmon22(2, 'xmr.nanopool.org'));
  assert.equal((f?.evidence['intel'] as Record<string, unknown>)['source'], 'deminer-pools');
  // The allow-list wins over the built-in list too.
  const allowed = new IntelMatchDetector({
    intel: engine(['nanopool.org']),
    builtinPools: new Set(['nanopool.org']),
  });
  assert.deepEqual(allowed.observe(sysmon22(3, 'xmr.nanopool.org')), []);
});

test('events without DNS or destination fields, and odd values, give nothing', () => {
  const d = new IntelMatchDetector({ intel: engine() });
  assert.deepEqual(d.observe({ winlog: { event_id: '4624', event_data: { TargetUserName: 'x' } } }), []);
  assert.deepEqual(d.observe(sysmon22(1, '')), []);
  assert.deepEqual(d.observe(sysmon3(2, 'not-an-ip', 0)), []);
  assert.deepEqual(d.observe({}), []);
});

test('pool-match findings: declared, on the finding contract, one host identity', () => {
  const d = new IntelMatchDetector({ intel: engine() });
  const fqdn = (e: EcsEvent): EcsEvent => ({ ...e, host: { name: 'WS-FIN-07.corp.example' } });
  const findings: Finding[] = [
    ...d.observe(fqdn(sysmon22(1, 'pool.minexmr.com', 'type:  5 alias.example;::ffff:203.0.113.9;'))),
    ...d.observe(fqdn(sysmon3(2, '203.0.113.9', 4444))),
    ...d.observe(security5156(3, '45.32.105.134', 3333, '%%14593')),
    ...d.observe({
      '@timestamp': '2025-03-04T09:00:07.000Z',
      host: { hostname: 'db-02' },
      destination: { ip: '45.32.105.134', port: 3333 },
      process: { pid: 77, executable: '/tmp/.x/xmrig' },
    }),
    ...d.finalize(),
  ];
  assert.deepEqual(
    findings.map((f) => [f.rule.id, f.host.name]),
    [
      ['deminer.intel.pool_dns', 'ws-fin-07'],
      ['deminer.intel.pool_connection', 'ws-fin-07'],
      ['deminer.intel.pool_connection', 'srv-01'],
      ['deminer.intel.pool_connection', 'db-02'],
    ],
  );
  assert.equal(findings[0]?.host.hostname, 'WS-FIN-07.corp.example');
  assert.deepEqual(findings[3]?.process, { pid: 77, executable: '/tmp/.x/xmrig', name: 'xmrig' });
  assert.equal(d.rules, POOL_MATCH_RULES);
  assert.deepEqual(declarationProblems(findings, d.rules), []);
  for (const f of findings) assert.ok(FindingSchema.safeParse(f).success, f.rule.id);
});
