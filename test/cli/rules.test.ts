import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtinDetectors, ruleCatalog } from '../../src/detect/catalog.ts';
import { loadCommunityRules, readCommunityPack } from '../../src/detect/sigma/community.ts';
import { loadSigmaRules, sigmaEngineOf } from '../../src/detect/sigma/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/deminer.js');
const tmp = mkdtempSync(join(tmpdir(), 'deminer-rules-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function deminer(args: string[], cwd = root): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    // No user config file of the machine running the tests.
    env: { ...process.env, DEMINER_HOME: tmp },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Row {
  id: string;
  title: string;
  source: string;
  kind: string;
  level: string;
  tags: string[];
  author?: string;
  location: string;
}

/** A SigmaHQ rule of the snapshot: "Potential Crypto Mining Activity" (Florian Roth). */
const MINING_RULE = '66c3b204-9f88-4d0a-a7f7-8a57d521ca55';
const MINING_FILE =
  'community:rules/windows/process_creation/proc_creation_win_susp_crypto_mining_monero.yml';

// The expected figures, from the data with the library's own loaders.
const detectorRules = ruleCatalog(builtinDetectors().filter((d) => d.id !== 'sigma')).length;
const builtinSigma = loadSigmaRules({ builtin: true });
const community = loadCommunityRules('community');
const pack = readCommunityPack();

test('rules list --source builtin: every detector declaration and built-in Sigma rule, nothing else', () => {
  const r = deminer(['rules', 'list', '--source', 'builtin', '-f', 'json']);
  assert.equal(r.code, 0, r.err);
  const { rules, count } = JSON.parse(r.out) as { rules: Row[]; count: number };
  assert.equal(count, rules.length);
  assert.equal(rules.length, detectorRules + builtinSigma.rules.length);
  assert.ok(rules.every((x) => x.source === 'builtin'));
  assert.equal(rules.filter((x) => x.kind === 'detector').length, detectorRules);
  assert.ok(rules.some((x) => x.id === 'deminer.process.miner' && x.kind === 'detector'));
});

test('rules list --source community: every rule the pack loads, in jsonl', () => {
  const r = deminer(['rules', 'list', '--source', 'community', '-f', 'jsonl']);
  assert.equal(r.code, 0, r.err);
  const rows = r.out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
  assert.equal(rows.length, community.rules.length);
  assert.ok(rows.length > 3000, `thousands of rules, got ${rows.length}`);
  const mining = rows.find((x) => x.id === MINING_RULE);
  assert.ok(mining, 'the SigmaHQ crypto-mining rule is listed');
  assert.equal(mining.source, 'community');
  assert.equal(mining.location, `${MINING_FILE}:1`);
});

test('rules list filters by tag and level', () => {
  const r = deminer(['rules', 'list', '--source', 'community', '--tag', 't1496', '-f', 'json']);
  assert.equal(r.code, 0, r.err);
  const { rules } = JSON.parse(r.out) as { rules: Row[] };
  const want = community.rules.filter((x) => x.tags.some((t) => t.toLowerCase() === 'attack.t1496'));
  assert.equal(rules.length, want.length);
  assert.ok(rules.some((x) => x.id === MINING_RULE));
  const c = deminer(['rules', 'list', '--level', 'critical', '-f', 'json']);
  assert.equal(c.code, 0, c.err);
  const crit = (JSON.parse(c.out) as { rules: Row[] }).rules;
  assert.ok(crit.length > 0);
  assert.ok(crit.every((x) => x.level === 'critical' || /\.\.critical$/.test(x.level)));
  const table = deminer(['rules', 'list', '--source', 'builtin']);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /deminer\.process\.miner/);
  const bad = deminer(['rules', 'list', '--level', 'severe']);
  assert.equal(bad.code, 2);
});

test('rules show prints a community rule with its author, references, licence and file:line', () => {
  const r = deminer(['rules', 'show', MINING_RULE]);
  assert.equal(r.code, 0, r.err);
  for (const want of [
    'Potential Crypto Mining Activity',
    `id:             ${MINING_RULE}`,
    'level:          high',
    'status:         stable',
    'log source:     windows/process_creation',
    'T1496',
    'Florian Roth (Nextron Systems)',
    'https://www.poolwatch.io/coin/monero',
    `${MINING_FILE}:1`,
    'Detection Rule License 1.1',
    `https://github.com/SigmaHQ/sigma/blob/${pack.commit}/rules/windows/process_creation/proc_creation_win_susp_crypto_mining_monero.yml`,
    pack.commit,
    'detection:',
    'condition:',
  ])
    assert.ok(r.out.includes(want), `"${want}" in:\n${r.out}`);
  const j = deminer(['rules', 'show', MINING_RULE, '-f', 'json']);
  assert.equal(j.code, 0, j.err);
  const shown = JSON.parse(j.out) as { attribution: { license: string; author: string }; detection: unknown };
  assert.match(shown.attribution.license, /DRL-1\.1/);
  assert.equal(shown.attribution.author, 'Florian Roth (Nextron Systems)');
  assert.ok(shown.detection);
});

test('rules show: a detector rule and a built-in Sigma rule; an unknown id is a usage error', () => {
  const d = deminer(['rules', 'show', 'deminer.process.miner']);
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /Cryptocurrency miner process/);
  assert.doesNotMatch(d.out, /Detection Rule License/);
  const first = builtinSigma.rules[0]!;
  const b = deminer(['rules', 'show', first.id, '--source', 'builtin']);
  assert.equal(b.code, 0, b.err);
  assert.ok(b.out.includes(first.title));
  assert.match(b.out, /file:\s+rules\//);
  const u = deminer(['rules', 'show', 'no-such-rule']);
  assert.equal(u.code, 2);
  assert.equal(u.out, '');
  assert.match(u.err, /RULE_UNKNOWN: no rule with id "no-such-rule"/);
});

test('rules stats: counts agree with the data; loaded, runnable and refused per set', (t) => {
  const started = performance.now();
  const loaded = loadCommunityRules('community');
  const loadMs = performance.now() - started;
  const engine = sigmaEngineOf(loaded.rules);
  const totalMs = performance.now() - started;
  t.diagnostic(
    `community set: ${loaded.files} files, ${loaded.rules.length} rules loaded, ${loaded.issues.length} refused at load; ` +
      `${engine.stats().runnable} runnable, ${engine.stats().unmapped} unmapped, ${engine.issues.length} refused at compile; ` +
      `load ${Math.round(loadMs)} ms, load+compile ${Math.round(totalMs)} ms`,
  );
  const r = deminer(['rules', 'stats', '-f', 'json']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as {
    total: number;
    detector_rules: number;
    sigma: Record<
      string,
      { files: number; loaded: number; runnable: number; refused_at_load: number; refused_at_compile: number }
    >;
    by_source: Record<string, number>;
    by_level: Record<string, number>;
    by_tactic: Record<string, number>;
  };
  assert.equal(s.detector_rules, detectorRules);
  assert.equal(s.total, detectorRules + builtinSigma.rules.length + loaded.rules.length);
  assert.equal(s.by_source['community'], loaded.rules.length);
  assert.equal(s.sigma['community']!.files, pack.rules.length);
  assert.equal(s.sigma['community']!.loaded, loaded.rules.length);
  assert.equal(s.sigma['community']!.refused_at_load, loaded.issues.length);
  assert.equal(s.sigma['community']!.refused_at_compile, engine.issues.length);
  assert.equal(s.sigma['community']!.runnable, engine.stats().runnable);
  assert.equal(s.sigma['builtin']!.loaded, builtinSigma.rules.length);
  const levels = Object.values(s.by_level).reduce((a, b) => a + b, 0);
  assert.equal(levels, s.total);
  assert.ok((s.by_tactic['impact'] ?? 0) > 0);
  const table = deminer(['rules', 'stats', '--source', 'builtin']);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /ATT&CK tactic/);
});

const evtx = join(
  root,
  '../shared/corpora/evtx/sbousseaden-EVTX-ATTACK-SAMPLES/Execution/sysmon_mshta_sharpshooter_stageless_meterpreter.evtx',
);

interface Finding {
  rule: { id: string; ruleset: string };
  message: string;
  evidence: { sigma?: { file: string; author?: string; license?: string; origin?: string } };
}

function huntFindings(out: string): Finding[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Finding);
}

