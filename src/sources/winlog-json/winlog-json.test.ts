import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromDumperLayout, readWinlogJson, sniffWinlogJson } from './index.ts';

const dumper = (id: number) => ({
  Event: {
    System: {
      Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon' } },
      EventID: 1,
      EventRecordID: id,
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Computer: 'h1',
      TimeCreated: { '#attributes': { SystemTime: '2025-01-01T00:00:00.1234567Z' } },
    },
    EventData: { Image: 'C:\\a "quoted" {brace}.exe' },
  },
});

async function read(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'winlog-json-'));
  const f = join(dir, 'x.json');
  writeFileSync(f, text);
  const out = [];
  for await (const i of readWinlogJson(f)) out.push(i);
  return out;
}

test('JSON Lines, pretty documents one after another, and arrays all read the same', async () => {
  const docs = [dumper(1), dumper(2)];
  for (const text of [
    docs.map((d) => JSON.stringify(d)).join('\n'),
    `\uFEFF${docs.map((d) => JSON.stringify(d, null, 2)).join('\n')}`,
    JSON.stringify(docs, null, 1),
  ]) {
    const items = await read(text);
    assert.deepEqual(
      items.map((i) => (i.kind === 'event' ? i.event.winlog?.record_id : i.kind)),
      [1, 2],
    );
    const first = items[0]!;
    assert.ok(first.kind === 'event');
    assert.equal(first.event['@timestamp'], '2025-01-01T00:00:00.123Z');
    assert.equal(first.event.winlog?.event_data?.['Image'], 'C:\\a "quoted" {brace}.exe');
  }
});

test('Winlogbeat documents, unknown layouts and broken lines', async () => {
  const wb = {
    '@timestamp': '2025-01-01T00:00:00Z',
    winlog: { channel: 'Security', event_id: 4688, record_id: 9, event_data: { NewProcessName: 'x' } },
  };
  const items = await read(`${JSON.stringify({ _source: wb })}\n{"other": 1}\n{"broken": \n`);
  assert.equal(items[0]!.kind, 'event');
  assert.deepEqual(
    items.slice(1).map((i) => (i.kind === 'issue' ? i.issue.code : i.kind)),
    ['WINLOG_UNKNOWN_LAYOUT', 'JSON_TRUNCATED'],
  );
  assert.ok(sniffWinlogJson(new TextEncoder().encode(JSON.stringify(wb))));
  assert.ok(!sniffWinlogJson(new TextEncoder().encode('{"ts": 1, "id.orig_h": "192.0.2.1"}')));
});

test('event times agree with Date.parse, whatever the second cache holds', () => {
  const ref = (s: string): string | undefined => {
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  };
  const times = [
    '2019-03-19T23:34:25.1239999Z',
    '2019-03-19T23:34:25.1230000Z',
    '2019-03-19T23:34:26.9999999Z',
    '2019-02-30T00:00:00.0000000Z',
    '2019-13-01T00:00:00.0000000Z',
    '9999-12-31T23:59:59.9999999Z',
    '1601-01-01T00:00:00.000Z',
    '2019-03-19T23:34:25Z',
    '2019-03-19T24:00:00.5000000Z',
    '2019-03-19T24:00:00.0000000Z',
    '2019-03-19T23:60:00.5000000Z',
  ];
  for (const t of [...times, ...times]) {
    const e = fromDumperLayout({ Event: { System: { TimeCreated: { '#attributes': { SystemTime: t } } } } });
    assert.equal(e?.['@timestamp'], ref(t), t);
  }
});

test('ECS documents of other Elastic sources (no winlog) are read with their field sets', async () => {
  const ecs = {
    '@timestamp': '2025-03-01T10:00:00.5Z',
    event: { category: ['process'], type: ['start'], kind: 'event' },
    host: { name: 'web-01' },
    process: {
      pid: 4242,
      name: 'kswapd0',
      executable: '/tmp/.x/kswapd0',
      command_line: '/tmp/.x/kswapd0 -o pool:3333',
    },
  };
  const head = new TextEncoder().encode(JSON.stringify(ecs));
  assert.equal(sniffWinlogJson(head), true);
  const items = await read(`${JSON.stringify({ _source: ecs })}\n${JSON.stringify({ event: {} })}\n`);
  assert.equal(items.length, 2);
  const first = items[0]!;
  assert.ok(first.kind === 'event');
  assert.equal(first.event['@timestamp'], '2025-03-01T10:00:00.500Z');
  assert.equal(first.event.process?.pid, 4242);
  assert.equal(first.event.host?.name, 'web-01');
  assert.equal(first.event.winlog, undefined);
  // An event object without any field set of an event is not an event.
  assert.equal(items[1]!.kind, 'issue');
});
