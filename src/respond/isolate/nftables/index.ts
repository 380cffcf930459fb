import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { UsageError } from '../../../core/errors.ts';
import { ActionError } from '../errors.ts';
import { canonicalCidr, nameservers } from '../safety.ts';
import { canonicalAddress, shown } from '../target.ts';
import {
  type Answer,
  type ExecStep,
  type IsolationBackend,
  type IsolationTarget,
  type RuleCheck,
  type StepRunner,
  withStatus,
} from '../types.ts';

/**
 * The host firewall of the machine deminer runs on: one nftables table,
 * `inet deminer`, that drops everything but the deminer server's addresses,
 * the DNS servers and DHCP, so the management channel and evidence
 * collection keep working while the miner is cut off (see README.md).
 */
export interface NftablesOptions {
  /** Addresses or prefixes still reachable: the deminer server (at least one). */
  allow: readonly string[];
  /** DNS servers still reachable on port 53. */
  dns?: readonly string[];
  nft?: string;
}

export const TABLE = 'deminer';

interface Ruleset {
  allow4: string[];
  allow6: string[];
  dns4: string[];
  dns6: string[];
}

function split(list: readonly string[], option: string): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const text of list) {
    const cidr = canonicalCidr(text);
    if (!cidr)
      throw new UsageError(
        'ISOLATE_BAD_ALLOW',
        `${option} takes an address or CIDR prefix (got ${shown(text)})`,
        {
          location: option,
        },
      );
    const [addr, len] = cidr.split(/\/(?=[0-9]+$)/);
    // nft prints a host as a bare address: keep ours the same way, for the read-back.
    const host = (addr!.includes(':') && len === '128') || (!addr!.includes(':') && len === '32');
    const entry = host ? addr! : cidr;
    const bucket = addr!.includes(':') ? v6 : v4;
    if (!bucket.includes(entry)) bucket.push(entry);
  }
  return { v4: v4.sort(), v6: v6.sort() };
}

const ICMP6 =
  'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept';

const INPUT_RULES = [
  'iif "lo" accept',
  'ip saddr @allow4 accept',
  'ip6 saddr @allow6 accept',
  'ip saddr @dns4 udp sport 53 accept',
  'ip saddr @dns4 tcp sport 53 accept',
  'ip6 saddr @dns6 udp sport 53 accept',
  'ip6 saddr @dns6 tcp sport 53 accept',
  'meta nfproto ipv4 udp sport 67 udp dport 68 accept',
  'meta nfproto ipv6 udp sport 547 udp dport 546 accept',
  // Neighbour discovery: without it no IPv6 packet reaches even the allowed server.
  ICMP6,
];

const OUTPUT_RULES = [
  'oif "lo" accept',
  'ip daddr @allow4 accept',
  'ip6 daddr @allow6 accept',
  'ip daddr @dns4 udp dport 53 accept',
  'ip daddr @dns4 tcp dport 53 accept',
  'ip6 daddr @dns6 udp dport 53 accept',
  'ip6 daddr @dns6 tcp dport 53 accept',
  'meta nfproto ipv4 udp sport 68 udp dport 67 accept',
  'meta nfproto ipv6 udp sport 546 udp dport 547 accept',
  ICMP6,
];

function elements(list: readonly string[]): string {
  return list.length > 0 ? ` elements = { ${list.join(', ')} };` : '';
}

/**
 * The whole table, loaded with `nft -f` in one transaction: declaring the
 * table, deleting it and declaring it again makes a repeated apply replace
 * the old rules atomically instead of adding to them. Every value in it
 * passed `canonicalCidr`: only digits, hex, dots, colons and a slash.
 */
