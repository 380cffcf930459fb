import type { NetEvent } from '../../../core/net-event.ts';
import type { Severity } from '../../../core/severity.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleModule } from '../network-rule.ts';

export const MINING_PROTOCOL: RuleDeclaration = {
  id: 'deminer.network.mining_protocol',
  name: 'Mining protocol on the wire',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'critical' },
  techniques: ['T1496'],
  triage:
    'The host is mining: isolate it, find the miner process holding the connection and the way it was installed; the wallet or worker in the evidence ties hosts of one campaign together.',
};

/** Requests only a miner sends (a pool's answers are recognised by role). */
const MINING_CLIENT_METHODS = new Set([
  'mining.subscribe',
  'mining.authorize',
  'mining.submit',
  'login',
  'submit',
  'keepalived',
  'eth_submitLogin',
  'eth_login',
  'eth_submitWork',
  'eth_getWork',
]);

/** Pool addresses listed in one finding (the first ones seen); `observations` counts them all. */
const MAX_LISTED = 20;

function observe(ctx: NetworkContext, e: NetEvent): void {
  const m = e.mining;
  if (!m || !e.src || !e.dst) return;
  const src = e.src;
  const dst = e.dst;
  // A node asking its own wallet for block templates may be a sanctioned solo miner: high, not critical.
  const solo = m.protocol === 'getblocktemplate' || m.protocol === 'getwork';
  const confirmed = m.role === 'pool' || MINING_CLIENT_METHODS.has(m.method);
  const severity: Severity = solo ? 'high' : confirmed ? 'critical' : 'high';
  // One finding per host and pool: a pool is its name when DNS or TLS told it,
  // else its port (the addresses behind one pool name share its port). A
  // miner that reconnects to a pool's many addresses is one finding with the
  // addresses listed, not one per flow.
  const pool = ctx.domainOf(dst.ip) ?? `port ${dst.port ?? '?'}`;
  const p = ctx.record(
    e,
    MINING_PROTOCOL,
    severity,
    src.ip,
    [pool],
    () =>
      `${src.ip} is mining: ${m.protocol} ${m.method} with ${ctx.domainOf(dst.ip) ?? dst.ip}:${dst.port}; isolate the host, find the miner process and the way it was installed.`,
    { destination: dst, evidence: { protocol: m.protocol } },
  );
  const endpoint = `${dst.ip}:${dst.port ?? ''}`;
  const dests = (p.evidence['destinations'] as string[] | undefined) ?? [];
  if (dests.length < MAX_LISTED && !dests.includes(endpoint)) dests.push(endpoint);
  p.evidence['destinations'] = dests;
  const protocols = (p.evidence['protocols'] as string[] | undefined) ?? [];
  if (!protocols.includes(m.protocol) && protocols.length < 8) protocols.push(m.protocol);
  p.evidence['protocols'] = protocols;
  const methods = (p.evidence['methods'] as string[] | undefined) ?? [];
  if (!methods.includes(m.method) && methods.length < 20) methods.push(m.method);
  p.evidence['methods'] = methods;
  if (m.agent && p.evidence['agent'] === undefined) p.evidence['agent'] = m.agent;
  if (m.user && p.evidence['wallet_or_worker'] === undefined) p.evidence['wallet_or_worker'] = m.user;
  if (m.algorithm && p.evidence['algorithm'] === undefined) p.evidence['algorithm'] = m.algorithm;
  if (m.agent && ctx.lists.minerAgents.test(m.agent)) p.evidence['miner'] = m.agent;
  // The name that led to the pool, for the fleet's learned pools (server: GET /intel/learned-pools).
  const poolName = ctx.domainOf(dst.ip);
  if (poolName !== undefined && p.evidence['pool_name'] === undefined) p.evidence['pool_name'] = poolName;
  // Mining seen first-hand teaches the pool check the endpoint (and the name that led
  // there), so that hosts that only resolve or connect to it are reported too. A node
  // answering getblocktemplate may be a sanctioned wallet: it is not learned.
  if (confirmed || m.protocol === 'getwork')
    ctx.pools.observeMining({
      ip: dst.ip,
      port: dst.port,
      name: ctx.domainOf(dst.ip),
      host: ctx.hostOf(src.ip),
      address: src.ip,
      protocol: m.protocol,
      method: m.method,
      tsMs: e.tsMs,
    });
}

/** Stratum, its CryptoNote and Ethereum dialects, getblocktemplate and getwork, on any port. */
export const miningProtocol: NetworkRuleModule = {
  folder: 'mining-protocol',
  rules: [MINING_PROTOCOL],
  kinds: ['mining'],
  create: (ctx) => ({ observe: (e) => observe(ctx, e) }),
};
