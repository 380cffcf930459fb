/**
 * Hostile inputs (issue 12): each test is the reproducer, a wall-clock bound
 * far above the normal time, and the data that must survive. Readers that
 * used to hang run in a child process with a timeout, so a regression fails
 * the test instead of stalling the runner; the child also reports its peak
 * RSS.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ParseIssue } from '../../src/core/errors.ts';
import { captureItems } from '../../src/sources/pcap/source.ts';
import { concat, dnsQuery, ethIpv4Udp, pcapFile, pcapngSection } from '../network/pcap-build.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const BOUND_MS = 10_000;
const RSS_BOUND_KB = 512 * 1024;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'deminer-hostile-'));
  dirs.push(d);
  return d;
}

interface ChildRun<T> {
  value: T;
  ms: number;
  maxRssKb: number;
}

/**
 * Runs `body` (an async function body with `mod` bound to the imported
 * module) in a child Node process and returns what it returns. A child that
 * overruns BOUND_MS is killed and fails the test.
 */
function inChild<T>(module: string, body: string, boundMs = BOUND_MS): ChildRun<T> {
  const script = `
    const mod = await import(${JSON.stringify(pathToFileURL(join(SRC, module)).href)});
    const t0 = performance.now();
    const value = await (async () => { ${body} })();
    const ms = performance.now() - t0;
    process.stdout.write(JSON.stringify({ value, ms, maxRssKb: process.resourceUsage().maxRSS }));
  `;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    timeout: boundMs,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = performance.now() - t0;
  assert.notEqual(r.signal, 'SIGTERM', `child still running after ${Math.round(wall)} ms: it hangs`);
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as ChildRun<T>;
  assert.ok(out.maxRssKb < RSS_BOUND_KB, `peak RSS ${out.maxRssKb} kB`);
  console.log(`  ${module}: ${out.ms.toFixed(0)} ms, peak RSS ${(out.maxRssKb / 1024).toFixed(0)} MB`);
  return out;
}

const linux = process.platform === 'linux';
if (!linux) console.log('# skipping FIFO and symlink tests: they need Linux (mkfifo, procfs layout)');

test(
  'a FIFO among persistence files does not stop the scan; regular files around it are read',
  { skip: !linux },
  () => {
    const root = tempDir();
    mkdirSync(join(root, 'etc/cron.d'), { recursive: true });
    mkdirSync(join(root, 'home/mallory'), { recursive: true });
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    execFileSync('mkfifo', [join(root, 'home/mallory/.bashrc')]);
    execFileSync('mkfifo', [join(root, 'etc/crontab')]);
    execFileSync('mkfifo', [join(root, 'etc/systemd/system/x.service')]);
    writeFileSync(join(root, 'etc/cron.d/miner'), '* * * * * root /tmp/.x/xmrig -o 203.0.113.5:3333\n');
    writeFileSync(join(root, 'home/mallory/.profile'), '/tmp/.x/kswapd0 &\n');
    const r = inChild<{ path: string; text: string }[]>(
      'sources/procfs/persistence-files.ts',
      `return mod.collectPersistenceFiles(${JSON.stringify(root)}).map((f) => ({ path: f.path, text: f.text }));`,
    );
    const paths = r.value.map((f) => f.path).sort();
    assert.deepEqual(paths, ['/etc/cron.d/miner', '/home/mallory/.profile']);
    assert.match(r.value.find((f) => f.path === '/etc/cron.d/miner')!.text, /203\.0\.113\.5:3333/);
  },
);

