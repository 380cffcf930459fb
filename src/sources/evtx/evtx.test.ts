import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { UsageError } from '../../core/errors.ts';
import { FIXTURES } from './fixture-files.ts';
import { type EvtxItem, type EvtxRecord, isEvtx, parseEvtxBuffer, readEvtxFile, renderXml } from './index.ts';

function split(items: Iterable<EvtxItem>): { records: EvtxRecord[]; codes: string[] } {
  const records: EvtxRecord[] = [];
  const codes: string[] = [];
  for (const it of items) {
    if (it.kind === 'record') records.push(it.record);
    else codes.push(it.issue.code);
  }
  return { records, codes };
}

function load(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

type Obj = Record<string, unknown>;
const ev = (r: EvtxRecord) => r.event.Event as Obj;
const sys = (r: EvtxRecord) => ev(r).System as Obj;
const data = (r: EvtxRecord) => ev(r).EventData as Obj;

/** Offsets (within the first chunk) of its records, from their headers. */
function recordOffsets(buf: Uint8Array): number[] {
  const dv = new DataView(buf.buffer, buf.byteOffset);
  const out: number[] = [];
  for (let p = 4096 + 512; p + 8 < 4096 + 65536; ) {
    if (dv.getUint32(p, true) !== 0x2a2a) break;
    out.push(p);
    p += dv.getUint32(p + 4, true);
  }
  return out;
}

describe('evtx parser on real samples', () => {
  it('reads a System 7045 service installation in the dumpers JSON layout', () => {
    const { records, codes } = split(parseEvtxBuffer(load(FIXTURES.system7045), 'f'));
    assert.deepEqual(codes, []);
    assert.equal(records.length, 1);
    const r = records[0]!;
    assert.equal(r.chunk, 0);
    assert.equal(r.offset, 4096 + 512);
    assert.match(r.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    assert.deepEqual(sys(r).EventID, { '#attributes': { Qualifiers: 16384 }, '#text': 7045 });
    assert.equal(sys(r).Channel, 'System');
    assert.equal(sys(r).Correlation, null);
    assert.deepEqual(sys(r).Execution, { '#attributes': { ProcessID: 468, ThreadID: 3256 } });
    assert.equal(data(r).ServiceName, 'WinPwnage');
    assert.equal(data(r).AccountName, 'LocalSystem');
    assert.equal(
      ev(r)['#attributes'] && (ev(r)['#attributes'] as Obj).xmlns,
      'http://schemas.microsoft.com/win/2004/08/events/event',
    );
  });

  it('keeps Sysmon numbers as numbers, GUIDs upper case without braces, hex as 0x strings', () => {
    const { records, codes } = split(parseEvtxBuffer(load(FIXTURES.sysmon), 'f'));
    assert.deepEqual(codes, []);
    assert.equal(records.length, 10);
    const first = records[0]!;
    assert.equal(sys(first).EventID, 18);
    assert.deepEqual(sys(first).Provider, {
      '#attributes': { Name: 'Microsoft-Windows-Sysmon', Guid: '5770385F-C22A-43E0-BF4C-06F5698FFBD9' },
    });
    assert.equal(sys(first).Keywords, '0x8000000000000000');
    assert.equal(data(first).ProcessId, 4);
    assert.match(
      String(data(first).ProcessGuid),
      /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/,
    );
    const ids = records.map((r) => sys(r).EventRecordID as number);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
  });

  it('turns unnamed Data and string arrays into Data["#text"] like evtx_dump, and repeats <Data> in XML', () => {
    const { records } = split(parseEvtxBuffer(load(FIXTURES.stringArray), 'f'));
    const r = records.find((x) => {
      const id = sys(x).EventID;
      return (typeof id === 'object' ? (id as Obj)['#text'] : id) === 15457;
    });
    assert.ok(r);
    const d = data(r).Data as Obj;
    assert.deepEqual(d['#text'], ['show advanced options', '0', '1']);
    assert.match(String(data(r).Binary), /^[0-9A-F]+$/);
    const xml = renderXml(r);
    assert.match(xml, /<Data>show advanced options<\/Data>\n\s+<Data>0<\/Data>\n\s+<Data>1<\/Data>/);
  });

  it('renders XML the way Windows does', () => {
    const { records } = split(parseEvtxBuffer(load(FIXTURES.security), 'f'));
    const xml = renderXml(records[1]!);
    assert.match(
      xml,
      /^<Event xmlns="http:\/\/schemas.microsoft.com\/win\/2004\/08\/events\/event">\n {2}<System>/,
    );
    assert.match(
      xml,
      /<Provider Name="Microsoft-Windows-Security-Auditing" Guid="\{54849625-5478-4994-A5BA-3E3B0328C30D\}"\/>/,
    );
    assert.match(xml, /<TimeCreated SystemTime="\d{4}-\d\d-\d\dT[\d:]+\.\d{9}Z"\/>/);
    assert.match(xml, /<Correlation\/>/);
    assert.match(xml, /<Data Name="ShareName">[^<]+<\/Data>/);
    assert.match(xml, /<\/Event>$/);
  });

  it('streams from a file with the same result as from memory', async () => {
    const fromBuffer = split(parseEvtxBuffer(load(FIXTURES.sysmon), FIXTURES.sysmon));
    const streamed: EvtxItem[] = [];
    for await (const it of readEvtxFile(FIXTURES.sysmon)) streamed.push(it);
    assert.deepEqual(split(streamed), fromBuffer);
  });

  it('stops when aborted', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const items: EvtxItem[] = [];
    for await (const it of readEvtxFile(FIXTURES.sysmon, { signal: ctl.signal })) items.push(it);
    assert.equal(items.length, 0);
  });

  it('throws a UsageError only for an unreadable path', async () => {
    await assert.rejects(async () => {
      for await (const _ of readEvtxFile('/nonexistent/x.evtx')) {
        // unreachable
      }
    }, UsageError);
  });

  it('sniffs the file signature', () => {
    assert.equal(isEvtx(load(FIXTURES.sysmon).subarray(0, 8)), true);
    assert.equal(isEvtx(new TextEncoder().encode('ElfChnk\0')), false);
    assert.equal(isEvtx(new Uint8Array(3)), false);
  });
});

describe('evtx parser on damaged input', () => {
  it('recovers the whole records of a truncated file', () => {
    const full = split(parseEvtxBuffer(load(FIXTURES.sysmon), 'f')).records;
    const offsets = recordOffsets(load(FIXTURES.sysmon));
    const cut = offsets[6]! + 40;
    const { records, codes } = split(parseEvtxBuffer(load(FIXTURES.sysmon).subarray(0, cut), 'f'));
    assert.ok(codes.includes('EVTX_TRUNCATED_CHUNK'));
    assert.deepEqual(records, full.slice(0, 6));
  });

  it('reports a chunk header with a bad checksum and still reads its records', () => {
    const buf = load(FIXTURES.sysmon);
    buf[4096 + 100] = buf[4096 + 100]! ^ 0xff;
    const { records, codes } = split(parseEvtxBuffer(buf, 'f'));
    assert.ok(codes.includes('EVTX_CHUNK_HEADER_CRC'));
    assert.equal(records.length, 10);
  });

  it('reports a destroyed chunk signature and recovers records by scanning', () => {
    const buf = load(FIXTURES.sysmon);
    buf.fill(0x41, 4096, 4096 + 8);
    const { records, codes } = split(parseEvtxBuffer(buf, 'f'));
    assert.ok(codes.includes('EVTX_BAD_CHUNK'));
    assert.equal(records.length, 10);
  });

  it('skips one record whose size lies and keeps the next ones', () => {
    const buf = load(FIXTURES.sysmon);
    const offsets = recordOffsets(buf);
    new DataView(buf.buffer).setUint32(offsets[3]! + 4, 0x7777, true);
    const { records, codes } = split(parseEvtxBuffer(buf, 'f'));
    assert.ok(codes.includes('EVTX_BAD_RECORD'));
    assert.equal(records.length, 9);
    assert.deepEqual(
      records.map((r) => r.offset),
      offsets.filter((_, i) => i !== 3),
    );
  });

  it('reports garbage inside one record with its location and keeps the others', () => {
    const buf = load(FIXTURES.security);
    const offsets = recordOffsets(buf);
    // Overwrite the substitution values of record 4 with 0xff (its template stays intact).
    const start = offsets[4]! + 24 + 60;
    buf.fill(0xff, start, start + 40);
    const items = [...parseEvtxBuffer(buf, 'sec.evtx')];
    const issues = items.flatMap((i) => (i.kind === 'issue' ? [i.issue] : []));
    assert.ok(issues.some((i) => i.code === 'EVTX_CHUNK_DATA_CRC'));
    const bad = issues.find((i) => i.location === `sec.evtx:${offsets[4]}`);
    assert.ok(bad, JSON.stringify(issues));
    assert.match(bad.message, /chunk 0: record \d+/);
    assert.equal(items.filter((i) => i.kind === 'record').length, offsets.length - 1);
  });

  it('reports a file that is not EVTX without throwing', () => {
    const junk = new Uint8Array(200_000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) & 0xff;
    const { records, codes } = split(parseEvtxBuffer(junk, 'junk'));
    assert.equal(records.length, 0);
    assert.ok(codes.includes('EVTX_BAD_FILE_HEADER'));
  });

  it('reports a bad file header checksum and reads on', () => {
    const buf = load(FIXTURES.system7045);
    buf[4096 - 1] = 0;
    buf[30] = buf[30]! ^ 1;
    assert.notEqual(crc32(buf.subarray(0, 120)), new DataView(buf.buffer).getUint32(124, true));
    const { records, codes } = split(parseEvtxBuffer(buf, 'f'));
    assert.deepEqual(codes, ['EVTX_FILE_HEADER_CRC']);
    assert.equal(records.length, 1);
  });
});
