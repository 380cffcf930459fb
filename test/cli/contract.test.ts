/**
 * The command-line contract (docs/cli.md), one test per reproducer of the
 * CLI issue: exit codes that never say "clean" about input that was not
 * read, quiet ends on closed pipes, bad paths as usage errors, bounded
 * options, one meaning per short flag. Runs the real `deminer` command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/deminer.js');
const fx = join(root, 'test/fixtures');
const STRATUM = join(fx, 'network/stratum-s0-excerpt.pcapng');
const EVTX = join(fx, 'evtx/security-bloodhound-5145.evtx');
const SYSMON = join(fx, 'evtx/sysmon-psexec-smb-meterpreter.evtx');
const MSSQL = join(fx, 'evtx/application-mssql-15457-string-array.evtx');
const tmp = mkdtempSync(join(tmpdir(), 'deminer-cli-'));

interface Run {
  code: number;
  out: string;
  err: string;
}

function deminer(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    input: opts.input ?? '',
    env: { ...process.env, ...opts.env },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** `deminer ARGS | READER`: deminer's own exit code and stderr. */
function piped(args: string[], reader: string): Run {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync(
    'bash',
    ['-c', `'${process.execPath}' '${bin}' ${quoted} 2>"$ERRF" | ${reader}; echo "rc=\${PIPESTATUS[0]}"`],
    { cwd: root, encoding: 'utf8', env: { ...process.env, ERRF: join(tmp, 'pipe-err') } },
  );
  const m = /rc=(\d+)\s*$/.exec(r.stdout);
  return { code: m ? Number(m[1]) : -1, out: r.stdout, err: readFileSync(join(tmp, 'pipe-err'), 'utf8') };
}

function file(name: string, data: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, data);
  return p;
}

const jsonl = (s: string): Record<string, unknown>[] =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

// ---------------------------------------------------------------- exit codes

test('sniff -r on input it cannot read exits 2 with the error, never 0', () => {
  const dir = join(tmp, 'empty-dir');
  mkdirSync(dir, { recursive: true });
  const cases: [string, string][] = [
    ['missing', join(tmp, 'no-such.pcap')],
    ['directory', dir],
    ['empty', file('empty.pcap', '')],
    ['garbage', file('garbage.bin', Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)))],
    ['wrong magic', file('wrong-magic.pcap', Buffer.concat([Buffer.from([0, 1, 2, 3]), Buffer.alloc(40)]))],
    ['truncated pcapng', file('truncated.pcapng', readFileSync(STRATUM).subarray(0, 300))],
  ];
  for (const [what, path] of cases) {
    const r = deminer(['sniff', '-r', path]);
    assert.equal(r.code, 2, `${what}: ${r.err}`);
    assert.match(r.err, /deminer: /, what);
    assert.doesNotMatch(r.out, /^No findings\.$/m, `${what}: a clean verdict on unread input`);
  }
});

test('an input problem beside findings still exits 1; alone it exits 2; --strict stops at it', () => {
  // A log with nothing to report, cut short (the Sysmon sample holds a real Metasploit service cradle).
  const truncated = file('trunc.evtx', readFileSync(MSSQL).subarray(0, 40_000));
  const alone = deminer(['hunt', truncated]);
  assert.equal(alone.code, 2, alone.err);
  assert.match(alone.err, /EVTX_TRUNCATED_CHUNK/);
  assert.match(alone.out, /input problem/);
  const dump = deminer(['evtx', 'dump', truncated]);
  assert.equal(dump.code, 2, 'evtx dump follows the same rule');
  const withFindings = deminer(['hunt', truncated, EVTX, '--format', 'jsonl']);
  assert.equal(withFindings.code, 1, withFindings.err);
  assert.ok(jsonl(withFindings.out).length > 0);
  const strict = deminer(['hunt', truncated, EVTX, '--strict', '--threads', '1']);
  assert.equal(strict.code, 2);
  assert.match(strict.err, /STRICT_STOPPED/);
  assert.equal(strict.out, '', 'nothing is reported as the result of a stopped run');
});

test('a --rules path that gives no rule is a usage error', () => {
  const missing = deminer(['hunt', EVTX, '--rules', join(tmp, 'no-such-rules')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /HUNT_RULES_MISSING/);
  const empty = join(tmp, 'no-rules');
  mkdirSync(empty, { recursive: true });
  const none = deminer(['hunt', EVTX, '-R', empty]);
  assert.equal(none.code, 2);
  assert.match(none.err, /HUNT_NO_RULES/);
  // -r is --read (sniff); hunt does not take it, so a capture is never parsed as rules.
  const r = deminer(['hunt', EVTX, '-r', STRATUM]);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option '-r'/);
});

