import type { z } from 'zod';
import { DeminerError } from '../../core/errors.ts';
import {
  DEFAULT_LEARNED_POOLS,
  endpointKey,
  LEARNING_RULE,
  learnedFromFinding,
} from '../../detect/pool-match/learned-pools.ts';
import type { FeedConfig } from '../../intel/config.ts';
import type { RefreshOutcome } from '../../intel/refresh.ts';
import { type FeedState, listFeedStates, readFeedState } from '../../intel/state.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError, clip } from '../errors.ts';
import { forgetIntelFeeds } from '../intel-status.ts';
import { type ApiRoute, defineRoute, ROLE_SETS } from '../route.ts';
import { IntelFeedsList, IntelRefreshBody, IntelRefreshResult, LearnedPoolsList } from '../schemas.ts';

type ApiFeed = z.output<typeof IntelFeedsList>['items'][number];
type RefreshResult = z.output<typeof IntelRefreshResult>;

/** Query parameters whose values are secrets more often than not. */
const SECRET_PARAM =
  /^(api[-_]?key|key|token|access[-_]?token|auth|secret|password|passwd|pass|sig|signature)$/i;

/** The URL without its user name, password and key-like query values (they are shown as `***`). */
export function redactUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return redactText(text);
  }
  if (u.username !== '' || u.password !== '') {
    u.username = '***';
    u.password = '';
  }
  for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, '***');
  return u.toString();
}

/** Credentials of any URL inside a message (a download error names its URL). */
function redactText(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>]+/gi, (m) => {
    try {
      new URL(m);
    } catch {
      return m.replace(/\/\/[^/@\s]*@/, '//***@');
    }
    return redactUrl(m);
  });
}

/** Three missed intervals without a success: what `deminer intel stats` calls stale. */
const STALE_INTERVALS = 3;

function health(s: FeedState | undefined, intervalMs: number, now: number): ApiFeed['health'] {
  if (!s) return 'never-fetched';
  if (s.status === 'failed' || s.status === 'empty') return 'failing';
  if (!s.lastSuccess) return 'never-fetched';
  if (now - Date.parse(s.lastSuccess) > STALE_INTERVALS * intervalMs) return 'stale';
  return 'ok';
}

function message(s: FeedState | undefined, h: ApiFeed['health']): string | null {
  if (s?.warning) return clip(redactText(s.warning), 500);
  if (h === 'stale') return `no successful update since ${s?.lastSuccess}`;
  if (h === 'failing')
    return s?.status === 'empty' ? 'the last update found no indicators' : 'the last update failed';
  return null;
}

function apiFeed(
  f: {
    name: string;
    format: string;
    role: 'block' | 'allow';
    url?: string;
    file?: string;
    enabled: boolean;
    intervalMs: number;
  },
  s: FeedState | undefined,
  now: number,
): ApiFeed {
  const h = health(s, f.intervalMs, now);
  const attempt = s?.lastAttempt ?? null;
  const due = attempt === null ? null : Date.parse(attempt) + f.intervalMs;
  return {
    name: f.name,
    format: s && f.format === 'auto' ? s.format : f.format,
    role: f.role,
    url: f.url === undefined ? null : redactUrl(f.url),
    file: f.file ?? null,
    enabled: f.enabled,
    interval_s: Math.round(f.intervalMs / 1000),
    health: h,
    status: s?.status ?? null,
    last_attempt: attempt,
    last_success: s?.lastSuccess ?? null,
    indicators: s?.indicators ?? 0,
    issues: s?.issues ?? 0,
    message: message(s, h),
    next_update_due: !f.enabled || due === null || Number.isNaN(due) ? null : new Date(due).toISOString(),
  };
}

function configuredFeed(f: FeedConfig, role: 'block' | 'allow') {
  return {
    name: f.name,
    format: f.format,
    role,
    ...(f.url === undefined ? {} : { url: f.url }),
    ...(f.file === undefined ? {} : { file: f.file }),
    enabled: f.enabled,
    intervalMs: f.interval,
  };
}

/** A feed only the state folder knows (the server has no config): where it came from, as recorded. */
function recordedFeed(s: FeedState) {
  const web = /^https?:\/\//i.test(s.origin);
  return {
    name: s.name,
    format: s.format,
    role: s.role,
    ...(web ? { url: s.origin } : { file: s.origin }),
    enabled: true,
    intervalMs: s.intervalMs,
  };
}

/**
 * The threat-intel feeds of this server, from the same config and state
 * folder `deminer intel update|stats` use: their health, and an update run
 * on demand (one at a time, bounded, audited).
 */
const MAX_LEARNED_PAGES = 20;
const MAX_LEARNED_POOLS = 10_000;