export function nftRuleset(r: Ruleset, target: IsolationTarget): string {
  const chain = (hook: string, body: string[]) =>
    [
      `  chain ${hook} {`,
      `    type filter hook ${hook} priority filter - 10; policy drop;`,
      ...body.map((l) => `    ${l}`),
      '  }',
    ].join('\n');
  return [
    `# deminer: isolation of ${target.ip}; only the deminer server, DNS and DHCP stay reachable`,
    `table inet ${TABLE}`,
    `delete table inet ${TABLE}`,
    `table inet ${TABLE} {`,
    `  set allow4 { type ipv4_addr; flags interval;${elements(r.allow4)} }`,
    `  set allow6 { type ipv6_addr; flags interval;${elements(r.allow6)} }`,
    `  set dns4 { type ipv4_addr; flags interval;${elements(r.dns4)} }`,
    `  set dns6 { type ipv6_addr; flags interval;${elements(r.dns6)} }`,
    chain('input', INPUT_RULES),
    chain('output', OUTPUT_RULES),
    chain('forward', []),
    '}',
    '',
  ].join('\n');
}

/**
 * The DNS servers this host uses (resolv.conf, and systemd-resolved's
 * upstream list when the stub resolver is in front): the isolated host keeps
 * name resolution through them and through nothing else.
 */
export function systemResolvers(files = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']): string[] {
  const out = new Set<string>();
  for (const f of files) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const ns of nameservers(text)) if (!ns.startsWith('127.') && ns !== '::1') out.add(ns);
  }
  return [...out];
}

/** This machine's own addresses: the nftables backend isolates the host it runs on, and no other. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) {
      const c = canonicalAddress(a.address.split('%')[0] ?? '');
      if (c) out.push(c.ip);
    }
  return out;
}

export function checkLocal(target: IsolationTarget, local: readonly string[] = localAddresses()): void {
  if (!local.includes(target.ip))
    throw new UsageError(
      'ISOLATE_NOT_LOCAL',
      `the nftables backend isolates the host it runs on, and ${target.ip} is not one of its addresses (${local.join(', ') || 'none'}); isolate other hosts through the network (ovs, ryu, onos, odl, http)`,
      { location: 'TARGET' },
    );
}

/** An element of an nft -j set listing, as the text we put in: bare address for a host, else `addr/len`. */
function elementText(e: unknown): string | undefined {
  if (typeof e === 'string') return canonicalAddress(e)?.ip ?? e;
  if (typeof e === 'object' && e !== null && 'prefix' in e) {
    const p = (e as { prefix: { addr?: unknown; len?: unknown } }).prefix;
    return typeof p.addr === 'string' && typeof p.len === 'number'
      ? canonicalCidr(`${p.addr}/${p.len}`)
      : undefined;
  }
  if (typeof e === 'object' && e !== null && 'elem' in e)
    return elementText((e as { elem: { val?: unknown } }).elem.val);
  return undefined;
}

interface NftObject {
  chain?: { name?: string; hook?: string; policy?: string; table?: string };
  set?: { name?: string; table?: string; elem?: unknown[] };
  rule?: { chain?: string; table?: string };
}

