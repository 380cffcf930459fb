import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../src/core/finding.ts';
import { HostNames } from '../../src/core/host-identity.ts';
import { loadSigmaRules } from '../../src/detect/sigma/index.ts';
import { hunt } from '../../src/pipeline/hunt.ts';

/**
 * The one-shot pipeline as every entry point drives it: time windows for
 * every kind of event, detector state across inputs, one host identity, the
 * same findings whatever the thread count.
 */
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const fixtures = join(root, 'test/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'deminer-pipeline-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** What identifies a finding across runs (the id is random). */
const key = (f: Finding): string =>
  `${f.rule.id} ${f.fingerprint} ${f.host.name} ${f['@timestamp']} ${f.severity}`;

test('--from after a capture leaves none of its findings, and its events are counted as out of range', async () => {
  const capture = join(fixtures, 'network/stratum-s0-excerpt.pcapng');
  const all = await hunt({ paths: [capture] });
  assert.ok(all.findings.length > 0, 'the capture has mining findings');
  assert.ok(all.stats.events > 0, 'network observations are counted as events');
  const later = await hunt({ paths: [capture], from: Date.parse('2100-01-01T00:00:00Z') });
  assert.deepEqual(later.findings, []);
  assert.equal(later.stats.outOfRange, later.stats.events);
  assert.equal(later.stats.events, all.stats.events);
  // A window around the capture's own time keeps what it found.
  const first = Date.parse(all.findings.map((f) => f['@timestamp']).sort()[0]!);
  const around = await hunt({ paths: [capture], from: first - 60_000, to: first + 3_600_000 });
  assert.deepEqual(around.findings.map(key).sort(), all.findings.map(key).sort());
});

/** A Zeek dns.log (TSV) of one host's lookups. */
function zeekDns(path: string, host: string, names: readonly string[], startS: number): void {
  const header = [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tdns',
    '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode\tanswers',
    '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tcount\tvector[string]',
  ];
  const rows = names.map(
    (n, i) => `${startS + i * 30}.000000\tC${i}\t${host}\t5${i}000\t192.0.2.53\t53\tudp\t${n}\tA\t3\t-`,
  );
  writeFileSync(path, `${[...header, ...rows].join('\n')}\n`);
}

const DGA_NAMES = readFileSync(join(root, 'test/dga/fixtures/names.tsv'), 'utf8')
  .split('\n')
  .filter((l) => l.endsWith('\tdga'))
  .map((l) => l.split('\t')[0]!)
  .filter((n) => !n.includes('ddns'));

test('two rotated Zeek logs that only together show a host walking DGA names give one finding', async () => {
  const names = DGA_NAMES.slice(0, 8);
  assert.equal(names.length, 8);
  const a = join(tmp, 'dns.00:00:00-01:00:00.log');
  const b = join(tmp, 'dns.01:00:00-02:00:00.log');
  // Both halves within one hour: 4 names in each file, the host rule needs at least 5.
  zeekDns(a, '198.51.100.23', names.slice(0, 4), 1_700_000_000);
  zeekDns(b, '198.51.100.23', names.slice(4), 1_700_000_000 + 600);
  const dgaHost = (fs: Finding[]) => fs.filter((f) => f.rule.id === 'deminer.network.dga_host');
  assert.equal(dgaHost((await hunt({ paths: [a] })).findings).length, 0);
  assert.equal(dgaHost((await hunt({ paths: [b] })).findings).length, 0);
  const both = dgaHost((await hunt({ paths: [a, b] })).findings);
  assert.equal(both.length, 1);
  assert.equal(both[0]!.host.name, '198.51.100.23');
  assert.equal(both[0]!.source?.ip, '198.51.100.23');
});

test('an asset map names the host of network findings; the address stays in source.ip', async () => {
  const names = DGA_NAMES.slice(0, 8);
  const log = join(tmp, 'dns-assets.log');
  zeekDns(log, '198.51.100.23', names, 1_700_000_000);
  const hostNames = new HostNames();
  hostNames.learn('198.51.100.23', 'OFFICE-PC-17.corp.example', 'asset-map');
  const { findings } = await hunt({ paths: [log], hostNames });
  const f = findings.find((x) => x.rule.id === 'deminer.network.dga_host');
  assert.ok(f, 'dga_host finding');
  assert.equal(f.host.name, 'office-pc-17');
  assert.equal(f.source?.ip, '198.51.100.23');
});

test('an ECS process event (no winlog) is hunted and its finding carries the process', async () => {
  const doc = {
    '@timestamp': '2025-03-04T09:00:00.000Z',
    event: { kind: 'event', category: ['process'], type: ['start'], code: '1' },
    host: { name: 'WEB-01.corp.example', os: { type: 'windows' } },
    process: {
      pid: 6120,
      name: 'svchost.exe',
      executable: 'C:\\Users\\jdoe\\AppData\\Local\\Temp\\svchost.exe',
      command_line:
        'C:\\Users\\jdoe\\AppData\\Local\\Temp\\svchost.exe -o stratum+tcp://pool.supportxmr.com:3333 -u 4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge --donate-level 1',
      parent: { name: 'cmd.exe', executable: 'C:\\Windows\\System32\\cmd.exe' },
    },
    user: { name: 'jdoe' },
  };
  const file = join(tmp, 'endpoint.ndjson');
  writeFileSync(file, `${JSON.stringify(doc)}\n`);
  const { rules } = loadSigmaRules({ builtin: true });
  const { findings, stats } = await hunt({ paths: [file], rules });
  assert.equal(stats.files, 1);
  const f = findings.find((x) => x.rule.ruleset === 'sigma');
  assert.ok(f, `a Sigma finding (got ${findings.map((x) => x.rule.id).join(', ') || 'none'})`);
  assert.equal(f.process?.pid, 6120);
  assert.equal(f.process?.executable, doc.process.executable);
  assert.equal(f.process?.command_line, doc.process.command_line);
  assert.equal(f.host.name, 'web-01');
});

test('a folder hunt on worker threads finds exactly what one thread finds', async () => {
  const { rules } = loadSigmaRules({ builtin: true });
  const paths = [
    join(fixtures, 'evtx'),
    join(fixtures, 'hunt/winlogbeat-miner.jsonl'),
    join(fixtures, 'network'),
  ];
  const one = await hunt({ paths, rules, threads: 1 });
  const two = await hunt({ paths, rules, threads: 2 });
  assert.equal(one.stats.threads, 1);
  assert.equal(two.stats.threads, 2);
  assert.ok(one.findings.length > 3, `findings: ${one.findings.length}`);
  assert.deepEqual(two.findings.map(key), one.findings.map(key));
  assert.equal(two.stats.events, one.stats.events);
  assert.equal(two.stats.issues, one.stats.issues);
  assert.deepEqual(two.stats.filesByKind, one.stats.filesByKind);
});
