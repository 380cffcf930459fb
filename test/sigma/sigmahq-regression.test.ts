import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { SigmaEngine } from '../../src/detect/sigma/engine.ts';
import { loadRules } from '../../src/detect/sigma/load-rules.ts';
import { loadLogsourceMap } from '../../src/detect/sigma/logsource-map.ts';
import { readWinlogJson } from '../../src/sources/winlog-json/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sigma = join(root, '../shared/corpora/sigma');

function infos(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) infos(p, out);
    else if (e === 'info.yml') out.push(p);
  }
  return out;
}

test('SigmaHQ regression events each trigger the rule they name', async (t) => {
  if (!existsSync(join(sigma, 'regression_data'))) {
    t.skip(`corpus not found at ${sigma} (../shared/corpora beside the repository)`);
    return;
  }
  const loaded = loadRules(
    ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((d) => join(sigma, d)),
  );
  const byId = new Map(loaded.rules.map((r) => [r.id, r]));
  const logsources = loadLogsourceMap();
  let total = 0;
  let passed = 0;
  const failures: string[] = [];
  // Some multi-event samples hold several events that each satisfy the rule
  // (e.g. two writes of the same user.conf) while info.yml counts one: the
  // rule firing is the pass criterion; count differences are listed.
  const countDiffs: string[] = [];
  for (const info of infos(join(sigma, 'regression_data')).sort()) {
    const meta = parse(readFileSync(info, 'utf8')) as {
      rule_metadata: { id: string }[];
      regression_tests_info: { match_count?: number; path: string }[];
    };
    const jsons = readdirSync(dirname(info)).filter((f) => f.endsWith('.json'));
    if (jsons.length === 0) continue;
    total++;
    const ruleId = meta.rule_metadata[0]!.id;
    const rule = byId.get(ruleId);
    if (!rule) {
      failures.push(`${ruleId}: rule not found`);
      continue;
    }
    const engine = new SigmaEngine([rule], { logsources });
    let matches = 0;
    for (const j of jsons)
      for await (const item of readWinlogJson(join(dirname(info), j)))
        if (item.kind === 'event') matches += engine.observe(item.event).length;
    const want = meta.regression_tests_info[0]?.match_count ?? 1;
    if (matches !== want && matches > 0)
      countDiffs.push(`${rule.title}: ${matches} matches where info.yml says ${want}`);
    if (matches > 0) passed++;
    else
      failures.push(
        `${rule.title} (${rule.file}): ${matches} matches, want ${want}${engine.issues.length ? `; ${engine.issues[0]!.message}` : ''}`,
      );
  }
  t.diagnostic(`SigmaHQ regression: ${passed}/${total} rule/event pairs pass`);
  for (const f of failures) t.diagnostic(`fail: ${f}`);
  for (const d of countDiffs) t.diagnostic(`count differs: ${d}`);
  assert.ok(total >= 200, `expected the 202 regression cases, found ${total}`);
  assert.deepEqual(failures, []);
});
