import type { z } from 'zod';
import type { CatalogEntry } from '../../detect/catalog.ts';
import type { RuleActivity, SightingCount } from '../../store/types.ts';
import { builtinCatalog } from '../catalog.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { intelFeeds } from '../intel-status.ts';
import { apiCounts } from '../present.ts';
import { type ApiRoute, defineRoute, ROLE_SETS } from '../route.ts';
import {
  type OVERVIEW_RANGES,
  OverviewQuery,
  OverviewSchema,
  RuleParams,
  RuleSchema,
  RulesList,
} from '../schemas.ts';

type Overview = z.output<typeof OverviewSchema>;
type ApiRule = z.output<typeof RuleSchema>;
type Range = (typeof OVERVIEW_RANGES)[number];

const HOUR_MS = 3_600_000;
/** Each range's length and chart bucket: hourly for a day, 6-hourly for a week, daily for a month. */
const RANGES: Record<Range, { ms: number; bucketMs: number }> = {
  '24h': { ms: 24 * HOUR_MS, bucketMs: HOUR_MS },
  '7d': { ms: 7 * 24 * HOUR_MS, bucketMs: 6 * HOUR_MS },
  '30d': { ms: 30 * 24 * HOUR_MS, bucketMs: 24 * HOUR_MS },
};
/** A high or critical finding seen this recently is a miner running now. */
const ACTIVE_MS = 15 * 60_000;
const ACTIVE_LIMIT = 50;
const TOP = 10;

