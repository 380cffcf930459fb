import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import { hitEvidence } from '../../pool-match/pool-check.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';

export const POOL_ADDRESS: RuleDeclaration = {
  id: 'deminer.network.pool_address',
  name: 'Connection to a listed mining-pool address',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'high' },
  techniques: ['T1496'],
  triage:
    'Find the process holding the connection and treat the host as running a miner; evidence.intel says which list named the address (or which pool name a DNS answer gave it for).',
};

function observe(ctx: NetworkContext, e: NetEvent): void {
  if (!ctx.isOutboundOrInternal(e)) return;
  const src = e.src!;
  const dst = e.dst!;
  ctx.pools.at(e.tsMs);
  const v = ctx.pools.observe({
    kind: 'endpoint',
    indicator: dst.ip,
    port: dst.port,
    where: 'connection',
    host: src.ip,
  });
  if (v === undefined || v === 'allowed') return;
  // The host that taught a learned pool already has its mining finding.
  if (v.learnedFrom?.address === src.ip) return;
  const where = dst.port !== undefined ? `${dst.ip}:${dst.port}` : dst.ip;
  const p = ctx.record(
    e,
    POOL_ADDRESS,
    'high',
    src.ip,
    [v.indicator],
    () =>
      v.learnedFrom
        ? `${src.ip} connected to ${where}, a mining pool learned from ${v.learnedFrom.host} mining to it (${v.learnedFrom.protocol} ${v.learnedFrom.method}); find the process holding the connection and treat the host as running a miner.`
        : `${src.ip} connected to ${where}${v.via ? ` (an address of ${v.via})` : ''}, a mining pool listed by ${v.source} (${v.indicator}); find the process holding the connection and treat the host as running a miner.`,
    {
      destination: dst,
      evidence: { intel: hitEvidence(v), ...(v.learnedFrom ? { learned_from: v.learnedFrom } : {}) },
    },
  );
  const dests = (p.evidence['destinations'] as string[] | undefined) ?? [];
  if (dests.length < 20 && !dests.includes(where)) dests.push(where);
  p.evidence['destinations'] = dests;
  p.evidence['seen_in'] = v.seenIn;
}

/**
 * Flows to an address (or address and port) the pool check lists, passive
 * DNS of listed names and pools learned from other hosts' mining included.
 */
export const poolAddress: NetworkRuleModule = {
  folder: 'pool-address',
  rules: [POOL_ADDRESS],
  kinds: ['flow'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