test('links in an image resolve inside --root, never to this host', { skip: !linux }, () => {
  const host = tempDir();
  const secret = join(host, 'host-secret');
  writeFileSync(secret, 'HOST-ONLY-CONTENT\n');
  const root = join(host, 'image');
  mkdirSync(join(root, 'etc/cron.d'), { recursive: true });
  mkdirSync(join(root, 'opt/jobs'), { recursive: true });
  mkdirSync(join(root, 'home/u/.ssh'), { recursive: true });
  // Absolute, relative-escaping and directory links out of the image.
  symlinkSync(secret, join(root, 'etc/cron.d/abs'));
  symlinkSync('../../../host-secret', join(root, 'etc/cron.d/rel'));
  symlinkSync('../../../../../../../../..', join(root, 'home/u/.config'));
  symlinkSync(host, join(root, 'etc/xdg'));
  symlinkSync(secret, join(root, 'etc/crontab'));
  // A link that stays inside, absolute as images write them: must be read from the image.
  writeFileSync(join(root, 'opt/jobs/good'), '*/5 * * * * root /opt/jobs/run --url 198.51.100.9\n');
  symlinkSync('/opt/jobs/good', join(root, 'etc/cron.d/good'));
  // `..` above the root stops at the root, as in a chroot.
  symlinkSync('../../../../../../opt/jobs/good', join(root, 'etc/cron.d/dots'));
  // A loop is refused, not followed forever.
  symlinkSync('loop2', join(root, 'etc/cron.d/loop1'));
  symlinkSync('loop1', join(root, 'etc/cron.d/loop2'));
  writeFileSync(join(host, '.bashrc'), 'HOST-ONLY-CONTENT\n');
  symlinkSync('/../../.bashrc', join(root, 'home/u/.bashrc'));
  const r = inChild<{ path: string; text: string }[]>(
    'sources/procfs/persistence-files.ts',
    `return mod.collectPersistenceFiles(${JSON.stringify(root)}).map((f) => ({ path: f.path, text: f.text }));`,
  );
  for (const f of r.value) assert.doesNotMatch(f.text, /HOST-ONLY/, `${f.path} was read from the host`);
  assert.deepEqual(r.value.map((f) => f.path).sort(), ['/etc/cron.d/dots', '/etc/cron.d/good']);
  for (const f of r.value) assert.match(f.text, /198\.51\.100\.9/);
});

/** Reads a capture through the pcap source in `chunk`-byte pieces; what the detectors would get. */
async function readCapture(file: Uint8Array, chunk: number): Promise<{ text: string; issues: ParseIssue[] }> {
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for (let o = 0; o < file.length; o += chunk) yield file.subarray(o, o + chunk);
  }
  const events: unknown[] = [];
  const issues: ParseIssue[] = [];
  for await (const batch of captureItems(pieces(), 'evil.pcap'))
    for (const item of batch) {
      if (item.kind === 'net') events.push(item.event);
      else if (item.kind === 'issue') issues.push(item.issue);
    }
  return { text: JSON.stringify(events), issues };
}

const Q1 = ethIpv4Udp([192, 0, 2, 10], [198, 51, 100, 53], 40000, 53, dnsQuery('first.minexmr.com'));
const Q2 = ethIpv4Udp([192, 0, 2, 10], [198, 51, 100, 53], 40001, 53, dnsQuery('second.minexmr.com'));
const FILLER = ethIpv4Udp([192, 0, 2, 11], [203, 0, 113, 7], 5000, 9, new Uint8Array(40));

test('a broken pcap record header is reported with its offset; the pool lookup after it is still seen', async () => {
  for (const broken of [0xffffffff, 0x7fffffff, 300_000]) {
    const file = pcapFile([Q1, FILLER, Q2]);
    const at = 24 + 16 + Q1.length;
    new DataView(file.buffer).setUint32(at + 8, broken, true);
    for (const chunk of [file.length, 1024, 7]) {
      const t0 = performance.now();
      const r = await readCapture(file, chunk);
      const ms = performance.now() - t0;
      assert.ok(ms < BOUND_MS, `${ms} ms`);
      assert.match(r.text, /first\.minexmr\.com/);
      assert.match(r.text, /second\.minexmr\.com/, `caplen ${broken}, chunks of ${chunk}`);
      assert.equal(r.issues[0]?.code, 'PCAP_BAD_RECORD_LENGTH');
      assert.equal(r.issues[0]?.location, `evil.pcap:${at}`);
    }
  }
});

test('a pcapng block of impossible length is reported with its offset; the blocks after it are read', async () => {
  const parts = pcapngSection(
    [[1, undefined]],
    [
      [0, Q1],
      [0, FILLER],
      [0, Q2],
    ],
  );
  const file = concat(parts);
  // parts: SHB, IDB, EPB(Q1), EPB(FILLER), EPB(Q2); break the filler's length.
  const at = parts[0]!.length + parts[1]!.length + parts[2]!.length;
  for (const broken of [8, 0xfffffffc, 13]) {
    const bad = file.slice();
    new DataView(bad.buffer).setUint32(at + 4, broken, true);
    for (const chunk of [bad.length, 1024, 5]) {
      const r = await readCapture(bad, chunk);
      assert.match(r.text, /first\.minexmr\.com/);
      assert.match(r.text, /second\.minexmr\.com/, `length ${broken}, chunks of ${chunk}`);
      assert.equal(r.issues[0]?.code, 'PCAPNG_BAD_BLOCK_LENGTH');
      assert.equal(r.issues[0]?.location, `evil.pcap:${at}`);
    }
  }
});