export function intelRoutes(deps: ServerDeps): ApiRoute[] {
  let running: Promise<RefreshOutcome[]> | null = null;

  const stateDir = async (): Promise<string | null> => {
    if (deps.intelStateDir === null) return null;
    if (deps.intelStateDir !== undefined) return deps.intelStateDir;
    const { resolveStateDir } = await import('../../intel/config.ts');
    return resolveStateDir(undefined, deps.intelConfig ?? undefined);
  };

  return [
    defineRoute({
      method: 'GET',
      url: '/intel/learned-pools',
      operationId: 'listLearnedPools',
      summary:
        'Pools the fleet learned: endpoints some host was seen speaking a mining protocol to (the stored mining-protocol findings of the last 7 days), for sensors, hunts and agents to start with',
      action: 'intel.learned.list',
      access: ROLE_SETS.fleet,
      status: 200,
      response: { description: 'The learned pools, newest first', schema: LearnedPoolsList },
      async handler(): Promise<z.infer<typeof LearnedPoolsList>> {
        const since = new Date(Date.now() - DEFAULT_LEARNED_POOLS.ttlMs).toISOString();
        const byEndpoint = new Map<string, z.infer<typeof LearnedPoolsList>['items'][number]>();
        let cursor: string | undefined;
        // Bounded: 20 pages of 500 findings, 10,000 pools.
        for (let page = 0; page < MAX_LEARNED_PAGES && byEndpoint.size < MAX_LEARNED_POOLS; page++) {
          const r = await deps.store.listFindings({
            rule: LEARNING_RULE,
            from: since,
            sort: 'last_seen',
            order: 'desc',
            limit: 500,
            ...(cursor === undefined ? {} : { cursor }),
          });
          for (const s of r.items) {
            for (const l of learnedFromFinding(s.finding)) {
              const endpoint = endpointKey(l.ip, l.port);
              const old = byEndpoint.get(endpoint);
              if (old) {
                if (s.firstSeen < old.first_seen) old.first_seen = s.firstSeen;
                continue;
              }
              if (byEndpoint.size >= MAX_LEARNED_POOLS) break;
              byEndpoint.set(endpoint, {
                endpoint,
                ip: l.ip,
                ...(l.port === undefined ? {} : { port: l.port }),
                ...(l.name === undefined ? {} : { name: l.name }),
                ...(l.protocol === undefined ? {} : { protocol: l.protocol }),
                first_seen: s.firstSeen,
                last_seen: s.lastSeen,
              });
            }
          }
          if (r.next === null) break;
          cursor = r.next;
        }
        return { since, items: [...byEndpoint.values()] };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/intel/feeds',
      operationId: 'listIntelFeeds',
      summary: 'The threat-intel feeds configured on this server, with their health',
      action: 'intel.feeds.list',
      access: ROLE_SETS.read,
      status: 200,
      response: {
        description: 'Every configured feed (disabled ones too) and its health',
        schema: IntelFeedsList,
      },
      async handler() {
        const now = Date.now();
        const dir = await stateDir();
        const feeds = deps.intelConfig?.feeds ?? [];
        const refreshing = running !== null;
        if (feeds.length > 0) {
          const { feedRole } = await import('../../intel/config.ts');
          return {
            configured: true,
            refreshing,
            items: feeds.map((f) =>
              apiFeed(
                configuredFeed(f, feedRole(f)),
                dir === null ? undefined : readFeedState(dir, f.name),
                now,
              ),
            ),
          };
        }
        const states = dir === null ? [] : listFeedStates(dir);
        return { configured: false, refreshing, items: states.map((s) => apiFeed(recordedFeed(s), s, now)) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/intel/feeds/refresh',
      operationId: 'refreshIntelFeeds',
      summary:
        'Runs what `deminer intel update` runs: every enabled feed whose interval has passed (all of them with force), one update at a time',
      action: 'intel.feeds.refresh',
      access: ROLE_SETS.admin,
      body: IntelRefreshBody,
      status: 200,
      response: { description: 'Each enabled feed and what its update did', schema: IntelRefreshResult },
      errors: {
        409: 'An update runs already',
        422: 'No feed is configured on this server, or the intel configuration cannot be applied',
        503: 'The update did not end in time; it goes on, and GET /intel/feeds shows its outcome',
      },
      async handler({ body, state }): Promise<RefreshResult> {
        const force = body.force === true;
        state.target = 'intel-feeds';
        state.detail = { force };
        const config = deps.intelConfig;
        const dir = await stateDir();
        if (!config || config.feeds.length === 0 || dir === null)
          throw new ApiError(
            'DEMINER_UNPROCESSABLE',
            'no intel feeds are configured on this server (the intel.feeds section of its config file)',
          );
        if (running)
          throw new ApiError('DEMINER_CONFLICT', 'an intel update runs already; try again when it ends');
        const startedAt = new Date().toISOString();
        const { refreshAll } = await import('../../intel/refresh.ts');
        const run = refreshAll(config, dir, { force });
        running = run;
        const done = run.finally(() => {
          running = null;
          forgetIntelFeeds();
        });
        // Ends on its own even after the answer went (the lock holds until then); its failure is the answer's.
        done.catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), deps.intelRefreshTimeoutMs);
        });
        let outcomes: RefreshOutcome[] | 'timeout';
        try {
          outcomes = await Promise.race([done, timeout]);
        } catch (e) {
          if (e instanceof DeminerError)
            throw new ApiError('DEMINER_UNPROCESSABLE', clip(redactText(e.message), 300));
          throw e;
        } finally {
          clearTimeout(timer);
        }
        if (outcomes === 'timeout')
          throw new ApiError(
            'DEMINER_UNAVAILABLE',
            `the update did not end within ${Math.round(deps.intelRefreshTimeoutMs / 1000)} s; it goes on, and GET /intel/feeds shows its outcome`,
          );
        state.detail = { force, feeds: Object.fromEntries(outcomes.map((o) => [o.name, o.status])) };
        return {
          force,
          started_at: startedAt,
          finished_at: new Date().toISOString(),
          outcomes: outcomes.map((o) => ({
            name: o.name,
            status: o.status,
            indicators: o.indicators,
            issues: o.issues,
            attempts: o.attempts,
            message: o.warning === undefined ? null : clip(redactText(o.warning), 500),
          })),
        };
      },
    }),
  ];
}
