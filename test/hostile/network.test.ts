import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ethIpv4TcpSyn, pcapFile } from '../network/pcap-build.ts';

const tmp = mkdtempSync(join(tmpdir(), 'deminer-hostile-net-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const child = fileURLToPath(new URL('./network-child.ts', import.meta.url));

test('a capture with 400,000 source hosts stays within bounded memory; the evictions are counted', () => {
  // One new connection from each of 400,000 sources (shared address space 100.64.0.0/10, written to a
  // file only) to a pool port of one documentation address, hunted with --min-level high: every
  // per-host table, and 400,000 medium findings nobody asked for, would be held unbounded.
  const hosts = 400_000;
  const packets: Uint8Array[] = [];
  for (let i = 0; i < hosts; i++)
    packets.push(
      ethIpv4TcpSyn([100, 64 + (i >> 16), (i >> 8) & 0xff, i & 0xff], [203, 0, 113, 7], 40000, 443),
    );
  const file = join(tmp, 'many-hosts.pcap');
  writeFileSync(file, pcapFile(packets));
  packets.length = 0;
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, file], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const ms = performance.now() - t;
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    maxRssMb: number;
    findings: number;
    stats: { events: number; detectors: Record<string, number> };
  };
  assert.equal(out.stats.events, hosts, 'every flow was read');
  const evicted = Object.entries(out.stats.detectors).filter(([k, v]) => k.includes('evicted') && v > 0);
  assert.ok(evicted.length > 0, `evictions counted: ${JSON.stringify(out.stats.detectors)}`);
  assert.equal(out.findings, 0, 'medium findings are not kept under --min-level high');
  // Unbounded (before), this peaked at about 1.4 GB; bounded, about 0.5 GB (the flow table and reader).
  assert.ok(out.maxRssMb < 800, `peak RSS ${out.maxRssMb} MB`);
  // A bound far above the normal few seconds: only a hang or a quadratic table fails it.
  assert.ok(ms < 90_000, `${Math.round(ms)} ms`);
});
