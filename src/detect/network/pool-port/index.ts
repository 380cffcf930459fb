import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';

export const POOL_PORT: RuleDeclaration = {
  id: 'deminer.network.pool_port',
  name: 'Connection to a mining-pool port',
  ruleset: 'builtin',
  severity: { min: 'medium', max: 'medium' },
  techniques: ['T1496', 'T1571'],
  triage:
    'Find the process holding the connection (ss -tnp) and check whether it speaks stratum; the port alone is a lead, many services share these ports.',
};

function observe(ctx: NetworkContext, e: NetEvent): void {
  if (!ctx.isOutboundOrInternal(e)) return;
  const src = e.src!;
  const dst = e.dst!;
  const port = dst.port;
  if (port === undefined || e.transport === 'udp' || !ctx.lists.poolPorts.has(port)) return;
  // One finding per host and port: a miner cycling through a pool's addresses is one story.
  const p = ctx.record(
    e,
    POOL_PORT,
    'medium',
    src.ip,
    [String(port)],
    () =>
      `${src.ip} connected to ${ctx.domainOf(dst.ip) ?? dst.ip}:${port}, a port mining pools use; find the process holding the connection (ss -tnp) and check whether it speaks stratum.`,
    { destination: dst },
  );
  const dests = (p.evidence['destinations'] as string[] | undefined) ?? [];
  const d = `${dst.ip}:${port}`;
  if (dests.length < 20 && !dests.includes(d)) dests.push(d);
  p.evidence['destinations'] = dests;
}

/** Outbound TCP to a port of the pool-port list (data/pool-ports.json). */
export const poolPort: NetworkRuleModule = {
  folder: 'pool-port',
  rules: [POOL_PORT],
  kinds: ['flow'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
