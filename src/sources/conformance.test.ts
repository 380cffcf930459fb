import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Source, SourceItem } from '../core/stages.ts';
import { HEAD_BYTES } from '../core/stages.ts';
import { NETWORK_SOURCES, SOURCES, sourceFor } from './registry.ts';

/**
 * Every source in the registry passes the same checks: it lives in its own
 * folder, recognises its real samples (and no other source takes them
 * first), reads them into events of its kind, and meets damaged or foreign
 * bytes with issues that name the file, never with an exception.
 */
const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const SAMPLES: Record<string, string[]> = {
  evtx: ['evtx/sysmon-psexec-smb-meterpreter.evtx', 'evtx/security-bloodhound-5145.evtx'],
  pcap: ['network/dns.pcap', 'network/stratum-s0-excerpt.pcapng'],
  zeek: ['network/zeek-dns.log'],
  suricata: ['network/suricata-eve-excerpt.json'],
  'winlog-json': ['hunt/winlogbeat-miner.jsonl'],
  auditd: ['linux/real/go-libaudit-audit.log', 'linux/campaign/audit.log'],
  'sysmon-linux': ['linux/campaign/syslog'],
  journald: ['linux/campaign/journal.json'],
};

const tmp = mkdtempSync(join(tmpdir(), 'deminer-sources-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function head(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path)).subarray(0, HEAD_BYTES);
}

async function readAll(source: Source, path: string): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  const size = readFileSync(path).length;
  const loaded = source.load ? await source.load(path, size, {}) : undefined;
  if (loaded) for (const i of loaded) out.push(i);
  else for await (const batch of source.read(path, {})) out.push(...batch);
  return out;
}

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('source names are unique and every registered source has a sample here', () => {
  const names = SOURCES.map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  for (const n of names) assert.ok(SAMPLES[n], `no sample listed for source ${n}`);
});

for (const source of SOURCES) {
  describe(`source ${source.name}`, () => {
    const network = NETWORK_SOURCES.includes(source);

    test('lives in its own folder with a source.ts', () => {
      const dir = source.name === 'pcap' ? 'pcap' : source.name;
      assert.ok(existsSync(new URL(`./${dir}/source.ts`, import.meta.url)), `src/sources/${dir}/source.ts`);
    });

    test('recognises its samples, and no source before it in the registry takes them', () => {
      for (const rel of SAMPLES[source.name] ?? []) {
        const p = join(fixtures, rel);
        assert.equal(source.sniff(head(p), p), true, rel);
        assert.equal(sourceFor(head(p), p), source, `${rel} is taken by ${sourceFor(head(p), p)?.name}`);
      }
    });

    test('reads its samples into events of its kind; issues name the file', async () => {
      for (const rel of SAMPLES[source.name] ?? []) {
        const p = join(fixtures, rel);
        const items = await readAll(source, p);
        const events = items.filter((i) => i.kind === (network ? 'net' : 'event'));
        assert.ok(events.length > 0, `${rel}: no events`);
        assert.equal(
          items.filter((i) => i.kind === (network ? 'event' : 'net')).length,
          0,
          `${rel}: events of the other kind`,
        );
        for (const i of items)
          if (i.kind === 'issue') assert.ok(i.issue.location.startsWith(p), i.issue.location);
      }
    });

    test('sniffing never throws, whatever the bytes', () => {
      const r = rng(source.name.length * 131);
      for (let n = 0; n < 200; n++) {
        const b = new Uint8Array(Math.floor(r() * 600));
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
        assert.equal(typeof source.sniff(b, `x${n}.bin`), 'boolean');
      }
      assert.equal(typeof source.sniff(new Uint8Array(0), 'empty'), 'boolean');
    });

    test('damaged samples (truncated, bytes flipped) give issues or fewer events, never an exception', async () => {
      const r = rng(source.name.length * 7919);
      for (const rel of SAMPLES[source.name] ?? []) {
        const original = new Uint8Array(readFileSync(join(fixtures, rel)));
        for (let n = 0; n < 12; n++) {
          const b = original.slice(0, Math.max(16, Math.floor(original.length * (0.2 + r() * 0.8))));
          // Keep the first bytes (the magic) so the file still reaches this source.
          for (let k = 0; k < 8; k++) {
            const at = 64 + Math.floor(r() * Math.max(1, b.length - 64));
            if (at < b.length) b[at] = Math.floor(r() * 256);
          }
          const p = join(tmp, `${source.name}-${n}-${rel.replace(/\W/g, '_')}`);
          writeFileSync(p, b);
          const items = await readAll(source, p);
          for (const i of items) if (i.kind === 'issue') assert.ok(i.issue.location.startsWith(p));
        }
      }
    });
  });
}