test('hunt --rules community: findings of SigmaHQ rules carry their attribution', (t) => {
  if (!existsSync(evtx)) {
    t.skip(`EVTX corpus not found at ${evtx}`);
    return;
  }
  const r = deminer(['hunt', evtx, '--rules', 'community', '-f', 'jsonl', '-q']);
  assert.equal(r.code, 1, r.err);
  const fromCommunity = huntFindings(r.out).filter((f) => f.evidence.sigma?.file.startsWith('community:'));
  assert.ok(fromCommunity.length > 0, 'some finding of a community rule');
  for (const f of fromCommunity) {
    assert.match(f.evidence.sigma!.license!, /DRL-1\.1/);
    assert.match(f.evidence.sigma!.origin!, /SigmaHQ/);
    assert.match(f.message, /Sigma rule by .+ \(SigmaHQ, DRL 1\.1\)\.$/);
  }
  // Refusals are summarised: one line per problem code, never one per rule.
  const warnings = r.err.split('\n').filter((l) => l.startsWith('deminer: warning:'));
  assert.ok(warnings.length <= 20, r.err);
  // Without --rules community, no community rule runs.
  const plain = deminer(['hunt', evtx, '-f', 'jsonl', '-q']);
  assert.ok(huntFindings(plain.out).every((f) => !f.evidence.sigma?.file.startsWith('community:')));
});

