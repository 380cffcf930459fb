import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { networkLists } from '../../src/detect/network/lists.ts';
import { NetworkDetector } from '../../src/detect/network/network-detector.ts';
import { CaptureAnalyzer } from '../../src/sources/pcap/capture-analyzer.ts';
import { CaptureReader } from '../../src/sources/pcap/capture-reader.ts';
import { parseEveLine } from '../../src/sources/suricata/eve-json.ts';
import { ZeekLogParser } from '../../src/sources/zeek/zeek-log.ts';
import { rng } from './pcap-build.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'network');
const FILES = ['dns.pcap', 'malformed_dns.pcap', 'dns2tcp_tunnel.pcap', 'stratum-s0-excerpt.pcapng'];

/** Byte flips, length-field smashes, truncation and splices: the damage real captures show. */
function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const b = src.slice();
  const kind = Math.floor(r() * 4);
  const n = 1 + Math.floor(r() * 16);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * b.length);
    if (kind === 0) b[at] = Math.floor(r() * 256);
    else if (kind === 1) b[at] = r() < 0.5 ? 0xff : 0;
    else if (kind === 2) b[at] = 0xc0 | (b[at]! & 0x3f);
  }
  if (kind === 3) return b.subarray(0, Math.floor(r() * b.length));
  return b;
}

test('seeded fuzzing of the capture pipeline: no crash, no hang, issues counted', () => {
  const lists = networkLists();
  let issues = 0;
  let packets = 0;
  const t0 = Date.now();
  for (const name of FILES) {
    const original = new Uint8Array(readFileSync(join(fixtures, name)));
    const r = rng(name.length * 7919);
    for (let i = 0; i < 150; i++) {
      const data = mutate(original, r);
      const detector = new NetworkDetector({ lists });
      const analyzer = new CaptureAnalyzer({
        file: name,
        p2pPorts: lists.p2pPorts,
        emit: (e) => detector.observe(e),
        issue: () => {
          issues++;
        },
      });
      const reader = new CaptureReader(analyzer, name);
      const chunk = 1 + Math.floor(r() * 4096);
      for (let o = 0; o < data.length; o += chunk) reader.push(data.subarray(o, o + chunk));
      reader.end();
      analyzer.finish();
      detector.finalize();
      packets += reader.packets;
    }
  }
  assert.ok(packets > 1000);
  assert.ok(issues > 0);
  assert.ok(Date.now() - t0 < 30_000);
});

test('seeded fuzzing of the Zeek and eve.json line parsers', () => {
  const r = rng(42);
  const lines = [
    '{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5,"id.resp_h":"192.0.2.1","id.resp_p":53,"proto":"udp","query":"a.example","answers":["192.0.2.9"]}',
    '{"timestamp":"2021-06-06T16:26:27.431769+0200","event_type":"dns","src_ip":"10.0.0.1","src_port":5,"dest_ip":"192.0.2.1","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"a.example","rrtype":"A"}}',
    '1601998366.786397\tC1\t10.0.0.1\t5\t192.0.2.1\t53\tudp\t1\t0.1\ta.example\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t192.0.2.9\t1.0\tF',
  ];
  for (let i = 0; i < 5000; i++) {
    const base = lines[i % lines.length]!;
    const chars = [...base];
    const n = 1 + Math.floor(r() * 6);
    for (let k = 0; k < n; k++)
      chars[Math.floor(r() * chars.length)] = String.fromCharCode(Math.floor(r() * 128));
    const text = chars.join('');
    const z = new ZeekLogParser('z.log');
    z.line('#separator \\x09');
    z.line(
      '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected',
    );
    z.line(text);
    parseEveLine(text, 'eve.json', i);
  }
});
