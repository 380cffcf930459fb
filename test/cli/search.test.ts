import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/deminer.js');
const tmp = mkdtempSync(join(tmpdir(), 'deminer-search-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function deminer(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
const jsonl = (s: string): Record<string, unknown>[] =>
  s
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const WINLOGBEAT = 'test/fixtures/hunt/winlogbeat-miner.jsonl';
const SYSMON = 'test/fixtures/evtx/sysmon-psexec-smb-meterpreter.evtx';

test('a text in an EVTX record: one hit per record with the matched field, exit 1', () => {
  const r = deminer(['search', SYSMON, '-e', 'powershell.exe  -nop', '-f', 'jsonl']);
  assert.equal(r.code, 1, r.err);
  const hits = jsonl(r.out);
  assert.ok(hits.length >= 1);
  for (const h of hits) {
    assert.equal(h['type'], 'log');
    assert.equal(h['file'], SYSMON);
    assert.match(String(h['location']), /sysmon-psexec-smb-meterpreter\.evtx:\d+$/);
    assert.equal(h['match'], 'powershell.exe  -nop');
    const field = String(h['field']);
    assert.match(field, /^winlog\.event_data\./);
    // The field named holds the text.
    const event = h['event'] as { winlog: { event_data: Record<string, string> } };
    assert.ok(
      event.winlog.event_data[field.slice('winlog.event_data.'.length)]!.includes('powershell.exe  -nop'),
    );
  }
  // Independent count: the records of the parser's dump that hold the text.
  const dump = deminer(['evtx', 'dump', SYSMON]);
  assert.equal(dump.code, 0, dump.err);
  const expected = dump.out.split('\n').filter((l) => l.includes('powershell.exe  -nop')).length;
  assert.equal(hits.length, expected);
  assert.match(r.err, new RegExp(`${expected} hit\\(s\\) in 10 event\\(s\\) from 1 file\\(s\\)`));
});

test('a miss exits 0; -i, --regex and --limit', () => {
  const miss = deminer(['search', WINLOGBEAT, '-e', 'no-such-text-anywhere']);
  // The fixture has one line that is not JSON: a problem, but the search itself ran.
  assert.equal(miss.code, 2, 'no hit and a damaged line: exit 2');
  assert.match(miss.err, /JSON_NOT_A_DOCUMENT: test\/fixtures\/hunt\/winlogbeat-miner\.jsonl:5/);
  const cleanMiss = deminer(['search', SYSMON, '-e', 'no-such-text-anywhere']);
  assert.equal(cleanMiss.code, 0, cleanMiss.err);
  assert.match(cleanMiss.out, /0 hit\(s\) in 10 event\(s\)/);

  assert.equal(deminer(['search', WINLOGBEAT, '-e', 'DONATE-LEVEL', '-f', 'jsonl']).out, '');
  const ci = deminer(['search', WINLOGBEAT, '-i', '-e', 'DONATE-LEVEL', '-f', 'jsonl']);
  assert.equal(ci.code, 1);
  assert.deepEqual(
    jsonl(ci.out).map((h) => h['field']),
    ['winlog.event_data.CommandLine', 'winlog.event_data.ImagePath'],
  );
  const re = deminer([
    'search',
    WINLOGBEAT,
    '--regex',
    '-o\\s+198\\.51\\.100\\.\\d+:(443|3333)',
    '-f',
    'jsonl',
  ]);
  assert.equal(re.code, 1);
  assert.deepEqual(
    jsonl(re.out).map((h) => h['match']),
    ['-o 198.51.100.20:443', '-o 198.51.100.7:3333'],
  );
  const limited = deminer(['search', WINLOGBEAT, '-i', '-e', 'donate', '-f', 'jsonl', '--limit', '1']);
  assert.equal(limited.code, 1);
  assert.equal(jsonl(limited.out).length, 1);
  assert.match(limited.err, /stopped at --limit 1/);
  // -q leaves the summary out.
  assert.equal(
    deminer(['search', WINLOGBEAT, '-e', 'donate', '-f', 'jsonl', '-q']).err.includes('hit(s)'),
    false,
  );
});

test('regular expressions RE2 refuses, invalid ones and bad arguments are usage errors (exit 2)', () => {
  const back = deminer(['search', WINLOGBEAT, '--regex', '(a)\\1']);
  assert.equal(back.code, 2);
  assert.match(back.err, /SEARCH_UNSUPPORTED_REGEX/);
  const look = deminer(['search', WINLOGBEAT, '--regex', 'svchost(?=\\.exe)']);
  assert.equal(look.code, 2);
  assert.match(look.err, /SEARCH_UNSUPPORTED_REGEX/);
  const bad = deminer(['search', WINLOGBEAT, '--regex', '(unclosed']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /SEARCH_BAD_REGEX/);
  assert.equal(bad.out, '');
  assert.equal(deminer(['search', WINLOGBEAT]).code, 2, 'no pattern');
  assert.equal(deminer(['search', WINLOGBEAT, '-e', 'x', '--limit', '0']).code, 2);
  assert.equal(deminer(['search', WINLOGBEAT, '-e', 'x', '-f', 'xml']).code, 2);
  const missing = deminer(['search', 'no/such/file.evtx', '-e', 'x']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no\/such\/file\.evtx/);
  assert.match(missing.err, /SEARCH_NO_INPUT/);
  const unknown = deminer(['search', 'test/fixtures/evtx/SOURCES.txt', '-e', 'x']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /HUNT_UNKNOWN_INPUT/);
});

test('network observations are searched: DNS names in a Zeek log, a capture, Suricata; json envelope', () => {
  const zeek = deminer([
    'search',
    'test/fixtures/network/zeek-dns.log',
    '-e',
    'clients6.google.com',
    '-f',
    'jsonl',
  ]);
  assert.equal(zeek.code, 1, zeek.err);
  const hits = jsonl(zeek.out);
  // Independent count: the lines of the TSV log whose query is that name.
  const lines = readFileSync(join(root, 'test/fixtures/network/zeek-dns.log'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.includes('clients6.google.com'));
  assert.equal(hits.length, lines.length);
  for (const h of hits) {
    assert.equal(h['type'], 'network');
    assert.equal(h['field'], 'dns.questions[0].name');
    assert.match(String(h['location']), /zeek-dns\.log:\d+$/);
    assert.equal((h['event'] as { kind: string }).kind, 'dns');
  }

  const pcap = deminer([
    'search',
    'test/fixtures/network/dns2tcp_tunnel.pcap',
    '-e',
    '1.1.1.1',
    '-f',
    'json',
  ]);
  assert.equal(pcap.code, 1, pcap.err);
  const env = JSON.parse(pcap.out) as {
    hits: Record<string, unknown>[];
    issues: unknown[];
    stats: { hits: number };
  };
  assert.ok(env.hits.length > 0);
  assert.equal(env.stats.hits, env.hits.length);
  assert.match(String(env.hits[0]!['location']), /dns2tcp_tunnel\.pcap#\d+$/);
  assert.equal(env.hits[0]!['field'], 'dst.ip');

  const empty = deminer(['search', SYSMON, '-e', 'nothing-like-this', '-f', 'json']);
  assert.equal(empty.code, 0);
  assert.deepEqual((JSON.parse(empty.out) as { hits: unknown[] }).hits, []);
});

test('damaged input: reported through the problem printer; exit 2 without a hit, 1 with one', () => {
  const miss = deminer(['search', 'test/fixtures/network/malformed_dns.pcap', '-e', 'no-such-name']);
  assert.equal(miss.code, 2);
  assert.match(
    miss.err,
    /deminer: warning: DNS_NAME_TOO_LONG: test\/fixtures\/network\/malformed_dns\.pcap#\d+/,
  );
  const hit = deminer(['search', 'test/fixtures/network/malformed_dns.pcap', '--regex', '.', '-f', 'jsonl']);
  assert.equal(hit.code, 1);
  assert.match(hit.err, /DNS_NAME_TOO_LONG/);
});

test('a hostile record never reaches the terminal raw, in the table or in JSON', () => {
  const file = join(tmp, 'hostile.jsonl');
  const cmd = 'xmrig \u001b[2J\u001b]0;pwned\u0007\u009b31m --donate-level 1\r\nfake line \u202egnp.exe';
  writeFileSync(
    file,
    `${JSON.stringify({
      '@timestamp': '2025-03-04T09:00:00.000Z',
      host: { name: 'ws\u001b[8m-07' },
      winlog: {
        channel: 'Security',
        event_id: 4688,
        computer_name: 'ws\u001b[8m-07',
        event_data: { CommandLine: cmd, NewProcessName: 'C:\\x\\xmrig.exe' },
      },
    })}\n`,
  );
  const isRaw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;
  const table = deminer(['search', file, '-e', 'donate']);
  assert.equal(table.code, 1, table.err);
  assert.doesNotMatch(table.out, isRaw);
  assert.match(table.out, /\\x1b\[2J/);
  assert.match(table.out, /ws\\x1b\[8m-07/);
  for (const f of ['jsonl', 'json']) {
    const r = deminer(['search', file, '-e', 'donate', '-f', f]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.out, isRaw);
    // …and the JSON still carries the exact value.
    const hit =
      f === 'json' ? (JSON.parse(r.out) as { hits: Record<string, unknown>[] }).hits[0]! : jsonl(r.out)[0]!;
    const event = hit['event'] as { winlog: { event_data: { CommandLine: string } } };
    assert.equal(event.winlog.event_data.CommandLine, cmd);
  }
  // A hostile file name is escaped in the problem printer too.
  const bad = join(tmp, 'evil\u001b[2J.evtx');
  writeFileSync(bad, 'not an event log');
  const r = deminer(['search', bad, '-e', 'x']);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.err, isRaw);
  assert.match(r.err, /evil\\x1b\[2J\.evtx/);
});

test('| head -1 on jsonl ends quietly: no EPIPE trace, exit 0 or 1', () => {
  // Many copies of the Suricata excerpt: far more output than a pipe holds.
  const paths = Array.from({ length: 20 }, () => 'test/fixtures/network/suricata-eve-excerpt.json');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `"${process.execPath}" "${bin}" search ${paths.join(' ')} --regex . -f jsonl | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  const out = r.stdout.trim().split('\n');
  assert.equal(out.length, 1);
  JSON.parse(out[0]!);
  const rc = /rc=(\d+)/.exec(r.stderr)?.[1];
  assert.ok(rc === '0' || rc === '1', `exit ${rc}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /EPIPE|Error|internal error|\n\s+at /);
});

test('-o FILE: written with mode 0644; a missing folder is a usage error', () => {
  const out = join(tmp, 'hits.jsonl');
  const r = deminer(['search', WINLOGBEAT, '-i', '-e', 'donate', '-f', 'jsonl', '-o', out]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(jsonl(readFileSync(out, 'utf8')).length, 2);
  assert.equal(statSync(out).mode & 0o777, 0o644 & ~process.umask());
  const missing = deminer(['search', WINLOGBEAT, '-e', 'donate', '-o', join(tmp, 'no-such-dir', 'x.txt')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /OUTPUT_UNWRITABLE/);
});