/** What the web console reads beyond the lists: the overview and the rule catalog. */
export function consoleRoutes(deps: ServerDeps): ApiRoute[] {
  const { store } = deps;
  return [
    defineRoute({
      method: 'GET',
      url: '/overview',
      operationId: 'getOverview',
      summary:
        'The fleet at a glance: hosts by status, open findings, miners active now, findings over time, top rules and techniques, intel feeds',
      action: 'overview',
      access: ROLE_SETS.read,
      query: OverviewQuery,
      status: 200,
      response: { description: 'The overview of the range (default 7d)', schema: OverviewSchema },
      async handler({ query }): Promise<Overview> {
        const now = Date.now();
        const range = RANGES[query.range ?? '7d'];
        // Whole buckets, the last one holding now: every bucket of the range is in the series.
        const end = Math.floor(now / range.bucketMs) * range.bucketMs + range.bucketMs;
        const start = end - range.ms;
        const since = new Date(now - range.ms).toISOString();
        const [hosts, open, active, sightings, rules, catalog, intel] = await Promise.all([
          store.countHosts(),
          store.openFindings(),
          store.activeFindings({
            since: new Date(now - ACTIVE_MS).toISOString(),
            minSeverity: 'high',
            limit: ACTIVE_LIMIT,
          }),
          store.listSightings({ from: new Date(start).toISOString(), to: new Date(end).toISOString() }),
          store.ruleActivity({ since }),
          // Only names and techniques come from the catalog here: the overview stands without it.
          builtinCatalog().catch(() => new Map<string, CatalogEntry>()),
          intelFeeds(deps.intelStateDir, now),
        ]);
        return {
          generated_at: new Date(now).toISOString(),
          hosts,
          open_by_severity: apiCounts(open),
          active_miners: active.map((f) => ({
            host: f.hostName,
            host_id: f.hostId ?? null,
            fingerprint: f.fingerprint,
            rule: { id: f.ruleId, name: f.ruleName },
            severity: f.severity,
            last_seen: f.lastSeen,
          })),
          findings_over_time: {
            bucket_s: range.bucketMs / 1000,
            series: series(sightings, start, end, range.bucketMs),
          },
          top_rules: topRules(rules, catalog),
          top_techniques: topTechniques(rules, catalog),
          intel,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/rules',
      operationId: 'listRules',
      summary:
        'Every rule: the built-in catalog, and rules only sensors reported (custom Sigma rules), with how often each fired',
      action: 'rules.list',
      access: ROLE_SETS.read,
      status: 200,
      response: { description: 'The rules', schema: RulesList },
      async handler() {
        const [catalog, activity] = await Promise.all([builtinCatalog(), store.ruleActivity({})]);
        const fired = new Map(activity.map((a) => [a.ruleId, a]));
        const items: ApiRule[] = [...catalog.values()].map((e) => apiRule(e, fired.get(e.id)));
        const custom = activity
          .filter((a) => !catalog.has(a.ruleId))
          .sort((a, b) => (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
        for (const a of custom) items.push(apiRule(undefined, a));
        return { items };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/rules/:id',
      operationId: 'getRule',
      summary: 'One rule, with how often it fired',
      action: 'rules.get',
      access: ROLE_SETS.read,
      params: RuleParams,
      status: 200,
      response: { description: 'The rule', schema: RuleSchema },
      errors: { 404: 'No rule has this id (neither built in nor in any stored finding)' },
      async handler({ params }) {
        const [catalog, activity] = await Promise.all([
          builtinCatalog(),
          store.ruleActivity({ ruleId: params.id }),
        ]);
        const entry = catalog.get(params.id);
        const a = activity[0];
        if (!entry && !a) throw new ApiError('DEMINER_NOT_FOUND', 'no rule has this id', { field: 'id' });
        return apiRule(entry, a);
      },
    }),
  ];
}

function apiRule(entry: CatalogEntry | undefined, a: RuleActivity | undefined): ApiRule {
  const counts = { fired: a?.findings ?? 0, last_fired: a?.lastSeen ?? null };
  if (entry) {
    return {
      id: entry.id,
      name: entry.name,
      ruleset: entry.ruleset,
      severity: { ...entry.severity },
      techniques: [...entry.techniques],
      triage: entry.triage,
      detectors: [...entry.detectors],
      ...counts,
    };
  }
  // Only the store knows it (a sensor's own Sigma rule): what its newest finding says.
  const r = a!;
  return {
    id: r.ruleId,
    name: r.ruleName,
    ruleset: r.ruleset,
    severity: { min: r.severity, max: r.severity },
    techniques: [...r.techniques],
    triage: '',
    detectors: [],
    ...counts,
  };
}

/** Every bucket from start to end, zeros included, from the hourly sightings. */
function series(
  sightings: readonly SightingCount[],
  start: number,
  end: number,
  bucketMs: number,
): Overview['findings_over_time']['series'] {
  const out: Overview['findings_over_time']['series'] = [];
  for (let t = start; t < end; t += bucketMs) {
    out.push({ t: new Date(t).toISOString(), critical: 0, high: 0, medium: 0, low: 0, info: 0 });
  }
  for (const s of sightings) {
    const i = Math.floor((Date.parse(s.hour) - start) / bucketMs);
    const bucket = out[i];
    if (bucket) bucket[s.severity] += s.count;
  }
  return out;
}

function byCount<T extends { count: number; id: string }>(a: T, b: T): number {
  return b.count - a.count || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function topRules(rules: readonly RuleActivity[], catalog: ReadonlyMap<string, CatalogEntry>) {
  return rules
    .map((r) => ({ id: r.ruleId, name: catalog.get(r.ruleId)?.name ?? r.ruleName, count: r.findings }))
    .filter((r) => r.count > 0)
    .sort(byCount)
    .slice(0, TOP);
}

/** Each rule's findings count for the techniques of its newest finding (else those it declares). */
function topTechniques(rules: readonly RuleActivity[], catalog: ReadonlyMap<string, CatalogEntry>) {
  const counts = new Map<string, number>();
  for (const r of rules) {
    const techniques = r.techniques.length > 0 ? r.techniques : (catalog.get(r.ruleId)?.techniques ?? []);
    for (const t of new Set(techniques)) counts.set(t, (counts.get(t) ?? 0) + r.findings);
  }
  return [...counts]
    .map(([id, count]) => ({ id, count }))
    .filter((t) => t.count > 0)
    .sort(byCount)
    .slice(0, TOP);
}
