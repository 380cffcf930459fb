import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';

const TRIAGE =
  'Check the name against threat intel and find the process making the request; one name is a lead, many from one host is dga_host.';

export const RANDOM_DNS: RuleDeclaration = {
  id: 'deminer.network.random_dns',
  name: 'Random-looking DNS name (DGA-like)',
  ruleset: 'builtin',
  severity: { min: 'medium', max: 'medium' },
  techniques: ['T1568.002'],
  triage: TRIAGE,
};

export const RANDOM_TLS_NAME: RuleDeclaration = {
  id: 'deminer.network.random_tls_name',
  name: 'Random-looking TLS server name',
  ruleset: 'builtin',
  severity: { min: 'medium', max: 'medium' },
  techniques: ['T1568.002'],
  triage: TRIAGE,
};

function checkName(
  ctx: NetworkContext,
  e: NetEvent,
  name: string,
  via: 'dns' | 'tls',
  address: string,
): void {
  const facts = ctx.name(name);
  if (!facts.judged) return;
  const s = facts.score;
  if (s < ctx.randomThreshold) return;
  // One finding per registered domain: a tunnel or DGA family produces thousands of names under it.
  // Names outside the public suffix list (tunnels to made-up TLDs) group together per host.
  const p = ctx.record(
    e,
    via === 'dns' ? RANDOM_DNS : RANDOM_TLS_NAME,
    'medium',
    address,
    [facts.registeredDomain],
    () =>
      `${address} ${via === 'dns' ? 'resolved' : 'connected by TLS to'} ${name}, which looks machine-generated (score ${s.toFixed(2)}); check it against threat intel and the process making the request.`,
    {
      destination: via === 'tls' ? e.dst : undefined,
      dnsName: via === 'dns' ? name : undefined,
      tlsName: via === 'tls' ? name : undefined,
      evidence: { score: Number(s.toFixed(3)) },
    },
  );
  const names = (p.evidence['names'] as string[] | undefined) ?? [];
  if (names.length < 10 && !names.includes(name)) names.push(name);
  p.evidence['names'] = names;
}

function observe(ctx: NetworkContext, e: NetEvent): void {
  const address = e.src?.ip ?? 'unknown';
  if (e.kind === 'dns') {
    for (const q of e.dns?.questions ?? []) checkName(ctx, e, q.name, 'dns', address);
  } else for (const n of ctx.tlsNames(e)) checkName(ctx, e, n, 'tls', address);
}

/** DNS questions and TLS names the name classifier scores as machine-generated, one finding per registered domain. */
export const randomName: NetworkRuleModule = {
  folder: 'random-name',
  rules: [RANDOM_DNS, RANDOM_TLS_NAME],
  kinds: ['dns', 'tls'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
