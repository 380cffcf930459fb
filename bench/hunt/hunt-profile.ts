/**
 * Profiles the hunt path after the rules are compiled and a warm-up pass:
 * five passes under the V8 CPU profiler, written as a .cpuprofile (open it in
 * Chrome DevTools), or eight timed passes without the profiler when OUT is `-`.
 * MODE: `full` (parse + Sigma), `parse` (no detectors) or `engine` (Sigma over
 * events held in memory).
 *
 *   node --import tsx bench/hunt/hunt-profile.ts EVTX_DIR RULES_DIR [MODE] [OUT]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { EcsEvent } from '../../src/core/event.ts';
import { loadSigmaRules, sigmaEngineOf } from '../../src/detect/sigma/index.ts';
import { hunt } from '../../src/pipeline/hunt.ts';
import { readInput } from '../../src/pipeline/read-input.ts';
import { walkInputs } from '../../src/pipeline/walk.ts';
import { evtxSource } from '../../src/sources/evtx/source.ts';

const [evtxDir, rulesDir, mode = 'full', out = 'prof.cpuprofile'] = process.argv.slice(2);
if (!evtxDir || !rulesDir || !['full', 'parse', 'engine'].includes(mode)) {
  console.error('usage: hunt-profile.ts EVTX_DIR RULES_DIR [full|parse|engine] [OUT.cpuprofile|-]');
  process.exit(2);
}
const loaded = loadSigmaRules({ ruleDirs: [rulesDir!] });
const engine = sigmaEngineOf(loaded.rules);
// One thread: this profiles the matching itself, not the worker hand-off.
const huntOnce = (withRules: boolean) =>
  hunt({ paths: [evtxDir!], threads: 1, ...(withRules ? { rules: loaded.rules, engine } : {}) });
await huntOnce(true);
const s = new Session();
const prof = out !== '-';
if (prof) {
  s.connect();
  await s.post('Profiler.enable');
  await s.post('Profiler.start');
}
const events: EcsEvent[] = [];
if (mode === 'engine') {
  const { files } = await walkInputs([evtxDir!]);
  const handlers = { event: (e: EcsEvent) => events.push(e), net: () => {}, issue: () => {} };
  for (const f of files)
    if (f.path.endsWith('.evtx'))
      await readInput(f.path, f.size, evtxSource, {}, handlers, { events: 0, outOfRange: 0 });
}
for (let i = 0; i < (prof ? 5 : 8); i++) {
  const t = process.cpuUsage();
  if (mode === 'engine') {
    let n = 0;
    for (const e of events) n += engine.observe(e).length;
    const u = process.cpuUsage(t);
    console.log(events.length, n, Math.round((u.user + u.system) / 1000), 'ms');
    continue;
  }
  const r = await huntOnce(mode !== 'parse');
  const u = process.cpuUsage(t);
  console.log(r.stats.events, r.findings.length, Math.round((u.user + u.system) / 1000), 'ms');
}
if (prof) {
  const { profile } = await s.post('Profiler.stop');
  writeFileSync(out, JSON.stringify(profile));
}
