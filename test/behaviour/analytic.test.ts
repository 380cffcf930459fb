/**
 * The behaviour analytic and its place in the correlation, on series
 * recorded from real programs (data/behaviour/recordings): the real capped
 * XMRig and real benign work, scored by the shipped model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Recording } from '../../scripts/behaviour/record.ts';
import type { BehaviourSeries, ProcessInfo } from '../../src/core/host-snapshot.ts';
import { BehaviourHistory, dayOf } from '../../src/detect/host/behaviour/history.ts';
import { behaviour } from '../../src/detect/host/behaviour/index.ts';
import { analyzeHost } from '../../src/detect/host/registry.ts';
import { processInfo, snapshot } from '../../src/detect/host/snapshot-fixture.ts';
import { FEATURE_COUNT, windowFeatures } from '../../src/ml/behaviour/features.ts';
import {
  failedGate,
  parseBehaviourModel,
  score,
  shippedBehaviourModel,
} from '../../src/ml/behaviour/model.ts';
import { REPO } from '../sim/harness.ts';

const REC = join(REPO, 'data/behaviour/recordings');

function recording(name: string): Recording {
  return JSON.parse(gunzipSync(readFileSync(join(REC, `${name}.json.gz`))).toString('utf8')) as Recording;
}

/** The last minute of a series, its time rebased to 0 (what a 60 s scan window holds). */
function lastMinute(s: BehaviourSeries): BehaviourSeries {
  const from = Math.max(0, s.t.length - 61);
  const out = { ...s } as Record<string, unknown>;
  for (const [k, v] of Object.entries(s)) if (Array.isArray(v)) out[k] = v.slice(from);
  const t = (out['t'] as number[]).map((x, _i, a) => x - a[0]!);
  return { ...(out as BehaviourSeries), t };
}

/**
 * The busiest workload process of a recording, its last minute, with the
 * outbound connections the recorder counted (what a scan reads from the
 * socket tables).
 */
function workload(rec: Recording): BehaviourSeries {
  const cpuOf = (s: BehaviourSeries) => s.utime.at(-1)! + s.stime.at(-1)! - s.utime[0]! - s.stime[0]!;
  const p = rec.processes
    .filter((x) => x.role === 'workload' && x.series.t.length >= 61)
    .sort((a, b) => cpuOf(b.series) - cpuOf(a.series))[0]!;
  const counted = p.outbound.filter((v) => v >= 0);
  return { ...lastMinute(p.series), outbound: counted.at(-1) ?? 0 };
}

function proc(
  pid: number,
  name: string,
  exe: string,
  packaged: boolean,
  series: BehaviourSeries,
): ProcessInfo {
  return processInfo({
    pid,
    name,
    exe,
    packaged,
    threads: series.threads.at(-1)!,
    behaviour: series,
    cpuSeries: [],
  });
}