test('hunt.rules in the config file turns the community set on; a folder named community is ./community', (t) => {
  if (!existsSync(evtx)) {
    t.skip(`EVTX corpus not found at ${evtx}`);
    return;
  }
  const config = join(tmp, 'config.yaml');
  writeFileSync(config, 'hunt:\n  rules: [community]\n');
  const r = deminer(['hunt', evtx, '--config', config, '-f', 'jsonl', '-q']);
  assert.equal(r.code, 1, r.err);
  assert.ok(huntFindings(r.out).some((f) => f.evidence.sigma?.file.startsWith('community:')));

  writeFileSync(join(tmp, 'bad.yaml'), 'hunt:\n  rule: [community]\n');
  const bad = deminer(['hunt', evtx, '--config', join(tmp, 'bad.yaml')]);
  assert.equal(bad.code, 2);

  // A rule folder that happens to be called "community".
  const work = join(tmp, 'work');
  mkdirSync(join(work, 'community'), { recursive: true });
  writeFileSync(
    join(work, 'community', 'any-process.yml'),
    [
      'title: Any mshta process',
      'id: 0b6c1a52-2f0e-4c56-9a43-6c3f8d9e1a11',
      'level: high',
      'logsource: { category: process_creation, product: windows }',
      'detection:',
      "  sel: { Image|endswith: '\\mshta.exe' }",
      '  condition: sel',
      '',
    ].join('\n'),
  );
  const local = deminer(['hunt', evtx, '--rules', './community', '--no-builtin', '-f', 'jsonl', '-q'], work);
  assert.equal(local.code, 1, local.err);
  const ids = new Set(huntFindings(local.out).map((f) => f.rule.id));
  assert.ok(ids.has('0b6c1a52-2f0e-4c56-9a43-6c3f8d9e1a11'), [...ids].join(', '));
});
