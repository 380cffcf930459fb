/**
 * One hostile Sigma input per run, in its own process so that the parent
 * can bound its time and read its memory. `node --import tsx sigma-child.ts
 * NAME` prints one JSON line: the time taken, the peak and current RSS and
 * what survived. DEMINER_SRC points at another checkout's `src/` (to measure
 * the code before a fix); the API used here is the one both share.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const src = process.env['DEMINER_SRC'] ?? new URL('../../src/', import.meta.url).pathname;
const at = (p: string): string => pathToFileURL(join(src, p)).href;

type Issue = { code: string; message: string; location: string };
type Finding = { rule: { id: string } };
interface Engine {
  issues: Issue[];
  observe(e: unknown): Finding[];
  finalize(): Finding[];
}
const sigma = (await import(at('detect/sigma/index.ts'))) as {
  loadRules(paths: string[]): { rules: unknown[]; issues: Issue[] };
  parseRuleText(text: string, file: string): { rules: unknown[]; issues: Issue[] };
  sigmaEngineOf(rules: unknown[]): Engine;
};
const config = (await import(at('core/config.ts'))) as {
  parseYamlStrict(text: string, schema: unknown, where: string): unknown;
};
const { z } = await import('zod');

const rule = (id: string, detection: string): string =>
  `title: ${id}\nid: ${id}\nlevel: high\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n${detection}\n`;
const guard = rule('guard', "  sel:\n    CommandLine|contains: 'xmrig'\n  condition: sel");
let ts = Date.parse('2025-01-01T00:00:00Z');
const event = (commandLine: string, user = 'u'): unknown => ({
  '@timestamp': new Date(ts++).toISOString(),
  winlog: {
    channel: 'Microsoft-Windows-Sysmon/Operational',
    event_id: '1',
    record_id: 1,
    computer_name: 'h',
    event_data: { CommandLine: commandLine, User: user },
  },
});

/** Writes the rule files into a fresh folder and loads it as `hunt --rules` would. */
function engineOf(files: Record<string, string>): { engine: Engine; issues: Issue[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'deminer-hostile-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const loaded = sigma.loadRules([dir]);
  const engine = sigma.sigmaEngineOf(loaded.rules);
  return { engine, issues: [...loaded.issues, ...engine.issues], dir };
}
const fired = (engine: Engine, e: unknown): string[] => engine.observe(e).map((f) => f.rule.id);

const bomb = (levels: number): string => {
  let out = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  let prev = 'a';
  for (let i = 1; i < levels; i++) {
    const name = String.fromCharCode(97 + i);
    out += `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
    prev = name;
  }
  return out;
};

const scenarios: Record<string, () => Record<string, unknown>> = {
  wildcard() {
    const { engine, issues } = engineFor({
      'w.yml': rule('wild', "  sel:\n    CommandLine: '*a*a*a*a*a*a*a*a*a*a*a*a*b'\n  condition: sel"),
      'g.yml': guard,
    });
    return {
      issues,
      hostile: fired(engine, event('a'.repeat(3000))),
      plain: fired(engine, event(`${'xa'.repeat(12)}b`)),
      guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')),
    };
  },
  regex() {
    const { engine, issues } = engineFor({
      'r.yml': rule('redos', "  sel:\n    CommandLine|re: '^(a+)+$'\n  condition: sel"),
      'l.yml': rule('lookaround', "  sel:\n    CommandLine|re: '(?<=x)mrig'\n  condition: sel"),
      'g.yml': guard,
    });
    return {
      issues,
      hostile: fired(engine, event(`${'a'.repeat(5000)}b`)),
      plain: fired(engine, event('aaaa')),
      guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')),
    };
  },
  'alias-bomb'() {
    const { engine, issues } = engineFor({
      'bomb.yml': `${bomb(9)}${rule('bomb', "  sel:\n    CommandLine|contains: 'x'\n  condition: sel")}`,
      'g.yml': guard,
    });
    let configError: string | undefined;
    try {
      config.parseYamlStrict(`${bomb(9)}`, z.object({}).strict(), 'deminer.yml');
    } catch (e) {
      const x = e as { code?: string; location?: string; name?: string; message: string };
      configError = `${x.name} ${x.code ?? ''} ${x.location ?? ''}: ${x.message}`;
    }
    return { issues, configError, guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')) };
  },
  'condition-depth'() {
    const deep = `${'('.repeat(10_000)}sel${')'.repeat(10_000)}`;
    const nots = `${'not '.repeat(10_000)}sel`;
    const { engine, issues } = engineFor({
      'p.yml': rule('parens', `  sel:\n    CommandLine|contains: 'x'\n  condition: '${deep}'`),
      'n.yml': rule('nots', `  sel:\n    CommandLine|contains: 'x'\n  condition: '${nots}'`),
      'g.yml': guard,
    });
    return { issues, guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')) };
  },
  'many-values'() {
    const values = Array.from({ length: 200_000 }, (_, i) => `    - 'value-${i}-${'x'.repeat(30)}'`);
    const { engine, issues } = engineFor({
      'm.yml': rule('many', `  sel:\n    CommandLine|contains:\n${values.join('\n')}\n  condition: sel`),
      'g.yml': guard,
    });
    return { issues, guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')) };
  },
  'huge-value'() {
    const { engine, issues } = engineFor({
      'h.yml': rule(
        'huge',
        `  sel:\n    CommandLine|contains: '${'y'.repeat(10_000_000)}'\n  condition: sel`,
      ),
      'g.yml': guard,
    });
    return { issues, guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')) };
  },
  base64offset() {
    const values = Array.from({ length: 2000 }, (_, i) => `    - '${i}${'z'.repeat(5000)}'`);
    const { engine, issues } = engineFor({
      'b.yml': rule(
        'b64',
        `  sel:\n    CommandLine|base64offset|contains:\n${values.join('\n')}\n  condition: sel`,
      ),
      'g.yml': guard,
    });
    return { issues, guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')) };
  },
  // Under the file-size bound: the bounds on values, value length and expansion must hold on their own.
  'many-values-1mb'() {
    const values = Array.from({ length: 25_000 }, (_, i) => `    - 'v${i}'`);
    const { engine, issues } = engineFor({
      'm.yml': rule('many', `  sel:\n    CommandLine|contains:\n${values.join('\n')}\n  condition: sel`),
      'g.yml': guard,
    });
    return { issues, guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')) };
  },
  'long-value-1mb'() {
    const { engine, issues } = engineFor({
      'h.yml': rule('huge', `  sel:\n    CommandLine|contains: '${'y'.repeat(900_000)}'\n  condition: sel`),
      'g.yml': guard,
    });
    return { issues, guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')) };
  },
  'base64offset-1mb'() {
    const values = Array.from({ length: 150 }, (_, i) => `    - '${i}${'z'.repeat(5000)}'`);
    const { engine, issues } = engineFor({
      'b.yml': rule(
        'b64',
        `  sel:\n    CommandLine|base64offset|contains:\n${values.join('\n')}\n  condition: sel`,
      ),
      'g.yml': guard,
    });
    return { issues, guard: fired(engine, event('C:\\x\\xmrig.exe -o pool')) };
  },
  correlation() {
    const corr = (id: string, body: string): string =>
      `title: ${id}\nid: ${id}\nlevel: high\ncorrelation:\n${body}\n`;
    const { engine, issues } = engineFor({
      'c.yml': [
        rule('base', "  sel:\n    CommandLine|contains: 'miner'\n  condition: sel"),
        corr('ec', '  type: event_count\n  rules: [base]\n  timespan: 3650d\n  condition: {gte: 1000000}'),
        corr(
          'vc',
          '  type: value_count\n  rules: [base]\n  timespan: 3650d\n  condition: {field: User, gte: 1000000}',
        ),
        corr(
          'small',
          '  type: event_count\n  rules: [base]\n  group-by: [User]\n  timespan: 3650d\n  condition: {gte: 3}',
        ),
      ].join('---\n'),
      'g.yml': guard,
    });
    const guardHits = fired(engine, event('C:\\x\\xmrig.exe -o pool'));
    for (let i = 0; i < 200_000; i++) engine.observe(event('miner', `u${i % 50_000}`));
    for (let i = 0; i < 3; i++) engine.observe(event('miner', 'solo'));
    const findings = engine.finalize().map((f) => f.rule.id);
    return {
      issues,
      guard: guardHits,
      correlations: Object.fromEntries(
        ['ec', 'vc', 'small'].map((id) => [id, findings.filter((f) => f === id).length]),
      ),
    };
  },
};
function engineFor(files: Record<string, string>): { engine: Engine; issues: Issue[] } {
  const { engine, issues } = engineOf(files);
  return { engine, issues };
}

const name = process.argv[2] ?? '';
const run = scenarios[name];
if (!run) {
  process.stderr.write(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
const t0 = performance.now();
const result = run();
const ms = Math.round(performance.now() - t0);
const issues = (result['issues'] as Issue[] | undefined)?.map((i) => ({
  code: i.code,
  location: i.location.replace(/^.*deminer-hostile-[^/]*\//, ''),
  message: i.message.slice(0, 200),
}));
process.stdout.write(
  `${JSON.stringify({
    ...result,
    issues,
    ms,
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`,
);