/** A Security 4688 record in the EVTX-dumper layout, `eventData` as raw JSON text. */
function record4688(id: number, eventData: string): string {
  return JSON.stringify({
    Event: {
      System: {
        EventID: 4688,
        Channel: 'Security',
        Computer: 'ws1.example',
        EventRecordID: id,
        TimeCreated: { '#attributes': { SystemTime: '2026-01-01T00:00:00Z' } },
      },
      EventData: '@DATA@',
    },
  }).replace('"@DATA@"', eventData);
}

test('one JSON record nested 10,000 deep is skipped with its line; the records after it are kept', () => {
  const dir = tempDir();
  const file = join(dir, 'security.jsonl');
  const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
  const miner = JSON.stringify({
    NewProcessName: 'C:\\Users\\Public\\xmrig.exe',
    CommandLine: 'xmrig.exe -o stratum+tcp://203.0.113.5:3333 -u 4A... --donate-level 1',
  });
  writeFileSync(
    file,
    `${[record4688(1, '{"NewProcessName":"C:\\\\Windows\\\\notepad.exe"}'), record4688(2, deep), record4688(3, miner)].join('\n')}\n`,
  );
  // What the reader yields, then the whole hunt with the shipped Sigma rules
  // (whose field walk overflowed the stack and ended the file).
  const read = inChild<{ events: number[]; issues: ParseIssue[] }>(
    'sources/winlog-json/index.ts',
    `const events = []; const issues = [];
     for await (const it of mod.readWinlogJson(${JSON.stringify(file)}))
       if (it.kind === 'event') events.push(it.event.winlog.record_id); else issues.push(it.issue);
     return { events, issues };`,
  );
  assert.deepEqual(read.value.events, [1, 3]);
  assert.deepEqual(
    read.value.issues.map((i) => [i.code, i.location]),
    [['JSON_TOO_DEEP', `${file}:2`]],
  );
  const hunted = inChild<{ events: number; issues: ParseIssue[]; xmrig: boolean }>(
    'pipeline/hunt.ts',
    `const { loadSigmaRules } = await import(${JSON.stringify(pathToFileURL(join(SRC, 'detect/sigma/index.ts')).href)});
     const r = await mod.hunt({ paths: [${JSON.stringify(file)}], rules: loadSigmaRules().rules });
     return { events: r.stats.events, issues: r.issues, xmrig: JSON.stringify(r.findings).includes('xmrig') };`,
  );
  assert.equal(hunted.value.events, 2);
  assert.deepEqual(
    hunted.value.issues.map((i) => [i.code, i.location]),
    [['JSON_TOO_DEEP', `${file}:2`]],
  );
  assert.ok(hunted.value.xmrig, 'the miner record after the deep one was matched');
});

const ALLOW_HEAD = '<?xml version="1.0"?>\n';
const ALLOW_BODY =
  '<ApplicationControl><AllowedProcesses><Process name="sshd" path="/usr/sbin/sshd"/>&x;</AllowedProcesses></ApplicationControl>\n';

test('allow-list XML with a DTD is refused with a usage error naming the file, never expanded', () => {
  const dir = tempDir();
  const big = 'A'.repeat(100_000);
  const cases: Record<string, string> = {
    external: `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n${ALLOW_BODY}`,
    parameter: `<!DOCTYPE a [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p; <!ENTITY x "y">]>\n${ALLOW_BODY}`,
    expansion: `<!DOCTYPE a [<!ENTITY x "${big}">]>\n${ALLOW_BODY.replace('&x;', '&x;'.repeat(20_000))}`,
    lowercase: `<!doctype a>\n${ALLOW_BODY.replace('&x;', '')}`,
  };
  for (const [name, body] of Object.entries(cases)) {
    const file = join(dir, `${name}.xml`);
    writeFileSync(file, ALLOW_HEAD + body);
    const r = inChild<{ name?: string; code?: string; location?: string; message: string }>(
      'detect/host/allowlist/parse.ts',
      `try { mod.loadAllowlist(${JSON.stringify(file)}); return { message: 'accepted' }; }
       catch (e) { return { name: e.name, code: e.code, location: e.location, message: e.message }; }`,
    );
    assert.equal(r.value.name, 'UsageError', `${name}: ${r.value.message}`);
    assert.equal(r.value.code, 'ALLOWLIST_DTD');
    assert.equal(r.value.location, `${file}:2`);
    assert.ok(r.value.message.includes(file));
  }
});