test('scan --root takes an existing folder and, without --live, reviews only its files', () => {
  assert.equal(deminer(['scan', '--root', join(tmp, 'no-such-root'), '-w', '0s']).code, 2);
  const notDir = deminer(['scan', '--root', EVTX, '-w', '0s']);
  assert.equal(notDir.code, 2);
  assert.match(notDir.err, /SCAN_ROOT_NOT_FOLDER/);
  const image = join(tmp, 'image');
  mkdirSync(join(image, 'etc/cron.d'), { recursive: true });
  writeFileSync(join(image, 'etc/hostname'), 'Office-PC-17\n');
  writeFileSync(
    join(image, 'etc/cron.d/update'),
    '*/5 * * * * root /tmp/.x/kworker -o pool.supportxmr.com:443 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A\n',
  );
  const r = deminer(['scan', '--root', image, '-w', '0s', '--format', 'json']);
  const doc = JSON.parse(r.out) as {
    host: { name: string };
    findings: { host: { name: string }; evidence: Record<string, unknown> }[];
    stats: { processes: number; sockets: number };
  };
  assert.equal(doc.stats.processes, 0, 'no process of this machine in the review of an image');
  assert.equal(doc.stats.sockets, 0);
  assert.equal(doc.host.name, 'Office-PC-17');
  assert.ok(doc.findings.length > 0, 'the cron line is found');
  assert.equal(r.code, 1);
  assert.ok(doc.findings.every((f) => f.host.name === 'office-pc-17'));
  assert.equal(deminer(['scan', '--live', '-w', '0s']).code, 2, '--live goes with --root');
});

// ---------------------------------------------------------------- pipes

test('a closed stdout ends every streaming command quietly', () => {
  const names = file(
    'names.txt',
    Array.from({ length: 60_000 }, (_, i) => `host${i}.example.com`).join('\n'),
  );
  const cases: [string, string[]][] = [
    ['evtx dump', ['evtx', 'dump', SYSMON]],
    ['sniff jsonl', ['sniff', '-r', STRATUM, '--format', 'jsonl']],
    ['dga score jsonl', ['dga', 'score', '--file', names, '--format', 'jsonl']],
    ['intel export', ['intel', 'export', '--format', 'hosts']],
    ['hunt jsonl', ['hunt', EVTX, '--format', 'jsonl']],
    ['search jsonl', ['search', SYSMON, '-e', 'e', '--format', 'jsonl']],
  ];
  for (const [what, args] of cases) {
    // `true` closes the pipe at once: every write deminer makes meets EPIPE.
    for (const reader of ['true', 'head -1 >/dev/null']) {
      const r = piped(args, reader);
      assert.ok(r.code === 0 || r.code === 1, `${what} | ${reader}: exit ${r.code} ${r.err}`);
      assert.doesNotMatch(r.err, /EPIPE|Error:|at .*\(/, `${what} | ${reader}: ${r.err}`);
    }
  }
});

// ---------------------------------------------------------------- paths

test('intel: missing list files and bad output paths are usage errors, and leave nothing behind', () => {
  const missing = deminer(['intel', 'lookup', '--file', join(tmp, 'no-such-list')]);
  assert.equal(missing.code, 2, missing.err);
  assert.match(missing.err, /LIST_MISSING/);
  assert.doesNotMatch(missing.err, /internal error|at /);
  const dir = join(tmp, 'out-dir');
  mkdirSync(dir, { recursive: true });
  const isDir = deminer(['intel', 'lookup', '--file', dir]);
  assert.equal(isDir.code, 2);
  assert.match(isDir.err, /LIST_IS_FOLDER/);
  const toDir = deminer(['intel', 'export', '--format', 'hosts', '-o', dir]);
  assert.equal(toDir.code, 2);
  assert.match(toDir.err, /OUTPUT_IS_FOLDER/);
  assert.deepEqual(readdirSync(dir), [], 'no temporary file left');
  const deep = join(tmp, 'no', 'such', 'dir', 'x');
  const noParent = deminer(['intel', 'export', '--format', 'hosts', '-o', deep]);
  assert.equal(noParent.code, 2);
  assert.equal(existsSync(join(tmp, 'no')), false, 'parents are not created');
  const ok = deminer(['intel', 'export', '--format', 'hosts', '-o', join(dir, 'hosts.txt')]);
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual(readdirSync(dir), ['hosts.txt']);
});

// ---------------------------------------------------------------- bad input as input

test('dga score: stdin as "-", overlong lines, binary and names DNS cannot hold are input errors with their line', () => {
  const stdin = deminer(['dga', 'score', '-', '-f', 'jsonl'], { input: 'google.com\nxkqjzvbwpt.info\n' });
  assert.deepEqual(
    jsonl(stdin.out).map((l) => l['domain']),
    ['google.com', 'xkqjzvbwpt.info'],
  );
  const huge = file('huge-line.txt', `${'a'.repeat(5_000_000)}.example\nwikipedia.org\n`);
  const h = deminer(['dga', 'score', '--file', huge, '-f', 'jsonl']);
  assert.equal(jsonl(h.out).length, 1, 'only the good line is scored');
  assert.ok(h.out.length < 1000, 'the long line is not echoed');
  assert.match(h.err, /huge-line\.txt:1/);
  assert.equal(h.code, 2, 'a skipped line without a DGA-like name exits 2');
  const bad = file(
    'bad-names.txt',
    [`${'a'.repeat(64)}.example`, `${'abcdefghi.'.repeat(26)}com`, 'bin\u0000ary.example', 'github.com'].join(
      '\n',
    ),
  );
  const b = deminer(['dga', 'score', '--file', bad, '-f', 'jsonl']);
  assert.deepEqual(
    jsonl(b.out).map((l) => l['domain']),
    ['github.com'],
  );
  for (const line of [1, 2, 3]) assert.match(b.err, new RegExp(`bad-names\\.txt:${line}\\b`));
  assert.doesNotMatch(b.err, /\u0000/);
});

test('evtx dump of something that is no EVTX at all gives one clear error', () => {
  const junk = file('junk.bin', Buffer.alloc(5 * 1024 * 1024, 0x41));
  const r = deminer(['evtx', 'dump', junk]);
  assert.equal(r.code, 2);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /EVTX_NOT_EVTX/);
  const empty = deminer(['evtx', 'dump', file('empty.evtx', '')]);
  assert.equal(empty.code, 2);
  assert.equal(empty.err.trim().split('\n').length, 1, empty.err);
});

