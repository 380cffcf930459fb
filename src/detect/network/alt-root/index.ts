import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';
import { classifyTld, type TldFacts } from './tld.ts';

export const ALT_ROOT_DNS: RuleDeclaration = {
  id: 'deminer.network.alt_root_dns',
  name: "DNS lookup under a TLD that ICANN's root does not delegate",
  ruleset: 'builtin',
  severity: { min: 'low', max: 'medium' },
  techniques: ['T1568', 'T1071.004'],
  triage:
    'Find the process making the lookup and which resolver answers it: alternative roots (EmerDNS, Namecoin, OpenNIC) serve pools and controllers that no registrar can take down; evidence.names lists what was asked (evidence.tlds the unknown TLDs).',
};

const MAX_LIST = 10;
const UNKNOWN_SUBJECT = '(TLD not delegated by ICANN)';

function check(ctx: NetworkContext, e: NetEvent, name: string, address: string): void {
  const facts = classifyTld(name);
  if (facts === undefined || facts.kind === 'icann' || facts.kind === 'private') return;
  // The allow-list silences a name for every rule.
  if (ctx.name(name).pool === 'allowed') return;
  const known = facts.kind === 'alternative';
  const p = ctx.record(
    e,
    ALT_ROOT_DNS,
    // A known alternative root is a deliberate resolver set-up; an unknown TLD is as often a
    // typo or an internal name leaking, so it is only a low lead.
    known ? 'medium' : 'low',
    address,
    // One finding per registered name in an alternative root; one per host for all unknown TLDs,
    // since a DNS tunnel without a domain (`dnscat.<hex>`) makes a new "TLD" with every query.
    known ? [facts.domain] : [UNKNOWN_SUBJECT],
    () => message(address, name, facts),
    { dnsName: name, evidence: known ? { tld: facts.tld, root: facts.root } : { root: 'none' } },
  );
  addCapped(p.evidence, 'names', name);
  if (!known) addCapped(p.evidence, 'tlds', facts.tld);
}

function addCapped(evidence: Record<string, unknown>, key: string, value: string): void {
  const list = (evidence[key] as string[] | undefined) ?? [];
  if (list.length < MAX_LIST && !list.includes(value)) list.push(value);
  evidence[key] = list;
}

function message(address: string, name: string, facts: TldFacts): string {
  if (facts.kind === 'alternative') {
    return `${address} looked up ${name}, under .${facts.tld} of the ${facts.root} alternative DNS root, which ICANN's root does not delegate; miners and their droppers use such roots for pools and controllers no registrar can seize. Find the process and the resolver that answers it.`;
  }
  return `${address} looked up ${name}, under .${facts.tld}, a TLD not delegated by ICANN's root and not a known alternative root; check whether it is an internal name or a resolver set up for another root, and which process asked.`;
}

function observe(ctx: NetworkContext, e: NetEvent): void {
  const address = e.src?.ip ?? 'unknown';
  for (const q of e.dns?.questions ?? []) check(ctx, e, q.name, address);
}

/** DNS lookups under alternative-root TLDs (EmerDNS, Namecoin, OpenNIC) and under TLDs no root we know delegates. */
export const altRoot: NetworkRuleModule = {
  folder: 'alt-root',
  rules: [ALT_ROOT_DNS],
  kinds: ['dns'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