export function nftablesBackend(opts: NftablesOptions): IsolationBackend {
  const nft = opts.nft ?? 'nft';
  const allow = split(opts.allow, '--allow');
  const dns = split(opts.dns ?? [], '--dns');
  const rules: Ruleset = { allow4: allow.v4, allow6: allow.v6, dns4: dns.v4, dns6: dns.v6 };
  const chains = ['input', 'output', 'forward'];
  const expected = [
    `table inet ${TABLE}`,
    ...chains.map((c) => `chain ${c}: hook ${c}, policy drop`),
    ...[...rules.allow4, ...rules.allow6].map((a) => `allow ${a}`),
    ...[...rules.dns4, ...rules.dns6].map((a) => `dns ${a}`),
  ];

  const readStep = (): ExecStep => ({
    kind: 'exec',
    purpose: 'read',
    argv: [nft, '-j', 'list', 'table', 'inet', TABLE],
  });
  const applyStep = (t: IsolationTarget): ExecStep => {
    // Release needs no list; isolation without one would cut the host off from its own management.
    if (allow.v4.length + allow.v6.length === 0)
      throw new UsageError(
        'ISOLATE_NO_ALLOW',
        'the nftables backend needs the deminer server address (--allow ADDR): without it the isolated host could not be managed or released remotely',
        { location: '--allow' },
      );
    return {
      kind: 'exec',
      purpose: 'apply',
      argv: [nft, '-f', '-'],
      stdin: nftRuleset(rules, t),
    };
  };
  const releaseStep = (): ExecStep => ({
    kind: 'exec',
    purpose: 'release',
    argv: [nft, 'delete', 'table', 'inet', TABLE],
  });

  function failed(what: string, a: Answer): ActionError {
    const err = (a.stderr ?? '').trim().split('\n')[0] ?? '';
    const perm = /Operation not permitted|Permission denied/.test(err);
    return new ActionError(
      perm ? 'NFT_PERMISSION' : 'NFT_FAILED',
      `${nft} ${what} exited ${a.exitCode}: ${err || 'no message'}${perm ? ' (nftables needs root or CAP_NET_ADMIN)' : ''}`,
      { retryable: false },
    );
  }

  async function verify(_t: IsolationTarget, io: StepRunner): Promise<RuleCheck> {
    const a = await io.exec(readStep());
    if (a.exitCode !== 0) {
      if (/No such file or directory/.test(a.stderr ?? ''))
        return { expected, present: [], detail: `no table inet ${TABLE} (nft list table)` };
      throw failed('list table', a);
    }
    let objects: NftObject[];
    try {
      objects = (JSON.parse(a.body ?? '') as { nftables?: NftObject[] }).nftables ?? [];
    } catch {
      throw new ActionError('NFT_BAD_ANSWER', `${nft} -j list table printed something that is not JSON`, {
        retryable: true,
      });
    }
    const present: string[] = [];
    for (const c of chains) {
      const chain = objects.find((o) => o.chain?.name === c)?.chain;
      if (chain?.hook === c && chain.policy === 'drop') present.push(`chain ${c}: hook ${c}, policy drop`);
    }
    const setElems = (name: string) =>
      new Set((objects.find((o) => o.set?.name === name)?.set?.elem ?? []).map(elementText));
    const a4 = setElems('allow4');
    const a6 = setElems('allow6');
    const d4 = setElems('dns4');
    const d6 = setElems('dns6');
    for (const x of rules.allow4) if (a4.has(x)) present.push(`allow ${x}`);
    for (const x of rules.allow6) if (a6.has(x)) present.push(`allow ${x}`);
    for (const x of rules.dns4) if (d4.has(x)) present.push(`dns ${x}`);
    for (const x of rules.dns6) if (d6.has(x)) present.push(`dns ${x}`);
    const extra = [...a4, ...a6].filter(
      (x) => x !== undefined && !rules.allow4.includes(x) && !rules.allow6.includes(x),
    );
    const ruleCount = objects.filter((o) => o.rule !== undefined).length;
    // A table that allows more, or holds other rules, than planned is not our isolation: partial.
    if (extra.length === 0 && ruleCount === INPUT_RULES.length + OUTPUT_RULES.length)
      present.unshift(`table inet ${TABLE}`);
    return {
      expected,
      present,
      detail: `table inet ${TABLE}: ${present.length} of ${expected.length} parts as planned, ${ruleCount} rules${
        extra.length > 0 ? `, also allows ${extra.join(', ')}` : ''
      } (nft -j list table)`,
    };
  }

  return withStatus({
    name: 'nftables',
    settleMs: 500,
    plan(action, t) {
      return [readStep(), action === 'isolate' ? applyStep(t) : releaseStep(), readStep()];
    },
    async apply(t, io) {
      const a = await io.exec(applyStep(t));
      if (a.exitCode !== 0) throw failed('-f', a);
    },
    verify,
    async release(_t, io) {
      const a = await io.exec(releaseStep());
      if (a.exitCode !== 0 && !/No such file or directory/.test(a.stderr ?? ''))
        throw failed('delete table', a);
    },
  });
}
