import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';

export const COIN_P2P: RuleDeclaration = {
  id: 'deminer.network.coin_p2p',
  name: 'Coin peer-to-peer traffic (node syncing)',
  ruleset: 'builtin',
  severity: { min: 'low', max: 'low' },
  techniques: [],
  triage:
    'A coin node syncing, not mining by itself: confirm the node is sanctioned, and look for mining findings on the same host.',
};

function observe(ctx: NetworkContext, e: NetEvent): void {
  if (!e.src || !e.dst || !e.p2p) return;
  const src = e.src;
  const coin = e.p2p.coin;
  ctx.record(
    e,
    COIN_P2P,
    'low',
    src.ip,
    [coin],
    () =>
      `${src.ip} talks the ${coin} peer-to-peer protocol (a node syncing, not mining by itself); confirm the node is sanctioned.`,
    { destination: e.dst, evidence: { coin } },
  );
}

/** Bitcoin-family P2P magic and coin P2P ports, as the capture analysis reports them. */
export const coinP2p: NetworkRuleModule = {
  folder: 'coin-p2p',
  rules: [COIN_P2P],
  kinds: ['p2p'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
