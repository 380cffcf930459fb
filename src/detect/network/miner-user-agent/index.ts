import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';

export const MINER_USER_AGENT: RuleDeclaration = {
  id: 'deminer.network.miner_user_agent',
  name: 'Miner software identified by its agent',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'high' },
  techniques: ['T1496'],
  triage:
    'Find and stop the process sending it, then look for how it got there (the URL it fetched is in the evidence).',
};

function observe(ctx: NetworkContext, e: NetEvent): void {
  const h = e.http;
  const ua = h?.userAgent;
  if (!h || !ua || !ctx.lists.minerAgents.test(ua)) return;
  const address = e.src?.ip ?? 'unknown';
  ctx.record(
    e,
    MINER_USER_AGENT,
    'high',
    address,
    [ua],
    () =>
      `${address} sent HTTP with the User-Agent "${ua}", a mining program; find and stop the process, then look for how it got there.`,
    { destination: e.dst, evidence: { user_agent: ua, url: h.uri, http_host: h.host } },
  );
}

/** HTTP User-Agents of miners (data/network/miner-agents.json). */
export const minerUserAgent: NetworkRuleModule = {
  folder: 'miner-user-agent',
  rules: [MINER_USER_AGENT],
  kinds: ['http'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