test('duration options are bounded', () => {
  const w = deminer(['scan', '--window', '9999999h']);
  assert.equal(w.code, 2);
  assert.match(w.err, /longer than 1h/);
  const d = deminer(['sniff', '-i', 'lo', '--duration', '99999d']);
  assert.equal(d.code, 2);
  assert.match(d.err, /longer than 7d/);
});

// ---------------------------------------------------------------- what the output says

test('hunt tables name time, computer, channel, user and file; csv has file, user, technique and next step', () => {
  const t = deminer(['hunt', EVTX, '--no-color'], { env: { COLUMNS: '300' } });
  assert.equal(t.code, 1);
  assert.match(t.out, /win-77ltaphiq1r/);
  assert.match(t.out, /2019-01-20 07:00:50/);
  assert.match(t.out, /event 1102 · Security/);
  assert.match(t.out, /user (EXAMPLE\\)?Administrator/);
  assert.match(t.out, /file .*security-bloodhound-5145\.evtx:4608/);
  for (const line of t.out.split('\n')) assert.ok([...line].length <= 300, line);
  const csv = deminer(['hunt', EVTX, '-f', 'csv']);
  const [head, row] = csv.out.trim().split('\n');
  assert.ok(head!.endsWith(',user,file,techniques,next_step'));
  assert.match(row!, /,(EXAMPLE\\)?Administrator,.*security-bloodhound-5145\.evtx:4608,T1070\.001,/);
});

test('one mining host gives one finding per pool, with counts and first and last seen', () => {
  const r = deminer(['sniff', '-r', STRATUM, '-f', 'jsonl']);
  const mining = jsonl(r.out).filter(
    (f) => (f['rule'] as { id: string }).id === 'deminer.network.mining_protocol',
  );
  const pools = new Set(mining.map((f) => (f['destination'] as { port: number }).port));
  assert.equal(mining.length, pools.size, 'one finding per pool port (no pool names in this capture)');
  const on25 = mining.find((f) => (f['destination'] as { port: number }).port === 25)!;
  const ev = on25['evidence'] as Record<string, unknown>;
  assert.ok((ev['destinations'] as string[]).length >= 4, 'the pool addresses are listed');
  assert.ok((ev['observations'] as number) >= 5);
  assert.ok(Date.parse(ev['first_seen'] as string) <= Date.parse(ev['last_seen'] as string));
});

test('captures report their events, packets, flows, hosts and time span; json stats are filled', () => {
  const h = deminer(['hunt', STRATUM]);
  assert.match(h.out, /\b17 events\b/);
  const s = deminer(['sniff', '-r', STRATUM]);
  assert.match(s.out, /Network: 61 packets, 8 flows, 1 source host\(s\)\./);
  assert.match(s.out, /Time span: 2018-05-19T06:20:58/);
  const j = JSON.parse(deminer(['sniff', '-r', STRATUM, '-f', 'json']).out) as {
    stats: Record<string, unknown>;
  };
  assert.equal((j.stats['sources'] as Record<string, number>)['packets'], 61);
  assert.equal(j.stats['hosts'], 1);
});

