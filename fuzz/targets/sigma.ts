import { type EcsEvent, EcsEventSchema } from '../../src/core/event.ts';
import { parseRuleText, sigmaEngineOf } from '../../src/detect/sigma/index.ts';
import { type Features, refusalAware, text } from '../expected.ts';

/** An event every process-creation rule looks at, so that compiled matchers run, not only the compiler. */
const PROBE: EcsEvent = EcsEventSchema.parse({
  '@timestamp': '2026-01-01T00:00:00.000Z',
  event: { code: '4688' },
  winlog: { channel: 'Security', event_id: '4688', event_data: { CommandLine: 'xmrig -o pool:3333 aaaa' } },
  process: { name: 'xmrig.exe', command_line: 'xmrig -o stratum+tcp://pool:3333 aaaaaaaaaaaaaaaab' },
});

/** A Sigma rule file: parsed, compiled into an engine, and the engine run on one event. */
export function fuzz(data: Uint8Array): Features {
  return refusalAware(() => {
    const { rules, issues } = parseRuleText(text(data), 'fuzz.yml');
    const out = issues.map((i) => `issue:${i.code}`);
    if (rules.length > 0) {
      const engine = sigmaEngineOf(rules);
      out.push(`rules:${rules.length}`, `findings:${engine.observe(PROBE).length}`);
      engine.finalize();
    }
    return out;
  });
}