test('an allow-list of 200,000 entries loads in linear time with each entry on its line', () => {
  const dir = tempDir();
  const file = join(dir, 'big.xml');
  const lines = ['<ApplicationControl>', '<AllowedProcesses>'];
  for (let i = 0; i < 200_000; i++) lines.push(`  <Process name="p${i}" path="/opt/app${i}/bin/p${i}"/>`);
  lines.push('</AllowedProcesses>', '</ApplicationControl>');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = inChild<{ n: number; last: { line: number; name?: string } }>(
    'detect/host/allowlist/parse.ts',
    `const e = mod.loadAllowlist(${JSON.stringify(file)}); return { n: e.length, last: e.at(-1) };`,
    // The XML library alone needs 3-6 s for 20 MB on a busy machine; the quadratic line count took minutes.
    60_000,
  );
  assert.equal(r.value.n, 200_000);
  assert.equal(r.value.last.line, 200_002);
  assert.equal(r.value.last.name, 'p199999');
});

const BIN = fileURLToPath(new URL('../../bin/deminer.js', import.meta.url));

function deminer(home: string, ...args: string[]) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: BOUND_MS * 3,
    env: { ...process.env, DEMINER_HOME: home, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr, ms: performance.now() - t0 };
}

test('a file: feed is cached private (0600 in a 0700 folder) and its lines never reach the update table', () => {
  const home = tempDir();
  const feed = join(home, 'internal-feed.txt');
  writeFileSync(
    feed,
    'pool.internal-mine.example\n\x1b]0;owned\x07\x1b[2Jevil-line-text\n198.51.100.77\n=HYPERLINK("x")\n',
  );
  const cfg = join(home, 'config.yaml');
  const state = join(home, 'intel');
  writeFileSync(cfg, `intel:\n  feeds:\n    - name: internal\n      file: ${feed}\n      format: plain\n`);
  const u = deminer(home, 'intel', 'update', '--config', cfg, '--state-dir', state);
  assert.equal(u.code, 0, u.err);
  assert.ok(u.ms < BOUND_MS * 3);
  assert.doesNotMatch(u.out, /\x1b|owned|evil-line-text|HYPERLINK/, 'a feed line reached the table');
  assert.match(u.out, /internal/);
  assert.equal(statSync(state).mode & 0o777, 0o700);
  const feeds = join(state, 'feeds');
  assert.equal(statSync(feeds).mode & 0o777, 0o700);
  const cached = readdirSync(feeds);
  assert.ok(cached.length > 0);
  for (const f of cached) assert.equal(statSync(join(feeds, f)).mode & 0o777, 0o600, f);
  const l = deminer(
    home,
    'intel',
    'lookup',
    '--state-dir',
    state,
    '--format',
    'jsonl',
    'pool.internal-mine.example',
  );
  assert.equal(l.code, 1, `${l.out}${l.err}`);
});

test('intel lookup refuses values that are no names and finds every spelling of a listed one', () => {
  const home = tempDir();
  const bad = [
    '..',
    '...minexmr.com',
    `${'a'.repeat(70_000)}.com`,
    '\x1b[31mminexmr.com',
    'x.\x07.minexmr.com',
  ];
  const spellings = ['ｍｉｎｅｘｍｒ．ｃｏｍ', 'minexmr。com', 'MINEXMR.COM.', 'pool.ＭＩＮＥＸＭＲ.com'];
  const r = deminer(home, 'intel', 'lookup', '--format', 'jsonl', ...bad, ...spellings);
  assert.ok(r.ms < BOUND_MS * 3);
  const lines = r.out
    .trim()
    .split('\n')
    .map((x) => JSON.parse(x) as { value: string; listed: boolean });
  assert.equal(lines.length, bad.length + spellings.length);
  for (const [i, v] of bad.entries()) assert.equal(lines[i]!.listed, false, JSON.stringify(v).slice(0, 40));
  for (const [i, v] of spellings.entries()) assert.equal(lines[bad.length + i]!.listed, true, v);
  // One problem per refused value, and no raw control character on the terminal's stream from them.
  assert.equal(r.err.match(/INTEL_BAD_VALUE/g)?.length, bad.length, r.err.slice(0, 2000));
});
