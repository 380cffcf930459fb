import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ParseIssue } from '../../src/core/errors.ts';
import { CaptureReader, type PacketSink } from '../../src/sources/pcap/capture-reader.ts';
import {
  Decoded,
  decodePacket,
  dstIpString,
  PacketView,
  srcIpString,
} from '../../src/sources/pcap/decode.ts';
import { FragmentReassembler } from '../../src/sources/pcap/ip-fragments.ts';
import { concat, dnsQuery, ethIpv4Udp, pcapFile, pcapngSection } from './pcap-build.ts';

interface Seen {
  linktype: number;
  tsMs: number;
  bytes: number[];
}

function collect(file: Uint8Array, chunk = file.length): { packets: Seen[]; issues: ParseIssue[] } {
  const packets: Seen[] = [];
  const issues: ParseIssue[] = [];
  const sink: PacketSink = {
    onPacket: (buf, _dv, off, caplen, linktype, tsMs) =>
      packets.push({ linktype, tsMs, bytes: [...buf.subarray(off, off + caplen)] }),
    onIssue: (i) => issues.push(i),
  };
  const r = new CaptureReader(sink, 'mem');
  for (let o = 0; o < file.length; o += chunk) r.push(file.subarray(o, o + chunk));
  r.end();
  return { packets, issues };
}

const A = ethIpv4Udp([10, 0, 0, 1], [192, 0, 2, 53], 40000, 53, dnsQuery('pool.example.org'));
const B = ethIpv4Udp([10, 0, 0, 2], [198, 51, 100, 7], 40001, 53, dnsQuery('x.example.net'));

test('pcap in both byte orders, micro- and nanoseconds, whatever the chunking', () => {
  for (const littleEndian of [true, false]) {
    for (const nano of [false, true]) {
      const file = pcapFile([A, B], { littleEndian, nano });
      for (const chunk of [file.length, 7, 1]) {
        const { packets, issues } = collect(file, chunk);
        assert.equal(issues.length, 0);
        assert.equal(packets.length, 2);
        assert.deepEqual(packets[0]!.bytes, [...A]);
        assert.deepEqual(packets[1]!.bytes, [...B]);
        assert.equal(packets[0]!.tsMs, 1_700_000_000_500);
      }
    }
  }
});

test('pcapng: several interfaces, tsresol, simple packet blocks, two sections with different byte orders', () => {
  const s1 = pcapngSection(
    [
      [1, undefined],
      [101, 9],
    ],
    [
      [0, A],
      [1, A.subarray(14)],
      [-1, B],
    ],
    true,
  );
  const s2 = pcapngSection([[1, 6]], [[0, B]], false);
  const file = concat([...s1, ...s2]);
  for (const chunk of [file.length, 5]) {
    const { packets, issues } = collect(file, chunk);
    assert.deepEqual(issues, []);
    assert.deepEqual(
      packets.map((p) => p.linktype),
      [1, 101, 1, 1],
    );
    assert.deepEqual(packets[1]!.bytes, [...A.subarray(14)]);
    // 0x00060000 << 32 units: microseconds by default, nanoseconds with tsresol 9.
    assert.equal(Math.round(packets[0]!.tsMs), Math.round((0x00060000 * 2 ** 32) / 1e3));
    assert.equal(Math.round(packets[1]!.tsMs), Math.round((0x00060000 * 2 ** 32) / 1e6));
  }
});

test('truncated captures and impossible lengths are reported, not fatal', () => {
  const file = pcapFile([A, B]);
  const cut = collect(file.subarray(0, file.length - 5));
  assert.equal(cut.packets.length, 1);
  assert.equal(cut.issues[0]?.code, 'PCAP_TRUNCATED');
  const bad = file.slice();
  new DataView(bad.buffer).setUint32(24 + 8, 0x7fffffff, true);
  const r = collect(bad);
  // The damaged record is reported and skipped; the reader finds the next one and reads on.
  assert.equal(r.packets.length, 1);
  assert.equal(r.issues[0]?.code, 'PCAP_BAD_RECORD_LENGTH');
  assert.match(r.issues[0]!.location, /^mem:24$/);
  assert.equal(collect(new Uint8Array(40)).issues[0]?.code, 'PCAP_BAD_MAGIC');
});

test('link layers: Ethernet with stacked VLAN tags, Linux cooked v1 and v2, BSD loopback, raw IP', () => {
  const ip = A.subarray(14);
  const vlan = concat([
    A.subarray(0, 12),
    new Uint8Array([0x88, 0xa8, 0, 5, 0x81, 0x00, 0, 7, 0x08, 0x00]),
    ip,
  ]);
  const sll = concat([new Uint8Array(14), new Uint8Array([0x08, 0x00]), ip]);
  const sll2 = concat([new Uint8Array([0x08, 0x00]), new Uint8Array(18), ip]);
  const nul = concat([new Uint8Array([2, 0, 0, 0]), ip]);
  const cases: [number, Uint8Array][] = [
    [1, vlan],
    [113, sll],
    [276, sll2],
    [0, nul],
    [101, ip],
    [228, ip],
  ];
  for (const [lt, bytes] of cases) {
    const pv = new PacketView();
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const r = decodePacket(pv, bytes, dv, 0, bytes.length, lt, new FragmentReassembler(), 0);
    assert.equal(r, Decoded.Ok, `linktype ${lt}`);
    assert.equal(srcIpString(pv), '10.0.0.1');
    assert.equal(dstIpString(pv), '192.0.2.53');
    assert.equal(pv.dstPort, 53);
    assert.equal(pv.proto, 17);
  }
});

test('IPv4 fragments are reassembled in any order; lone fragments expire', () => {
  const payload = dnsQuery(`${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`);
  const whole = ethIpv4Udp([10, 0, 0, 1], [192, 0, 2, 53], 1234, 53, payload).subarray(14);
  const body = whole.subarray(20);
  const frag = (off: number, end: number, more: boolean): Uint8Array => {
    const f = concat([whole.subarray(0, 20), body.subarray(off, end)]);
    const dv = new DataView(f.buffer);
    dv.setUint16(2, f.length);
    dv.setUint16(4, 0x4242);
    dv.setUint16(6, (more ? 0x2000 : 0) | (off / 8));
    return f;
  };
  const parts = [frag(0, 64, true), frag(64, 128, true), frag(128, body.length, false)];
  for (const order of [
    [0, 1, 2],
    [2, 0, 1],
    [1, 2, 0],
  ]) {
    const frags = new FragmentReassembler();
    const pv = new PacketView();
    const results = order.map((i) => {
      const p = parts[i]!;
      return decodePacket(pv, p, new DataView(p.buffer), 0, p.length, 101, frags, 0);
    });
    assert.deepEqual(results.slice(0, 2), [Decoded.Held, Decoded.Held]);
    assert.equal(results[2], Decoded.Ok);
    assert.equal(pv.payloadLen, payload.length);
    assert.deepEqual([...pv.buf.subarray(pv.payloadOff, pv.payloadOff + pv.payloadLen)], [...payload]);
  }
  const frags = new FragmentReassembler({ timeoutMs: 1000 });
  const pv = new PacketView();
  const p0 = parts[0]!;
  decodePacket(pv, p0, new DataView(p0.buffer), 0, p0.length, 101, frags, 0);
  const p2 = parts[2]!;
  decodePacket(pv, p2, new DataView(p2.buffer), 0, p2.length, 101, frags, 5000);
  assert.equal(frags.dropped, 1);
});
