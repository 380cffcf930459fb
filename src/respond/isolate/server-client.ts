import { UsageError } from '../../core/errors.ts';
import { ActionError } from './errors.ts';
import { shown } from './target.ts';

/**
 * `deminer isolate HOST --backend nftables --server URL`: the host firewall
 * of another machine, through the server and that machine's agent
 * (`agent-nftables`). The CLI asks the server (POST /hosts/{id}/isolate or
 * /release) and waits until the agent has read its table back (or gone), so
 * that exit 0 still means "verified in place".
 */
export interface ThroughServerOptions {
  server: string;
  token: string;
  timeoutMs: number;
  /** How long to wait for the agent (it acts at its next heartbeat). */
  waitMs: number;
  ttlS?: number;
  dryRun?: boolean;
}

export interface ThroughServerResult {
  action: 'isolate' | 'release';
  backend: 'agent-nftables';
  host: { id: string; name: string };
  ok: boolean;
  outcome:
    | 'isolated'
    | 'already_isolated'
    | 'released'
    | 'nothing_to_release'
    | 'pending_approval'
    | 'planned'
    | 'failed';
  dry_run: boolean;
  plan?: unknown[];
  isolation?: Record<string, unknown>;
  error?: { code: string; message: string };
  timings: { total_ms: number };
}

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
}

