import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { metrics } from '../../src/pipeline/metrics.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/deminer.js');
const tmp = mkdtempSync(join(tmpdir(), 'deminer-metrics-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function deminer(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Row {
  key: Record<string, string | number | null>;
  events: number;
  percent: number;
  flows?: number;
  first_seen: string | null;
  last_seen: string | null;
}
interface Table {
  total: number;
  distinct: number;
  rows: Row[];
  omitted: number;
  overflow: { events: number; max_keys: number } | null;
}
type Envelope = {
  metrics: Record<string, Table>;
  issues: unknown[];
  stats: { files: number; events: number };
};

const EVTX_DIR = join(root, 'test/fixtures/evtx');
const evtxFiles = readdirSync(EVTX_DIR)
  .filter((f) => f.endsWith('.evtx'))
  .map((f) => join('test/fixtures/evtx', f));

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

function tableCounts(t: Table, key: (r: Row) => string): Map<string, number> {
  return new Map(t.rows.map((r) => [key(r), r.events]));
}

test('event-log metrics of the EVTX fixtures agree with the records the parser dumps', () => {
  const r = deminer(['metrics', ...evtxFiles, '-f', 'json']);
  assert.equal(r.code, 0, r.err);
  const env = JSON.parse(r.out) as Envelope;
  assert.deepEqual(Object.keys(env.metrics), ['eid', 'computer', 'channel', 'provider']);
  // The records as `evtx dump` prints them, one JSON document per line.
  // EventID is a number, or `{"#attributes": {"Qualifiers": …}, "#text": id}` when it has qualifiers.
  const records: { EventID: number | { '#text': number }; Channel: string; Computer: string }[] = [];
  for (const f of evtxFiles) {
    const d = deminer(['evtx', 'dump', f]);
    assert.equal(d.code, 0, d.err);
    for (const line of d.out.split('\n').filter(Boolean))
      records.push((JSON.parse(line) as { Event: { System: (typeof records)[number] } }).Event.System);
  }
  assert.equal(env.metrics['eid']!.total, records.length);
  assert.deepEqual(
    tableCounts(env.metrics['eid']!, (x) => `${x.key['channel']}/${x.key['event_id']}`),
    countBy(records, (x) => `${x.Channel}/${typeof x.EventID === 'object' ? x.EventID['#text'] : x.EventID}`),
  );
  assert.deepEqual(
    tableCounts(env.metrics['computer']!, (x) => String(x.key['computer'])),
    countBy(records, (x) => x.Computer),
  );
  assert.deepEqual(
    tableCounts(env.metrics['channel']!, (x) => String(x.key['channel'])),
    countBy(records, (x) => x.Channel),
  );
  const rows = env.metrics['eid']!.rows;
  for (let i = 1; i < rows.length; i++)
    assert.ok(rows[i - 1]!.events >= rows[i]!.events, 'most events first');
  const sum = rows.reduce((s, x) => s + x.percent, 0);
  assert.ok(Math.abs(sum - 100) < 0.1, `shares add up to 100 (${sum})`);
  for (const x of rows) assert.ok(x.first_seen! <= x.last_seen!);
});

const evtxexport = spawnSync('evtxexport', ['-V']);

test('per event id and per computer, each EVTX fixture agrees with evtxexport', (t) => {
  if (evtxexport.error) return t.skip('evtxexport (Debian package libevtx-utils) is not installed');
  for (const f of evtxFiles) {
    const x = spawnSync('evtxexport', [f], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(x.status, 0, x.stderr);
    // "Event identifier : 0x00001b85 (7045)": the low 16 bits are the id, the rest qualifiers.
    const ids = [...x.stdout.matchAll(/^Event identifier\s*:\s*0x([0-9a-f]+)/gim)].map((m) =>
      String(Number.parseInt(m[1]!, 16) & 0xffff),
    );
    const computers = [...x.stdout.matchAll(/^Computer name\s*:\s*(.*)$/gm)].map((m) => m[1]!.trim());
    assert.ok(ids.length > 0, f);
    const r = deminer(['metrics', f, '-f', 'json', '--by', 'eid,computer']);
    assert.equal(r.code, 0, r.err);
    const env = JSON.parse(r.out) as Envelope;
    assert.deepEqual(Object.keys(env.metrics), ['eid', 'computer']);
    assert.deepEqual(
      tableCounts(env.metrics['eid']!, (row) => String(row.key['event_id'])),
      countBy(ids, (id) => id),
      f,
    );
    assert.deepEqual(
      tableCounts(env.metrics['computer']!, (row) => String(row.key['computer'])),
      countBy(computers, (c) => c),
      f,
    );
  }
});

function conversations(args: string[]): Row[] {
  const r = deminer(['metrics', ...args, '-f', 'json']);
  assert.equal(r.code, 0, r.err);
  const env = JSON.parse(r.out) as Envelope;
  assert.deepEqual(Object.keys(env.metrics), ['conversation'], 'network inputs: conversations by default');
  return env.metrics['conversation']!.rows;
}

test('conversations of a capture: client → server:port with flows and times', () => {
  const rows = conversations(['test/fixtures/network/dns2tcp_tunnel.pcap']);
  const tls = rows.find((x) => x.key['destination'] === '1.1.1.1' && x.key['port'] === 443);
  assert.ok(tls, JSON.stringify(rows));
  assert.equal(tls.key['source'], '192.168.20.211');
  assert.equal(tls.key['transport'], 'tcp');
  assert.equal(tls.flows, 1);
  assert.ok(tls.first_seen && tls.last_seen && tls.first_seen <= tls.last_seen);
});

const haveTshark = spawnSync('tshark', ['-v']).status === 0;

test('TCP conversations of the captures agree with tshark -z conv,tcp', (t) => {
  if (!haveTshark) return t.skip('tshark is not installed (apt-get install tshark)');
  let compared = 0;
  for (const f of [
    'test/fixtures/network/dns2tcp_tunnel.pcap',
    'test/fixtures/network/stratum-s0-excerpt.pcapng',
  ]) {
    const rows = conversations([f]).filter((x) => x.key['transport'] === 'tcp');
    const ts = spawnSync('tshark', ['-r', f, '-q', '-z', 'conv,tcp'], { cwd: root, encoding: 'utf8' });
    assert.equal(ts.status, 0, ts.stderr);
    // "A:pa <-> B:pb  framesBA bytes … framesAB bytes … frames bytes …"
    const convs = [
      ...ts.stdout.matchAll(/^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+\d+ bytes\s+(\d+)\s+\d+ bytes/gm),
    ].map((m) => ({
      a: m[1]!,
      pa: Number(m[2]),
      b: m[3]!,
      pb: Number(m[4]),
      back: Number(m[5]),
      fwd: Number(m[6]),
    }));
    assert.ok(convs.length > 0, ts.stdout);
    // Connections with packets both ways (a lone reset opens no connection): one flow each.
    const wanted = new Map<string, number>();
    for (const c of convs.filter((x) => x.back > 0 && x.fwd > 0)) {
      const mine = rows.find(
        (x) =>
          (x.key['source'] === c.a && x.key['destination'] === c.b && x.key['port'] === c.pb) ||
          (x.key['source'] === c.b && x.key['destination'] === c.a && x.key['port'] === c.pa),
      );
      assert.ok(mine, `${f}: tshark's ${c.a}:${c.pa} <-> ${c.b}:${c.pb} is missing`);
      const k = JSON.stringify(mine.key);
      wanted.set(k, (wanted.get(k) ?? 0) + 1);
    }
    for (const x of rows.filter((r) => wanted.has(JSON.stringify(r.key)))) {
      assert.equal(x.flows, wanted.get(JSON.stringify(x.key)), JSON.stringify(x.key));
      compared++;
    }
  }
  assert.ok(compared >= 5, `${compared} conversations compared`);
});

test('conversations of a Zeek dns.log agree with a count of its lines', () => {
  const file = 'test/fixtures/network/zeek-dns.log';
  const rows = conversations([file, '--by', 'conversation']);
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const fields = lines
    .find((l) => l.startsWith('#fields'))!
    .split('\t')
    .slice(1);
  const col = (n: string): number => fields.indexOf(n);
  const expected = new Map<string, number>();
  for (const l of lines) {
    if (!l || l.startsWith('#')) continue;
    const v = l.split('\t');
    if (v[col('query')] === '-' || v[col('query')] === '') continue;
    const k = `${v[col('id.orig_h')]} ${v[col('id.resp_h')]} ${v[col('id.resp_p')]} ${v[col('proto')]}`;
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  assert.ok(expected.size > 0);
  assert.deepEqual(
    new Map(
      rows.map((x) => [
        `${x.key['source']} ${x.key['destination']} ${x.key['port']} ${x.key['transport']}`,
        x.events,
      ]),
    ),
    expected,
  );
});

test('table and csv: hostile names escaped, formulas neutralised; --top cuts and says so', () => {
  const file = join(tmp, 'hostile.jsonl');
  const docs = [
    { computer: '=HYPERLINK("http://evil")', eid: 4688 },
    { computer: 'ws\u001b[2J-07', eid: 4688 },
    { computer: 'ws\u001b[2J-07', eid: 1 },
  ].map((d, i) =>
    JSON.stringify({
      '@timestamp': `2025-03-04T09:00:0${i}.000Z`,
      winlog: { channel: 'Security', event_id: d.eid, computer_name: d.computer, event_data: { X: 'y' } },
    }),
  );
  writeFileSync(file, `${docs.join('\n')}\n`);
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  const table = deminer(['metrics', file]);
  assert.equal(table.code, 0, table.err);
  assert.doesNotMatch(table.out, raw);
  assert.match(table.out, /ws\\x1b\[2J-07/);
  const csv = deminer(['metrics', file, '-f', 'csv', '--by', 'computer']);
  assert.equal(csv.code, 0);
  assert.doesNotMatch(csv.out, raw);
  const lines = csv.out.trim().split('\n');
  assert.equal(
    lines[0],
    'metric,event_id,channel,computer,provider,source,destination,port,transport,events,percent,flows,first_seen,last_seen',
  );
  assert.equal(lines.length, 3);
  assert.ok(
    lines.includes(
      `computer,,,"'=HYPERLINK(""http://evil"")",,,,,,1,33.33,,2025-03-04T09:00:00.000Z,2025-03-04T09:00:00.000Z`,
    ),
    csv.out,
  );
  const top = deminer(['metrics', file, '--by', 'computer', '--top', '1']);
  assert.match(top.out, /1 more row\(s\) not shown \(--top\)/);
  const topCsv = deminer(['metrics', file, '-f', 'csv', '--by', 'computer', '--top', '1']);
  assert.equal(topCsv.out.trim().split('\n').length, 2);
  assert.match(topCsv.err, /1 more row\(s\) not shown/);
});

test('tables keep a bounded number of keys and count the overflow', async () => {
  const issues: unknown[] = [];
  const r = await metrics({ paths: evtxFiles, by: ['eid'], maxKeys: 2, onIssue: (i) => issues.push(i) });
  assert.deepEqual(issues, []);
  const eid = r.tables[0]!;
  assert.equal(eid.distinct, 2);
  assert.equal(eid.total, r.stats.logEvents);
  assert.ok(eid.overflow && eid.overflow.events > 0 && eid.overflow.max_keys === 2);
  assert.equal(eid.rows.reduce((s, x) => s + x.events, 0) + eid.overflow.events, eid.total);
});

test('exit codes and -o', () => {
  const missing = deminer(['metrics', 'no/such/file.evtx']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no\/such\/file\.evtx/);
  assert.equal(deminer(['metrics', evtxFiles[0]!, '--by', 'everything']).code, 2);
  assert.equal(deminer(['metrics', evtxFiles[0]!, '--top', '-1']).code, 2);
  // Damaged input: the counts are incomplete, and the exit code says so.
  const damaged = deminer(['metrics', 'test/fixtures/network/malformed_dns.pcap']);
  assert.equal(damaged.code, 2);
  assert.match(damaged.err, /DNS_NAME_TOO_LONG/);
  const out = join(tmp, 'm.json');
  const r = deminer(['metrics', evtxFiles[0]!, '-f', 'json', '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '');
  assert.ok((JSON.parse(readFileSync(out, 'utf8')) as Envelope).metrics['eid']);
  assert.equal(statSync(out).mode & 0o777, 0o644 & ~process.umask());
  assert.equal(deminer(['metrics', evtxFiles[0]!, '-o', join(tmp, 'nope', 'm.txt')]).code, 2);
});
