import ipaddr from 'ipaddr.js';
import type { Finding } from '../../core/finding.ts';
import { atLeast } from '../../core/severity.ts';
import type { IsolationPolicy, PolicyRule } from './server-config.ts';
import { canonicalAddress } from './target.ts';

/**
 * Automatic isolation, as data in and a decision out (no I/O): a finding
 * the policy names is isolated at once (`auto`: e.g. critical findings of
 * the rules the site counts as confirmatory); one that only asks
 * (`approval`: e.g. any high finding) becomes a request waiting for an
 * analyst; anything else changes nothing. The default policy names nothing.
 */
export interface PolicyDecision {
  mode: 'auto' | 'approval';
  /** The rule of the finding that asked (recorded as `policy:<rule>`). */
  rule: string;
  fingerprint: string;
  severity: Finding['severity'];
}

function matches(f: Finding, r: PolicyRule | undefined): boolean {
  if (!r) return false;
  if (!atLeast(f.severity, r.minSeverity)) return false;
  return r.rules === undefined || r.rules.includes(f.rule.id);
}

export function decide(f: Finding, p: IsolationPolicy): PolicyDecision | undefined {
  const base = { rule: f.rule.id, fingerprint: f.fingerprint, severity: f.severity };
  if (matches(f, p.auto)) return { mode: 'auto', ...base };
  if (matches(f, p.approval)) return { mode: 'approval', ...base };
  return undefined;
}

/** Ranges that are never the address to isolate a host by. */
const NOT_ROUTABLE = new Set(['loopback', 'linkLocal', 'unspecified', 'multicast', 'broadcast']);

function routable(text: string): string | undefined {
  const c = canonicalAddress(text.split('%')[0]?.trim() ?? '');
  if (!c) return undefined;
  return NOT_ROUTABLE.has(ipaddr.parse(c.ip).range()) ? undefined : c.ip;
}

/**
 * The one address to isolate a host by: its one routable address as its
 * agent reports it; with several, the one the finding was seen from
 * (`source.ip`), else the one its agent reaches the server from (`via`:
 * the address the network knows it by); a host known only from network
 * findings is named by its address, or the finding carries it. Anything
 * less clear is no target: isolation is not a guess (the request can give
 * the address).
 */
export function pickTarget(
  host: { name: string; addresses: readonly string[] },
  finding?: Pick<Finding, 'source'>,
  via?: string,
): { ip: string } | { error: string } {
  const own = [...new Set(host.addresses.map(routable).filter((a): a is string => a !== undefined))];
  const seen = finding?.source?.ip !== undefined ? routable(finding.source.ip) : undefined;
  const from = via !== undefined ? routable(via) : undefined;
  if (own.length === 1) return { ip: own[0]! };
  if (own.length > 1) {
    if (seen !== undefined && own.includes(seen)) return { ip: seen };
    if (from !== undefined && own.includes(from)) return { ip: from };
    return {
      error: `${host.name} has ${own.length} addresses (${own.join(', ')}): give the one to isolate (address)`,
    };
  }
  const byName = routable(host.name);
  if (byName !== undefined) return { ip: byName };
  if (seen !== undefined) return { ip: seen };
  return { error: `no routable address is known for ${host.name}: give the address to isolate` };
}
