import type { Finding } from '../../core/finding.ts';
import type { HostSnapshot } from '../../core/host-snapshot.ts';
import type { SnapshotDetector } from '../../core/stages.ts';
import { allowlist } from './allowlist/index.ts';
import { behaviour } from './behaviour/index.ts';
import { correlate } from './correlate.ts';
import { cpu } from './cpu/index.ts';
import { masquerade } from './masquerade/index.ts';
import { minerCmdline } from './miner-cmdline/index.ts';
import { persistence } from './persistence/index.ts';
import { poolConnections } from './pool-connections/index.ts';
import { HOST_RULES } from './rules.ts';
import type { AnalyticOutput, HostAnalytic, HostAnalyticContext } from './types.ts';

/** The host analytics `deminer scan` runs. A new one is a folder here plus one line. */
export const HOST_ANALYTICS: readonly HostAnalytic[] = [
  minerCmdline,
  masquerade,
  cpu,
  behaviour,
  poolConnections,
  persistence,
  allowlist,
];

/** Pure: snapshot in, findings out. */
export function analyzeHost(snapshot: HostSnapshot, ctx: HostAnalyticContext = {}): Finding[] {
  const outputs: AnalyticOutput[] = [];
  for (const a of HOST_ANALYTICS) outputs.push(...a.analyze(snapshot, ctx));
  return correlate(snapshot, outputs);
}

/** The host layer as the pipeline sees it: every analytic plus the correlator, over one snapshot. */
export const hostDetector: SnapshotDetector<HostSnapshot, HostAnalyticContext> = {
  id: 'host',
  description:
    'Host analytics over a snapshot of processes, sockets and persistence files: one finding per suspicious process or persistence line',
  rules: HOST_RULES,
  detect: analyzeHost,
};
