import type { RuleDeclaration } from '../../core/stages.ts';
import { PERSISTENCE_TECHNIQUE } from '../host/persistence/index.ts';

/**
 * The rules of the agent's baselines: what only shows over several snapshots
 * of the same host (a process that grows, a burst of connections, a duty
 * cycle held for minutes, what appeared since the last scan). A one-shot
 * `deminer scan` cannot emit them; the long-running agent does.
 */
export const MEMORY_GROWTH: RuleDeclaration = {
  id: 'deminer.agent.memory_growth',
  name: 'Process memory above its own baseline',
  ruleset: 'builtin',
  severity: { min: 'low', max: 'medium' },
  techniques: ['T1496'],
  triage:
    'Compare evidence.rss_bytes with evidence.baseline_bytes: a miner that loads its dataset or a payload injected into a running process both show as sudden growth; check the executable and its connections.',
};

export const CONNECTION_BURST: RuleDeclaration = {
  id: 'deminer.agent.connection_burst',
  name: 'Burst of new outbound connections',
  ruleset: 'builtin',
  severity: { min: 'medium', max: 'high' },
  techniques: ['T1071', 'T1496'],
  triage:
    'Look at evidence.destinations: pool fail-over, scanning and worm-like spreading all open many connections a minute; confirm what the process is before blocking it.',
};

export const SUSTAINED_CPU: RuleDeclaration = {
  id: 'deminer.agent.sustained_cpu',
  name: 'CPU held busy or steadily capped for minutes',
  ruleset: 'builtin',
  severity: { min: 'low', max: 'high' },
  techniques: ['T1496'],
  triage:
    'Read evidence.cpu over evidence.minutes: a flat duty cycle with little variation is what throttled miners do; ask the owner whether the workload is expected.',
};

export const NEW_EXECUTABLE: RuleDeclaration = {
  id: 'deminer.agent.new_executable',
  name: 'New executable running since the last scan',
  ruleset: 'builtin',
  severity: { min: 'low', max: 'medium' },
  techniques: ['T1204.002'],
  triage:
    'A program this host had not run before: check process.executable (its package, hash and who started it); an unpackaged binary in a temporary or hidden place deserves a look first.',
};

export const NEW_PERSISTENCE: RuleDeclaration = {
  id: 'deminer.agent.new_persistence',
  name: 'New persistence entry since the last scan',
  ruleset: 'builtin',
  severity: { min: 'low', max: 'medium' },
  techniques: [...new Set([...Object.values(PERSISTENCE_TECHNIQUE), 'T1547'])].sort(),
  triage:
    'Open evidence.file at evidence.line: find out who added the entry and what it runs; remove it together with what it starts if nobody can explain it.',
};

export const HOST_BASELINE_RULES: readonly RuleDeclaration[] = [
  MEMORY_GROWTH,
  CONNECTION_BURST,
  SUSTAINED_CPU,
  NEW_EXECUTABLE,
  NEW_PERSISTENCE,
];
