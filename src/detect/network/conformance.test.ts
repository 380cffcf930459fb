/**
 * Every network rule passes these: a new one is a folder plus a registry
 * line, declares what it can emit, and this suite drives the whole detector
 * with a stream on which every rule fires.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { Finding } from '../../core/finding.ts';
import { FindingSchema } from '../../core/finding.ts';
import type { NetEvent } from '../../core/net-event.ts';
import { SEVERITIES, severityRank } from '../../core/severity.ts';
import type { RuleDeclaration } from '../../core/stages.ts';
import { declarationProblems } from '../catalog.ts';
import { networkLists } from './lists.ts';
import { everyRuleEvents } from './net-event-fixture.ts';
import { NetworkDetector } from './network-detector.ts';
import { NETWORK_RULES } from './registry.ts';

const lists = networkLists();

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const events = deepFreeze(everyRuleEvents());

function detector(): NetworkDetector {
  return new NetworkDetector({ lists });
}

function run(stream: readonly NetEvent[], d = detector()): Finding[] {
  const out: Finding[] = [];
  for (const e of stream) out.push(...d.observe(e));
  out.push(...d.finalize());
  return out;
}

/** Findings without their random ids: what must be the same run after run. */
function comparable(findings: readonly Finding[]): Omit<Finding, 'id'>[] {
  return findings.map(({ id: _, ...rest }) => rest);
}

const declared = new Map<string, RuleDeclaration>();
for (const m of NETWORK_RULES) for (const r of m.rules) declared.set(r.id, r);

for (const m of NETWORK_RULES) {
  test(`network rule ${m.folder}: one folder, well-formed declarations`, () => {
    assert.match(m.folder, /^[a-z][a-z0-9-]*$/);
    assert.ok(
      existsSync(new URL(`./${m.folder}/index.ts`, import.meta.url)),
      `src/detect/network/${m.folder}/index.ts`,
    );
    assert.ok(m.rules.length > 0);
    assert.ok(m.kinds.length > 0);
    for (const r of m.rules) {
      assert.match(r.id, /^deminer\.network\.[a-z][a-z0-9_]*$/);
      assert.equal(r.ruleset, 'builtin');
      assert.ok(r.name.length > 5, r.id);
      assert.ok(r.triage.length > 20, r.id);
      assert.ok(SEVERITIES.includes(r.severity.min) && SEVERITIES.includes(r.severity.max), r.id);
      assert.ok(severityRank(r.severity.min) <= severityRank(r.severity.max), r.id);
      for (const t of r.techniques) assert.match(t, /^T\d{4}(?:\.\d{3})?$/, r.id);
    }
  });

  test(`network rule ${m.folder}: alone, it emits only what it declared`, () => {
    const own = new Set(m.rules.map((r) => r.id));
    const findings = run(events, new NetworkDetector({ lists }, [m]));
    assert.ok(findings.length > 0, `${m.folder} fired nothing on the stream`);
    for (const f of findings) assert.ok(own.has(f.rule.id), `${m.folder} emitted ${f.rule.id}`);
  });
}

test('declared rule ids are unique across the network rules, and the detector declares them all', () => {
  const ids = NETWORK_RULES.flatMap((m) => m.rules.map((r) => r.id));
  assert.equal(new Set(ids).size, ids.length, ids.join(', '));
  assert.deepEqual(
    detector().rules.map((r) => r.id),
    ids,
  );
});

test('every finding was declared, within its severity range and techniques; every rule fires', () => {
  const findings = run(events);
  const fired = new Set<string>();
  for (const f of findings) {
    const r = declared.get(f.rule.id);
    assert.ok(r, `undeclared rule ${f.rule.id}`);
    assert.equal(f.rule.name, r.name);
    assert.equal(f.rule.ruleset, r.ruleset);
    const rank = severityRank(f.severity);
    assert.ok(
      rank >= severityRank(r.severity.min) && rank <= severityRank(r.severity.max),
      `${f.rule.id} ${f.severity}`,
    );
    for (const t of f.threat.technique) assert.ok(r.techniques.includes(t), `${f.rule.id} ${t}`);
    assert.ok(f.host.name.length > 0);
    fired.add(f.rule.id);
  }
  for (const id of declared.keys()) assert.ok(fired.has(id), `${id} never fired`);
  // The same checks every detector's conformance suite makes, and the finding contract itself.
  assert.deepEqual(declarationProblems(findings, [...declared.values()]), []);
  for (const f of findings) {
    const parsed = FindingSchema.safeParse(f);
    assert.ok(parsed.success, `${f.rule.id}: ${parsed.error?.message}`);
  }
});

test('the same events give the same findings: no clock, no randomness', () => {
  const a = run(events);
  const b = run(events);
  assert.deepEqual(
    a.map((f) => f.fingerprint),
    b.map((f) => f.fingerprint),
  );
  assert.deepEqual(comparable(a), comparable(b));
  // Event time, not the clock: the same stream a year later is dated a year later.
  const later = run(everyRuleEvents(Date.UTC(2027, 0, 5, 9)));
  assert.deepEqual(
    later.map((f) => f.fingerprint),
    a.map((f) => f.fingerprint),
  );
  assert.ok(later.every((f) => f['@timestamp'].startsWith('2027-01-05')));
});

test('two halves through one detector give what one pass gives', () => {
  const whole = run(events);
  const half = Math.floor(events.length / 2);
  const d = detector();
  for (const e of events.slice(0, half)) d.observe(e);
  for (const e of events.slice(half)) d.observe(e);
  assert.deepEqual(comparable(d.finalize()), comparable(whole));

  // A pipeline that reports after each input hands the same findings out, none twice.
  const live = detector();
  const out: Finding[] = [];
  for (const e of events.slice(0, half)) out.push(...live.observe(e));
  out.push(...live.drain());
  for (const e of events.slice(half)) out.push(...live.observe(e));
  out.push(...live.finalize());
  const fingerprints = out.map((f) => f.fingerprint);
  assert.equal(new Set(fingerprints).size, fingerprints.length);
  assert.deepEqual(fingerprints.sort(), whole.map((f) => f.fingerprint).sort());
});