describe('behaviour analytic on recorded real programs', () => {
  const miner = workload(recording('xmrig-cgroup-20'));
  const postgres = workload(recording('pgbench'));
  const xz = workload(recording('xz-cgroup-30'));
  const host = { name: 'db-01', os: 'linux', cpus: 2 };

  test('a cgroup-capped XMRig under an ordinary name, no package: high, named by the behaviour rule', () => {
    const snap = snapshot({
      host,
      windowMs: 60_000,
      processes: [
        proc(100, 'dbus-session-he', '/usr/local/bin/dbus-session-helper', false, miner),
        proc(200, 'postgres', '/usr/lib/postgresql/15/bin/postgres', true, postgres),
        proc(300, 'xz', '/usr/bin/xz', true, xz),
      ],
    });
    const findings = analyzeHost(snap);
    const m = findings.find((f) => f.process?.pid === 100);
    assert.ok(m, 'the miner is reported');
    assert.equal(m.rule.id, 'deminer.behaviour.miner_like');
    assert.ok(['high', 'critical'].includes(m.severity), m.severity);
    const signals = m.evidence['signals'] as { id: string; evidence?: Record<string, unknown> }[];
    const b = signals.find((s) => s.id === 'behaviour.miner_like')!;
    assert.ok(signals.some((s) => s.id === 'behaviour.unpackaged_binary'));
    assert.ok((b.evidence!['score'] as number) >= shippedBehaviourModel().threshold);
    assert.ok((b.evidence!['minutes_observed'] as number) >= 0.9);
    assert.ok((b.evidence!['top_features'] as { feature: string }[]).length > 0);
    for (const pid of [200, 300]) {
      const f = findings.find((x) => x.process?.pid === pid);
      assert.ok(!f || f.severity === 'low', `benign ${pid}: ${f?.severity} ${f?.message}`);
    }
  });

  test('the same behaviour from a package-owned binary is never more than medium', () => {
    const snap = snapshot({
      host,
      windowMs: 60_000,
      processes: [proc(100, 'postgres', '/usr/lib/postgresql/15/bin/postgres', true, miner)],
    });
    const f = analyzeHost(snap).find((x) => x.process?.pid === 100);
    assert.ok(f, 'still reported: it behaves like a miner');
    assert.ok(['low', 'medium'].includes(f.severity), f.severity);
    assert.ok(
      !(f.evidence['signals'] as { id: string }[]).some((s) => s.id === 'behaviour.unpackaged_binary'),
    );
  });

  test("the agent's per-binary baseline: a package's program that behaved so on 3 earlier days is low; an unpackaged one is never baselined", () => {
    const pg = proc(100, 'postgres', '/usr/lib/postgresql/15/bin/postgres', true, miner);
    const dropped = proc(200, 'dbus-session-he', '/usr/local/bin/dbus-session-helper', false, miner);
    const snap = snapshot({ host, windowMs: 60_000, processes: [pg, dropped] });
    const today = dayOf(snap.takenAt);
    const history = new BehaviourHistory();
    const key = BehaviourHistory.keyOf(pg)!;
    assert.ok(key);
    assert.equal(BehaviourHistory.keyOf(dropped), undefined, 'no package owns it: never baselined');
    assert.equal(BehaviourHistory.keyOf({ ...pg, exeDeleted: true }), undefined, 'deleted since start');
    const sev = () => {
      const fs = analyzeHost(snap, { behaviourHistory: history });
      return {
        pg: fs.find((f) => f.process?.pid === 100)!,
        dropped: fs.find((f) => f.process?.pid === 200)!,
      };
    };
    history.note(key, today); // today's own sightings do not count
    history.note(key, today - 1);
    history.note(key, today - 2);
    assert.equal(sev().pg.severity, 'medium', 'two earlier days: not yet its normal');
    history.note(key, today - 9);
    const { pg: f, dropped: d } = sev();
    assert.equal(f.severity, 'low', f.message);
    assert.match(f.message, /on 3 earlier days on this host/);
    const b = (f.evidence['signals'] as { id: string; evidence?: Record<string, unknown> }[]).find(
      (s) => s.id === 'behaviour.miner_like',
    )!;
    assert.equal(b.evidence!['baseline_days'], 3);
    assert.ok(['high', 'critical'].includes(d.severity), 'the unpackaged miner stays high');
    // Another file at the same path (a replaced binary) starts from nothing.
    const replaced = { ...pg, sha256: 'ab'.repeat(32) };
    assert.equal(history.daysBefore(BehaviourHistory.keyOf(replaced)!, today), 0);
    // The agent's series carries the hash of a package's binary (the scan does not hash those).
    const sampled = { ...pg, behaviour: { ...miner, exeSha256: 'cd'.repeat(32) } };
    assert.notEqual(BehaviourHistory.keyOf(sampled), key);
  });

  test('the baseline file: saved and read back, bounded, a damaged one set aside', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deminer-bh-'));
    try {
      const path = join(dir, 'behaviour-history.json');
      const h = new BehaviourHistory();
      for (let i = 0; i < 2100; i++) h.note(`/usr/bin/p${i}\u0000`, 20000);
      for (let d = 0; d < 70; d++) h.note('/usr/bin/p2099\u0000', 20000 + d);
      assert.equal(h.size, 2048, 'at most 2048 binaries, the least recent dropped');
      assert.equal(h.daysBefore('/usr/bin/p0\u0000', 30000), 0);
      h.save(path);
      const back = BehaviourHistory.load(path);
      assert.equal(back.size, 2048);
      assert.equal(back.daysBefore('/usr/bin/p2099\u0000', 30000), 60, 'at most 60 days each');
      writeFileSync(path, '{"format":"deminer-behaviour-history","version":1,"binaries":"x"}');
      const warned: string[] = [];
      assert.equal(BehaviourHistory.load(path, (m) => warned.push(m)).size, 0);
      assert.match(warned.join(), /not a behaviour history/);
      assert.ok(readFileSync(`${path}.bad`, 'utf8').includes('binaries'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the model's gates: a minute in the kernel, waiting, or without a pool connection scores 0", () => {
    const m = shippedBehaviourModel();
    assert.deepEqual(
      (m.gates ?? []).map((g) => g.feature),
      ['user_share', 'vcsw_per_cpu_s', 'outbound_conns'],
    );
    const x = windowFeatures(miner, 2, 0, miner.t.length - 1)!;
    assert.ok(score(m, x) >= m.threshold, 'the recorded miner minute is above the threshold');
    assert.equal(failedGate(m, x), undefined);
    for (const [i, v, feature] of [
      [3, 0.5, 'user_share'],
      [4, 4.2, 'vcsw_per_cpu_s'],
      [15, 0, 'outbound_conns'],
    ] as const) {
      const y = [...x];
      y[i] = v;
      assert.equal(failedGate(m, y)?.feature, feature);
      assert.equal(score(m, y), 0);
    }
    const json = JSON.parse(readFileSync(join(REPO, 'data/behaviour/model.json'), 'utf8'));
    assert.throws(
      () => parseBehaviourModel({ ...json, gates: [{ feature: 'nope', min: 0, why: 'x' }] }),
      /gate on unknown feature/,
    );
  });

  test('too few samples: no behaviour signal', () => {
    const short = Object.fromEntries(
      Object.entries(miner).map(([k, v]) => [k, Array.isArray(v) ? v.slice(0, 5) : v]),
    ) as BehaviourSeries;
    const snap = snapshot({ host, processes: [proc(1, 'x', '/usr/local/bin/x', false, short)] });
    assert.deepEqual(behaviour.analyze(snap, {}), []);
  });

  test('hostile counters (NaN, stepping back, huge) give finite features and no throw', () => {
    const n = 61;
    const t = Array.from({ length: n }, (_, i) => i * 1000);
    const wild = (i: number) => (i % 3 === 0 ? Number.NaN : i % 3 === 1 ? 1e300 : 0);
    const s: BehaviourSeries = {
      t,
      utime: t.map((_, i) => wild(i)),
      stime: t.map((_, i) => n - i),
      minflt: t.map((_, i) => wild(i + 1)),
      majflt: t.map(() => 0),
      vcsw: t.map((_, i) => wild(i + 2)),
      nvcsw: t.map(() => 1e308),
      runNs: t.map(() => 0),
      waitNs: t.map((_, i) => i * 1e18),
      rchar: t.map((_, i) => wild(i)),
      wchar: t.map(() => 0),
      readBytes: t.map(() => 0),
      writeBytes: t.map(() => 0),
      threads: t.map(() => 1e9),
      rssPages: t.map((_, i) => wild(i)),
      stopped: t.map((_, i) => i % 2),
      cgPeriods: t.map((_, i) => i),
      cgThrottled: t.map((_, i) => i * 1e9),
      nice: 19,
    };
    const x = windowFeatures(s, 2)!;
    assert.equal(x.length, FEATURE_COUNT);
    for (const v of x) assert.ok(Number.isFinite(v), String(x));
    const snap = snapshot({ host, processes: [proc(1, 'x', '/usr/local/bin/x', false, s)] });
    assert.doesNotThrow(() => analyzeHost(snap));
  });
});

describe('the model file', () => {
  test('is small, parses, and refuses a model for other features', () => {
    const text = readFileSync(join(REPO, 'data/behaviour/model.json'), 'utf8');
    assert.ok(text.length < 1024 * 1024, `${text.length} bytes`);
    const m = parseBehaviourModel(JSON.parse(text));
    assert.ok(m.threshold >= 0.3 && m.threshold < 1, String(m.threshold));
    assert.ok(m.cpuOnly, 'ships the CPU-only fallback');
    const other = { ...JSON.parse(text), features: [...m.features].reverse() };
    assert.throws(() => parseBehaviourModel(other), /features/);
    const badStump = { ...JSON.parse(text), kind: 'stumps', stumps: [{ f: 99, t: 0, l: 0, r: 0 }] };
    assert.throws(() => parseBehaviourModel(badStump));
  });
});