// ---------------------------------------------------------------- flags hayabusa and chainsaw users look for

test('-o writes the file, -q and --no-summary keep stderr quiet, --level and --min-level informational filter', () => {
  const out = join(tmp, 'findings.jsonl');
  const o = deminer(['hunt', EVTX, SYSMON, '-f', 'jsonl', '-o', out, '-q']);
  assert.equal(o.code, 1);
  assert.equal(o.out, '');
  assert.equal(o.err, '', '-q: no summary');
  // BloodHound's share enumeration, and Metasploit's psexec service whose ImagePath is a PowerShell cradle.
  assert.equal(jsonl(readFileSync(out, 'utf8')).length, 2);
  const noSummary = deminer(['hunt', EVTX, '--no-summary']);
  assert.doesNotMatch(noSummary.out, /Hunted/);
  const WINLOGBEAT = join(fx, 'hunt/winlogbeat-miner.jsonl');
  const all = jsonl(deminer(['hunt', WINLOGBEAT, '-f', 'jsonl']).out);
  assert.deepEqual(new Set(all.map((f) => f['severity'])), new Set(['critical', 'high', 'medium']));
  const high = deminer(['hunt', WINLOGBEAT, '-f', 'jsonl', '--level', 'high,critical']);
  const levels = new Set(jsonl(high.out).map((f) => f['severity']));
  assert.deepEqual(levels, new Set(['high', 'critical']));
  const info = deminer(['hunt', WINLOGBEAT, '-f', 'jsonl', '--min-level', 'informational']);
  assert.equal(jsonl(info.out).length, all.length);
  assert.equal(deminer(['hunt', EVTX, '--level', 'urgent']).code, 2);
});

test('--include-eid and --exclude-eid choose the records before any rule sees them; --status the rules', () => {
  const only = deminer(['hunt', EVTX, '--include-eid', '5145', '-f', 'json']);
  const doc = JSON.parse(only.out) as {
    findings: { event?: { code?: string } }[];
    stats: { outOfRange: number };
  };
  assert.ok(doc.findings.every((f) => f.event?.code === '5145'));
  assert.ok(doc.stats.outOfRange > 0);
  const without = deminer(['hunt', EVTX, '--exclude-eid', '1102', '-f', 'jsonl']);
  assert.ok(jsonl(without.out).every((f) => (f['event'] as { code?: string } | undefined)?.code !== '1102'));
  assert.equal(deminer(['hunt', EVTX, '--include-eid', '1;rm']).code, 2);
  const stable = deminer(['hunt', EVTX, '--status', 'stable']);
  assert.equal(stable.code, 2, 'no built-in rule is stable yet: nothing left to run is a usage error');
  assert.equal(deminer(['hunt', EVTX, '--status', 'bogus']).code, 2);
});

test('colours only on a terminal, and never with NO_COLOR or --no-color', (t) => {
  const script = '/usr/bin/script';
  if (!existsSync(script)) {
    t.diagnostic('util-linux script(1) is missing: no pseudo-terminal to test colours on');
    return t.skip('no script(1)');
  }
  const onTty = (env: Record<string, string>, extra = ''): string => {
    const r = spawnSync(
      script,
      ['-qec', `'${process.execPath}' '${bin}' hunt '${EVTX}' ${extra}`, '/dev/null'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, COLUMNS: '120', ...env },
      },
    );
    return r.stdout;
  };
  assert.match(onTty({}), /\x1b\[31m/, 'a terminal gets colour');
  assert.doesNotMatch(onTty({ NO_COLOR: '1' }), /\x1b\[3\dm/);
  assert.doesNotMatch(onTty({}, '--no-color'), /\x1b\[3\dm/);
  assert.doesNotMatch(deminer(['hunt', EVTX]).out, /\x1b/, 'a pipe gets none');
});

test('one meaning per short flag: -f format, -o output, -c config, -r read', () => {
  assert.equal(jsonl(deminer(['dga', 'score', '-f', 'jsonl', 'example.com']).out).length, 1);
  assert.equal(deminer(['evtx', 'dump', EVTX, '-f', 'xml']).out.startsWith('<Event'), true);
  const c = deminer(['sniff', '-r', STRATUM, '-c', '5']);
  assert.equal(c.code, 2, '-c is --config, which sniff does not take; --count has no short form');
  assert.equal(deminer(['intel', 'lookup', '-f', 'jsonl', 'example.com']).code, 0);
});