async function call(
  o: ThroughServerOptions,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Answer> {
  const url = `${o.server.replace(/\/+$/, '')}/api/v1${path}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${o.token}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    text = await res.text();
  } catch (e) {
    throw new ActionError(
      'SERVER_UNREACHABLE',
      `${method} ${url}: ${e instanceof Error ? e.message : String(e)}`,
      {
        retryable: true,
        cause: e,
      },
    );
  }
  if (res.status === 401 || res.status === 403)
    throw new UsageError(
      'ISOLATE_SERVER_AUTH',
      `the server refused the token (${res.status}): isolation needs an analyst or admin token`,
      {
        location: '--token',
      },
    );
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed };
}

function apiMessage(a: Answer): string {
  const e = (a.body?.['error'] ?? {}) as { message?: unknown };
  return typeof e.message === 'string' ? e.message : `answered ${a.status}`;
}

/** The host whose id or name (any case) or one of whose addresses is `target`. */
async function findHost(target: string, o: ThroughServerOptions): Promise<{ id: string; name: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(target))
    throw new UsageError('ISOLATE_BAD_TARGET', `${shown(target)} is neither an address nor a host name`, {
      location: 'TARGET',
    });
  const r = await call(o, 'GET', `/hosts?text=${encodeURIComponent(target)}&limit=500`);
  if (r.status !== 200)
    throw new ActionError('SERVER_ERROR', `GET /hosts ${apiMessage(r)}`, { retryable: r.status >= 500 });
  const items = (r.body?.['items'] ?? []) as { id?: unknown; name?: unknown; addresses?: unknown }[];
  const lower = target.toLowerCase();
  const hits = items.filter(
    (h) =>
      h.id === target ||
      (typeof h.name === 'string' && h.name.toLowerCase() === lower) ||
      (Array.isArray(h.addresses) && h.addresses.includes(target)),
  );
  if (hits.length !== 1)
    throw new UsageError(
      hits.length === 0 ? 'ISOLATE_UNKNOWN_HOST' : 'ISOLATE_AMBIGUOUS_HOST',
      hits.length === 0
        ? `the server knows no host named ${shown(target)} (or with that address)`
        : `${hits.length} hosts on the server match ${shown(target)} (ids ${hits.map((h) => String(h.id)).join(', ')}): give an id`,
      { location: 'TARGET' },
    );
  return { id: String(hits[0]!.id), name: String(hits[0]!.name) };
}

export async function throughServer(
  action: 'isolate' | 'release',
  target: string,
  o: ThroughServerOptions,
): Promise<ThroughServerResult> {
  const t0 = performance.now();
  const host = await findHost(target, o);
  const base = { action, backend: 'agent-nftables' as const, host, dry_run: o.dryRun === true };
  const done = (r: Omit<ThroughServerResult, keyof typeof base | 'timings'>): ThroughServerResult => ({
    ...base,
    ...r,
    timings: { total_ms: Math.round(performance.now() - t0) },
  });
  const path = `/hosts/${encodeURIComponent(host.id)}`;
  if (action === 'release' && o.dryRun)
    return done({
      ok: true,
      outcome: 'planned',
      plan: [{ kind: 'http', method: 'POST', url: `${o.server}/api/v1${path}/release` }],
    });
  const r =
    action === 'isolate'
      ? await call(o, 'POST', `${path}/isolate`, {
          backend: 'agent-nftables',
          ...(o.ttlS === undefined ? {} : { ttl_s: o.ttlS }),
          ...(o.dryRun ? { dry_run: true } : {}),
        })
      : await call(o, 'POST', `${path}/release`, {});
  if (action === 'release' && r.status === 404) return done({ ok: true, outcome: 'nothing_to_release' });
  if (r.status === 422 || r.status === 409 || r.status === 400)
    throw new UsageError('ISOLATE_REFUSED', `the server refused: ${apiMessage(r)}`, { location: 'TARGET' });
  if (r.status >= 400)
    return done({ ok: false, outcome: 'failed', error: { code: 'SERVER_ERROR', message: apiMessage(r) } });
  if (o.dryRun) return done({ ok: true, outcome: 'planned', plan: (r.body?.['plan'] ?? []) as unknown[] });
  const first = r.body ?? {};
  if (action === 'isolate' && r.status === 200 && first['state'] === 'isolated')
    return done({ ok: true, outcome: 'already_isolated', isolation: first });
  if (action === 'release' && r.status === 200 && first['state'] === 'released')
    return done({ ok: true, outcome: 'nothing_to_release', isolation: first });
  // The agent acts at its next heartbeat: wait for its report.
  const end = Date.now() + o.waitMs;
  for (;;) {
    const g = await call(o, 'GET', `${path}/isolation`);
    const iso = (g.body?.['isolation'] ?? undefined) as Record<string, unknown> | undefined;
    const state = iso?.['state'];
    if (action === 'isolate' && state === 'isolated')
      return done({ ok: true, outcome: 'isolated', isolation: iso });
    if (action === 'release' && state === 'released')
      return done({ ok: true, outcome: 'released', isolation: iso });
    if (state === 'failed') {
      const err = (iso?.['last_error'] ?? { code: 'ISOLATE_FAILED', message: 'failed' }) as {
        code: string;
        message: string;
      };
      return done({ ok: false, outcome: 'failed', isolation: iso ?? {}, error: err });
    }
    if (action === 'isolate' && state === 'requested' && iso?.['approval'] === 'pending')
      return done({
        ok: false,
        outcome: 'pending_approval',
        isolation: iso,
        error: {
          code: 'ISOLATE_PENDING_APPROVAL',
          message: 'the server holds the request until an analyst approves it',
        },
      });
    if (Date.now() > end)
      return done({
        ok: false,
        outcome: 'failed',
        ...(iso ? { isolation: iso } : {}),
        error: {
          code: action === 'isolate' ? 'ISOLATE_NOT_VERIFIED' : 'RELEASE_NOT_VERIFIED',
          message: `the agent of ${host.name} did not report within ${Math.round(o.waitMs / 1000)} s (state ${String(state)}); the server keeps the request`,
        },
      });
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** The one human line. */
export function throughServerLine(r: ThroughServerResult): string {
  const t = ` in ${r.timings.total_ms} ms`;
  switch (r.outcome) {
    case 'isolated':
      return `${r.host.name}: isolated via its agent's nftables table (read back by the agent)${t}\n`;
    case 'already_isolated':
      return `${r.host.name}: already isolated (${String(r.isolation?.['backend'])})\n`;
    case 'released':
      return `${r.host.name}: released via its agent (table read back gone)${t}\n`;
    case 'nothing_to_release':
      return `${r.host.name}: not isolated, nothing to release\n`;
    case 'planned':
      return `# dry run: ${r.action} ${r.host.name} through its agent; nothing was sent\n${JSON.stringify(r.plan, null, 2)}\n`;
    case 'pending_approval':
      return `${r.host.name}: ${r.action} requested, waiting for an analyst's approval\n`;
    default:
      return `${r.host.name}: ${r.action} via agent-nftables FAILED${t}\n`;
  }
}
