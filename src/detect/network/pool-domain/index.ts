import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import type { PoolHit, PoolVerdict } from '../../pool-match/pool-check.ts';
import { hitEvidence } from '../../pool-match/pool-check.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';

export const POOL_DOMAIN: RuleDeclaration = {
  id: 'deminer.network.pool_domain',
  name: 'Mining pool name looked up or contacted',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'high' },
  techniques: ['T1496'],
  triage:
    'Find the process behind the lookup or connection and treat the host as running a miner; evidence.intel says which list named the pool.',
};

type Via = 'dns' | 'tls' | 'http';

const ADDRESS_RE = /^[\d.:[\]]+$/;

function report(
  ctx: NetworkContext,
  e: NetEvent,
  name: string,
  via: Via,
  address: string,
  pool: PoolHit,
): void {
  // Every place this host met the pool so far (the same matcher the flow and event-log checks feed).
  const seenIn = ctx.pools.seenAt(address, ctx.pools.poolKey(pool), via);
  const p = ctx.record(
    e,
    POOL_DOMAIN,
    'high',
    address,
    [pool.indicator],
    () =>
      pool.learnedFrom
        ? `${address} ${via === 'dns' ? 'looked up' : 'contacted'} ${name}, a mining pool learned from ${pool.learnedFrom.host} mining to it (${pool.learnedFrom.endpoint}); find the process behind it and treat the host as running a miner.`
        : `${address} ${via === 'dns' ? 'looked up' : 'contacted'} ${name}, a mining pool listed by ${pool.source} (${pool.indicator}); find the process behind it and treat the host as running a miner.`,
    {
      destination: via === 'dns' ? undefined : e.dst,
      dnsName: via === 'dns' ? name : undefined,
      tlsName: via === 'tls' ? name : undefined,
      evidence: {
        ...(pool.type === 'domain' ? { pool_domain: pool.indicator } : {}),
        intel: hitEvidence(pool),
        names: [name],
        ...(pool.learnedFrom ? { learned_from: pool.learnedFrom } : {}),
      },
    },
  );
  p.evidence['seen_in'] = seenIn;
}

function checkName(ctx: NetworkContext, e: NetEvent, name: string, via: Via, address: string): void {
  const v = ctx.name(name).pool;
  if (v === 'allowed') return;
  if (v !== null && v.type !== 'learned') {
    report(ctx, e, name, via, address, v);
    return;
  }
  // Verdicts are cached per name; learned pools come and go within the run, so they are asked each time.
  const learned = ctx.pools.learnedDomain(name);
  // The host that taught a learned pool already has its mining finding.
  if (learned && learned.learnedFrom?.address !== address) report(ctx, e, name, via, address, learned);
}

function checkHttp(
  ctx: NetworkContext,
  e: NetEvent,
  hostHeader: string,
  uri: string | undefined,
  address: string,
): void {
  const bare = hostHeader.replace(/:\d+$/, '');
  if (!uri || !uri.startsWith('/')) {
    // Without a path only the host can match; names go through the per-name cache.
    if (!ADDRESS_RE.test(bare)) checkName(ctx, e, bare, 'http', address);
    return;
  }
  let v: PoolVerdict;
  try {
    v = ctx.pools.url(`http://${hostHeader}${uri}`, bare);
  } catch {
    v = undefined;
  }
  if (!v || v === 'allowed') return;
  // An address as host is the flow check's to report, unless a URL indicator names this very URL.
  if (ADDRESS_RE.test(bare) && v.type !== 'url') return;
  report(ctx, e, bare, 'http', address, v);
}

function observe(ctx: NetworkContext, e: NetEvent): void {
  const address = e.src?.ip ?? 'unknown';
  ctx.pools.at(e.tsMs);
  if (e.kind === 'dns') {
    for (const q of e.dns?.questions ?? []) checkName(ctx, e, q.name, 'dns', address);
  } else if (e.kind === 'tls') {
    // The name a miner's TLS session was opened with is the name learned if it then mines there.
    if (e.tls?.serverName && e.dst) ctx.pools.observeTlsName(e.dst.ip, e.tls.serverName);
    for (const n of ctx.tlsNames(e)) checkName(ctx, e, n, 'tls', address);
  } else if (e.kind === 'http' && e.http?.host) checkHttp(ctx, e, e.http.host, e.http.uri, address);
}

/** DNS questions, TLS names and HTTP hosts or URLs that the pool check lists. */
export const poolDomain: NetworkRuleModule = {
  folder: 'pool-domain',
  rules: [POOL_DOMAIN],
  kinds: ['dns', 'tls', 'http'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
