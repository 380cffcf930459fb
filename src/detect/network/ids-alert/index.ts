import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';

export const IDS_MINING_ALERT: RuleDeclaration = {
  id: 'deminer.network.ids_mining_alert',
  name: 'IDS alert about mining',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'high' },
  techniques: ['T1496'],
  triage: 'Confirm on the host (the process behind the flow the IDS flagged) and isolate it.',
};

/** Signatures and categories of the ET/Suricata rule sets that speak of mining. */
const MINING_IDS_RE =
  /coin ?miner|crypto ?(?:currency )?min|stratum|xmrig|monero|mining pool|coinhive|cryptonight/i;

function observe(ctx: NetworkContext, e: NetEvent): void {
  const al = e.alert;
  if (!al || !MINING_IDS_RE.test(`${al.signature} ${al.category ?? ''}`)) return;
  const address = e.src?.ip ?? 'unknown';
  ctx.record(
    e,
    IDS_MINING_ALERT,
    'high',
    address,
    [al.signature],
    () => `The IDS saw mining from ${address}: "${al.signature}"; confirm on the host and isolate it.`,
    { destination: e.dst, evidence: { signature: al.signature, category: al.category } },
  );
}

/** Suricata alerts whose signature is about mining. */
export const idsAlert: NetworkRuleModule = {
  folder: 'ids-alert',
  rules: [IDS_MINING_ALERT],
  kinds: ['alert'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
