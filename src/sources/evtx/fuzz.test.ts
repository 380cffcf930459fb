/**
 * Seeded fuzzing of the parser with real samples: bit flips, truncation,
 * chunk shuffles and lying record sizes. Nothing may escape the iterator,
 * every record must render, no input may take long, and memory stays bounded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { FIXTURES } from './fixture-files.ts';
import { parseEvtxBuffer, renderXml } from './index.ts';

const SEED = 0x5eed_e7;
const ITERATIONS = 400;
const HEADER = 4096;
const CHUNK = 65536;

const rng = seededRandom;

/** One file with a chunk from every fixture, so that shuffles and cross-chunk damage have something to work on. */
function multiChunkSample(): Uint8Array {
  const files = Object.values(FIXTURES).map((p) => new Uint8Array(readFileSync(p)));
  const out = new Uint8Array(HEADER + files.length * CHUNK);
  out.set(files[0]!.subarray(0, HEADER), 0);
  files.forEach((f, i) => {
    out.set(f.subarray(HEADER, HEADER + CHUNK), HEADER + i * CHUNK);
  });
  return out;
}

function recordStarts(buf: Uint8Array): number[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: number[] = [];
  for (let p = HEADER; p + 8 <= buf.length; p += 8) if (dv.getUint32(p, true) === 0x2a2a) out.push(p);
  return out;
}

function mutate(src: Uint8Array, rand: () => number): { buf: Uint8Array; what: string } {
  const int = (n: number) => Math.floor(rand() * n);
  let buf = src.slice();
  const steps: string[] = [];
  const count = 1 + int(3);
  for (let s = 0; s < count; s++) {
    const kind = int(5);
    if (kind === 0) {
      const flips = 1 + int(64);
      for (let i = 0; i < flips; i++) {
        const at = int(buf.length);
        buf[at] = buf[at]! ^ (1 << int(8));
      }
      steps.push(`flip${flips}`);
    } else if (kind === 1) {
      const len = int(buf.length);
      buf = buf.slice(0, len);
      steps.push(`truncate${len}`);
    } else if (kind === 2 && buf.length >= HEADER + 2 * CHUNK) {
      const n = Math.floor((buf.length - HEADER) / CHUNK);
      const a = int(n);
      const b = int(n);
      const tmp = buf.slice(HEADER + a * CHUNK, HEADER + (a + 1) * CHUNK);
      buf.copyWithin(HEADER + a * CHUNK, HEADER + b * CHUNK, HEADER + (b + 1) * CHUNK);
      buf.set(tmp, HEADER + b * CHUNK);
      steps.push(`swap${a},${b}`);
    } else if (kind === 3) {
      const starts = recordStarts(buf);
      const at = starts[int(starts.length)];
      if (at !== undefined && at + 8 <= buf.length) {
        const lie = [0, 8, 24, 0xffffffff, int(70000), int(2000)][int(6)]!;
        new DataView(buf.buffer).setUint32(at + 4, lie, true);
        steps.push(`size@${at}=${lie}`);
      }
    } else {
      // Overwrite a run with random bytes: garbage tokens, offsets and lengths.
      const at = int(buf.length);
      const len = int(512);
      for (let i = at; i < Math.min(buf.length, at + len); i++) buf[i] = int(256);
      steps.push(`garbage@${at}+${len}`);
    }
  }
  return { buf, what: steps.join(' ') };
}

test(`fuzz: ${ITERATIONS} seeded mutations of real samples never throw, hang or grow memory`, () => {
  const samples = [
    multiChunkSample(),
    ...Object.values(FIXTURES).map((p) => new Uint8Array(readFileSync(p))),
  ];
  const rand = rng(SEED);
  const heapBefore = process.memoryUsage().heapUsed;
  let records = 0;
  let issues = 0;
  let slowest = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const { buf, what } = mutate(samples[Math.floor(rand() * samples.length)]!, rand);
    const t0 = performance.now();
    try {
      for (const item of parseEvtxBuffer(buf, 'fuzz')) {
        if (item.kind === 'issue') {
          issues++;
          assert.match(item.issue.code, /^EVTX_[A-Z_]+$/);
          assert.match(item.issue.location, /^fuzz:\d+$/);
          continue;
        }
        records++;
        JSON.stringify(item.record);
        renderXml(item.record);
      }
    } catch (e) {
      assert.fail(`iteration ${i} (${what}) threw: ${(e as Error).stack}`);
    }
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    // A 260 KiB input parses in milliseconds; seconds mean a loop gone wrong (the margin absorbs a loaded CI machine).
    assert.ok(ms < 5000, `iteration ${i} (${what}) took ${ms.toFixed(0)} ms`);
  }
  const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  assert.ok(grownMb < 200, `heap grew by ${grownMb.toFixed(0)} MB`);
  assert.ok(records > 0 && issues > 0);
});
