import ipaddr from 'ipaddr.js';
import { UsageError } from '../../core/errors.ts';
import { ActionError } from './errors.ts';
import { canonicalAddress, shown } from './target.ts';

/**
 * A host name or agent id known to the deminer server, turned into the one
 * address to isolate: `GET /api/v1/hosts?text=NAME`, the host whose name or id
 * is exactly NAME, and its one routable address (agents report every address
 * of their host; loopback and link-local ones are left out). Anything less
 * clear is a usage error that lists what was found: isolation is not a guess.
 */
export async function resolveHostTarget(
  name: string,
  opts: { server: string; token: string; timeoutMs: number },
): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(name))
    throw new UsageError('ISOLATE_BAD_TARGET', `${shown(name)} is neither an address nor a host name`, {
      location: 'TARGET',
    });
  const url = `${opts.server.replace(/\/+$/, '')}/api/v1/hosts?text=${encodeURIComponent(name)}&limit=500`;
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(url, {
      headers: { Authorization: `Bearer ${opts.token}`, Accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    body = await res.json();
  } catch (e) {
    throw new ActionError('SERVER_UNREACHABLE', `GET ${url}: ${e instanceof Error ? e.message : String(e)}`, {
      retryable: true,
      cause: e,
    });
  }
  if (res.status === 401 || res.status === 403)
    throw new UsageError('ISOLATE_SERVER_AUTH', `the server refused the token (${res.status})`, {
      location: '--token',
    });
  if (res.status !== 200)
    throw new ActionError('SERVER_ERROR', `GET ${url} answered ${res.status}`, {
      retryable: res.status >= 500,
    });
  const items = (body as { items?: { id?: unknown; name?: unknown; addresses?: unknown }[] }).items ?? [];
  const lower = name.toLowerCase();
  const hits = items.filter(
    (h) => h.id === name || (typeof h.name === 'string' && h.name.toLowerCase() === lower),
  );
  if (hits.length === 0)
    throw new UsageError(
      'ISOLATE_UNKNOWN_HOST',
      `the server knows no host named ${shown(name)}: give its address`,
      {
        location: 'TARGET',
      },
    );
  if (hits.length > 1)
    throw new UsageError(
      'ISOLATE_AMBIGUOUS_HOST',
      `${hits.length} hosts on the server are named ${shown(name)} (ids ${hits.map((h) => String(h.id)).join(', ')}): give an id or the address`,
      { location: 'TARGET' },
    );
  const addresses = (Array.isArray(hits[0]!.addresses) ? hits[0]!.addresses : [])
    .map((a) => (typeof a === 'string' ? canonicalAddress(a.split('%')[0] ?? '')?.ip : undefined))
    .filter((a): a is string => a !== undefined)
    .filter((a) => !['loopback', 'linkLocal', 'unspecified'].includes(ipaddr.parse(a).range()));
  const unique = [...new Set(addresses)];
  if (unique.length !== 1)
    throw new UsageError(
      'ISOLATE_HOST_ADDRESSES',
      unique.length === 0
        ? `the server has no routable address for ${shown(name)}: give the address`
        : `${shown(name)} has ${unique.length} addresses (${unique.join(', ')}): isolate each address on its own`,
      { location: 'TARGET' },
    );
  return unique[0]!;
}
