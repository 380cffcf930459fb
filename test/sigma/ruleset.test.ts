import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import type { Finding } from '../../src/core/finding.ts';
import { FindingSchema } from '../../src/core/finding.ts';
import { declarationProblems } from '../../src/detect/catalog.ts';
import { SigmaEngine } from '../../src/detect/sigma/engine.ts';
import { BUILTIN_RULES_DIR, loadLogsourceMap, loadRules } from '../../src/detect/sigma/index.ts';
import { sourcesFor } from '../../src/detect/sigma/logsource-map.ts';
import { techniquesOf } from '../../src/detect/sigma/rule.ts';
import { readWinlogJson } from '../../src/sources/winlog-json/index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function ymlFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) ymlFiles(p, out);
    else if (e.endsWith('.yml')) out.push(p);
  }
  return out;
}

async function hits(engine: SigmaEngine, file: string): Promise<{ events: number; fired: number }> {
  let events = 0;
  let fired = 0;
  for await (const item of readWinlogJson(file)) {
    assert.equal(item.kind, 'event', `${file}: ${item.kind === 'issue' ? item.issue.message : ''}`);
    if (item.kind !== 'event') continue;
    events++;
    if (engine.observe(item.event).length > 0) fired++;
  }
  return { events, fired };
}

test('every built-in rule is valid, documented, tagged and proven by its samples', async () => {
  const files = ymlFiles(BUILTIN_RULES_DIR);
  assert.ok(files.length >= 10, 'the built-in rule set is there');
  const loaded = loadRules([BUILTIN_RULES_DIR]);
  assert.deepEqual(loaded.issues, []);
  assert.equal(loaded.rules.length, files.length, 'one rule per file');
  const logsources = loadLogsourceMap();
  const ids = new Set<string>();
  let mining = 0;
  for (const rule of loaded.rules) {
    const where = rule.file;
    assert.match(rule.id, UUID, `${where}: id is a UUID`);
    assert.ok(!ids.has(rule.id), `${where}: id ${rule.id} is unique`);
    ids.add(rule.id);
    assert.ok(rule.level, `${where}: has a level`);
    assert.ok(rule.description, `${where}: has a description`);
    assert.ok(rule.triage && rule.triage.length > 20, `${where}: has a triage note`);
    assert.ok(rule.falsepositives.length > 0, `${where}: has false-positive notes`);
    const techniques = techniquesOf(rule.tags);
    assert.ok(techniques.length > 0, `${where}: has ATT&CK technique tags`);
    if (techniques.includes('T1496')) mining++;
    assert.equal(rule.kind, 'detection');
    if (rule.kind !== 'detection') continue;
    assert.ok(sourcesFor(logsources, rule.logsource), `${where}: its logsource is mapped`);

    const engine = new SigmaEngine([rule], { logsources });
    assert.deepEqual(engine.issues, [], `${where}: compiles`);
    const stem = basename(where, '.yml');
    const samples = join(dirname(where), 'samples');
    const match = join(samples, `${stem}.match.jsonl`);
    const nomatch = join(samples, `${stem}.nomatch.jsonl`);
    assert.ok(existsSync(match) && existsSync(nomatch), `${where}: has match and no-match samples`);
    const m = await hits(engine, match);
    assert.ok(m.events > 0, `${match}: has events`);
    assert.equal(m.fired, m.events, `${match}: every sample fires the rule`);
    const n = await hits(engine, nomatch);
    assert.ok(n.events > 0, `${nomatch}: has events`);
    assert.equal(n.fired, 0, `${nomatch}: no sample fires the rule`);
  }
  assert.ok(mining >= 6, 'the mining chain (T1496) is covered');
});

test('one engine over every built-in rule: each finding on the samples is declared and follows the contract', async () => {
  const loaded = loadRules([BUILTIN_RULES_DIR]);
  const engine = new SigmaEngine(loaded.rules, { logsources: loadLogsourceMap() });
  assert.equal(engine.rules.length, loaded.rules.length, 'every built-in rule is declared once');
  const findings: Finding[] = [];
  for (const rule of loaded.rules) {
    const samples = join(dirname(rule.file), 'samples', basename(rule.file, '.yml'));
    for (const file of [`${samples}.match.jsonl`, `${samples}.nomatch.jsonl`])
      for await (const item of readWinlogJson(file))
        if (item.kind === 'event') findings.push(...engine.observe(item.event));
  }
  findings.push(...engine.finalize());
  assert.ok(findings.length >= loaded.rules.length, `findings: ${findings.length}`);
  assert.deepEqual(declarationProblems(findings, engine.rules), []);
  for (const f of findings) {
    const parsed = FindingSchema.safeParse(f);
    assert.ok(parsed.success, `${f.rule.name}: ${parsed.error?.message}`);
  }
});
